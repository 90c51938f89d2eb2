// The actor type-ahead: an ARIA 1.2 combobox over `/api/v1/actors?q=`.

import { actorsUrl, getJSON } from "./api.js";
import { h } from "./dom.js";

const DEBOUNCE_MS = 150;

function matchedAlias(actor, text) {
  const needle = text.trim().toLowerCase();
  if (!needle || actor.name.toLowerCase().includes(needle)) return null;
  return actor.aliases.find((alias) => alias.toLowerCase().includes(needle)) || null;
}

function rank(actor, text) {
  const needle = text.trim().toLowerCase();
  const names = [actor.name, actor.id, ...actor.aliases].map((n) => n.toLowerCase());
  if (names.some((n) => n === needle)) return 0;
  if (names.some((n) => n.startsWith(needle))) return 1;
  if (names.some((n) => n.split(/[\s.-]+/).some((word) => word.startsWith(needle)))) return 2;
  return 3;
}

/**
 * Wire the combobox. `onChoose(value)` receives an actor id (or, when the user presses Enter
 * without picking a suggestion, the typed text: the API accepts names and aliases).
 * `context()` gives `{ counts: Map(id → events), exclude: Set(ids) }` for the suggestions.
 */
export function actorCombobox({ input, listbox, onChoose, context }) {
  let options = [];
  let active = -1;
  let timer = 0;
  let controller = null;

  const close = () => {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    const items = [...listbox.children];
    active = index;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    if (index >= 0 && items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };

  const choose = (value) => {
    input.value = "";
    close();
    onChoose(value);
  };

  const show = (actors, text) => {
    const { counts, exclude } = context();
    options = actors
      .filter((actor) => !exclude.has(actor.id))
      .sort(
        (a, b) =>
          rank(a, text) - rank(b, text) || (counts.get(b.id) || 0) - (counts.get(a.id) || 0),
      );
    if (!options.length) {
      listbox.replaceChildren(
        h(
          "li",
          {
            class: "no-match",
            attrs: { role: "option", "aria-disabled": "true" },
            id: "actor-none",
          },
          `No actor matches “${text}”`,
        ),
      );
    } else {
      listbox.replaceChildren(
        ...options.map((actor, index) => {
          const alias = matchedAlias(actor, text);
          const count = counts.get(actor.id) || 0;
          return h(
            "li",
            {
              id: `actor-option-${index}`,
              class: "option",
              dataset: { value: actor.id },
              attrs: { role: "option", "aria-selected": "false" },
            },
            h("span", { class: "option-name", text: actor.name }),
            h("span", {
              class: "option-meta",
              text: alias ? `${actor.kind}, also “${alias}”` : actor.kind,
            }),
            h("span", { class: "count", text: String(count), attrs: { "aria-hidden": "true" } }),
            h("span", {
              class: "visually-hidden",
              text: ` (${count} ${count === 1 ? "event" : "events"})`,
            }),
          );
        }),
      );
    }
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
  };

  const search = () => {
    const text = input.value.trim();
    controller?.abort();
    if (!text) return close();
    controller = new AbortController();
    getJSON(actorsUrl(text), controller.signal)
      .then((page) => {
        if (input.value.trim() === text) show(page.items, text);
      })
      .catch((error) => {
        if (error.name !== "AbortError") close();
      });
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (key) => {
    const open = !listbox.hidden && options.length > 0;
    if (key.key === "ArrowDown" || key.key === "ArrowUp") {
      key.preventDefault();
      if (!open) return search();
      const n = options.length;
      highlight(key.key === "ArrowDown" ? (active + 1) % n : active <= 0 ? n - 1 : active - 1);
    } else if (key.key === "Enter") {
      if (open && active >= 0) {
        key.preventDefault();
        choose(options[active].id);
      } else if (input.value.trim()) {
        key.preventDefault();
        choose(input.value.trim());
      }
    } else if (key.key === "Escape") {
      if (!listbox.hidden) {
        key.preventDefault();
        key.stopPropagation();
        close();
      } else input.value = "";
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  listbox.addEventListener("mousedown", (press) => press.preventDefault());
  listbox.addEventListener("click", (click) => {
    const option = click.target.closest("li.option");
    if (option) choose(option.dataset.value);
  });
}
