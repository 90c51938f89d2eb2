// The page's state lives in its URL: the query string uses the API's filter names, so a
// shared link and the API URL of the view say the same thing; `#event=<id>` opens an event.

import { FILTERS, LIST_ONLY, REPEATABLE, queryOf } from "./api.js";

const KEYS = [...FILTERS, ...LIST_ONLY];

/** An empty state: every filter unset. */
export function emptyState() {
  const state = {};
  for (const name of KEYS) state[name] = REPEATABLE.has(name) ? [] : "";
  return state;
}

/** The state a location describes; unknown parameters are ignored. */
export function stateFromLocation(location) {
  const params = new URLSearchParams(location.search);
  const state = emptyState();
  for (const name of KEYS) {
    if (REPEATABLE.has(name)) {
      state[name] = unique(
        params
          .getAll(name)
          .map((v) => v.trim())
          .filter(Boolean),
      );
    } else {
      state[name] = (params.get(name) || "").trim();
    }
  }
  return state;
}

/** The event whose detail the location opens, if any. */
export function openEventFromLocation(location) {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  return hash.get("event") || null;
}

/** The page URL (path, query and hash) for a state and an open event. */
export function locationFor(state, eventId) {
  const query = queryOf(state, { only: KEYS }).toString();
  const hash = eventId ? `#${new URLSearchParams({ event: eventId })}` : "";
  return `${location.pathname}${query ? `?${query}` : ""}${hash}`;
}

/** How many filters are set, for the collapsed filter panel's summary. */
export function activeFilterCount(state) {
  let count = 0;
  for (const name of FILTERS) {
    const value = state[name];
    if (name === "actor_match") continue;
    count += Array.isArray(value) ? value.length : value ? 1 : 0;
  }
  return count;
}

export function sameState(a, b) {
  return queryOf(a, { only: KEYS }).toString() === queryOf(b, { only: KEYS }).toString();
}

function unique(values) {
  return [...new Set(values)];
}
