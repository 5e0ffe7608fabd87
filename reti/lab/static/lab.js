// reti lab: what every page shares -- the API helper, the language toggle, image grids.
// Charts live in chart.js. Every visible word comes from the catalogue (/api/i18n): static text
// through data-i18n attributes, script-written text through lab.t; the server's English error
// messages are shown through lab.errorText, which maps the ones a page can meet to catalogue keys.
"use strict";

const lab = {
  lang: "en",
  texts: {},
  onLang: [],
};

let readyResolve;
lab.ready = new Promise((resolve) => { readyResolve = resolve; });

lab.t = function (key, fallback) {
  return lab.texts[key] || fallback || key;
};

// "{name}" placeholders filled from `fields`.
lab.f = function (key, fields) {
  return lab.t(key).replace(/\{(\w+)\}/g, (m, k) => (k in fields ? String(fields[k]) : m));
};

// The server's English messages a page can show, as catalogue keys (a regexp's groups fill the
// key's {0}, {1}...). A message not listed is shown under the catalogue's "server says" label.
lab.ERRORS = [
  [/^column (\d+): (.*)$/s, "lab.err.column"],
  [/^the pattern is longer than (\d+) characters/, "lab.err.pattern_long"],
  [/^the spec is longer than (\d+) characters/, "lab.err.spec_long"],
  [/^job (\S+) has no trained vision model yet/, "lab.err.no_model"],
  [/^job (\S+) has no checkpoint yet/, "lab.err.no_checkpoint"],
  [/^the char GPT could not be trained/, "lab.err.gpt_failed"],
  [/too many requests|queue is full/i, "lab.err.busy"],
  [/^internal error/, "lab.err.internal"],
  [/payload too large|larger than|too large/i, "lab.err.too_large"],
  [/^Failed to fetch|NetworkError/, "lab.err.network"],
];

// The CNN pattern parser's messages (reti.models.pattern), as catalogue keys: the page shows
// them in its language; a message not listed stays as the server wrote it.
lab.PATTERN_ERRORS = [
  [/^malformed number (.+)$/, "lab.perr.number"],
  [/^number of (\d+) digits; at most (\d+)$/, "lab.perr.digits"],
  [/^unexpected character (.+)$/, "lab.perr.char"],
  [/^empty pattern; expected a layer such as (\S+)$/, "lab.perr.empty"],
  [/^expected SOFTMAX after ','$/, "lab.perr.softmax"],
  [/^unexpected (.+); expected '-', ',SOFTMAX' or the end$/, "lab.perr.end"],
  [/^expected a layer or a group, got the end$/, "lab.perr.layer_end"],
  [/^expected a layer or a group, got (.+)$/, "lab.perr.layer"],
  [/^'\?' marks an optional layer in the notes' template; write or drop it$/, "lab.perr.optional"],
  [/^expected a whole repeat count after '\*'$/, "lab.perr.repeat"],
  [/^repeat count must be in \[1, (\d+)\], got (.+)$/, "lab.perr.repeat_range"],
  [/^groups nested more than (\d+) deep$/, "lab.perr.nested"],
  [/^missing (.+) \(the (.+) of column (\d+) is not closed\)$/, "lab.perr.unclosed"],
  [/^unknown layer (.+); known layers: (.+)$/, "lab.perr.unknown"],
  [/^expected a whole size after '@' in (\S+)$/, "lab.perr.size"],
  [/^(\S+) takes no '@size'$/, "lab.perr.no_size"],
  [/^(\S+) size must be >= 1, got (.+)$/, "lab.perr.size_min"],
  [/^FC needs '@size', e\.g\. FC@128$/, "lab.perr.fc"],
  [/^DROPOUT needs its rate, e\.g\. (.+)$/, "lab.perr.dropout_rate"],
  [/^(\S+) takes no kernel size$/, "lab.perr.no_kernel"],
  [/^expected a whole kernel width after 'x', e\.g\. 3x3$/, "lab.perr.kernel_width"],
  [/^unexpected (.+) after the kernel; expected e\.g\. 3x3$/, "lab.perr.after_kernel"],
  [/^(\S+) kernel must be >= 1, got (.+)$/, "lab.perr.kernel_min"],
  [/^(\S+) takes no arguments$/, "lab.perr.no_args"],
  [/^(\S+) has no option (.+); options: (.+)$/, "lab.perr.no_option"],
  [/^(\S+) takes at most (\d+) arguments$/, "lab.perr.max_args"],
  [/^(\S+) option (.+) given twice$/, "lab.perr.twice"],
  [/^expected ',' or '\)' to close '\(' opened at column (\d+)$/, "lab.perr.close"],
  [/^DROPOUT mode must be one of (.+)$/, "lab.perr.dropout_mode"],
  [/^DROPOUT p must be a number in \[0, 1\), got (.+)$/, "lab.perr.dropout_p"],
  [/^(\S+) (\S+) must be a whole number >= (\d+), got (.+)$/, "lab.perr.whole"],
];

lab.patternText = function (message) {
  for (const [re, key] of lab.PATTERN_ERRORS) {
    const m = String(message).match(re);
    if (m) return lab.t(key).replace(/\{(\d)\}/g, (_, k) => m[Number(k) + 1] || "");
  }
  return message;
};

lab.errorText = function (err) {
  const message = err ? String(err.message || err) : "";
  if (!message) return "";
  for (const [re, key] of lab.ERRORS) {
    const m = message.match(re);
    if (m && key === "lab.err.column") m[2] = lab.patternText(m[2]);
    if (m) return lab.t(key).replace(/\{(\d)\}/g, (_, k) => m[Number(k) + 1] || "");
  }
  return lab.t("lab.err.server") + " " + message;
};

lab.api = async function (path, options) {
  const opts = Object.assign({}, options || {});
  // every state-changing request is JSON or a FormData upload (what the lab's CSRF check wants)
  if (opts.method === "POST" && opts.body === undefined && opts.json === undefined) opts.json = {};
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers = { "Content-Type": "application/json" };
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  let response;
  try {
    response = await fetch(path, opts);
  } catch (e) {
    throw new Error("NetworkError: " + e.message);
  }
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
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    const text = lab.texts[el.dataset.i18nPlaceholder];
    if (text) el.setAttribute("placeholder", text);
  });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => {
    const text = lab.texts[el.dataset.i18nLabel];
    if (text) el.setAttribute("aria-label", text);
  });
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = lang === "en" ? "IT" : "EN";
  toggle.setAttribute("aria-label", lab.t("lab.lang.switch"));
  document.body.dataset.lang = lang;
  readyResolve();
  lab.onLang.forEach((f) => f());
};

lab.el = function (tag, attrs, text) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  return e;
};

// An element whose text is a catalogue entry (re-translated by every language switch).
lab.tel = function (tag, key, attrs) {
  return lab.el(tag, Object.assign({ "data-i18n": key }, attrs || {}), lab.t(key));
};

// A table in its own horizontally scrolling box (phones never scroll the page sideways).
lab.scrollBox = function (table) {
  if (!table.parentElement.classList.contains("scroll")) {
    const box = lab.el("div", { class: "scroll" });
    table.replaceWith(box);
    box.appendChild(table);
  }
  return table;
};

lab.debounce = function (f, ms) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
};

// Grey or colour images (uint8, flat) onto one canvas: n images of h x w, `cols` per row, scaled.
lab.drawImages = function (canvas, pixels, n, c, h, w, cols, scale) {
  const rows = Math.ceil(n / cols);
  const gap = n > 1 ? 1 : 0; // one pixel between images, none around a single one
  canvas.width = cols * (w + gap) * scale;
  canvas.height = rows * (h + gap) * scale;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * (w + gap) * scale;
    const oy = Math.floor(i / cols) * (h + gap) * scale;
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

// A file input's own button and "no file chosen" speak the browser's language, not the page's:
// the input stays (focusable, opened by its label) but is drawn as a catalogue-worded button
// and the chosen file's name.
lab.fileInputs = function () {
  document.querySelectorAll("input[type=file]").forEach((input) => {
    input.classList.add("file-native");
    const pick = lab.el("span", { class: "file-pick", "aria-hidden": "true" });
    pick.appendChild(lab.tel("span", "lab.file.choose", { class: "file-button" }));
    const name = lab.tel("span", "lab.file.none", { class: "file-name" });
    pick.appendChild(name);
    input.after(pick);
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) {
        name.removeAttribute("data-i18n");
        name.textContent = file.name;
      } else {
        name.setAttribute("data-i18n", "lab.file.none");
        name.textContent = lab.t("lab.file.none");
      }
    });
  });
};

lab.showError = function (el, err) {
  el.textContent = lab.errorText(err);
};

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  document.querySelectorAll("header nav a").forEach((a) => {
    if (a.getAttribute("href").endsWith("/" + page)) a.classList.add("active");
  });
  document.getElementById("lang-toggle").addEventListener("click", () => {
    lab.setLang(lab.lang === "en" ? "it" : "en");
  });
  lab.fileInputs();
  const saved = localStorage.getItem("reti-lab-lang");
  const browser = (navigator.language || "en").toLowerCase().startsWith("it") ? "it" : "en";
  lab.setLang(saved || browser);
});
