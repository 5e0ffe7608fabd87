"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#ffc9c9", "#c3fae8"];
let attention = null;
let tokens = null;
let lastDist = null;
let positionsData = null;

function showTokens() {
  if (!tokens) return;
  const out = $("tok-out");
  out.innerHTML = "";
  Object.entries(tokens.tokenizers).forEach(([kind, t]) => {
    const block = lab.el("div", { class: "tokenizer", "data-kind": kind });
    block.appendChild(lab.el("strong", {}, kind + " "));
    block.appendChild(lab.el("span", { class: "note" }, "(" + lab.f("lab.text.count", { n: chart.int(t.count), vocab: chart.int(t.vocab_size) }) + "): "));
    t.pieces.forEach((p, i) => {
      const partial = t.partial && t.partial[i];
      const shown = partial ? p : p.replace(/ /g, "\u2423").replace(/\n/g, "\u21b5"); // spaces, newlines visible
      const span = lab.el("span", { class: "tok" + (partial ? " bytes" : ""), style: "background:" + COLORS[i % COLORS.length], title: "id " + t.ids[i] }, shown);
      span.appendChild(lab.el("sub", {}, String(t.ids[i])));
      block.appendChild(span);
    });
    out.appendChild(block);
  });
}

async function tokenize() {
  try {
    tokens = await lab.api("/api/tokenize", { json: { text: $("tok-text").value } });
    showTokens();
  } catch (e) {
    lab.showError($("tok-out"), e);
  }
}

function sampling() {
  const body = { prompt: $("prompt").value, temperature: Number($("temperature").value), seed: Number($("seed").value) };
  if (Number($("top-k").value) > 0) body.top_k = Number($("top-k").value);
  if (Number($("top-p").value) < 1) body.top_p = Number($("top-p").value);
  return body;
}

function showDist() {
  const d = lastDist;
  if (!d) return;
  $("dist-box").hidden = false;
  chart.bars($("dist"), {
    labels: d.top.map((t) => JSON.stringify(t.piece)), values: d.top.map((t) => t.p),
    highlight: d.top.findIndex((t) => t.id === d.token), percent: true,
    xTitle: "lab.axis.probability_pct", yTitle: "lab.axis.next_char",
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// the char GPT trains once per lab folder (first in the job queue): wait for it
async function whenReady(call) {
  for (let i = 0; i < 900; i++) {
    const state = await lab.api("/api/text/ready");
    if (state.error) throw new Error(state.error);
    if (state.ready) break;
    $("loading").hidden = false;
    await sleep(1000);
  }
  $("loading").hidden = true;
  return call();
}

async function step(body) {
  return whenReady(() => lab.api("/api/text/step", { json: body }));
}

async function generate(n) {
  $("sample-error").textContent = "";
  const body = sampling();
  let text = "";
  $("generate").disabled = true;
  try {
    for (let i = 0; i < n; i++) {
      const d = await step(Object.assign({}, body, { prompt: body.prompt + text, seed: body.seed + i }));
      text += d.piece;
      $("sample").textContent = body.prompt + text;
      lastDist = d;
      showDist();
    }
    $("sample").dataset.done = String(Number($("sample").dataset.done || 0) + 1);
    loadAttention();
  } catch (e) {
    lab.showError($("sample-error"), e);
  } finally {
    $("generate").disabled = false;
  }
}

async function oneStep() {
  try {
    const body = sampling();
    const d = await step(body);
    $("prompt").value = body.prompt + d.piece;
    $("sample").textContent = $("prompt").value;
    lastDist = d;
    showDist();
  } catch (e) {
    lab.showError($("sample-error"), e);
  }
}

async function loadAttention() {
  const prompt = ($("sample").textContent || $("prompt").value).slice(0, 32);
  attention = await whenReady(() => lab.api("/api/text/attention", { json: { prompt: prompt } }));
  const layers = $("att-layer");
  const heads = $("att-head");
  if (layers.options.length !== attention.layers.length) {
    layers.innerHTML = "";
    attention.layers.forEach((_, i) => layers.appendChild(lab.el("option", { value: i }, String(i + 1))));
    heads.innerHTML = "";
    attention.layers[0].forEach((_, i) => heads.appendChild(lab.el("option", { value: i }, String(i + 1))));
  }
  $("att-wait").hidden = true;
  $("att-controls").hidden = false;
  drawAttention();
}

const shownToken = (s) => (s === " " ? "\u2423" : s === "\n" ? "\u21b5" : s);

function drawAttention() {
  if (!attention) return;
  const m = attention.layers[$("att-layer").value || 0][$("att-head").value || 0];
  const masked = m.map((row, i) => row.map((v, j) => (j > i ? null : v)));
  const toks = attention.tokens.map(shownToken);
  chart.heatmap($("attention"), {
    matrix: masked, xLabels: toks, yLabels: toks, min: 0, max: 1, cell: 14, palette: "sequential",
    xTitle: "lab.axis.key", yTitle: "lab.axis.query", valueTitle: "lab.axis.weight",
  });
}

function drawPositions() {
  const d = positionsData;
  if (!d) return;
  chart.heatmap($("pos-sin"), {
    matrix: d.sinusoidal, cell: 8, palette: "diverging",
    xTitle: "lab.axis.dimension", yTitle: "lab.axis.position", valueTitle: "lab.axis.pos_value",
  });
  chart.heatmap($("pos-alibi"), {
    matrix: d.alibi[0], cell: 8, palette: "sequential",
    xTitle: "lab.axis.key_pos", yTitle: "lab.axis.query_pos", valueTitle: "lab.axis.bias",
  });
  chart.heatmap($("pos-rel"), {
    matrix: d.relative_buckets, cell: 8, palette: "sequential",
    xTitle: "lab.axis.key_pos", yTitle: "lab.axis.query_pos", valueTitle: "lab.axis.bucket",
  });
}

async function positions() {
  positionsData = await lab.api("/api/text/positions?n=24");
  drawPositions();
}

$("tok-text").addEventListener("input", lab.debounce(tokenize, 150));
$("generate").addEventListener("click", () => generate(40));
$("one-step").addEventListener("click", oneStep);
$("att-layer").addEventListener("change", drawAttention);
$("att-head").addEventListener("change", drawAttention);
lab.onLang.push(() => { showTokens(); showDist(); });
lab.ready.then(() => { tokenize(); positions(); });
