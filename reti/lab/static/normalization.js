"use strict";
const $ = (id) => document.getElementById(id);

async function updateDropout() {
  $("p-value").textContent = $("p").value;
  const d = await lab.api("/api/dropout?p=" + $("p").value + "&seed=" + ($("seed").value || 0));
  ["inverted", "standard"].forEach((mode) => {
    const m = d[mode];
    const pts = (arr) => arr.map((v, i) => [i, v]);
    lab.lineChart($(mode), [
      { name: "x", points: pts(d.x), color: "#999" },
      { name: lab.t("lab.cnn.train", "train"), points: pts(m.train), color: "#d9822b", marks: pts(m.train) },
      { name: "eval", points: pts(m.eval), color: "#3f7fbf" },
    ], { width: 380, height: 200, xlabel: "unit", ylabel: "h", ymin: 0 });
    $(mode + "-means").textContent =
      lab.t("lab.norm.train_mean", "mean in training") + ": " + m.train_mean.toFixed(3) + "\n" +
      lab.t("lab.norm.eval_mean", "mean in evaluation") + ": " + m.eval_mean.toFixed(3);
  });
}

async function updateNorm() {
  const d = await lab.api("/api/norm?batch=" + $("batch").value);
  lab.lineChart($("bn"), [
    { name: "BN", points: d.bn_values.map((v, i) => [i, v]), color: "#d9822b", marks: d.bn_values.map((v, i) => [i, v]) },
    { name: "LN", points: d.bn_values.map((v, i) => [i, d.ln_value]), color: "#3f7fbf" },
    { name: "population", points: d.bn_values.map((v, i) => [i, d.population]), color: "#0a7a2f" },
  ], { width: 560, height: 200, xlabel: "batch", ylabel: "output" });
  $("bn-std").textContent = d.bn_std.toFixed(3);
  $("population").textContent = d.population.toFixed(3);
  $("ln").textContent = d.ln_value.toFixed(3);
  $("moving").textContent = d.moving_mean.toFixed(3);
}

$("p").addEventListener("input", lab.debounce(updateDropout, 60));
$("seed").addEventListener("input", lab.debounce(updateDropout, 100));
$("batch").addEventListener("change", updateNorm);
lab.onLang.push(updateDropout);
updateNorm();

// -- the live training: one job, both arms' curves streamed by server-sent events ------------
const ARM_COLORS = { "no dropout": "#3f7fbf", dropout: "#d9822b" };
let dropSource = null;

function drawArms(rows) {
  ["accuracy", "loss"].forEach((metric) => {
    const series = [];
    Object.keys(ARM_COLORS).forEach((arm) => {
      const mine = rows.filter((r) => r.arm === arm);
      if (!mine.length) return;
      series.push({ name: arm + " train", points: mine.map((r) => [r.epoch, r["train_" + metric]]), color: ARM_COLORS[arm], marks: [] });
      series.push({ name: arm + " test", points: mine.map((r) => [r.epoch, r["test_" + metric]]), color: ARM_COLORS[arm], marks: mine.map((r) => [r.epoch, r["test_" + metric]]) });
    });
    if (series.length) lab.lineChart($("drop-" + (metric === "accuracy" ? "acc" : "loss")), series, { width: 440, height: 220, xlabel: "epoch", ylabel: metric });
  });
}

function showArms(result) {
  const t = $("drop-table");
  t.innerHTML = "";
  const cols = ["train_accuracy", "test_accuracy", "gap", "train_loss", "test_loss"];
  const head = lab.el("tr");
  head.appendChild(lab.el("th", { class: "l" }, ""));
  cols.forEach((c) => head.appendChild(lab.el("th", {}, c)));
  t.appendChild(head);
  Object.entries(result.arms).forEach(([arm, a]) => {
    const tr = lab.el("tr");
    tr.appendChild(lab.el("td", { class: "l" }, arm));
    cols.forEach((c) => tr.appendChild(lab.el("td", {}, a.final[c].toFixed(3))));
    t.appendChild(tr);
  });
}

async function trainArms() {
  $("drop-status").textContent = "";
  $("drop-table").innerHTML = "";
  try {
    const params = { p: $("p").value, epochs: $("drop-epochs").value, limit: $("drop-limit").value };
    const job = await lab.api("/api/jobs", { json: { kind: "dropout", params: params } });
    $("drop-status").textContent = lab.t("lab.status.queued", "queued");
    const rows = [];
    let n = 0;
    if (dropSource) dropSource.close();
    dropSource = new EventSource("/api/jobs/" + job.id + "/events");
    dropSource.onmessage = async (msg) => {
      const e = JSON.parse(msg.data);
      n += 1;
      $("drop-events").dataset.count = n;
      $("drop-events").textContent = "(" + n + ")";
      if (e.kind === "arm") { rows.push(e); drawArms(rows); }
      if (e.kind === "status") {
        const j = await lab.api("/api/jobs/" + job.id);
        $("drop-status").textContent = lab.t("lab.status." + j.status, j.status) + (e.arm ? ": " + e.arm : "") + (j.error ? ": " + j.error : "");
        if (j.result) showArms(j.result);
      }
    };
    dropSource.addEventListener("close", () => dropSource.close());
    dropSource.onerror = () => dropSource.close();
  } catch (e) {
    $("drop-status").textContent = e.message;
  }
}

$("drop-train").addEventListener("click", trainArms);
