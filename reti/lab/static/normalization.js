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

// -- the live trainings: one job each, every arm's curves streamed by server-sent events ------
// drop: the same MLP without and with dropout; nt: BN with batches of 2 and 64, LN with 2.
const LIVE = {
  drop: {
    kind: "dropout",
    colors: { "no dropout": "#3f7fbf", dropout: "#d9822b" },
    cols: ["train_accuracy", "test_accuracy", "gap", "train_loss", "test_loss"],
    params: () => {
      const out = { regime: $("drop-regime").value, p: $("p").value }; // empty fields: the regime's
      if ($("drop-epochs").value) out.epochs = $("drop-epochs").value;
      if ($("drop-limit").value) out.limit = $("drop-limit").value;
      return out;
    },
  },
  nt: {
    kind: "norm",
    colors: { "BN, batch 2": "#d9822b", "BN, batch 64": "#3f7fbf", "LN, batch 2": "#0a7a2f" },
    cols: ["train_accuracy", "test_accuracy", "population_test_accuracy", "test_loss", "population_test_loss"],
    params: () => ({ epochs: $("nt-epochs").value, limit: $("nt-limit").value, seed: $("nt-seed").value || 0 }),
  },
};
const sources = {};

function drawArms(prefix, rows) {
  const cfg = LIVE[prefix];
  ["accuracy", "loss"].forEach((metric) => {
    const series = [];
    Object.keys(cfg.colors).forEach((arm) => {
      const mine = rows.filter((r) => r.arm === arm);
      if (!mine.length) return;
      series.push({ name: arm + " train", points: mine.map((r) => [r.epoch, r["train_" + metric]]), color: cfg.colors[arm], marks: [] });
      series.push({ name: arm + " test", points: mine.map((r) => [r.epoch, r["test_" + metric]]), color: cfg.colors[arm], marks: mine.map((r) => [r.epoch, r["test_" + metric]]) });
    });
    if (series.length) lab.lineChart($(prefix + "-" + (metric === "accuracy" ? "acc" : "loss")), series, { width: 440, height: 220, xlabel: "epoch", ylabel: metric });
  });
}

function showArms(prefix, result) {
  const t = $(prefix + "-table");
  const cols = LIVE[prefix].cols;
  t.innerHTML = "";
  const head = lab.el("tr");
  head.appendChild(lab.el("th", { class: "l" }, ""));
  cols.forEach((c) => head.appendChild(lab.el("th", {}, c)));
  t.appendChild(head);
  Object.entries(result.arms).forEach(([arm, a]) => {
    const tr = lab.el("tr");
    tr.appendChild(lab.el("td", { class: "l" }, arm));
    cols.forEach((c) => tr.appendChild(lab.el("td", {}, c in a.final ? a.final[c].toFixed(3) : "-")));
    t.appendChild(tr);
  });
}

async function trainArms(prefix) {
  const status = $(prefix + "-status"), counter = $(prefix + "-events");
  status.textContent = "";
  $(prefix + "-table").innerHTML = "";
  try {
    const job = await lab.api("/api/jobs", { json: { kind: LIVE[prefix].kind, params: LIVE[prefix].params() } });
    status.textContent = lab.t("lab.status.queued", "queued");
    const rows = [];
    let n = 0;
    if (sources[prefix]) sources[prefix].close();
    const source = (sources[prefix] = new EventSource("/api/jobs/" + job.id + "/events"));
    source.onmessage = async (msg) => {
      const e = JSON.parse(msg.data);
      n += 1;
      counter.dataset.count = n;
      counter.textContent = "(" + n + ")";
      if (e.kind === "arm") { rows.push(e); drawArms(prefix, rows); }
      if (e.kind === "status") {
        const j = await lab.api("/api/jobs/" + job.id);
        status.textContent = lab.t("lab.status." + j.status, j.status) + (e.arm ? ": " + e.arm : "") + (j.error ? ": " + j.error : "");
        if (j.result) showArms(prefix, j.result);
      }
    };
    source.addEventListener("close", () => source.close());
    source.onerror = () => source.close();
  } catch (e) {
    status.textContent = e.message;
  }
}

$("drop-train").addEventListener("click", () => trainArms("drop"));
$("nt-train").addEventListener("click", () => trainArms("nt"));
