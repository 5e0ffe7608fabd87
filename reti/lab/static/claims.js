"use strict";
// The claims as expandable rows: the statement (in the page's language) and its verdict once
// run; opened, the notes' quote, a Run button, and the claim's own figure (drawn by
// reti.claims.figures, the report's code: the per-seed values and the 95% interval of the effect).
const results = {}; // claim number -> {status, result, error, job}
let claims = [];

function badge(number) {
  const r = results[number];
  if (!r) return lab.el("span", { class: "verdict" });
  if (!r.result) {
    const text = lab.t("lab.status." + r.status, r.status) + (r.error ? ": " + lab.errorText(r.error) : "");
    return lab.el("span", { class: "verdict badge pending", "data-status": r.status }, text);
  }
  const v = r.result.verdict;
  const cls = v === "holds" ? "holds" : v === "inconclusive" ? "inconclusive" : "fails";
  return lab.el("span", { class: "verdict badge " + cls, "data-verdict": v }, lab.t("verdict." + v, v));
}

function body(c) {
  const box = lab.el("div", { class: "body" });
  box.appendChild(lab.el("blockquote", { lang: "it" }, c.quote));
  const where = lab.el("p", { class: "note" });
  where.append(lab.el("span", {}, lab.t("lab.claims.notes_at") + " "), lab.el("em", {}, c.section),
    lab.el("span", {}, " \u00b7 "), lab.el("code", {}, c.name));
  box.appendChild(where);
  const r = results[c.number];
  if (r && r.result) {
    const res = lab.el("div", { class: "result" });
    if (r.figure) {
      res.appendChild(lab.tel("h3", "lab.claims.figure"));
      res.appendChild(lab.el("img", { src: "/api/jobs/" + r.job + "/figure", alt: lab.t("lab.claims.figure_alt"), class: "figure" }));
    }
    if (r.result.summary) {
      const p = lab.el("p");
      p.append(lab.el("strong", {}, lab.t("lab.claims.measured") + " "), lab.el("span", { class: "summary" }, r.result.summary));
      res.appendChild(p);
    }
    box.appendChild(res);
  }
  return box;
}

function row(c) {
  const old = document.querySelector(`details[data-number="${c.number}"]`);
  const d = lab.el("details", { class: "claim", "data-number": c.number });
  if (old && old.open) d.open = true;
  const s = lab.el("summary");
  s.appendChild(lab.el("span", { class: "num" }, String(c.number)));
  s.appendChild(lab.el("span", { class: "statement" }, (c.statement && c.statement[lab.lang]) || c.english));
  s.appendChild(badge(c.number));
  const button = lab.tel("button", "lab.claims.run", { type: "button", "data-claim": c.number });
  const r = results[c.number];
  if (r && (r.status === "queued" || r.status === "running")) button.disabled = true;
  button.addEventListener("click", (ev) => { ev.preventDefault(); run(c); });
  s.appendChild(button);
  d.append(s, body(c));
  if (old) old.replaceWith(d);
  return d;
}

async function run(c) {
  results[c.number] = { status: "queued" };
  row(c);
  try {
    const job = await lab.api("/api/jobs", { json: { kind: "claim", params: { claim: String(c.number), lang: lab.lang } } });
    results[c.number].job = job.id;
    const source = new EventSource("/api/jobs/" + job.id + "/events");
    const finish = async () => {
      const j = await lab.api("/api/jobs/" + job.id);
      results[c.number] = { status: j.status, result: j.result, error: j.error, job: job.id };
      if (j.status === "queued" || j.status === "running") { row(c); return false; }
      results[c.number].figure = !!j.result; // every claim saves one (reti.claims.figures)
      const d = row(c);
      d.open = true;
      return true;
    };
    source.onmessage = async (msg) => {
      const e = JSON.parse(msg.data);
      if (e.kind !== "status") return;
      if (await finish()) source.close();
    };
    source.addEventListener("close", async () => { source.close(); await finish(); });
  } catch (e) {
    results[c.number] = { status: "failed", error: e.message };
    row(c);
  }
}

function render() {
  const box = document.getElementById("claims");
  box.innerHTML = "";
  claims.forEach((c) => box.appendChild(row(c)));
}

async function init() {
  await lab.ready;
  claims = (await lab.api("/api/claims")).claims;
  render();
}
lab.onLang.push(() => claims.forEach(row));
init();
