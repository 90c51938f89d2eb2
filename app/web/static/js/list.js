// The event list: a vertical timeline grouped by start year; each event is a button.

import { h } from "./dom.js";
import { NO_PROGRAM, plural, toTime, yearOf } from "./format.js";

function tagsOf(event, programsById) {
  return event.programs.map((ref) => {
    const program = programsById.get(ref.id) || { ...NO_PROGRAM, ...ref };
    const tag = h("span", { class: "tag", text: program.short || program.name });
    tag.style.setProperty("--c", program.colour);
    return tag;
  });
}

function cardOf(event, programsById, selectedId) {
  const first = programsById.get(event.programs[0]?.id) || NO_PROGRAM;
  const mark = h("span", {
    class: `mark ${event.status}${event.disputed ? " disputed" : ""}`,
    attrs: { "aria-hidden": "true" },
  });
  mark.style.setProperty("--c", first.colour);
  const badges = [];
  if (event.disputed) badges.push(h("span", { class: "badge disputed", text: "disputed date" }));
  if (event.planned_date_passed) {
    badges.push(h("span", { class: "badge passed", text: "planned date passed" }));
  }
  const button = h(
    "button",
    {
      type: "button",
      class: event.id === selectedId ? "event-card selected" : "event-card",
      dataset: { id: event.id },
    },
    mark,
    h("span", { class: "event-date", text: event.date_label }),
    h("span", { class: "event-title", text: event.title }),
    h(
      "span",
      { class: "event-meta" },
      tagsOf(event, programsById),
      h("span", { class: "event-status", text: event.status }),
      h("span", { class: "sources", text: plural(event.source_count, "source") }),
      badges,
    ),
  );
  return h("li", { class: "event-item" }, button);
}

/** Render the list; `onOpen(id, button)` runs when an event is chosen. */
export function renderList(root, events, programsById, { onOpen, selectedId }) {
  const years = new Map();
  for (const event of events) {
    const year = yearOf(toTime(event.start_date));
    if (!years.has(year)) years.set(year, []);
    years.get(year).push(event);
  }
  const groups = [...years.entries()].map(([year, items]) =>
    h(
      "li",
      { class: "year-group" },
      h("h3", { class: "year-heading", text: String(year) }),
      h(
        "ol",
        { class: "events" },
        items.map((event) => cardOf(event, programsById, selectedId)),
      ),
    ),
  );
  const list = h("ol", { class: "years" }, groups);
  list.addEventListener("click", (click) => {
    const button = click.target.closest("button.event-card");
    if (button) onOpen(button.dataset.id, button);
  });
  root.replaceChildren(list);
}
