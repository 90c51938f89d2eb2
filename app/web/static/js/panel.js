// The filter panel as a whole: reading it into a state, and showing a state with its counts.

import {
  KINDS,
  STATUSES,
  checkedValues,
  renderActorChips,
  renderChecks,
  renderOtherChips,
  renderYearChips,
} from "./filters.js";
import { activeFilterCount } from "./state.js";

/** The state the panel's plain controls describe, on top of `state`. */
export function readPanel(el, state) {
  return {
    ...state,
    q: el.q.value.trim(),
    actor_match: el.actorMatch.value,
    program: checkedValues(el.programs),
    from: el.from.value.trim(),
    to: el.to.value.trim(),
    status: checkedValues(el.statuses),
    kind: checkedValues(el.kinds),
    as_reported_on: el.reported.value,
  };
}

/** Put the state into the controls that hold plain values. */
export function syncPanel(el, state) {
  if (document.activeElement !== el.q) el.q.value = state.q;
  el.from.value = state.from;
  el.to.value = state.to;
  el.reported.value = state.as_reported_on;
  el.actorMatch.value = state.actor_match === "all" ? "all" : "any";
  el.actorMatchField.hidden = state.actor.length < 2;
  const active = activeFilterCount(state);
  el.activeCount.textContent = active ? `(${active} active)` : "";
}

/** Facet values as a Map(value → count), or null when there are no facets to show. */
export function countsOf(values) {
  return values ? new Map(values.map((v) => [v.value, v.count])) : null;
}

function options(known, selected, counts, label = (v) => v) {
  const values = [...known, ...selected.filter((v) => !known.includes(v))];
  return values.map((value) => ({
    value,
    label: label(value),
    count: counts ? counts.get(value) || 0 : null,
  }));
}

/** The program id a filter value names (an id, name or alias, any case), or the value. */
function programId(programs, value) {
  const key = value.toLowerCase();
  const found = programs.find((p) =>
    [p.id, p.name, ...(p.aliases || [])].some((name) => name.toLowerCase() === key),
  );
  return found ? found.id : value;
}

/**
 * Every filter control with its counts. `facets` holds the facet answers (each leaving its
 * own filter out) and is empty after an error, when no counts show. `actors` are the chosen
 * actors as { value, label, count }.
 */
export function renderPanel(el, state, { programs, facets, actors, navigate }) {
  const chosenPrograms = state.program.map((value) => programId(programs, value));
  const programNames = new Map(programs.map((p) => [p.id, p.name]));
  renderChecks(
    el.programs,
    "program",
    options(
      programs.map((p) => p.id),
      chosenPrograms,
      countsOf(facets.program?.program),
      (v) => programNames.get(v) || v,
    ),
    chosenPrograms,
  );
  const statuses = options(STATUSES, state.status, countsOf(facets.status?.status));
  renderChecks(el.statuses, "status", statuses, state.status);
  renderChecks(
    el.kinds,
    "kind",
    options(KINDS, state.kind, countsOf(facets.kind?.kind)),
    state.kind,
  );
  renderYearChips(el.years, facets.year?.year || [], state, (from, to) => {
    const current = state.from === from && state.to === to;
    navigate({ ...state, from: current ? "" : from, to: current ? "" : to });
  });
  renderActorChips(el.actorChips, actors, (value) =>
    navigate({ ...state, actor: state.actor.filter((a) => a !== value) }),
  );
  renderOtherChips(el.otherChips, state, (name, value) => {
    const current = state[name];
    navigate({
      ...state,
      [name]: Array.isArray(current) ? current.filter((v) => v !== value) : "",
    });
  });
}
