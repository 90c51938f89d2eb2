// The event detail in a modal dialog, tied to the URL (`#event=<id>`) and to history.

import { eventUrl, getJSON } from "./api.js";
import { renderDetail } from "./detail.js";
import { h } from "./dom.js";
import { locationFor } from "./state.js";

/**
 * Wire the dialog. `context()` gives `{ state, programsById }`; `list` is where focus goes
 * back to when the element that opened the detail is gone.
 */
export function detailDialog({ dialog, title, body, close, list, context }) {
  let opener = null;
  let pushed = false;
  let closingFromHistory = false;

  const currentId = () => (dialog.open ? body.dataset.eventId || null : null);

  const markSelected = (id) => {
    for (const node of document.querySelectorAll(".event-card.selected, .mark.selected")) {
      node.classList.remove("selected");
    }
    if (!id) return;
    for (const node of document.querySelectorAll(`[data-id="${CSS.escape(id)}"]`)) {
      node.classList.add("selected");
    }
  };

  /** Open an event; `from` gets focus back on close; `push` adds a history entry. */
  const open = async (id, from = null, { push = true } = {}) => {
    const { state, programsById } = context();
    opener = from;
    if (push) {
      history.pushState(null, "", locationFor(state, id));
      pushed = true;
    }
    title.textContent = "Loading…";
    body.replaceChildren();
    body.dataset.eventId = id;
    if (!dialog.open) dialog.showModal();
    markSelected(id);
    const url = eventUrl(id, state.as_reported_on);
    try {
      const event = await getJSON(url);
      if (body.dataset.eventId !== id) return;
      renderDetail(title, body, event, { programsById, apiUrl: url });
    } catch (error) {
      if (body.dataset.eventId !== id) return;
      title.textContent = "Event not shown";
      body.replaceChildren(h("p", { class: "error", text: error.message }));
    }
  };

  dialog.addEventListener("close", () => {
    const id = body.dataset.eventId;
    delete body.dataset.eventId;
    markSelected(null);
    if (closingFromHistory) closingFromHistory = false;
    else if (pushed) history.back();
    else history.replaceState(null, "", locationFor(context().state, null));
    pushed = false;
    const target =
      (opener?.isConnected && opener) ||
      (id && list.querySelector(`.event-card[data-id="${CSS.escape(id)}"]`));
    target?.focus();
    opener = null;
  });
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (click) => {
    if (click.target === dialog) dialog.close();
  });

  /** Follow the URL after back or forward: open, switch or close the detail. */
  const follow = (id) => {
    if (id && body.dataset.eventId !== id) {
      pushed = false;
      open(id, null, { push: false });
    } else if (!id && dialog.open) {
      closingFromHistory = true;
      dialog.close();
    }
  };

  return { open, follow, currentId };
}
