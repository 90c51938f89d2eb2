// The filter panel's controls, kept in step with the state and the facet counts.

import { h } from "./dom.js";

/** Values the API accepts for `status` and `kind` (its EventStatus and EventKind). */
export const STATUSES = ["occurred", "planned", "cancelled"];
export const KINDS = [
  "agreement",
  "announcement",
  "conflict",
  "launch",
  "milestone",
  "mission",
  "statement",
  "withdrawal",
];
/** Filters the panel has no control for; shown as removable chips when a link sets them. */
export const OTHER_FILTERS = {
  role: "role",
  year: "year",
  source: "source",
  min_sources: "at least N sources",
  sort: "sort",
};

const slug = (value) => value.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function countText(count) {
  return [
    h("span", { class: "count", text: String(count), attrs: { "aria-hidden": "true" } }),
    h("span", {
      class: "visually-hidden",
      text: ` (${count} ${count === 1 ? "event" : "events"})`,
    }),
  ];
}

/**
 * Checkboxes for one repeatable filter, updated in place so focus stays where it is.
 * `options`: [{ value, label, count }]; a null count shows none.
 */
export function renderChecks(list, name, options, selected) {
  const existing = new Map([...list.children].map((item) => [item.dataset.value, item]));
  const items = options.map((option) => {
    let item = existing.get(option.value);
    if (!item) {
      const id = `f-${name}-${slug(option.value)}`;
      item = h(
        "li",
        { dataset: { value: option.value } },
        h("input", { type: "checkbox", id, name, value: option.value }),
        h(
          "label",
          { htmlFor: id },
          h("span", { class: "label-text" }),
          h("span", { class: "count-box" }),
        ),
      );
    }
    item.querySelector("input").checked = selected.includes(option.value);
    item.querySelector(".label-text").textContent = option.label;
    item
      .querySelector(".count-box")
      .replaceChildren(...(option.count === null ? [] : countText(option.count)));
    item.classList.toggle("zero", option.count === 0);
    return item;
  });
  const same =
    items.length === list.children.length && items.every((item, i) => list.children[i] === item);
  if (!same) list.replaceChildren(...items);
}

/** The values checked in a checkbox list. */
export function checkedValues(list) {
  return [...list.querySelectorAll("input:checked")].map((input) => input.value);
}

/** Chips for the chosen actors, each with a remove button. */
export function renderActorChips(list, actors, onRemove) {
  const focused = document.activeElement?.closest?.("#actor-chips li")?.dataset.value;
  list.replaceChildren(
    ...actors.map((actor) =>
      h(
        "li",
        { class: "chip", dataset: { value: actor.value } },
        h("span", { class: "chip-label", text: actor.label }),
        actor.count === null ? null : countText(actor.count),
        h("button", {
          type: "button",
          class: "chip-remove",
          text: "×",
          attrs: { "aria-label": `Remove ${actor.label}` },
          on: { click: () => onRemove(actor.value) },
        }),
      ),
    ),
  );
  if (focused) {
    const again = list.querySelector(`li[data-value="${CSS.escape(focused)}"] button`);
    (again || list.closest("fieldset").querySelector("input"))?.focus();
  }
}

/** Consecutive years with the same count, merged: [{ first, last, count }]. */
export function yearRuns(years) {
  const runs = [];
  for (const { year, count } of years) {
    const run = runs[runs.length - 1];
    if (run && run.last === year - 1 && run.count === count) run.last = year;
    else runs.push({ first: year, last: year, count });
  }
  return runs;
}

/**
 * One button per year with events (a run of years when each has the same count): choosing
 * it sets from and to to those years.
 */
export function renderYearChips(list, years, state, onChoose) {
  const focused = document.activeElement?.closest?.("#year-chips li")?.dataset.value;
  list.replaceChildren(
    ...yearRuns(years).map(({ first, last, count }) => {
      const from = String(first);
      const to = String(last);
      const value = first === last ? from : `${from}–${to}`;
      const current = state.from === from && state.to === to;
      const each = first === last ? "" : " each year";
      return h(
        "li",
        { dataset: { value } },
        h(
          "button",
          {
            type: "button",
            class: current ? "year-chip current" : "year-chip",
            attrs: { "aria-pressed": String(current) },
            on: { click: () => onChoose(from, to) },
          },
          value,
          h("span", { class: "count", text: String(count), attrs: { "aria-hidden": "true" } }),
          h("span", {
            class: "visually-hidden",
            text: ` (${count} ${count === 1 ? "event" : "events"}${each})`,
          }),
        ),
      );
    }),
  );
  if (focused) list.querySelector(`li[data-value="${CSS.escape(focused)}"] button`)?.focus();
}

/** Chips for filters set by the URL that the panel has no control for. */
export function renderOtherChips(list, state, onRemove) {
  const chips = [];
  for (const [name, words] of Object.entries(OTHER_FILTERS)) {
    const values = Array.isArray(state[name]) ? state[name] : state[name] ? [state[name]] : [];
    for (const value of values) {
      const label = `${words}: ${value}`;
      chips.push(
        h(
          "li",
          { class: "chip" },
          h("span", { class: "chip-label", text: label }),
          h("button", {
            type: "button",
            class: "chip-remove",
            text: "×",
            attrs: { "aria-label": `Remove filter ${label}` },
            on: { click: () => onRemove(name, value) },
          }),
        ),
      );
    }
  }
  list.replaceChildren(...chips);
  list.closest(".other-filters").hidden = chips.length === 0;
}
