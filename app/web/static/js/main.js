// The timeline page: state in the URL, data from the public JSON API, rendered with DOM APIs.

import {
  actorUrl,
  eventsUrl,
  exportUrls,
  facetsUrl,
  getAllEvents,
  getJSON,
  programsUrl,
} from "./api.js";
import { renderChart, renderLegend } from "./chart.js";
import { actorCombobox } from "./combobox.js";
import { detailDialog } from "./dialog.js";
import { $, h } from "./dom.js";
import { renderProblem } from "./errors.js";
import { dateInWords, decoratePrograms, plural } from "./format.js";
import { renderList } from "./list.js";
import { countsOf, readPanel, renderPanel, syncPanel } from "./panel.js";
import {
  activeFilterCount,
  emptyState,
  locationFor,
  openEventFromLocation,
  sameState,
  stateFromLocation,
} from "./state.js";

const SEARCH_DEBOUNCE_MS = 400;

const el = {
  details: $("#filters-details"),
  activeCount: $("#active-count"),
  form: $("#filters"),
  q: $("#f-q"),
  actorInput: $("#f-actor"),
  actorOptions: $("#actor-options"),
  actorChips: $("#actor-chips"),
  actorMatchField: $("#actor-match-field"),
  actorMatch: $("#f-actor-match"),
  programs: $("#program-options"),
  from: $("#f-from"),
  to: $("#f-to"),
  years: $("#year-chips"),
  statuses: $("#status-options"),
  kinds: $("#kind-options"),
  reported: $("#f-reported"),
  otherChips: $("#other-chips"),
  clear: $("#clear-filters"),
  error: $("#error"),
  status: $("#status"),
  csv: $("#dl-csv"),
  ics: $("#dl-ics"),
  timelinejs: $("#dl-timelinejs"),
  apiUrl: $("#api-url"),
  copy: $("#copy-url"),
  copyStatus: $("#copy-status"),
  chart: $("#chart"),
  legend: $("#legend"),
  events: $("#events"),
};

let state = stateFromLocation(location);
let programs = [];
let programsById = new Map();
let events = [];
let actorCounts = new Map();
const actorNames = new Map();
const actorIds = new Map();
let generation = 0;
let controller = null;
let searchTimer = 0;
let lastPushWasSearch = false;
let chartWidth = 0;

const programsReady = getJSON(programsUrl).then((page) => {
  programs = decoratePrograms(page.items);
  programsById = new Map(programs.map((p) => [p.id, p]));
});

const detail = detailDialog({
  dialog: $("#detail"),
  title: $("#detail-title"),
  body: $("#detail-body"),
  close: $("#detail-close"),
  list: el.events,
  context: () => ({ state, programsById }),
});

/** Go to a new state: a new history entry (or a replaced one while typing a search). */
function navigate(next, { replace = false } = {}) {
  lastPushWasSearch = replace;
  if (sameState(next, state)) return syncPanel(el, state);
  state = next;
  const url = locationFor(state, null);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  load();
}

function applyPanel({ replace = false } = {}) {
  for (const input of [el.from, el.to, el.reported]) {
    if (!input.checkValidity()) {
      input.reportValidity();
      return;
    }
  }
  navigate(readPanel(el, state), { replace });
}

function updateLinks() {
  const urls = exportUrls(state);
  el.csv.href = urls.csv;
  el.ics.href = urls.ics;
  el.timelinejs.href = urls.timelinejs;
  el.apiUrl.value = new URL(eventsUrl(state), location.origin).href;
  el.copyStatus.textContent = "";
}

/** The name of an actor filter value (an id, name or alias), looked up once. */
async function actorName(value, signal) {
  if (actorNames.has(value)) return actorNames.get(value);
  try {
    const actor = await getJSON(actorUrl(value), signal);
    actorNames.set(value, actor.name);
    actorIds.set(value, actor.id);
    return actor.name;
  } catch {
    return value;
  }
}

/** Fetch the view for the current state (events and facet counts) and render it. */
async function load() {
  const mine = ++generation;
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  document.documentElement.dataset.view = "loading";
  el.events.setAttribute("aria-busy", "true");
  syncPanel(el, state);
  updateLinks();

  // Each filter's counts leave that filter out: they say what choosing a value would give.
  // Without that filter set, the request is the same and is made once.
  const requests = new Map();
  const facet = (omit) => {
    const url = facetsUrl(state, omit);
    if (!requests.has(url)) requests.set(url, getJSON(url, signal));
    return requests.get(url);
  };
  let list;
  let facets = {};
  let error = null;
  try {
    const [page, actor, program, status, kind, year] = await Promise.all([
      getAllEvents(eventsUrl(state), signal),
      facet(["actor", "actor_match"]),
      facet(["program"]),
      facet(["status"]),
      facet(["kind"]),
      facet(["from", "to", "year"]),
      programsReady,
    ]);
    list = page;
    facets = { actor, program, status, kind, year };
    for (const { value, label } of actor.actor) {
      actorNames.set(value, label);
      actorIds.set(value, value);
    }
  } catch (failure) {
    if (failure.name === "AbortError") return;
    error = failure;
    list = { items: [], total: 0, truncated: false, failed: true };
    await programsReady.catch(() => null);
  }
  // After an error the values may be unknown to the API: no lookups, no more failed requests.
  const names = error
    ? state.actor.map((value) => actorNames.get(value) || value)
    : await Promise.all(state.actor.map((value) => actorName(value, signal)));
  if (mine !== generation) return;

  events = list.items;
  actorCounts = countsOf(facets.actor?.actor) || new Map();
  renderProblem(el.error, error, { state, onFix: navigate });
  renderView(list);
  renderPanel(el, state, {
    programs,
    facets,
    navigate,
    actors: state.actor.map((value, i) => ({
      value,
      label: names[i],
      count: error ? null : (actorCounts.get(actorIds.get(value)) ?? 0),
    })),
  });
  el.events.setAttribute("aria-busy", "false");
  document.documentElement.dataset.view = "ready";
  if (!performance.getEntriesByName("timeline-ready").length) performance.mark("timeline-ready");
}

function statusText(list) {
  if (list.failed) return "No events: the API could not answer this query.";
  const filtered = activeFilterCount(state) > 0;
  if (!list.total) return filtered ? "No events match these filters." : "No events yet.";
  let text = filtered
    ? `${plural(list.total, "event")} ${list.total === 1 ? "matches" : "match"} these filters`
    : `${plural(list.total, "event")}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(state.as_reported_on)) {
    text += `, as reported by ${dateInWords(state.as_reported_on, "day")}`;
  }
  if (list.truncated) text += ` (showing the first ${list.items.length})`;
  return `${text}.`;
}

function renderView(list) {
  el.status.textContent = statusText(list);
  drawChart();
  renderLegend(el.legend, programs, events);
  if (!events.length) {
    const clear = h("button", {
      type: "button",
      class: "link-button",
      text: "Clear all filters",
      on: { click: () => navigate(emptyState()) },
    });
    el.events.replaceChildren(h("p", { class: "empty" }, "Nothing to show. ", clear));
    return;
  }
  renderList(el.events, events, programsById, {
    onOpen: detail.open,
    selectedId: detail.currentId(),
  });
}

function drawChart() {
  chartWidth = el.chart.clientWidth;
  renderChart(el.chart, events, programs, {
    onOpen: detail.open,
    selectedId: detail.currentId(),
    today: Date.now(),
  });
}

function onPopState() {
  const next = stateFromLocation(location);
  if (!sameState(next, state)) {
    state = next;
    load();
  } else syncPanel(el, state);
  detail.follow(openEventFromLocation(location));
}

async function copyApiUrl() {
  try {
    await navigator.clipboard.writeText(el.apiUrl.value);
    el.copyStatus.textContent = "Copied.";
  } catch {
    el.apiUrl.select();
    el.copyStatus.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }
}

function wireControls() {
  el.form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    clearTimeout(searchTimer);
    applyPanel();
  });
  el.form.addEventListener("change", (change) => {
    if (change.target === el.actorInput || change.target === el.q) return;
    applyPanel();
  });
  el.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => applyPanel({ replace: lastPushWasSearch }), SEARCH_DEBOUNCE_MS);
  });
  el.q.addEventListener("change", () => {
    clearTimeout(searchTimer);
    applyPanel({ replace: lastPushWasSearch });
  });
  el.clear.addEventListener("click", () => navigate(emptyState()));
  // The skip link moves focus without a fragment in the URL, which holds the open event.
  $(".skip-link").addEventListener("click", (click) => {
    click.preventDefault();
    $("#events-heading").focus();
  });
  actorCombobox({
    input: el.actorInput,
    listbox: el.actorOptions,
    onChoose: (value) => {
      if (!state.actor.includes(value)) navigate({ ...state, actor: [...state.actor, value] });
    },
    context: () => ({ counts: actorCounts, exclude: new Set(state.actor) }),
  });
  el.copy.addEventListener("click", copyApiUrl);
  el.apiUrl.addEventListener("focus", () => el.apiUrl.select());
  window.addEventListener("popstate", onPopState);
  new ResizeObserver(() => {
    requestAnimationFrame(() => {
      if (Math.abs(el.chart.clientWidth - chartWidth) > 1) drawChart();
    });
  }).observe(el.chart);
}

if (matchMedia("(max-width: 52rem)").matches) el.details.open = false;
wireControls();
load();
const openId = openEventFromLocation(location);
if (openId) detail.open(openId, null, { push: false });
