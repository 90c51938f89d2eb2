// Dates, labels and colours shared by the chart, the list and the detail.

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAY = 86_400_000;

/** A `YYYY-MM-DD` string as a UTC timestamp (ms). */
export function toTime(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return Date.UTC(y, (m || 1) - 1, d || 1);
}

/** [first ms, last ms] of a date widened to its precision (SPEC §3: intervals). */
export function interval(iso, precision) {
  const start = toTime(iso);
  const date = new Date(start);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  if (precision === "month") return [start, Date.UTC(y, m + 1, 1) - DAY];
  if (precision === "year") return [start, Date.UTC(y + 1, 0, 1) - DAY];
  if (precision === "decade") return [start, Date.UTC(y + 10, 0, 1) - DAY];
  return [start, start];
}

/** The whole span an event covers: its start to its end (or start), each to its precision. */
export function eventSpan(event) {
  const [first] = interval(event.start_date, event.date_precision);
  const [, last] = interval(event.end_date || event.start_date, event.date_precision);
  return [first, last];
}

/** Every day any of the event's date claims covers, with the event's own span. */
export function claimedSpan(event) {
  let [first, last] = eventSpan(event);
  for (const claim of event.date_claims || []) {
    const [a, b] = interval(claim.date, claim.precision);
    first = Math.min(first, a);
    last = Math.max(last, b);
  }
  return [first, last];
}

export function yearOf(time) {
  return new Date(time).getUTCFullYear();
}

/** A date in words to its precision: "9 March 2021", "March 2021", "2021", "2020s". */
export function dateInWords(iso, precision) {
  const date = new Date(toTime(iso));
  const y = date.getUTCFullYear();
  if (precision === "decade") return `${y}s`;
  if (precision === "year") return String(y);
  const month = MONTHS[date.getUTCMonth()];
  if (precision === "month") return `${month} ${y}`;
  return `${date.getUTCDate()} ${month} ${y}`;
}

/** How a source's publication date reads: "March 2021 (estimated)". */
export function publishedLabel(source) {
  if (!source.published_date) return "publication date unknown";
  const words = dateInWords(source.published_date, source.published_date_precision || "day");
  return source.published_date_estimated ? `${words} (estimated)` : words;
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/** A short lane label: the name when short, else its initials ("ISS", "ILRS"). */
export function shortName(program) {
  if (program.name.length <= 16) return program.name;
  const initials = program.name
    .split(/\s+/)
    .filter((word) => /^[A-Z]/.test(word))
    .map((word) => word[0])
    .join("");
  return initials.length >= 2 ? initials : program.name;
}

// Each has at least 4.5:1 contrast on white, so markers and text in them stay legible.
const PALETTE = [
  "#6a3fb5",
  "#8a5300",
  "#b3261e",
  "#1f5fbf",
  "#00776b",
  "#c0400c",
  "#2e7d32",
  "#ad1457",
];
export const NO_PROGRAM = { id: "", name: "No program", short: "No program", colour: "#5c6470" };

/** Programs (sorted by id, so colours stay put across filters) with a colour and short name. */
export function decoratePrograms(programs) {
  return [...programs]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((program, index) => ({
      ...program,
      short: shortName(program),
      colour: PALETTE[index % PALETTE.length],
    }));
}

export const STATUS_WORDS = {
  occurred: "occurred",
  planned: "planned",
  cancelled: "cancelled",
};

export const ROLE_WORDS = {
  signatory: "Signatories",
  partner: "Partners",
  initiator: "Initiators",
  participant: "Participants",
  operator: "Operators",
  withdrawing: "Withdrawing",
  declined: "Declined",
  speaker: "Speakers",
  subject: "Subjects",
};
