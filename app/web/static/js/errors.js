// API problems (RFC 9457) shown to the reader, with one-click fixes the API suggests.

import { fill, h } from "./dom.js";

/** Buttons that swap an unknown filter value for one the API suggests. */
function fixesFor(problem, state, onFix) {
  const buttons = [];
  for (const item of problem.errors || []) {
    const name = item.loc?.[1];
    if (!(name in state) || !item.suggestions?.length) continue;
    for (const suggestion of item.suggestions) {
      const current = state[name];
      const next = Array.isArray(current)
        ? current.map((v) => (v === item.input ? suggestion : v))
        : suggestion;
      buttons.push(
        h("button", {
          type: "button",
          class: "suggestion",
          text: `Use ${name} “${suggestion}”`,
          on: { click: () => onFix({ ...state, [name]: next }) },
        }),
      );
    }
  }
  return buttons.length ? h("p", { class: "fixes" }, buttons) : null;
}

/** Show `error` in the alert region `root` (or empty it when null). */
export function renderProblem(root, error, { state, onFix }) {
  if (!error) {
    root.replaceChildren();
    root.hidden = true;
    return;
  }
  const problem = error.problem || {};
  const message = error.message || "The API did not answer.";
  const fields = (problem.errors || [])
    .map((item) => [
      item.loc?.filter((p) => p !== "query").join(".") || item.field,
      item.msg || item.message,
    ])
    .filter(([, text]) => text && !message.includes(text))
    .map((parts) => h("li", { text: parts.filter(Boolean).join(": ") }));
  fill(
    root,
    h("p", { class: "error-title", text: problem.title || "Could not load the events" }),
    h("p", { text: message }),
    fields.length ? h("ul", {}, fields) : null,
    fixesFor(problem, state, onFix),
  );
  root.hidden = false;
}
