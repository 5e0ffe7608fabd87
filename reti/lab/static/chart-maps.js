// reti lab: the chart module's second half -- heatmaps with their colour bar, horizontal bars
// and the network drawn as blocks. It uses chart.js's frame, svgEl, showTip and hostWidth (the
// two files are one module split for length; chart.js loads first).
"use strict";

// --- heatmaps -----------------------------------------------------------------------------
// opts: {matrix (null = masked), xLabels, yLabels, xTitle, yTitle, valueTitle, min, max,
//        palette: "sequential" | "diverging", maxLabels}. The colour bar shows the scale.
const PALETTES = {
  sequential: ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
  diverging: ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"],
};

chart.colorAt = function (palette, t) {
  const stops = PALETTES[palette] || PALETTES.sequential;
  const u = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const rgb = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
  const [a, b] = [rgb(stops[i]), rgb(stops[i + 1])];
  return "rgb(" + a.map((v, k) => Math.round(v + f * (b[k] - v))).join(",") + ")";
};

chart.heatmap = function (host, opts) {
  const c = { host, opts };
  c.draw = function () { drawHeatmap(c); };
  c.draw();
  chart.all.set(host, c);
  return c;
};

function labelText(s) {
  const t = String(s);
  return t.length > 4 ? t.slice(0, 4) + "\u2026" : t;
}

function drawHeatmap(c) {
  const o = c.opts;
  const { fig, svg, legend, tip } = frame(c.host, "heatmap");
  Object.assign(c, { fig, svg, legend, tip });
  const rows = o.matrix.length;
  const cols = o.matrix[0].length;
  const vals = o.matrix.flat().filter((v) => v !== null && isFinite(v));
  let lo = o.min !== undefined ? o.min : Math.min(...vals);
  let hi = o.max !== undefined ? o.max : Math.max(...vals);
  if (o.palette === "diverging") { const a = Math.max(Math.abs(lo), Math.abs(hi)); lo = -a; hi = a; }
  if (!(hi > lo)) hi = lo + 1;
  const avail = hostWidth(c.host, 420);
  const hasX = !!o.xLabels;
  const hasY = !!o.yLabels;
  const short = hasX && o.xLabels.every((s) => String(s).length <= 2); // e.g. class digits
  const m = { l: hasY ? 64 : 48, t: 8, b: hasX && !short ? 62 : 44, r: 86 };
  const cell = Math.max(3, Math.min(o.cell || 18, Math.floor((avail - m.l - m.r) / cols)));
  const W = m.l + cols * cell + m.r;
  const H = m.t + rows * cell + m.b;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const cells = svgEl(svg, "g", { class: "cells" });
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = o.matrix[i][j];
      const fill = v === null || !isFinite(v) ? "#e2e8f0" : chart.colorAt(o.palette, (v - lo) / (hi - lo));
      svgEl(cells, "rect", { x: m.l + j * cell, y: m.t + i * cell, width: cell, height: cell, fill, "data-i": i, "data-j": j });
    }
  }
  svgEl(svg, "rect", { x: m.l, y: m.t, width: cols * cell, height: rows * cell, fill: "none", stroke: "#a0aec0" });
  // axis labels: every token when they fit, else 1-2-5 spaced indices
  const every = () => Math.max(1, Math.ceil(12 / cell));
  const xl = o.xLabels || null;
  const yl = o.yLabels || null;
  const idxTicks = (n) => chart.niceTicks(0, n - 1, true).ticks.filter((t) => t < n);
  (xl ? xl.map((_, j) => j).filter((j) => j % every(cols) === 0) : idxTicks(cols)).forEach((j) => {
    const x = m.l + j * cell + cell / 2;
    const y = m.t + rows * cell + 6;
    const text = xl ? labelText(xl[j]) : chart.int(j);
    svgEl(svg, "text", xl && !short ? { x, y, class: "tick tok-label", "text-anchor": "end", transform: `rotate(-60 ${x} ${y})`, "dominant-baseline": "middle" }
      : { x, y: y + 10, class: xl ? "tick tok-label" : "tick", "text-anchor": "middle" }, text);
  });
  (yl ? yl.map((_, i) => i).filter((i) => i % every(rows) === 0) : idxTicks(rows)).forEach((i) => {
    svgEl(svg, "text", { x: m.l - 4, y: m.t + i * cell + cell / 2 + 4, class: "tick" + (yl ? " tok-label" : ""), "text-anchor": "end" },
      yl ? labelText(yl[i]) : chart.int(i));
  });
  svgEl(svg, "text", { x: m.l + (cols * cell) / 2, y: H - 4, "text-anchor": "middle", class: "axis-title x" }, chart.text(o.xTitle));
  const cy = m.t + (rows * cell) / 2;
  svgEl(svg, "text", { x: 11, y: cy, "text-anchor": "middle", class: "axis-title y", transform: `rotate(-90 11 ${cy})` }, chart.text(o.yTitle));
  // the colour bar: a gradient with its own 1-2-5 ticks and title
  const barX = m.l + cols * cell + 14;
  const barH = Math.max(60, rows * cell);
  const gid = "g" + Math.random().toString(36).slice(2, 9);
  const grad = svgEl(svgEl(svg, "defs"), "linearGradient", { id: gid, x1: 0, y1: 1, x2: 0, y2: 0 });
  for (let k = 0; k <= 10; k++) svgEl(grad, "stop", { offset: k / 10, "stop-color": chart.colorAt(o.palette, k / 10) });
  const bar = svgEl(svg, "g", { class: "colorbar" });
  svgEl(bar, "rect", { x: barX, y: m.t, width: 12, height: barH, fill: `url(#${gid})`, stroke: "#a0aec0" });
  const ticks = chart.niceTicks(lo, hi);
  ticks.ticks.filter((t) => t >= lo - 1e-12 && t <= hi + 1e-12).forEach((t) => {
    const y = m.t + barH - ((t - lo) / (hi - lo)) * barH;
    svgEl(bar, "line", { x1: barX + 12, x2: barX + 16, y1: y, y2: y, stroke: "#4a5568" });
    svgEl(bar, "text", { x: barX + 18, y: y + 4, class: "tick" }, chart.tickLabel(t, ticks.step));
  });
  const tx = barX + 70;
  const ty = m.t + barH / 2;
  svgEl(bar, "text", { x: tx, y: ty, "text-anchor": "middle", class: "axis-title colorbar-title", transform: `rotate(-90 ${tx} ${ty})` }, chart.text(o.valueTitle));
  svg.addEventListener("pointermove", (ev) => {
    const t = ev.target;
    if (!t.dataset || t.dataset.i === undefined) { tip.hidden = true; return; }
    const i = Number(t.dataset.i);
    const j = Number(t.dataset.j);
    const v = o.matrix[i][j];
    showTip(c, ev.clientX, ev.clientY, [
      { text: chart.text(o.yTitle) + ": " + (yl ? JSON.stringify(String(yl[i])) : chart.int(i)) },
      { text: chart.text(o.xTitle) + ": " + (xl ? JSON.stringify(String(xl[j])) : chart.int(j)) },
      { text: chart.text(o.valueTitle) + ": " + (v === null ? chart.text("lab.chart.masked") : chart.fmt(v, 4)) },
    ]);
  });
  svg.addEventListener("pointerleave", () => { tip.hidden = true; });
}

// --- horizontal bars (probabilities) -----------------------------------------------------------
// opts: {labels, values (0..1), highlight (index), xTitle, yTitle, percent}
chart.bars = function (host, opts) {
  const c = { host, opts };
  c.draw = function () { drawBars(c); };
  c.draw();
  chart.all.set(host, c);
  return c;
};

function drawBars(c) {
  const o = c.opts;
  const { fig, svg, tip } = frame(c.host, "bars");
  Object.assign(c, { fig, svg, tip });
  const n = o.values.length;
  const W = Math.min(hostWidth(c.host, 360), 420);
  const row = 18;
  const m = { l: 64, r: 56, t: 6, b: 40 };
  const H = m.t + n * row + m.b;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const scale = o.percent ? 100 : 1;
  const ticks = chart.niceTicks(0, scale * Math.max(o.max || 0, ...o.values));
  const sx = (v) => m.l + ((scale * v) / ticks.hi) * (W - m.l - m.r);
  ticks.ticks.forEach((t) => {
    const x = m.l + (t / ticks.hi) * (W - m.l - m.r);
    svgEl(svg, "line", { x1: x, x2: x, y1: m.t, y2: m.t + n * row, stroke: "#e2e8f0" });
    svgEl(svg, "text", { x, y: m.t + n * row + 14, "text-anchor": "middle", class: "tick" }, chart.tickLabel(t, ticks.step));
  });
  o.values.forEach((v, i) => {
    const y = m.t + i * row;
    const best = i === o.highlight;
    svgEl(svg, "rect", { x: m.l, y: y + 3, width: Math.max(0.5, sx(v) - m.l), height: row - 6,
      fill: best ? chart.COLORS.output : "#a3bffa", class: best ? "bar best" : "bar", "data-i": i });
    svgEl(svg, "text", { x: m.l - 6, y: y + row / 2 + 4, "text-anchor": "end", class: "tick tok-label" }, String(o.labels[i]));
    svgEl(svg, "text", { x: sx(v) + 4, y: y + row / 2 + 4, class: "tick value" },
      o.percent ? chart.fixed(100 * v, 1) + " %" : chart.fmt(v));
  });
  svgEl(svg, "text", { x: m.l + (W - m.l - m.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title x" }, chart.text(o.xTitle));
  const cy = m.t + (n * row) / 2;
  svgEl(svg, "text", { x: 11, y: cy, "text-anchor": "middle", class: "axis-title y", transform: `rotate(-90 11 ${cy})` }, chart.text(o.yTitle));
  svg.addEventListener("pointermove", (ev) => {
    const i = ev.target.dataset ? ev.target.dataset.i : undefined;
    if (i === undefined) { tip.hidden = true; return; }
    showTip(c, ev.clientX, ev.clientY, [{ text: String(o.labels[i]) + ": " + chart.fixed(100 * o.values[i], 2) + " %" }]);
  });
  svg.addEventListener("pointerleave", () => { tip.hidden = true; });
}

// --- the network as a row of blocks (CNN Explainer's picture) ----------------------------------
// layers: [{layer, shape: [C, H, W] or [N], params}]; a block's height grows with H, its depth
// with C; below it the output shape and the parameter count.
chart.network = function (host, input, layers) {
  host.innerHTML = "";
  const row = lab.el("div", { class: "network", role: "list" });
  const block = (name, shape, params, kind) => {
    const b = lab.el("div", { class: "block " + kind, role: "listitem", tabindex: "0" });
    const side = shape.length === 3 ? shape[1] : 1;
    const h = shape.length === 3 ? Math.round(18 + 46 * Math.log2(1 + side) / Math.log2(29)) : 14 + Math.min(50, shape[0]);
    const depth = shape.length === 3 ? Math.min(26, 4 + Math.round(4 * Math.log2(shape[0]))) : 8;
    b.appendChild(lab.el("div", { class: "box", style: `height:${h}px;width:${depth}px` }));
    b.appendChild(lab.el("div", { class: "name mono" }, name));
    b.appendChild(lab.el("div", { class: "shape mono" }, shape.map((v) => chart.int(v)).join("\u00d7")));
    const p = lab.el("div", { class: "params" });
    p.appendChild(lab.el("span", {}, chart.int(params) + " "));
    p.appendChild(lab.el("span", { "data-i18n": "lab.cnn.weights" }, lab.t("lab.cnn.weights")));
    if (params || kind !== "input") b.appendChild(p);
    b.title = name + " \u2192 " + shape.join("\u00d7");
    row.appendChild(b);
  };
  block(lab.t("lab.cnn.input"), input, 0, "input");
  layers.forEach((l) => block(l.layer, l.shape, l.params, l.shape.length === 3 ? "conv" : "flat"));
  host.appendChild(row);
};
