"use strict";
const $ = (id) => document.getElementById(id);

function specFromControls() {
  $("spec").value = Array.from(document.querySelectorAll(".op:checked")).map((c) => c.value).join(",");
}

async function update() {
  $("seed-value").textContent = $("seed").value;
  const q = "spec=" + encodeURIComponent($("spec").value) + "&seed=" + $("seed").value + "&data=" + $("data").value;
  $("png").href = "/api/augment?format=png&" + q;
  try {
    const d = await lab.api("/api/augment?count=16&" + q);
    $("error").textContent = "";
    const [n, c, h, w] = d.shape;
    lab.drawImages($("grid"), d.pixels, n, c, h, w, 8, h <= 8 ? 10 : 3);
    $("labels").textContent = d.labels.map((row, i) => {
      const parts = row.map((p, k) => [k, p]).filter((x) => x[1] > 0.001).map((x) => x[0] + ":" + x[1].toFixed(2));
      return "#" + i + " " + parts.join(" ");
    }).join("   ");
  } catch (e) {
    $("error").textContent = e.message;
  }
}

document.querySelectorAll(".op").forEach((c) => c.addEventListener("change", () => { specFromControls(); update(); }));
$("spec").addEventListener("input", lab.debounce(update, 150));
$("seed").addEventListener("input", lab.debounce(update, 40));
$("data").addEventListener("change", update);
specFromControls();
update();
