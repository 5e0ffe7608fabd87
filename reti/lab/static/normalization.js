"use strict";
const $ = (id) => document.getElementById(id);
let dropoutData = null;
let normData = null;

function drawDropout() {
  const d = dropoutData;
  if (!d) return;
  $("p-value").textContent = chart.fmt(Number($("p").value));
  ["inverted", "standard"].forEach((mode) => {
    const m = d[mode];
    const pts = (arr) => arr.map((v, i) => [i, v]);
    chart.line($(mode), {
      xTitle: "lab.axis.unit", yTitle: "lab.axis.activation", ymin: 0, xInteger: true, height: 210,
      series: [
        { key: "x", name: "lab.series.input_x", color: chart.COLORS.input, dash: "3 3" },
        { key: "train", name: "lab.series.train_mode", color: chart.COLORS.train, dots: 2.5 },
        { key: "eval", name: "lab.series.eval_mode", color: chart.COLORS.val },
      ].map((s) => Object.assign(s, { points: pts(s.key === "x" ? d.x : m[s.key]) })),
    });
    $(mode + "-means").textContent =
      lab.t("lab.norm.train_mean") + ": " + chart.fixed(m.train_mean, 3) + "\n" +
      lab.t("lab.norm.eval_mean") + ": " + chart.fixed(m.eval_mean, 3);
  });
}

async function updateDropout() {
  dropoutData = await lab.api("/api/dropout?p=" + $("p").value + "&seed=" + ($("seed").value || 0));
  drawDropout();
}

function drawNorm() {
  const d = normData;
  if (!d) return;
  const idx = d.bn_values.map((_, i) => i);
  chart.line($("bn"), {
    xTitle: "lab.axis.batch_number", yTitle: "lab.axis.output", xInteger: true, height: 220,
    series: [
      { key: "bn", name: "lab.series.bn", color: chart.COLORS.a, dots: 2.5, line: false, points: idx.map((i) => [i, d.bn_values[i]]) },
      { key: "ln", name: "lab.series.ln", color: chart.COLORS.b, points: idx.map((i) => [i, d.ln_value]) },
      { key: "pop", name: "lab.series.population", color: chart.COLORS.truth, dash: "5 4", points: idx.map((i) => [i, d.population]) },
    ],
  });
  $("bn-std").textContent = chart.fixed(d.bn_std, 3);
  $("population").textContent = chart.fixed(d.population, 3);
  $("ln").textContent = chart.fixed(d.ln_value, 3);
  $("moving").textContent = chart.fixed(d.moving_mean, 3);
}

async function updateNorm() {
  normData = await lab.api("/api/norm?batch=" + $("batch").value);
  drawNorm();
}

// -- the live trainings: one job each, every arm's curves streamed by server-sent events ------
// drop: the same MLP without and with dropout; nt: BN with batches of 2 and 64, LN with 2.
// Colour = the split (train blue, test orange, as on every page); line style = the arm.
const LIVE = {
  drop: {
    kind: "dropout",
    arms: ["no dropout", "dropout"],
    cols: ["train_accuracy", "test_accuracy", "gap", "train_loss", "test_loss"],
    params: () => {
      const out = { p: $("p").value }; // the default regime is the server's default
      if (regime() !== "narrows") out.regime = regime();
      if ($("drop-epochs").value) out.epochs = $("drop-epochs").value;
      if ($("drop-limit").value) out.limit = $("drop-limit").value;
      return out;
    },
  },
  nt: {
    kind: "norm",
    arms: ["BN, batch 2", "BN, batch 64", "LN, batch 2"],
    cols: ["train_accuracy", "test_accuracy", "population_test_accuracy", "test_loss", "population_test_loss"],
    params: () => ({ epochs: $("nt-epochs").value, limit: $("nt-limit").value, seed: $("nt-seed").value || 0 }),
  },
};
const state = { drop: { rows: [] }, nt: { rows: [] } };
const sources = {};

// The dropout live training's two regimes (reti.lab.dropout_job.REGIMES): the notes' regime
// where dropout narrows the train-test gap (claim 8's recipe, scaled down) and a contrast where
// it does not help. An empty epochs or images field means the regime's own value.
const regime = () => document.querySelector("input[name=regime]:checked").value;

function showRegime() {
  const r = regime();
  $("regime-help").textContent = lab.t("lab.look.dropout_" + r, lab.t("lab.norm.regime_" + r + "_help"));
}

const armName = (arm) => lab.t("lab.arm." + arm, arm);

function drawArms(prefix) {
  const cfg = LIVE[prefix];
  const rows = state[prefix].rows;
  if (!rows.length) return;
  $(prefix + "-charts").hidden = false;
  const epochs = Number(state[prefix].epochs) || 1;
  ["accuracy", "loss"].forEach((metric) => {
    const series = [];
    cfg.arms.forEach((arm, k) => {
      const mine = rows.filter((r) => r.arm === arm);
      const scale = metric === "accuracy" ? 100 : 1;
      ["train", "test"].forEach((split) => {
        series.push({
          key: arm + split, name: armName(arm) + ", " + lab.t("lab.split." + split),
          color: chart.COLORS[split], dash: chart.DASHES[k], dots: 2.5,
          points: mine.map((r) => [r.epoch, scale * r[split + "_" + metric]]),
        });
      });
    });
    chart.line($(prefix + "-" + (metric === "accuracy" ? "acc" : "loss")), {
      xTitle: "lab.axis.epoch", yTitle: metric === "accuracy" ? "lab.axis.accuracy_pct" : "lab.axis.loss",
      xmin: 1, xmax: epochs, xInteger: true, ymin: 0, ymax: metric === "accuracy" ? 100 : undefined, height: 220, series,
    });
  });
}

function showArms(prefix) {
  const result = state[prefix].result;
  if (!result) return;
  const t = $(prefix + "-table");
  const cols = LIVE[prefix].cols;
  t.innerHTML = "";
  const head = lab.el("tr");
  head.appendChild(lab.tel("th", "lab.norm.arm", { class: "l" }));
  cols.forEach((c) => head.appendChild(lab.tel("th", "lab.col." + c)));
  t.appendChild(head);
  Object.entries(result.arms).forEach(([arm, a]) => {
    const tr = lab.el("tr");
    tr.appendChild(lab.el("td", { class: "l" }, armName(arm)));
    cols.forEach((c) => tr.appendChild(lab.el("td", {}, c in a.final ? chart.fixed(a.final[c], 3) : "-")));
    t.appendChild(tr);
  });
}

function showLiveStatus(prefix) {
  const s = state[prefix].status;
  if (!s) return;
  $(prefix + "-status").textContent = lab.t("lab.status." + s.status, s.status) +
    (s.arm ? ": " + armName(s.arm) : "") + (s.error ? ": " + lab.errorText(s.error) : "");
}

async function trainArms(prefix) {
  const counter = $(prefix + "-events");
  const st = (state[prefix] = { rows: [] });
  $(prefix + "-status").textContent = "";
  $(prefix + "-table").innerHTML = "";
  try {
    const job = await lab.api("/api/jobs", { json: { kind: LIVE[prefix].kind, params: LIVE[prefix].params() } });
    st.status = { status: "queued" };
    st.epochs = job.params.epochs;
    showLiveStatus(prefix);
    let n = 0;
    if (sources[prefix]) sources[prefix].close();
    const source = (sources[prefix] = new EventSource("/api/jobs/" + job.id + "/events"));
    source.onmessage = async (msg) => {
      const e = JSON.parse(msg.data);
      n += 1;
      counter.dataset.count = n;
      if (e.kind === "arm") { st.rows.push(e); drawArms(prefix); }
      if (e.kind === "status") {
        const j = await lab.api("/api/jobs/" + job.id);
        st.status = { status: j.status, arm: e.arm, error: j.error };
        showLiveStatus(prefix);
        if (j.result) { st.result = j.result; showArms(prefix); }
      }
    };
    source.addEventListener("close", () => source.close());
    source.onerror = () => source.close();
  } catch (e) {
    lab.showError($(prefix + "-status"), e);
  }
}

$("p").addEventListener("input", lab.debounce(updateDropout, 60));
$("seed").addEventListener("input", lab.debounce(updateDropout, 100));
$("batch").addEventListener("change", updateNorm);
$("drop-train").addEventListener("click", () => trainArms("drop"));
$("nt-train").addEventListener("click", () => trainArms("nt"));
document.querySelectorAll("input[name=regime]").forEach((r) => r.addEventListener("change", showRegime));
lab.onLang.push(() => {
  showRegime();
  drawDropout();
  drawNorm();
  ["drop", "nt"].forEach((p) => { drawArms(p); showArms(p); showLiveStatus(p); });
});
lab.ready.then(() => { updateDropout(); updateNorm(); });
