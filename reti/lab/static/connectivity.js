"use strict";
const inputs = ["image", "hidden", "kernel", "filters"];
let last = null;
const SHORT = { "fully connected": "FC", "locally connected": "LC", convolutional: "CONV" };

// "1,000,000 units x 100 patch weights" (the server's words) -> the same in the page's language
function how(r) {
  const n = (r.how.match(/[\d,]+/g) || []).map((v) => chart.int(Number(v.replace(/,/g, ""))));
  return lab.f("lab.connectivity.how." + r.kind, { a: n[0] || "", b: n[1] || "" });
}

function render() {
  if (!last) return;
  const body = document.querySelector("#counts tbody");
  body.innerHTML = "";
  last.rows.forEach((r) => {
    const tr = lab.el("tr", r.matches_notes ? { class: "match" } : {});
    tr.appendChild(lab.el("td", { class: "l" }, lab.t("lab.kind." + r.kind, r.kind)));
    tr.appendChild(lab.el("td", { class: "total" }, chart.int(r.total)));
    tr.appendChild(lab.el("td", {}, r.order));
    tr.appendChild(lab.el("td", {}, r.notes.toExponential(0).replace("e+", "\u00b710^") + (r.matches_notes ? " \u2713" : "")));
    tr.appendChild(lab.el("td", { class: "l" }, how(r)));
    body.appendChild(tr);
  });
  chart.bars(document.getElementById("bars"), {
    labels: last.rows.map((r) => SHORT[r.kind] || r.kind),
    values: last.rows.map((r) => Math.log10(Math.max(1, r.total))),
    xTitle: "lab.connectivity.log_axis", yTitle: "lab.connectivity.layer",
  });
}

async function update() {
  const q = inputs.map((k) => k + "=" + encodeURIComponent(document.getElementById(k).value)).join("&");
  const err = document.getElementById("error");
  try {
    last = await lab.api("/api/connectivity?" + q);
    lab.showError(err, null);
    render();
  } catch (e) {
    lab.showError(err, e);
  }
}

inputs.forEach((k) => document.getElementById(k).addEventListener("input", lab.debounce(update, 120)));
document.getElementById("notes-example").addEventListener("click", () => {
  [1000, 1000000, 10, 100].forEach((v, i) => (document.getElementById(inputs[i]).value = v));
  update();
});
lab.onLang.push(render);
lab.ready.then(update);
