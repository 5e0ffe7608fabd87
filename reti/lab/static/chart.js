// reti lab: the one chart module every page draws with -- hand-written SVG, no library.
// Line charts that stream here; heatmaps with a colour bar, horizontal bars and the network as
// blocks in chart-maps.js.
// Every axis has a title (with its unit), 4-8 ticks at 1-2-5 values, numbers in the page's
// language (Intl.NumberFormat: 0.25 in English, 0,25 in Italian), a legend with swatches outside
// the plot, values on hover. A title or series name that starts with "lab." is a catalogue key,
// looked up at each drawing, so a language switch redraws every chart in the new language.
"use strict";

const chart = { all: new Map() }; // host element -> its chart
const SVG_NS = "http://www.w3.org/2000/svg";

// One meaning, one colour, on every page.
chart.COLORS = {
  train: "#2b6cb0", val: "#dd6b20", test: "#dd6b20",
  input: "#718096", output: "#6b46c1", perturbed: "#d53f8c",
  causal: "#2f855a", centred: "#c53030",
  truth: "#1a202c", a: "#2b6cb0", b: "#6b46c1", naive: "#a0aec0", seasonal: "#718096",
  anomaly: "#c53030", flagged: "#dd6b20", neutral: "#4a5568",
};
chart.DASHES = ["", "6 4", "2 3"]; // arms of one experiment: solid, dashed, dotted

chart.text = function (s) {
  return typeof s === "string" && s.startsWith("lab.") ? lab.t(s) : s == null ? "" : String(s);
};

chart.locale = function () {
  return lab.lang === "it" ? "it-IT" : "en-US";
};

// A number for people: `digits` significant digits, grouping, the language's decimal sign.
chart.fmt = function (v, digits) {
  if (v === null || v === undefined || !isFinite(v)) return "\u2013";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e7)) {
    const [m, e] = v.toExponential((digits || 3) - 1).split("e");
    return chart.fmt(Number(m), digits) + "\u00b710^" + Number(e);
  }
  return new Intl.NumberFormat(chart.locale(), { maximumSignificantDigits: digits || 3 }).format(v);
};

// A number with a fixed count of decimals (tables, percentages), in the page's language.
chart.fixed = function (v, decimals) {
  if (v === null || v === undefined || !isFinite(v)) return "\u2013";
  const d = decimals === undefined ? 3 : decimals;
  return new Intl.NumberFormat(chart.locale(), { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
};

chart.int = function (v) {
  return new Intl.NumberFormat(chart.locale(), { maximumFractionDigits: 0 }).format(v);
};

// Ticks at 1-2-5 multiples of a power of ten covering [lo, hi]: the step giving 4-8 ticks
// (fewer only when the range itself is smaller, e.g. integer epochs 1..3).
chart.niceTicks = function (lo, hi, integer) {
  if (!(hi > lo)) hi = lo + 1;
  const span = hi - lo;
  let best = null;
  for (let e = Math.floor(Math.log10(span)) - 2; e <= Math.ceil(Math.log10(span)) + 1; e++) {
    for (const m of [1, 2, 5]) {
      const step = m * Math.pow(10, e);
      if (integer && step < 1) continue;
      const a = Math.floor(lo / step + 1e-9) * step;
      const b = Math.ceil(hi / step - 1e-9) * step;
      const n = Math.round((b - a) / step) + 1;
      if (n >= 4 && n <= 8 && (!best || n > best.n)) best = { a, b, step, n };
    }
  }
  if (!best) {
    const step = integer ? 1 : Math.pow(10, Math.floor(Math.log10(span)));
    best = { a: Math.floor(lo / step) * step, b: Math.ceil(hi / step) * step, step };
  }
  const ticks = [];
  for (let v = best.a; v <= best.b + best.step / 2; v += best.step) ticks.push(Number(v.toPrecision(12)));
  return { lo: best.a, hi: best.b, step: best.step, ticks };
};

chart.tickLabel = function (v, step) {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3)) return chart.fmt(v, 2);
  return chart.fixed(v, decimals);
};

function svgEl(parent, tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// The frame every chart shares: <figure class="chart"> with the plot, a legend and a tooltip.
function frame(host, kind) {
  host.innerHTML = "";
  const fig = lab.el("figure", { class: "chart", "data-kind": kind });
  const svg = svgEl(fig, "svg", { class: "plot", role: "img" });
  const legend = lab.el("div", { class: "legend" });
  const tip = lab.el("div", { class: "tip", hidden: "" });
  fig.append(legend, tip);
  host.appendChild(fig);
  return { fig, svg, legend, tip };
}

function legendItem(legend, name, color, dash, shape) {
  const item = lab.el("span", { class: "legend-item" });
  const sw = svgEl(null, "svg", { class: "swatch", width: 22, height: 10 });
  if (shape === "dot") svgEl(sw, "circle", { cx: 11, cy: 5, r: 4, fill: color });
  else svgEl(sw, "line", { x1: 1, y1: 5, x2: 21, y2: 5, stroke: color, "stroke-width": 3, "stroke-dasharray": dash || "" });
  item.append(sw, lab.el("span", {}, chart.text(name)));
  legend.appendChild(item);
}

function showTip(c, clientX, clientY, lines) {
  const tip = c.tip;
  tip.innerHTML = "";
  lines.forEach((l) => {
    const row = lab.el("div");
    if (l.color) row.appendChild(lab.el("span", { class: "dot", style: "background:" + l.color }));
    row.appendChild(lab.el("span", {}, l.text));
    tip.appendChild(row);
  });
  tip.hidden = false;
  const box = c.fig.getBoundingClientRect();
  const x = clientX - box.left + 12;
  tip.style.left = Math.min(x, box.width - tip.offsetWidth - 4) + "px";
  tip.style.top = Math.max(0, clientY - box.top - tip.offsetHeight - 8) + "px";
}

function hostWidth(host, fallback) {
  const w = host.clientWidth || (host.parentElement && host.parentElement.clientWidth) || fallback;
  return Math.max(240, Math.min(w, 900));
}

// --- line charts ------------------------------------------------------------------------
// opts: {xTitle, yTitle, height, xmin, xmax, ymin, ymax, xInteger, vlines: [{x, color, label}],
//        onClick(x), series: [{key, name, color, dash, points: [[x, y], ...], dots, line}]}
// The axes only grow (to the next 1-2-5 tick), so a streamed point never shakes the picture.
chart.line = function (host, opts) {
  const c = { host, opts: Object.assign({ height: 240 }, opts), series: [], domain: null };
  c.series = (opts.series || []).map((s) => Object.assign({ points: [] }, s));
  c.find = (key) => c.series.find((s) => s.key === key);
  c.add = function (key, point) {
    const s = c.find(key);
    if (!s) return;
    s.points.push(point);
    if (!c.inside(point)) { c.draw(); return; }
    if (c.paths.get(key)) c.paths.get(key).setAttribute("d", c.pathOf(s));
    if (s.dots) svgEl(c.svg, "circle", { cx: c.sx(point[0]), cy: c.sy(point[1]), r: s.dots, fill: s.color });
  };
  c.set = function (series) {
    c.series = series.map((s) => Object.assign({ points: [] }, s));
    c.domain = null;
    c.draw();
  };
  c.inside = function (p) {
    const d = c.domain;
    return d && p[0] >= d.x.lo && p[0] <= d.x.hi && p[1] >= d.y.lo && p[1] <= d.y.hi;
  };
  c.draw = function () { drawLine(c); };
  c.draw();
  chart.all.set(host, c);
  return c;
};

function lineDomain(c) {
  const o = c.opts;
  const pts = c.series.flatMap((s) => s.points.filter((p) => p[1] !== null && isFinite(p[1])));
  const xs = pts.map((p) => p[0]).concat((o.vlines || []).map((v) => v.x));
  const ys = pts.map((p) => p[1]);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (o.xmin !== undefined) x0 = Math.min(x0, o.xmin);
  if (o.xmax !== undefined) x1 = Math.max(x1, o.xmax);
  if (o.ymin !== undefined) y0 = Math.min(y0, o.ymin);
  if (o.ymax !== undefined) y1 = Math.max(y1, o.ymax);
  if (c.domain) { // only grow
    x0 = Math.min(x0, c.domain.x.lo); x1 = Math.max(x1, c.domain.x.hi);
    y0 = Math.min(y0, c.domain.y.lo); y1 = Math.max(y1, c.domain.y.hi);
  }
  const x = chart.niceTicks(x0, x1, o.xInteger);
  if (o.xTight) { x.lo = x0; x.hi = x1 > x0 ? x1 : x0 + 1; x.ticks = x.ticks.filter((t) => t >= x.lo && t <= x.hi); }
  return { x, y: chart.niceTicks(y0, y1) };
}

function drawLine(c) {
  const o = c.opts;
  const { fig, svg, legend, tip } = frame(c.host, "line");
  Object.assign(c, { fig, svg, legend, tip, paths: new Map() });
  c.domain = lineDomain(c);
  const W = hostWidth(c.host, 480);
  const H = o.height;
  const m = { l: 58, r: 12, t: 10, b: 44 };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const { x, y } = c.domain;
  const sx = (v) => m.l + ((v - x.lo) / (x.hi - x.lo)) * (W - m.l - m.r);
  const sy = (v) => H - m.b - ((v - y.lo) / (y.hi - y.lo)) * (H - m.t - m.b);
  Object.assign(c, { sx, sy, margin: m, W, H });
  const grid = svgEl(svg, "g", { class: "grid" });
  y.ticks.forEach((t) => {
    svgEl(grid, "line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), stroke: "#e2e8f0" });
    svgEl(svg, "text", { x: m.l - 5, y: sy(t) + 4, "text-anchor": "end", class: "tick" }, chart.tickLabel(t, y.step));
  });
  x.ticks.forEach((t) => {
    svgEl(grid, "line", { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b, stroke: "#edf2f7" });
    svgEl(svg, "text", { x: sx(t), y: H - m.b + 15, "text-anchor": "middle", class: "tick" }, chart.tickLabel(t, x.step));
  });
  svgEl(svg, "rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: "none", stroke: "#a0aec0" });
  svgEl(svg, "text", { x: m.l + (W - m.l - m.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title x" }, chart.text(o.xTitle));
  svgEl(svg, "text", { x: 13, y: m.t + (H - m.t - m.b) / 2, "text-anchor": "middle", class: "axis-title y",
    transform: `rotate(-90 13 ${m.t + (H - m.t - m.b) / 2})` }, chart.text(o.yTitle));
  (o.vlines || []).forEach((v) => {
    svgEl(svg, "line", { x1: sx(v.x), x2: sx(v.x), y1: m.t, y2: H - m.b, stroke: v.color || "#c53030", "stroke-dasharray": "4 3" });
  });
  (o.bands || []).forEach((b) => {
    svgEl(svg, "rect", { x: sx(b.from), y: m.t, width: Math.max(1, sx(b.to) - sx(b.from)), height: H - m.t - m.b, fill: b.color, opacity: 0.18 });
  });
  c.pathOf = (s) => s.points.filter((p) => p[1] !== null && isFinite(p[1]))
    .map((p, j) => (j ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
  c.series.forEach((s) => {
    if (s.line !== false) {
      const p = svgEl(svg, "path", { d: c.pathOf(s), fill: "none", stroke: s.color, "stroke-width": s.width || 2,
        "stroke-dasharray": s.dash || "", "data-key": s.key || "" });
      c.paths.set(s.key, p);
    }
    if (s.dots) s.points.forEach((p) => svgEl(svg, "circle", { cx: sx(p[0]), cy: sy(p[1]), r: s.dots, fill: s.color }));
    if (s.legend !== false) legendItem(legend, s.name, s.color, s.dash, s.line === false ? "dot" : "line");
  });
  (o.vlines || []).filter((v) => v.label).forEach((v) => legendItem(legend, v.label, v.color || "#c53030", "4 3"));
  const guide = svgEl(svg, "line", { y1: m.t, y2: H - m.b, stroke: "#4a5568", visibility: "hidden" });
  const toData = (ev) => {
    const box = svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    return x.lo + ((px - m.l) / (W - m.l - m.r)) * (x.hi - x.lo);
  };
  svg.addEventListener("pointermove", (ev) => {
    const xv = toData(ev);
    const lines = [];
    let at = null;
    c.series.forEach((s) => {
      if (!s.points.length) return;
      let best = s.points[0];
      s.points.forEach((p) => { if (Math.abs(p[0] - xv) < Math.abs(best[0] - xv)) best = p; });
      if (Math.abs(sx(best[0]) - sx(xv)) > 30) return;
      at = at === null ? best[0] : at;
      lines.push({ color: s.color, text: chart.text(s.name) + ": " + chart.fmt(best[1], 4) });
    });
    if (!lines.length) { tip.hidden = true; guide.setAttribute("visibility", "hidden"); return; }
    guide.setAttribute("x1", sx(at)); guide.setAttribute("x2", sx(at)); guide.setAttribute("visibility", "visible");
    showTip(c, ev.clientX, ev.clientY, [{ text: chart.text(o.xTitle) + ": " + chart.fmt(at, 4) }].concat(lines));
  });
  svg.addEventListener("pointerleave", () => { tip.hidden = true; guide.setAttribute("visibility", "hidden"); });
  if (o.onClick) svg.addEventListener("click", (ev) => o.onClick(toData(ev)));
}

// Redraw every chart still on the page (after a language switch or a resize).
chart.redrawAll = function () {
  chart.all.forEach((c, host) => {
    if (!document.body.contains(host)) chart.all.delete(host);
    else c.draw();
  });
};
lab.onLang.push(chart.redrawAll);
let lastWidth = window.innerWidth;
window.addEventListener("resize", lab.debounce(() => {
  if (window.innerWidth !== lastWidth) { lastWidth = window.innerWidth; chart.redrawAll(); }
}, 150));
