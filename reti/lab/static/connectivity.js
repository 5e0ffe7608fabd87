"use strict";
const inputs = ["image", "hidden", "kernel", "filters"];

async function update() {
  const q = inputs.map((k) => k + "=" + encodeURIComponent(document.getElementById(k).value)).join("&");
  const err = document.getElementById("error");
  const body = document.querySelector("#counts tbody");
  try {
    const data = await lab.api("/api/connectivity?" + q);
    lab.showError(err, null);
    body.innerHTML = "";
    data.rows.forEach((r) => {
      const tr = lab.el("tr", r.matches_notes ? { class: "match" } : {});
      tr.appendChild(lab.el("td", { class: "l" }, lab.t("lab.kind." + r.kind, r.kind)));
      tr.appendChild(lab.el("td", { class: "total" }, r.total.toLocaleString("en")));
      tr.appendChild(lab.el("td", {}, r.order));
      tr.appendChild(lab.el("td", {}, r.notes.toExponential(0).replace("e+", "\u00b710^") + (r.matches_notes ? " \u2713" : "")));
      tr.appendChild(lab.el("td", { class: "l" }, r.how));
      body.appendChild(tr);
    });
  } catch (e) {
    lab.showError(err, e);
  }
}

inputs.forEach((k) => document.getElementById(k).addEventListener("input", lab.debounce(update, 120)));
document.getElementById("notes-example").addEventListener("click", () => {
  [1000, 1000000, 10, 100].forEach((v, i) => (document.getElementById(inputs[i]).value = v));
  update();
});
lab.onLang.push(update);
