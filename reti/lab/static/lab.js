// reti lab: what every page shares -- the API helper, the language toggle, small SVG/canvas charts.
"use strict";

const lab = {
  lang: "en",
  texts: {},
  onLang: [],
};

lab.t = function (key, fallback) {
  return lab.texts[key] || fallback || key;
};

lab.api = async function (path, options) {
  const opts = options || {};
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers = { "Content-Type": "application/json" };
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const response = await fetch(path, opts);
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) {
    const err = new Error((data && data.error) || response.statusText);
    err.data = data;
    err.status = response.status;
    throw err;
  }
  return data;
};

lab.setLang = async function (lang) {
  lab.lang = lang;
  localStorage.setItem("reti-lab-lang", lang);
  document.documentElement.lang = lang;
  lab.texts = await lab.api("/api/i18n?lang=" + lang);
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const text = lab.texts[el.dataset.i18n];
    if (text) el.textContent = text;
  });
  document.getElementById("lang-toggle").textContent = lang === "en" ? "IT" : "EN";
  lab.onLang.forEach((f) => f());
};

lab.el = function (tag, attrs, text) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  return e;
};

lab.debounce = function (f, ms) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
};

// A line chart in an <svg>: series = [{name, points: [[x, y], ...], color}]
lab.lineChart = function (svg, series, opts) {
  const o = Object.assign({ width: 520, height: 220, xlabel: "", ylabel: "" }, opts || {});
  const pad = 40;
  svg.setAttribute("width", o.width);
  svg.setAttribute("height", o.height);
  svg.innerHTML = "";
  const all = series.flatMap((s) => s.points.filter((p) => p[1] !== null && isFinite(p[1])));
  if (!all.length) return;
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (o.ymin !== undefined) y0 = Math.min(y0, o.ymin);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x) => pad + ((x - x0) / (x1 - x0)) * (o.width - pad - 10);
  const sy = (y) => o.height - pad + 10 - ((y - y0) / (y1 - y0)) * (o.height - pad - 10);
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  add("line", { x1: pad, y1: sy(y0), x2: o.width - 10, y2: sy(y0), stroke: "#999" });
  add("line", { x1: pad, y1: sy(y0), x2: pad, y2: 10, stroke: "#999" });
  add("text", { x: pad, y: o.height - 5, "font-size": 11 }, o.xlabel);
  add("text", { x: 2, y: 12, "font-size": 11 }, o.ylabel);
  add("text", { x: 2, y: sy(y0), "font-size": 10 }, y0.toPrecision(3));
  add("text", { x: 2, y: sy(y1) + 10, "font-size": 10 }, y1.toPrecision(3));
  add("text", { x: o.width - 40, y: o.height - 5, "font-size": 10 }, String(x1));
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] !== null && isFinite(p[1]));
    const d = pts.map((p, j) => (j ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1));
    add("path", { d: d.join(" "), fill: "none", stroke: s.color || "#3f7fbf", "stroke-width": 1.6 });
    add("text", { x: o.width - 150, y: 14 + 13 * i, fill: s.color || "#3f7fbf", "font-size": 11 }, s.name);
    (s.marks || []).forEach((m) => add("circle", { cx: sx(m[0]), cy: sy(m[1]), r: 3, fill: s.color }));
  });
  return { sx, sy, add };
};

// Grey images (uint8, flat) onto one canvas: n images of h x w, `cols` per row, scaled.
lab.drawImages = function (canvas, pixels, n, c, h, w, cols, scale) {
  const rows = Math.ceil(n / cols);
  canvas.width = cols * (w + 1) * scale;
  canvas.height = rows * (h + 1) * scale;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * (w + 1) * scale;
    const oy = Math.floor(i / cols) * (h + 1) * scale;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let rgb;
        if (c === 3) {
          rgb = [0, 1, 2].map((k) => pixels[((i * 3 + k) * h + y) * w + x]);
        } else {
          const v = pixels[(i * h + y) * w + x];
          rgb = [v, v, v];
        }
        ctx.fillStyle = "rgb(" + rgb.join(",") + ")";
        ctx.fillRect(ox + x * scale, oy + y * scale, scale, scale);
      }
    }
  }
};

// A heatmap of a matrix (null = masked, drawn grey) onto a canvas, blue (low) to red (high).
lab.heatmap = function (canvas, matrix, cell, labels) {
  const n = matrix.length;
  const m = matrix[0].length;
  const off = labels ? 40 : 0;
  canvas.width = off + m * cell;
  canvas.height = off + n * cell;
  const ctx = canvas.getContext("2d");
  const vals = matrix.flat().filter((v) => v !== null);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = matrix[i][j];
      if (v === null) {
        ctx.fillStyle = "#ddd";
      } else {
        const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        ctx.fillStyle = "rgb(" + Math.round(255 * t) + "," + Math.round(80 + 100 * (1 - Math.abs(2 * t - 1))) + "," + Math.round(255 * (1 - t)) + ")";
      }
      ctx.fillRect(off + j * cell, off + i * cell, cell, cell);
    }
  }
  if (labels) {
    ctx.fillStyle = "#222";
    ctx.font = Math.min(cell, 12) + "px monospace";
    labels.forEach((s, k) => {
      ctx.fillText(JSON.stringify(s).slice(1, -1).slice(0, 3), 2, off + k * cell + cell - 2);
      ctx.save();
      ctx.translate(off + k * cell + cell - 2, off - 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(JSON.stringify(s).slice(1, -1).slice(0, 3), 0, 0);
      ctx.restore();
    });
  }
};

lab.showError = function (el, err) {
  el.textContent = err ? err.message || String(err) : "";
};

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  document.querySelectorAll("header nav a").forEach((a) => {
    if (a.getAttribute("href").endsWith("/" + page)) a.classList.add("active");
  });
  document.getElementById("lang-toggle").addEventListener("click", () => {
    lab.setLang(lab.lang === "en" ? "it" : "en");
  });
  const saved = localStorage.getItem("reti-lab-lang");
  const browser = (navigator.language || "en").toLowerCase().startsWith("it") ? "it" : "en";
  lab.setLang(saved || browser);
});
