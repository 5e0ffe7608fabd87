"use strict";
const $ = (id) => document.getElementById(id);

async function updateDropout() {
  $("p-value").textContent = $("p").value;
  const d = await lab.api("/api/dropout?p=" + $("p").value + "&seed=" + ($("seed").value || 0));
  ["inverted", "standard"].forEach((mode) => {
    const m = d[mode];
    const pts = (arr) => arr.map((v, i) => [i, v]);
    lab.lineChart($(mode), [
      { name: "x", points: pts(d.x), color: "#999" },
      { name: lab.t("lab.cnn.train", "train"), points: pts(m.train), color: "#d9822b", marks: pts(m.train) },
      { name: "eval", points: pts(m.eval), color: "#3f7fbf" },
    ], { width: 380, height: 200, xlabel: "unit", ylabel: "h", ymin: 0 });
    $(mode + "-means").textContent =
      lab.t("lab.norm.train_mean", "mean in training") + ": " + m.train_mean.toFixed(3) + "\n" +
      lab.t("lab.norm.eval_mean", "mean in evaluation") + ": " + m.eval_mean.toFixed(3);
  });
}

async function updateNorm() {
  const d = await lab.api("/api/norm?batch=" + $("batch").value);
  lab.lineChart($("bn"), [
    { name: "BN", points: d.bn_values.map((v, i) => [i, v]), color: "#d9822b", marks: d.bn_values.map((v, i) => [i, v]) },
    { name: "LN", points: d.bn_values.map((v, i) => [i, d.ln_value]), color: "#3f7fbf" },
    { name: "population", points: d.bn_values.map((v, i) => [i, d.population]), color: "#0a7a2f" },
  ], { width: 560, height: 200, xlabel: "batch", ylabel: "output" });
  $("bn-std").textContent = d.bn_std.toFixed(3);
  $("population").textContent = d.population.toFixed(3);
  $("ln").textContent = d.ln_value.toFixed(3);
  $("moving").textContent = d.moving_mean.toFixed(3);
}

$("p").addEventListener("input", lab.debounce(updateDropout, 60));
$("seed").addEventListener("input", lab.debounce(updateDropout, 100));
$("batch").addEventListener("change", updateNorm);
lab.onLang.push(updateDropout);
updateNorm();
