// The overview: every event on a time axis from 1986 to the 2030s, one lane per program.
// Occurred events are solid, planned ones hollow; spans and disputed dates are ranges.
// Years without events are compressed so the busy 2020s stay readable on a phone.

import { h } from "./dom.js";
import { NO_PROGRAM, claimedSpan, eventSpan, toTime, yearOf } from "./format.js";

const FIRST_YEAR = 1986;
const LAST_YEAR = 2039;
const EMPTY_YEAR = 0.35;
const PER_EVENT = 1.6;
const ROW_PX = 22;
const MARK_PX = 14;
const GAP_PX = 4;
const LABEL_PX = 36;

/** A piecewise-linear scale: busy years get room, empty ones a sliver. */
function makeScale(events) {
  const starts = new Map();
  let first = FIRST_YEAR;
  let last = LAST_YEAR;
  for (const event of events) {
    const [a, b] = claimedSpan(event);
    first = Math.min(first, yearOf(a));
    last = Math.max(last, yearOf(b));
    const year = yearOf(a);
    starts.set(year, (starts.get(year) || 0) + 1);
  }
  const offsets = new Map();
  const weights = new Map();
  let total = 0;
  for (let year = first; year <= last; year += 1) {
    const count = starts.get(year) || 0;
    const weight = count ? 1 + PER_EVENT * Math.min(count, 6) : EMPTY_YEAR;
    offsets.set(year, total);
    weights.set(year, weight);
    total += weight;
  }
  const x = (time) => {
    const year = Math.min(Math.max(yearOf(time), first), last);
    const start = Date.UTC(year, 0, 1);
    const length = Date.UTC(year + 1, 0, 1) - start;
    const fraction = Math.min(Math.max((time - start) / length, 0), 1);
    return ((offsets.get(year) + fraction * weights.get(year)) / total) * 100;
  };
  return { first, last, x, starts, yearStart: (y) => x(Date.UTC(y, 0, 1)) };
}

/** One drawable item: an event in one lane, as a point or a range, with its extent in %. */
function itemOf(event, scale) {
  const isRange = event.disputed || Boolean(event.end_date) || event.date_precision === "decade";
  const [a, b] = event.disputed ? claimedSpan(event) : eventSpan(event);
  if (isRange) {
    const from = scale.x(a);
    const to = scale.x(b + 86_400_000);
    return { event, isRange, from, to, at: scale.x(toTime(event.start_date)) };
  }
  const at = scale.x((a + b) / 2);
  return { event, isRange, from: at, to: at, at };
}

/** Pack items into as few rows as possible without overlaps (widths in px). */
function pack(items, widthPx) {
  const markPct = (MARK_PX / widthPx) * 100;
  const gapPct = (GAP_PX / widthPx) * 100;
  const rowEnds = [];
  for (const item of [...items].sort((p, q) => p.from - q.from || p.at - q.at)) {
    const left = Math.min(item.from, item.at - markPct / 2);
    const right = Math.max(item.to, item.at + markPct / 2);
    let row = rowEnds.findIndex((end) => end + gapPct <= left);
    if (row === -1) row = rowEnds.push(right) - 1;
    else rowEnds[row] = right;
    item.row = row;
  }
  return Math.max(rowEnds.length, 1);
}

function describe(event, laneName) {
  const parts = [`${event.date_label}: ${event.title}`, event.status];
  if (event.disputed) parts.push("disputed date");
  if (laneName) parts.push(laneName);
  return parts.join(" — ");
}

function markClasses(event) {
  return ["mark", event.status, event.disputed ? "disputed" : ""].filter(Boolean).join(" ");
}

/** Lanes: one per program with events (ordered by their first event), then "No program". */
function lanesOf(events, programs) {
  const lanes = new Map();
  const laneFor = (program) => {
    if (!lanes.has(program.id)) lanes.set(program.id, { program, events: [] });
    return lanes.get(program.id);
  };
  const byId = new Map(programs.map((p) => [p.id, p]));
  for (const event of events) {
    const own = event.programs.map((p) => byId.get(p.id) || { ...NO_PROGRAM, ...p });
    for (const program of own.length ? own : [NO_PROGRAM]) laneFor(program).events.push(event);
  }
  const firstStart = (lane) => Math.min(...lane.events.map((e) => toTime(e.start_date)));
  return [...lanes.values()].sort((a, b) => {
    if (!a.program.id !== !b.program.id) return a.program.id ? -1 : 1;
    return firstStart(a) - firstStart(b) || a.program.name.localeCompare(b.program.name);
  });
}

function axisOf(scale, widthPx, today) {
  const axis = h("div", { class: "axis", attrs: { "aria-hidden": "true" } });
  const candidates = [
    ...[...scale.starts.entries()].sort((a, b) => b[1] - a[1]).map(([year]) => year),
    scale.first,
  ];
  for (let year = Math.ceil(scale.first / 10) * 10; year <= scale.last; year += 10) {
    candidates.push(year);
  }
  const placed = [];
  for (const year of candidates) {
    const busy = scale.starts.has(year);
    const left = scale.yearStart(year);
    const centre = busy ? (left + scale.yearStart(year + 1)) / 2 : left;
    const px = (centre / 100) * widthPx;
    if (px < LABEL_PX / 2 - 4 || px > widthPx - LABEL_PX / 2 + 4) continue;
    if (placed.some((other) => Math.abs(other - px) < LABEL_PX)) continue;
    placed.push(px);
    const tick = h("span", { class: busy ? "tick busy" : "tick", text: String(year) });
    tick.style.left = `${centre}%`;
    axis.append(tick);
  }
  const now = scale.x(today);
  const marker = h("span", { class: "tick today-label", text: "today" });
  marker.style.left = `${now}%`;
  axis.append(marker);
  return axis;
}

function backgroundOf(scale, today) {
  const layer = h("div", { class: "bands", attrs: { "aria-hidden": "true" } });
  for (let year = Math.ceil(scale.first / 10) * 10; year <= scale.last; year += 20) {
    const band = h("span", { class: "band" });
    const left = scale.yearStart(year);
    const right = year + 10 > scale.last ? 100 : scale.yearStart(year + 10);
    band.style.left = `${left}%`;
    band.style.width = `${right - left}%`;
    layer.append(band);
  }
  for (const year of scale.starts.keys()) {
    const busy = h("span", { class: "busy-year" });
    busy.style.left = `${scale.yearStart(year)}%`;
    busy.style.width = `${scale.yearStart(year + 1) - scale.yearStart(year)}%`;
    layer.append(busy);
  }
  const line = h("span", { class: "today" });
  line.style.left = `${scale.x(today)}%`;
  layer.append(line);
  return layer;
}

function laneOf(lane, scale, selectedId) {
  const track = h("div", { class: "track" });
  const items = lane.events.map((event) => itemOf(event, scale));
  for (const item of items) {
    const { event } = item;
    item.nodes = [];
    if (item.isRange) {
      const range = h("span", {
        class: `range ${event.status}${event.disputed ? " disputed" : ""}`,
      });
      range.style.left = `${item.from}%`;
      range.style.width = `${Math.max(item.to - item.from, 0.4)}%`;
      item.nodes.push(range);
    }
    const label = describe(event, lane.program.name);
    const mark = h("button", {
      type: "button",
      class: markClasses(event),
      title: label,
      tabIndex: -1,
      dataset: { id: event.id },
      attrs: { "aria-label": label },
    });
    mark.style.left = `${item.at}%`;
    if (event.id === selectedId) mark.classList.add("selected");
    item.nodes.push(mark);
    item.mark = mark;
    track.append(...item.nodes);
  }
  const element = h(
    "div",
    { class: "lane" },
    h(
      "div",
      { class: "lane-label" },
      h("span", { class: "swatch", attrs: { "aria-hidden": "true" } }),
      h(
        "span",
        { class: "lane-name" },
        lane.program.short || lane.program.name,
        h("span", { class: "lane-count", text: `\u00a0·\u00a0${lane.events.length}` }),
      ),
    ),
    track,
  );
  element.style.setProperty("--c", lane.program.colour);
  return { element, track, items };
}

/** Stack a lane's overlapping items in rows, now that the track's width is known. */
function layOut({ track, items }, widthPx) {
  const rows = pack(items, widthPx);
  track.style.height = `${rows * ROW_PX}px`;
  for (const item of items) {
    for (const node of item.nodes) node.style.top = `${item.row * ROW_PX}px`;
  }
}

/** Roving focus: one tab stop; arrow keys, Home and End move through events in date order. */
function rove(body, order, selectedId) {
  const current = order.find((m) => m.dataset.id === selectedId) || order[0];
  if (current) current.tabIndex = 0;
  body.addEventListener("keydown", (key) => {
    const index = order.indexOf(document.activeElement);
    if (index === -1) return;
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    let next = null;
    if (key.key in moves) next = order[index + moves[key.key]];
    else if (key.key === "Home") next = order[0];
    else if (key.key === "End") next = order[order.length - 1];
    else return;
    key.preventDefault();
    if (!next) return;
    order[index].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}

/**
 * Draw `events` into `root`. Marks are buttons in one roving tab stop: arrow keys move
 * through events in date order, Enter or Space opens one through `onOpen(id, button)`.
 */
export function renderChart(root, events, programs, { onOpen, selectedId, today }) {
  if (!events.length) {
    root.replaceChildren(h("p", { class: "chart-empty", text: "Nothing to draw." }));
    return;
  }
  const scale = makeScale(events);
  const body = h("div", { class: "chart-body" }, backgroundOf(scale, today));
  const lanes = lanesOf(events, programs).map((lane) => laneOf(lane, scale, selectedId));
  body.append(...lanes.map((lane) => lane.element));
  root.replaceChildren(body);
  const widthPx = Math.max(lanes[0].track.clientWidth, 200);
  for (const lane of lanes) layOut(lane, widthPx);
  root.append(axisOf(scale, widthPx, today));

  const order = lanes
    .flatMap((lane) => lane.items)
    .sort(
      (a, b) =>
        toTime(a.event.start_date) - toTime(b.event.start_date) ||
        a.event.id.localeCompare(b.event.id),
    )
    .map((item) => item.mark);
  rove(body, order, selectedId);
  body.addEventListener("click", (click) => {
    const mark = click.target.closest("button.mark");
    if (mark) onOpen(mark.dataset.id, mark);
  });
}

/** The legend: what colour each program has, and what the shapes mean. */
export function renderLegend(root, programs, events) {
  const swatches = lanesOf(events, programs)
    .map((lane) => lane.program)
    .map((program) => {
      const item = h(
        "li",
        {},
        h("span", { class: "swatch", attrs: { "aria-hidden": "true" } }),
        program.name,
      );
      item.style.setProperty("--c", program.colour);
      return item;
    });
  const shape = (className, text) =>
    h(
      "li",
      {},
      h("span", { class: `legend-shape ${className}`, attrs: { "aria-hidden": "true" } }),
      text,
    );
  root.replaceChildren(
    h("ul", { class: "legend-programs", attrs: { "aria-label": "Programs" } }, swatches),
    h(
      "ul",
      { class: "legend-shapes", attrs: { "aria-label": "Shapes" } },
      shape("mark occurred", "occurred"),
      shape("mark planned", "planned"),
      shape("mark cancelled", "cancelled"),
      shape("range occurred", "span of time"),
      shape("range planned disputed", "disputed date: the range the sources claim"),
      shape("today", "today"),
    ),
  );
}
