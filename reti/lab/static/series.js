"use strict";
const $ = (id) => document.getElementById(id);
let causal = null;   // the last /api/series/causal answer
let outcome = null;  // the last series job's result
let csv = null;      // the last uploaded CSV

function drawCausal() {
  const d = causal;
  if (!d) return;
  const pts = (arr) => arr.map((v, i) => [i, v]);
  [["causal", chart.COLORS.causal], ["ordinary", chart.COLORS.centred]].forEach(([name, color]) => {
    const m = d[name];
    chart.line($(name), {
      xTitle: "lab.axis.time_step", yTitle: "lab.axis.value", xInteger: true, xTight: true, height: 230,
      vlines: [{ x: d.step, color: "#c53030", label: "lab.series.now" }],
      bands: [{ from: m.field[0] - 0.5, to: m.field[m.field.length - 1] + 0.5, color }],
      onClick: (x) => { $("step").value = Math.max(0, Math.min(d.x.length - 1, Math.round(x))); update(); },
      series: [
        { key: "x", name: "lab.series.input_x", color: chart.COLORS.input, points: pts(d.x) },
        { key: "xp", name: "lab.series.future", color: chart.COLORS.perturbed, dash: "3 3", points: pts(d.x_perturbed).slice(d.step + 1) },
        { key: "out", name: "lab.series.output", color, width: 2.5, points: pts(m.output) },
        { key: "outp", name: "lab.series.output_perturbed", color, dash: "5 3", points: pts(m.output_perturbed) },
      ],
    });
    $(name + "-field").textContent = m.field[0] + ".." + m.field[m.field.length - 1] + " (" + m.field.length + ")";
    $(name + "-change").textContent = chart.fmt(m.change_at_step, 3);
  });
}

async function update() {
  try {
    causal = await lab.api("/api/series/causal?step=" + $("step").value + "&kernel=" + $("kernel").value + "&levels=" + $("levels").value);
    $("error").textContent = "";
    drawCausal();
  } catch (e) {
    lab.showError($("error"), e);
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
    select.appendChild(lab.tel("option", "lab.series.uploaded", { value: "upload:" + csvUpload }));
  }
}

// The server's model and baseline names ("tcn (direct head)", "seasonal naive (m=12)") in words
// of the page's language.
function modelName(name) {
  return name
    .replace("(direct head)", "(" + lab.t("lab.series.option_a") + ")")
    .replace("(autoregressive rollout)", "(" + lab.t("lab.series.option_b") + ")")
    .replace(/^seasonal naive/, lab.t("lab.series.seasonal_naive"))
    .replace(/^naive$/, lab.t("lab.series.naive"));
}

function lineColor(name, k) {
  if (name.includes("direct head")) return [chart.COLORS.a, ""];
  if (name.includes("rollout")) return [chart.COLORS.b, ""];
  if (name.startsWith("seasonal")) return [chart.COLORS.seasonal, "6 3"];
  if (name === "naive") return [chart.COLORS.naive, "2 3"];
  return [chart.COLORS.neutral, chart.DASHES[k % 3]];
}

// A forecast job's picture (when the job sends one): history, truth, each model's and each
// baseline's forecast from the same origin. result.plot = {history, truth, forecasts: {name:
// values}, baselines: {name: values}}; forecasts start right after the history.
function drawForecast() {
  const p = outcome && outcome.plot;
  if (!p || !p.history) { $("forecast-plot").innerHTML = ""; return; }
  const n = p.history.length;
  const after = (vals) => vals.map((v, i) => [n + i, v]);
  const shown = Math.min(n, Math.max(48, 3 * (p.truth || []).length)); // the recent past, legible
  const series = [
    { key: "history", name: "lab.series.history", color: chart.COLORS.input,
      points: p.history.slice(n - shown).map((v, i) => [n - shown + i, v]) },
    { key: "truth", name: "lab.series.truth", color: chart.COLORS.truth, width: 2.5, points: after(p.truth || []) },
  ];
  Object.entries(Object.assign({}, p.forecasts || {}, p.baselines || {})).forEach(([name, vals], k) => {
    const [color, dash] = lineColor(name, k);
    series.push({ key: name, name: modelName(name), color, dash, points: after(vals) });
  });
  chart.line($("forecast-plot"), {
    xTitle: "lab.axis.time_step", yTitle: p.unit ? p.unit : "lab.axis.value", xInteger: true, xTight: true, height: 260,
    vlines: [{ x: n - 0.5, color: "#4a5568", label: "lab.series.origin" }], series,
  });
}

function drawTable() {
  const t = $("forecast-table");
  t.innerHTML = "";
  $("series-look").textContent = outcome && outcome.look_for ? lab.t(outcome.look_for, "") : "";
  if (!outcome) return;
  const rows = Object.assign({}, outcome.models, outcome.baselines);
  if (!Object.keys(rows).length) return;
  const cols = Object.keys(Object.values(rows)[0]);
  const head = lab.el("tr");
  head.appendChild(lab.tel("th", "lab.series.model", { class: "l" }));
  cols.forEach((c) => head.appendChild(lab.el("th", {}, lab.t("lab.col." + c, c.toUpperCase()))));
  t.appendChild(head);
  Object.entries(rows).forEach(([name, m]) => {
    const tr = lab.el("tr");
    tr.appendChild(lab.el("td", { class: "l" }, modelName(name)));
    cols.forEach((c) => tr.appendChild(lab.el("td", {}, typeof m[c] === "number" ? (Number.isInteger(m[c]) ? chart.int(m[c]) : chart.fixed(m[c], 3)) : String(m[c]))));
    t.appendChild(tr);
  });
}

function drawTrace() {
  const trace = outcome && outcome.trace;
  if (!trace) { $("trace").innerHTML = ""; return; }
  const s = trace.stride;
  const pts = trace.values.map((v, i) => [i * s, v]);
  const bands = trace.labels.map((i) => ({ from: i * s - s / 2, to: i * s + s / 2, color: chart.COLORS.anomaly }));
  chart.line($("trace"), {
    xTitle: "lab.axis.time_step", yTitle: "lab.axis.value", xInteger: true, height: 240, xTight: true, bands,
    series: [
      { key: "series", name: "lab.series.values", color: chart.COLORS.input, width: 1.2, points: pts },
      { key: "flagged", name: "lab.series.flagged", color: chart.COLORS.flagged, line: false, dots: 3.5, points: trace.flags.map((i) => pts[i]).filter(Boolean) },
      { key: "true", name: "lab.series.true_anomaly", color: chart.COLORS.anomaly, line: false, dots: 2, points: trace.labels.map((i) => pts[i]).filter(Boolean) },
    ],
  });
}

let statusOf = null;
function showStatus() {
  if (!statusOf) return;
  $("forecast-status").textContent = lab.t("lab.status." + statusOf.status, statusOf.status) +
    (statusOf.error ? ": " + lab.errorText(statusOf.error) : "");
}

async function forecast() {
  outcome = null;
  drawTable(); drawTrace(); drawForecast();
  try {
    const params = { task: $("series-task").value, data: $("series-data").value };
    if ($("series-epochs").value) params.epochs = $("series-epochs").value; // empty: the recipe's
    if ($("series-season").value && params.task === "forecast") params.season = $("series-season").value;
    const job = await lab.api("/api/jobs", { json: { kind: "series", params: params } });
    statusOf = { status: "queued" };
    showStatus();
    const poll = async () => {
      const j = await lab.api("/api/jobs/" + job.id);
      statusOf = { status: j.status, error: j.error };
      showStatus();
      if (j.status === "queued" || j.status === "running") { setTimeout(poll, 1000); return; }
      if (!j.result) return;
      outcome = j.result;
      drawForecast(); drawTable(); drawTrace();
    };
    poll();
  } catch (e) {
    lab.showError($("forecast-status"), e);
  }
}

function drawCsv() {
  if (!csv) return;
  $("csv-info").textContent = lab.f("lab.series.csv_info", { rows: chart.int(csv.rows), mae: chart.fixed(csv.naive_mae, 3) });
  chart.line($("csv-chart"), {
    xTitle: "lab.axis.row", yTitle: "lab.axis.value", xInteger: true, height: 200,
    series: [{ key: "csv", name: "lab.series.uploaded", color: chart.COLORS.input, points: csv.values.map((v, i) => [i, v]) }],
  });
}

async function uploadCsv() {
  const form = new FormData();
  form.append("file", $("csv").files[0]);
  try {
    csv = await lab.api("/api/series/csv", { method: "POST", body: form });
    csvUpload = csv.id;
    $("series-task").value = "forecast";
    fillSets();
    $("series-data").value = "upload:" + csv.id;
    drawCsv();
  } catch (e) {
    lab.showError($("csv-info"), e);
  }
}

["step", "levels"].forEach((k) => $(k).addEventListener("input", lab.debounce(update, 100)));
$("kernel").addEventListener("change", update);
$("forecast").addEventListener("click", forecast);
$("series-task").addEventListener("change", fillSets);
$("csv").addEventListener("change", uploadCsv);
fillSets();
lab.onLang.push(() => { drawCausal(); drawForecast(); drawTable(); drawTrace(); showStatus(); drawCsv(); });
lab.ready.then(update);
