"use strict";
const $ = (id) => document.getElementById(id);
let job = null;
let source = null;
const curves = { train: [], val: [], acc: [] };

async function parsePattern() {
  const model = $("named").value || $("pattern").value;
  const body = document.querySelector("#layers tbody");
  try {
    const data = await lab.api("/api/pattern?model=" + encodeURIComponent(model) + "&data=" + $("data").value);
    $("pattern-error").textContent = "";
    $("pattern-ok").textContent = lab.t("lab.cnn.total", "Total parameters") + ": " + data.total.toLocaleString("en");
    body.innerHTML = "";
    data.layers.forEach((r, i) => {
      const tr = lab.el("tr");
      tr.appendChild(lab.el("td", { class: "l" }, String(i)));
      tr.appendChild(lab.el("td", { class: "l" }, r.layer));
      tr.appendChild(lab.el("td", { class: "l" }, "(" + r.shape.join(", ") + ")"));
      tr.appendChild(lab.el("td", {}, r.params.toLocaleString("en")));
      body.appendChild(tr);
    });
  } catch (e) {
    $("pattern-ok").textContent = "";
    body.innerHTML = "";
    const d = e.data || {};
    if (d.column) {
      $("pattern-error").textContent = model + "\n" + " ".repeat(d.column - 1) + "^ " + lab.t("lab.cnn.column", "column") + " " + d.column + ": " + d.message;
      $("pattern-error").dataset.column = d.column;
    } else {
      $("pattern-error").textContent = e.message;
      delete $("pattern-error").dataset.column;
    }
  }
}

function drawCurves() {
  lab.lineChart($("curves"), [
    { name: lab.t("lab.cnn.train_loss", "train loss"), points: curves.train, color: "#3f7fbf" },
    { name: lab.t("lab.cnn.val_loss", "val loss"), points: curves.val, color: "#d9822b", marks: curves.val },
  ], { xlabel: lab.t("lab.cnn.step", "step"), ylabel: "loss", ymin: 0 });
}

function showPictures(e) {
  if (e.filters) {
    const f = e.filters;
    lab.drawImages($("filters"), f.pixels, f.shape[0], 1, f.shape[1], f.shape[2], 8, 10);
  }
  if (e.maps) {
    const m = e.maps;
    lab.drawImages($("maps"), m.pixels, m.shape[0], 1, m.shape[1], m.shape[2], 8, 10);
  }
}

function showResult(j) {
  $("status").textContent = lab.t("lab.status." + j.status, j.status);
  $("stop").disabled = !(j.status === "running" || j.status === "queued");
  $("resume").disabled = !(j.status === "stopped" || j.status === "interrupted" || j.status === "failed");
  $("train-error").textContent = j.error || "";
  const r = j.result || {};
  if (r.accuracy !== undefined) $("accuracy").textContent = (100 * r.accuracy).toFixed(1) + " %";
  if (r.confusion) {
    const t = $("confusion");
    t.innerHTML = "";
    const head = lab.el("tr");
    head.appendChild(lab.el("th", {}, ""));
    r.classes.forEach((c) => head.appendChild(lab.el("th", {}, c)));
    t.appendChild(head);
    r.confusion.forEach((row, i) => {
      const tr = lab.el("tr");
      tr.appendChild(lab.el("th", {}, r.classes[i]));
      row.forEach((v, k) => tr.appendChild(lab.el("td", i === k ? { class: "match" } : {}, String(v))));
      t.appendChild(tr);
    });
  }
  if (r.command) showCommand(r.command);
  if (j.status !== "queued" && j.status !== "running") {
    $("download").href = "/api/jobs/" + j.id + "/checkpoint";
    $("download").hidden = false;
  }
}

function showCommand(cmd) {
  $("command").textContent = cmd;
  $("copy").hidden = false;
}

function listen(id, after) {
  if (source) source.close();
  let n = after || 0;
  source = new EventSource("/api/jobs/" + id + "/events?after=" + n);
  source.onmessage = async (msg) => {
    const e = JSON.parse(msg.data);
    n += 1;
    $("events-count").textContent = "(" + n + " " + lab.t("lab.cnn.events", "events") + ")";
    $("events-count").dataset.count = n;
    if (e.kind === "train") curves.train.push([e.step, e.row.train_loss]);
    if (e.kind === "eval" || e.kind === "epoch") {
      if (e.row && e.row.val_loss !== undefined) curves.val.push([e.step, e.row.val_loss]);
    }
    if (e.kind === "command") showCommand(e.command);
    if (e.kind === "pictures") showPictures(e);
    if (e.kind === "train" || e.kind === "eval" || e.kind === "epoch") drawCurves();
    if (e.kind === "status") {
      job = await lab.api("/api/jobs/" + id);
      showResult(job);
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
  if ($("limit").value) params.limit = $("limit").value;
  try {
    job = await lab.api("/api/jobs", { json: { kind: "vision", params: params } });
    curves.train = []; curves.val = [];
    showResult(job);
    listen(job.id, 0);
  } catch (e) {
    $("train-error").textContent = e.message;
  }
}

async function control(action) {
  if (!job) return;
  try {
    job = await lab.api("/api/jobs/" + job.id + "/" + action, { method: "POST" });
    showResult(job);
    if (action === "resume") listen(job.id, job.events);
  } catch (e) {
    $("train-error").textContent = e.message;
  }
}

// the drawing pad: white ink on black, like the data sets
const pad = $("pad");
const ctx = pad.getContext("2d");
let drawing = false;
function clearPad() { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, pad.width, pad.height); }
pad.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(e.offsetX, e.offsetY); });
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 16; ctx.lineCap = "round";
  ctx.lineTo(e.offsetX, e.offsetY); ctx.stroke();
});
window.addEventListener("pointerup", () => { drawing = false; });

function showProbs(data) {
  const box = $("probs");
  box.innerHTML = "";
  const best = data.probs.indexOf(Math.max(...data.probs));
  data.probs.forEach((p, i) => {
    const line = lab.el("div", i === best ? { class: "match" } : {});
    line.appendChild(lab.el("span", { class: "mono" }, data.classes[i] + " "));
    line.appendChild(lab.el("span", { class: "bar", style: "width:" + Math.round(200 * p) + "px" }));
    line.appendChild(lab.el("span", {}, " " + (100 * p).toFixed(1) + " %"));
    box.appendChild(line);
  });
}

async function predict() {
  if (!job) { $("train-error").textContent = lab.t("lab.cnn.need_model", "train a model first"); return; }
  // the pad at half its size, grey; the server crops, scales and centres it as MNIST did
  const side = pad.width / 2;
  const full = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const pixels = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let sum = 0;
      for (let yy = 2 * y; yy < 2 * y + 2; yy++) for (let xx = 2 * x; xx < 2 * x + 2; xx++) sum += full[4 * (yy * pad.width + xx)];
      pixels.push(Math.round((100 * sum) / (4 * 255)) / 100);
    }
  }
  try {
    showProbs(await lab.api("/api/jobs/" + job.id + "/predict", { json: { pixels: pixels, width: side, height: side } }));
  } catch (e) { $("train-error").textContent = e.message; }
}

async function upload() {
  if (!job || !$("upload").files.length) return;
  const form = new FormData();
  form.append("image", $("upload").files[0]);
  try {
    showProbs(await lab.api("/api/jobs/" + job.id + "/predict", { method: "POST", body: form }));
  } catch (e) { $("train-error").textContent = e.message; }
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
    $("zip-info").textContent = Object.entries(d.counts).map(([k, v]) => k + ": " + v).join(", ");
    parsePattern();
  } catch (e) {
    $("zip-info").textContent = e.message;
  }
}

async function init() {
  const models = await lab.api("/api/models");
  $("pattern").value = models.default;
  const d = models.defaults; // the server's defaults (docs/lab.md measures them)
  [["data", d.data], ["epochs", d.epochs], ["batch", d.batch_size], ["lr", d.lr], ["limit", d.limit]]
    .forEach(([id, v]) => { $(id).value = v; });
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
  clearPad();
  parsePattern();
}
init();
