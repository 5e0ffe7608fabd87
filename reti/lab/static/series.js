"use strict";
const $ = (id) => document.getElementById(id);

async function update() {
  try {
    const d = await lab.api("/api/series/causal?step=" + $("step").value + "&kernel=" + $("kernel").value + "&levels=" + $("levels").value);
    $("error").textContent = "";
    ["causal", "ordinary"].forEach((name) => {
      const m = d[name];
      const pts = (arr) => arr.map((v, i) => [i, v]);
      const field = m.field.map((i) => [i, d.x[i]]);
      const chart = lab.lineChart($(name), [
        { name: "x", points: pts(d.x), color: "#999", marks: field },
        { name: lab.t("lab.series.future", "x, future perturbed"), points: pts(d.x_perturbed).slice(d.step), color: "#ccc" },
        { name: "out", points: pts(m.output), color: "#3f7fbf" },
        { name: "out (perturbed)", points: pts(m.output_perturbed), color: "#d9822b" },
      ], { width: 460, height: 220, xlabel: "t", ylabel: "" });
      chart.add("line", { x1: chart.sx(d.step), x2: chart.sx(d.step), y1: 10, y2: 190, stroke: "#b00020", "stroke-dasharray": "3 3" });
      $(name).onclick = (ev) => {
        const rect = $(name).getBoundingClientRect();
        const x = ev.clientX - rect.left;
        const t = Math.round(((x - 40) / (460 - 50)) * (d.x.length - 1));
        $("step").value = Math.max(0, Math.min(d.x.length - 1, t));
        update();
      };
      $(name + "-field").textContent = m.field[0] + ".." + m.field[m.field.length - 1] + " (" + m.field.length + ")";
      $(name + "-change").textContent = m.change_at_step.toExponential(2);
    });
  } catch (e) {
    $("error").textContent = e.message;
  }
}

const SETS = {
  forecast: ["airline", "co2", "nile", "lynx"],
  classify: ["GunPoint", "ItalyPowerDemand", "ArrowHead"],
  anomaly: ["kdd-tsad-135"],
};

let csvUpload = null; // the id of the CSV uploaded last: forecast like a built-in series

function fillSets() {
  const select = $("series-data");
  select.innerHTML = "";
  SETS[$("series-task").value].forEach((name) => select.appendChild(lab.el("option", {}, name)));
  if (csvUpload && $("series-task").value === "forecast") {
    select.appendChild(lab.el("option", { value: "upload:" + csvUpload }, lab.t("lab.series.uploaded", "uploaded CSV")));
  }
}

function drawTrace(trace) {
  const pts = trace.values.map((v, i) => [i, v]);
  lab.lineChart($("trace"), [
    { name: "series", points: pts, color: "#999" },
    { name: lab.t("lab.series.flagged", "flagged"), points: [], color: "#b00020", marks: trace.flags.map((i) => pts[i]) },
    { name: lab.t("lab.series.true_anomaly", "true anomaly"), points: [], color: "#0a7a2f", marks: trace.labels.map((i) => pts[i]) },
  ], { width: 900, height: 220, xlabel: "t / " + trace.stride });
}

async function forecast() {
  $("forecast-table").innerHTML = "";
  $("trace").innerHTML = "";
  try {
    const params = { task: $("series-task").value, data: $("series-data").value, epochs: $("series-epochs").value };
    if ($("series-season").value && params.task === "forecast") params.season = $("series-season").value;
    const job = await lab.api("/api/jobs", { json: { kind: "series", params: params } });
    $("forecast-status").textContent = lab.t("lab.status.queued", "queued");
    const poll = async () => {
      const j = await lab.api("/api/jobs/" + job.id);
      $("forecast-status").textContent = lab.t("lab.status." + j.status, j.status) + (j.error ? ": " + j.error : "");
      if (j.status === "queued" || j.status === "running") { setTimeout(poll, 1000); return; }
      if (!j.result) return;
      const t = $("forecast-table");
      const rows = Object.assign({}, j.result.models, j.result.baselines);
      const cols = Object.keys(Object.values(rows)[0]);
      const head = lab.el("tr");
      head.appendChild(lab.el("th", { class: "l" }, "model"));
      cols.forEach((c) => head.appendChild(lab.el("th", {}, c)));
      t.appendChild(head);
      Object.entries(rows).forEach(([name, m]) => {
        const tr = lab.el("tr");
        tr.appendChild(lab.el("td", { class: "l" }, name));
        cols.forEach((c) => tr.appendChild(lab.el("td", {}, typeof m[c] === "number" ? (Number.isInteger(m[c]) ? String(m[c]) : m[c].toFixed(3)) : String(m[c]))));
        t.appendChild(tr);
      });
      if (j.result.trace) drawTrace(j.result.trace);
    };
    poll();
  } catch (e) {
    $("forecast-status").textContent = e.message;
  }
}

async function uploadCsv() {
  const form = new FormData();
  form.append("file", $("csv").files[0]);
  try {
    const d = await lab.api("/api/series/csv", { method: "POST", body: form });
    $("csv-info").textContent = d.rows + " rows, naive MAE " + d.naive_mae.toFixed(3);
    csvUpload = d.id;
    $("series-task").value = "forecast";
    fillSets();
    $("series-data").value = "upload:" + d.id;
    lab.lineChart($("csv-chart"), [{ name: "csv", points: d.values.map((v, i) => [i, v]) }], { width: 600, height: 200, xlabel: "t" });
  } catch (e) {
    $("csv-info").textContent = e.message;
  }
}

["step", "levels"].forEach((k) => $(k).addEventListener("input", lab.debounce(update, 100)));
$("kernel").addEventListener("change", update);
$("forecast").addEventListener("click", forecast);
$("series-task").addEventListener("change", fillSets);
fillSets();
$("csv").addEventListener("change", uploadCsv);
update();
