// The public JSON API: query strings in the API's own parameter names, and fetching.

/** Every filter the event endpoints accept, in the order the page writes them to URLs. */
export const FILTERS = [
  "q",
  "actor",
  "actor_match",
  "role",
  "program",
  "kind",
  "status",
  "year",
  "from",
  "to",
  "source",
  "min_sources",
  "as_reported_on",
];
/** Filters that may be given several times (`actor=russia&actor=china`). */
export const REPEATABLE = new Set(["actor", "program", "kind", "status", "year", "source"]);
/** List-only parameters the page keeps in its URL. */
export const LIST_ONLY = ["sort"];

const API = "/api/v1";
const MAX_PAGES = 40;

/** An RFC 9457 problem answered by the API. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** URLSearchParams for `state`, leaving out `omit` (names) and empty values. */
export function queryOf(state, { omit = [], only = FILTERS, extra = {} } = {}) {
  const params = new URLSearchParams();
  for (const name of only) {
    if (omit.includes(name)) continue;
    const value = state[name];
    if (REPEATABLE.has(name)) {
      for (const item of value || []) params.append(name, item);
    } else if (value !== undefined && value !== null && value !== "") {
      if (name === "actor_match" && value === "any") continue;
      params.append(name, value);
    }
  }
  for (const [name, value] of Object.entries(extra)) params.append(name, value);
  return params;
}

function withQuery(path, params) {
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** The list request behind the page: its filters, in date order (a time axis needs it). */
export function eventsUrl(state) {
  const extra = state.sort ? {} : state.q ? { sort: "date" } : {};
  return withQuery(`${API}/events`, queryOf(state, { only: [...FILTERS, ...LIST_ONLY], extra }));
}

export function facetsUrl(state, omit = []) {
  return withQuery(`${API}/events/facets`, queryOf(state, { omit }));
}

export function exportUrls(state) {
  const filters = queryOf(state);
  const timelinejs = new URLSearchParams([["format", "timelinejs"], ...filters]);
  return {
    csv: withQuery(`${API}/events.csv`, filters),
    ics: withQuery(`${API}/events.ics`, filters),
    timelinejs: withQuery(`${API}/timeline`, timelinejs),
  };
}

export function eventUrl(id, asReportedOn) {
  const params = new URLSearchParams();
  if (asReportedOn) params.set("as_reported_on", asReportedOn);
  return withQuery(`${API}/events/${encodeURIComponent(id)}`, params);
}

export function actorsUrl(q, limit = 20) {
  return withQuery(`${API}/actors`, new URLSearchParams({ q, limit: String(limit) }));
}

export function actorUrl(id) {
  return `${API}/actors/${encodeURIComponent(id)}`;
}

export const programsUrl = `${API}/programs?limit=200`;

/** GET a JSON document; a problem answer becomes an ApiError. */
export async function getJSON(url, signal) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Every event of a list URL, following `next_cursor` page after page. */
export async function getAllEvents(url, signal) {
  const first = await getJSON(url, signal);
  const items = [...first.items];
  let cursor = first.next_cursor;
  for (let page = 1; cursor && page < MAX_PAGES; page += 1) {
    const next = new URL(url, location.origin);
    next.searchParams.set("cursor", cursor);
    const body = await getJSON(next.pathname + next.search, signal);
    items.push(...body.items);
    cursor = body.next_cursor;
  }
  return { items, total: first.total, truncated: Boolean(cursor) };
}
