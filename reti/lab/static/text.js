"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#ffc9c9", "#c3fae8"];
let attention = null;

async function tokenize() {
  try {
    const d = await lab.api("/api/tokenize", { json: { text: $("tok-text").value } });
    const out = $("tok-out");
    out.innerHTML = "";
    Object.entries(d.tokenizers).forEach(([kind, t]) => {
      const block = lab.el("div", { class: "tokenizer", "data-kind": kind });
      block.appendChild(lab.el("strong", {}, kind + " (" + t.count + " " + lab.t("lab.text.tokens", "tokens") + ", vocab " + t.vocab_size + "): "));
      t.pieces.forEach((p, i) => {
        const shown = p.replace(/ /g, "\u2423").replace(/\n/g, "\u21b5"); // spaces and newlines visible
        const span = lab.el("span", { class: "tok", style: "background:" + COLORS[i % COLORS.length], title: "id " + t.ids[i] }, shown);
        const sub = lab.el("sub", {}, String(t.ids[i]));
        span.appendChild(sub);
        block.appendChild(span);
      });
      out.appendChild(block);
    });
  } catch (e) {
    $("tok-out").textContent = e.message;
  }
}

function sampling() {
  const body = { prompt: $("prompt").value, temperature: Number($("temperature").value), seed: Number($("seed").value) };
  if (Number($("top-k").value) > 0) body.top_k = Number($("top-k").value);
  if (Number($("top-p").value) < 1) body.top_p = Number($("top-p").value);
  return body;
}

function showDist(d) {
  const box = $("dist");
  box.innerHTML = "";
  d.top.forEach((t) => {
    const line = lab.el("div", t.id === d.token ? { class: "match" } : {});
    line.appendChild(lab.el("span", { class: "mono" }, JSON.stringify(t.piece) + " "));
    line.appendChild(lab.el("span", { class: "bar", style: "width:" + Math.round(300 * t.p) + "px" }));
    line.appendChild(lab.el("span", {}, " " + (100 * t.p).toFixed(1) + " %"));
    box.appendChild(line);
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
      showDist(d);
    }
    $("sample").dataset.done = String(Number($("sample").dataset.done || 0) + 1);
    loadAttention();
  } catch (e) {
    $("sample-error").textContent = e.message;
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
    showDist(d);
  } catch (e) {
    $("sample-error").textContent = e.message;
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
  drawAttention();
}

function drawAttention() {
  if (!attention) return;
  const m = attention.layers[$("att-layer").value || 0][$("att-head").value || 0];
  const masked = m.map((row, i) => row.map((v, j) => (j > i ? null : v)));
  lab.heatmap($("attention"), masked, 14, attention.tokens);
}

async function positions() {
  const d = await lab.api("/api/text/positions?n=24");
  lab.heatmap($("pos-sin"), d.sinusoidal, 6);
  lab.heatmap($("pos-alibi"), d.alibi[0], 8);
  lab.heatmap($("pos-rel"), d.relative_buckets, 8);
}

$("tok-text").addEventListener("input", lab.debounce(tokenize, 150));
$("generate").addEventListener("click", () => generate(40));
$("one-step").addEventListener("click", oneStep);
$("att-layer").addEventListener("change", drawAttention);
$("att-head").addEventListener("change", drawAttention);
tokenize();
positions();
