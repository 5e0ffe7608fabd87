"use strict";

async function run(number, cell, button) {
  button.disabled = true;
  cell.textContent = lab.t("lab.status.queued", "queued");
  try {
    const job = await lab.api("/api/jobs", { json: { kind: "claim", params: { claim: String(number) } } });
    const source = new EventSource("/api/jobs/" + job.id + "/events");
    source.onmessage = async (msg) => {
      const e = JSON.parse(msg.data);
      if (e.kind !== "status") return;
      if (e.status === "running" || e.status === "running claim") {
        cell.textContent = lab.t("lab.status.running", "running") + "...";
        return;
      }
      const j = await lab.api("/api/jobs/" + job.id);
      if (j.status === "queued" || j.status === "running") return;
      source.close();
      button.disabled = false;
      cell.textContent = j.result ? j.result.verdict + " \u2014 " + (j.result.summary || "") : j.status + ": " + (j.error || "");
      cell.className = "l verdict " + (j.result && j.result.verdict === "holds" ? "ok" : "");
    };
    source.addEventListener("close", () => source.close());
  } catch (e) {
    cell.textContent = e.message;
    button.disabled = false;
  }
}

async function init() {
  const d = await lab.api("/api/claims");
  const body = document.querySelector("#claims tbody");
  d.claims.forEach((c) => {
    const tr = lab.el("tr");
    tr.appendChild(lab.el("td", {}, String(c.number)));
    tr.appendChild(lab.el("td", { class: "l" }, c.name));
    const quote = lab.el("td", { class: "l" });
    quote.appendChild(lab.el("em", {}, c.quote));
    quote.appendChild(lab.el("br"));
    quote.appendChild(lab.el("small", { class: "note" }, c.english));
    tr.appendChild(quote);
    const button = lab.el("button", { "data-claim": c.number }, lab.t("lab.claims.run", "Run"));
    const cell = lab.el("td", { class: "l verdict" }, "");
    button.addEventListener("click", () => run(c.number, cell, button));
    const b = lab.el("td");
    b.appendChild(button);
    tr.appendChild(b);
    tr.appendChild(cell);
    body.appendChild(tr);
  });
}
init();
