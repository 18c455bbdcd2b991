// genkit gallery: copy buttons, the stop button (with the server's token), and, in an exported
// site (no server to ask), the filters and search applied to the cards of the page.
"use strict";

function copyText(button) {
  const source = document.getElementById(button.dataset.copy);
  const text = source ? source.textContent : "";
  const done = () => { button.textContent = "copied"; setTimeout(() => { button.textContent = "copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(source));
  } else {
    selectText(source);
  }
}

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function stopServer(button) {
  const token = document.querySelector('meta[name="genkit-token"]');
  fetch("/stop", { method: "POST", headers: { "X-Genkit-Token": token ? token.content : "" } })
    .then((reply) => { button.textContent = reply.ok ? "stopped" : "refused"; button.disabled = reply.ok; });
}

function filterCards(form) {
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const words = value("q").toLowerCase().split(/\W+/u).filter(Boolean);
  let shown = 0;
  for (const card of document.querySelectorAll("#grid .card")) {
    const d = card.dataset;
    const keep =
      (!value("generator") || d.generator === value("generator")) &&
      (!value("model") || d.model === value("model")) &&
      (!value("seed") || d.seeds.split(" ").includes(value("seed"))) &&
      (!value("since") || d.day >= value("since")) &&
      (!value("until") || d.day <= value("until")) &&
      words.every((w) => d.search.split(/\W+/u).some((t) => t.startsWith(w)));
    card.classList.toggle("hidden", !keep);
    shown += keep ? 1 : 0;
  }
  const count = document.getElementById("count");
  if (count) count.textContent = shown + (shown === 1 ? " run" : " runs");
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copyText(button));
  }
  const stop = document.getElementById("stop");
  if (stop) stop.addEventListener("click", () => stopServer(stop));
  const form = document.getElementById("filters");
  if (form && document.body.dataset.staticSite) {
    form.addEventListener("submit", (event) => { event.preventDefault(); filterCards(form); });
    form.addEventListener("input", () => filterCards(form));
  }
});
