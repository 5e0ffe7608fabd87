"use strict";
const $ = (id) => document.getElementById(id);
let last = null;

function specFromControls() {
  $("spec").value = Array.from(document.querySelectorAll(".op:checked")).map((c) => c.value).join(",");
}

function showLabels() {
  if (!last) return;
  $("labels").textContent = last.labels.map((row, i) => {
    const parts = row.map((p, k) => [k, p]).filter((x) => x[1] > 0.001).map((x) => x[0] + ": " + chart.fixed(x[1], 2));
    return "#" + (i + 1) + " " + parts.join(" ");
  }).join("   ");
}

async function update() {
  $("seed-value").textContent = $("seed").value;
  const q = "spec=" + encodeURIComponent($("spec").value) + "&seed=" + $("seed").value + "&data=" + $("data").value;
  $("png").href = "/api/augment?format=png&" + q;
  try {
    last = await lab.api("/api/augment?count=16&" + q);
    $("error").textContent = "";
    const [n, c, h, w] = last.shape;
    lab.drawImages($("grid"), last.pixels, n, c, h, w, 8, h <= 8 ? 10 : 3);
    showLabels();
  } catch (e) {
    const d = e.data || {};
    $("error").textContent = d.column ? $("spec").value + "\n" + " ".repeat(d.column - 1) + "^ " +
      lab.t("lab.cnn.column") + " " + d.column + ": " + d.message : lab.errorText(e);
  }
}

document.querySelectorAll(".op").forEach((c) => c.addEventListener("change", () => { specFromControls(); update(); }));
$("spec").addEventListener("input", lab.debounce(update, 150));
$("seed").addEventListener("input", lab.debounce(update, 40));
$("data").addEventListener("change", update);
lab.onLang.push(showLabels);
specFromControls();
lab.ready.then(update);
