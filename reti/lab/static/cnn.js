"use strict";
const $ = (id) => document.getElementById(id);
let job = null;
let source = null;
let table = null; // the last /api/pattern answer
let loss = null;  // the streaming charts
let acc = null;
let result = null;
let lastProbs = null;
let lastEvent = null; // the last progress event (its text is redrawn in a new language)
let serverPreprocesses = false; // see predict()
let timing = null; // {t0, step0}: for the "about N s left" of the status line

async function parsePattern() {
  const model = $("named").value || $("pattern").value;
  try {
    table = await lab.api("/api/pattern?model=" + encodeURIComponent(model) + "&data=" + $("data").value);
    $("pattern-error").textContent = "";
    delete $("pattern-error").dataset.column;
    showTable();
  } catch (e) {
    table = null;
    $("pattern-ok").textContent = "";
    $("network").innerHTML = "";
    const d = e.data || {};
    if (d.column) {
      $("pattern-error").textContent = model + "\n" + " ".repeat(d.column - 1) + "^ " +
        lab.t("lab.cnn.column") + " " + d.column + ": " + lab.patternText(d.message);
      $("pattern-error").dataset.column = d.column;
    } else {
      lab.showError($("pattern-error"), e);
      delete $("pattern-error").dataset.column;
    }
  }
}

function showTable() {
  if (!table) return;
  const ok = $("pattern-ok");
  ok.innerHTML = "";
  ok.append(lab.tel("span", "lab.cnn.total"), lab.el("span", {}, ": " + chart.int(table.total)));
  chart.network($("network"), table.input, table.layers);
}

function lossChart() {
  const total = timing && timing.total ? timing.total : undefined;
  loss = chart.line($("curves"), {
    xTitle: "lab.axis.step", yTitle: "lab.axis.loss", ymin: 0, xmin: 0, xmax: total, xInteger: true, height: 220,
    series: [
      { key: "train", name: "lab.series.train_loss", color: chart.COLORS.train },
      { key: "val", name: "lab.series.val_loss", color: chart.COLORS.val, dots: 3 },
    ],
  });
  acc = chart.line($("acc-curve"), {
    xTitle: "lab.axis.step", yTitle: "lab.axis.accuracy_pct", ymin: 0, ymax: 100, xmin: 0, xmax: total, xInteger: true, height: 220,
    series: [{ key: "val", name: "lab.series.val_accuracy", color: chart.COLORS.val, dots: 3 }],
  });
}

function showPictures(e) {
  $("pictures-box").hidden = false;
  if (e.filters) {
    const f = e.filters;
    lab.drawImages($("filters"), f.pixels, f.shape[0], 1, f.shape[1], f.shape[2], 8, f.shape[1] <= 3 ? 12 : 6);
  }
  if (e.maps) {
    const m = e.maps;
    lab.drawImages($("maps"), m.pixels, m.shape[0], 1, m.shape[1], m.shape[2], 8, m.shape[1] <= 8 ? 8 : 3);
  }
}

function showStatus(j) {
  $("status-line").hidden = false;
  $("status").textContent = lab.t("lab.status." + j.status, j.status);
  $("status").dataset.status = j.status;
  $("stop").disabled = !(j.status === "running" || j.status === "queued");
  $("resume").disabled = !(j.status === "stopped" || j.status === "interrupted" || j.status === "failed");
  lab.showError($("train-error"), j.error ? new Error(j.error) : null);
}

function showResult() {
  const r = result || {};
  if (r.accuracy === undefined) return;
  $("result-box").hidden = false;
  $("draw-box").hidden = false;
  $("accuracy").textContent = chart.fixed(100 * r.accuracy, 1) + " %";
  $("cnn-look").textContent = r.look_for ? lab.t(r.look_for, "") : ""; // what to look for
  chart.heatmap($("confusion"), {
    matrix: r.confusion, xLabels: r.classes, yLabels: r.classes, cell: 26,
    xTitle: "lab.axis.predicted", yTitle: "lab.axis.true", valueTitle: "lab.axis.images", palette: "sequential",
  });
}

function showCommand(cmd) {
  $("command").textContent = cmd;
  $("command-box").hidden = false;
}

function progress(e) {
  if (!e || !e.total_steps) return;
  lastEvent = e;
  const now = performance.now();
  if (!timing) { // the first progress event: the x axis spans the whole run from now on
    timing = { t0: now, step0: e.step, total: e.total_steps };
    if (!loss.series.some((x) => x.points.length)) lossChart();
  }
  const done = e.step - timing.step0;
  let text = lab.f("lab.cnn.progress", { step: chart.int(e.step), total: chart.int(e.total_steps) });
  if (done > 0 && e.step < e.total_steps) {
    const left = ((now - timing.t0) / done) * (e.total_steps - e.step) / 1000;
    text += ", " + lab.f("lab.cnn.left", { s: chart.int(Math.max(1, Math.round(left))) });
  }
  $("progress").textContent = "(" + text + ")";
}

function listen(id, after) {
  if (source) source.close();
  let n = after || 0;
  source = new EventSource("/api/jobs/" + id + "/events?after=" + n);
  source.onmessage = async (msg) => {
    const e = JSON.parse(msg.data);
    n += 1;
    $("events-count").dataset.count = n;
    if (e.kind === "train" || e.kind === "eval") progress(e);
    if (e.kind === "train") loss.add("train", [e.step, e.row.train_loss]);
    if (e.kind === "eval" && e.row.val_loss !== undefined) {
      loss.add("val", [e.step, e.row.val_loss]);
      if (e.row.val_accuracy !== undefined) acc.add("val", [e.step, 100 * e.row.val_accuracy]);
    }
    if (e.kind === "command") showCommand(e.command);
    if (e.kind === "pictures") showPictures(e);
    if (e.kind === "status") {
      job = await lab.api("/api/jobs/" + id);
      showStatus(job);
      if (job.result) { result = job.result; showResult(); }
      if (job.status !== "queued" && job.status !== "running") {
        $("download").href = "/api/jobs/" + job.id + "/checkpoint";
        $("download").hidden = false;
      }
    }
  };
  source.addEventListener("close", () => source.close());
  source.onerror = () => source.close();
}

async function train() {
  $("train-error").textContent = "";
  const params = {
    data: $("data").value, model: $("named").value || $("pattern").value,
    epochs: $("epochs").value, batch_size: $("batch").value, lr: $("lr").value,
  };
  params.limit = $("limit").value; // empty: every training image
  try {
    job = await lab.api("/api/jobs", { json: { kind: "vision", params: params } });
    timing = null;
    result = null;
    $("curves-box").hidden = false;
    lossChart();
    showStatus(job);
    listen(job.id, 0);
  } catch (e) {
    lab.showError($("train-error"), e);
  }
}

async function control(action) {
  if (!job) return;
  try {
    job = await lab.api("/api/jobs/" + job.id + "/" + action, { method: "POST" });
    showStatus(job);
    if (action === "resume") listen(job.id, job.events);
  } catch (e) {
    lab.showError($("train-error"), e);
  }
}

// the drawing pad: white ink on black, like the data sets; mouse, pen and touch alike
const pad = $("pad");
const ctx = pad.getContext("2d");
let drawing = false;
function clearPad() { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, pad.width, pad.height); }
function at(e) {
  const box = pad.getBoundingClientRect();
  return [((e.clientX - box.left) / box.width) * pad.width, ((e.clientY - box.top) / box.height) * pad.height];
}
pad.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); });
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 14; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.lineTo(...at(e)); ctx.stroke();
});
window.addEventListener("pointerup", () => { drawing = false; });

// What the net receives: the server's `input` ((H, W) or (C, H, W) numbers in [0, 1]) when it
// sends one, else the pad averaged down to the model's side (what was sent).
function showSeen(image) {
  if (!image) return;
  const colour = Array.isArray(image[0][0]);
  const [c, h, w] = colour ? [image.length, image[0].length, image[0][0].length] : [1, image.length, image[0].length];
  const flat = (colour ? image.flat(2) : image.flat()).map((v) => Math.round(255 * v));
  $("seen-box").hidden = false;
  lab.drawImages($("seen"), flat, 1, c, h, w, 1, Math.max(4, Math.floor(140 / h)));
}

function showLook() {
  const key = lastProbs && lastProbs.look_for;
  $("draw-look").textContent = key ? lab.t(key, "") : "";
}

function showProbs() {
  if (!lastProbs) return;
  $("probs-box").hidden = false;
  const best = lastProbs.probs.indexOf(Math.max(...lastProbs.probs));
  $("probs").dataset.best = lastProbs.classes[best];
  chart.bars($("probs"), {
    labels: lastProbs.classes, values: lastProbs.probs, highlight: best, percent: true, max: 1,
    xTitle: "lab.axis.probability_pct", yTitle: "lab.axis.class",
  });
  showLook();
}

// The pad's ink, averaged over blocks: `side` x `side` numbers in [0, 1].
function padPixels(side) {
  const full = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const grey = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const [y0, y1] = [Math.floor((y * pad.height) / side), Math.floor(((y + 1) * pad.height) / side)];
      const [x0, x1] = [Math.floor((x * pad.width) / side), Math.floor(((x + 1) * pad.width) / side)];
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += full[4 * (yy * pad.width + xx)];
      grey.push(Math.round((100 * sum) / ((y1 - y0) * (x1 - x0) * 255)) / 100);
    }
  }
  return grey;
}

async function predict() {
  if (!job) { $("train-error").textContent = lab.t("lab.cnn.need_model"); return; }
  // A server that preprocesses drawings as MNIST did (it sends `defaults` with the models)
  // takes the pad at half its size and crops, scales and centres it itself; an older one takes
  // the pad at the net's own side.
  let side = pad.width / 2;
  if (!serverPreprocesses) {
    const info = await lab.api("/api/pattern?model=" + encodeURIComponent(job.params.model) + "&data=" + job.params.data);
    side = info.input[1];
  }
  const pixels = padPixels(side);
  try {
    lastProbs = await lab.api("/api/jobs/" + job.id + "/predict", { json: { pixels: pixels, width: side, height: side } });
    showSeen(lastProbs.input || Array.from({ length: side }, (_, y) => pixels.slice(y * side, (y + 1) * side)));
    showProbs();
  } catch (e) { lab.showError($("train-error"), e); }
}

async function upload() {
  if (!job || !$("upload").files.length) return;
  const form = new FormData();
  form.append("image", $("upload").files[0]);
  try {
    lastProbs = await lab.api("/api/jobs/" + job.id + "/predict", { method: "POST", body: form });
    if (lastProbs.input) showSeen(lastProbs.input);
    showProbs();
  } catch (e) { lab.showError($("train-error"), e); }
}

async function uploadZip() {
  if (!$("zip").files.length) return;
  const form = new FormData();
  form.append("file", $("zip").files[0]);
  try {
    const d = await lab.api("/api/uploads/images?size=28", { method: "POST", body: form });
    const value = "upload:" + d.id;
    $("data").appendChild(lab.el("option", { value: value }, value + " (" + d.classes.join(", ") + ")"));
    $("data").value = value;
    $("zip-info").textContent = Object.entries(d.counts).map(([k, v]) => k + ": " + chart.int(v)).join(", ");
    parsePattern();
  } catch (e) {
    lab.showError($("zip-info"), e);
  }
}

async function init() {
  await lab.ready;
  const models = await lab.api("/api/models");
  $("pattern").value = models.default;
  const d = models.defaults; // the server's defaults (docs/lab.md measures them)
  serverPreprocesses = !!d;
  if (d) {
    [["data", d.data], ["epochs", d.epochs], ["batch", d.batch_size], ["lr", d.lr], ["limit", d.limit]]
      .forEach(([id, v]) => { if (v !== undefined && v !== null) $(id).value = v; });
  }
  models.models.forEach((m) => $("named").appendChild(lab.el("option", { value: m }, m)));
  $("pattern").addEventListener("input", lab.debounce(() => { $("named").value = ""; parsePattern(); }, 150));
  $("named").addEventListener("change", parsePattern);
  $("data").addEventListener("change", parsePattern);
  $("train").addEventListener("click", train);
  $("stop").addEventListener("click", () => control("stop"));
  $("resume").addEventListener("click", () => control("resume"));
  $("copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText($("command").textContent));
  $("clear").addEventListener("click", clearPad);
  $("predict").addEventListener("click", predict);
  $("upload").addEventListener("change", upload);
  $("zip").addEventListener("change", uploadZip);
  lab.onLang.push(() => {
    showTable();
    showResult();
    showProbs();
    showLook();
    if (job) showStatus(job);
    if (lastEvent) $("progress").textContent = "(" + lab.f("lab.cnn.progress", { step: chart.int(lastEvent.step), total: chart.int(lastEvent.total_steps) }) + ")";
  });
  clearPad();
  parsePattern();
}
init();
