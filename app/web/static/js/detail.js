// One event in full: its date, actors with roles, every citation, and competing date claims.

import { fill, h } from "./dom.js";
import { NO_PROGRAM, ROLE_WORDS, plural, publishedLabel } from "./format.js";

function sourceLine(source) {
  return h(
    "span",
    { class: "source-line" },
    h("cite", { text: source.title }),
    h(
      "span",
      { class: source.publisher ? "publisher" : "publisher unnamed" },
      source.publisher || "publisher not named",
    ),
    h("span", { class: "published", text: `published ${publishedLabel(source)}` }),
  );
}

function citationOf(citation) {
  return h(
    "li",
    { class: "citation", dataset: { citation: String(citation.id) } },
    h(
      "figure",
      {},
      h("blockquote", {}, h("p", { text: citation.quote })),
      h("figcaption", {}, sourceLine(citation.source)),
    ),
    citation.claimed_date_label
      ? h("p", { class: "claimed", text: `Date in this source: ${citation.claimed_date_label}` })
      : null,
    citation.note ? h("p", { class: "note", text: citation.note }) : null,
  );
}

function actorsOf(event) {
  const roles = new Map();
  for (const actor of event.actors) {
    if (!roles.has(actor.role)) roles.set(actor.role, []);
    roles.get(actor.role).push(actor);
  }
  return h(
    "dl",
    { class: "roles" },
    [...roles.entries()].map(([role, actors]) => [
      h("dt", { text: ROLE_WORDS[role] || role }),
      h(
        "dd",
        {},
        h(
          "ul",
          {},
          actors.map((a) =>
            h("li", {}, a.name, h("span", { class: "kind", text: ` (${a.kind})` })),
          ),
        ),
      ),
    ]),
  );
}

function claimsOf(event) {
  const citations = new Map(event.citations.map((c) => [c.id, c]));
  return h(
    "section",
    { class: "claims", attrs: { "aria-labelledby": "claims-title" } },
    h("h3", { id: "claims-title", text: "Disputed date: the sources disagree" }),
    h(
      "div",
      { class: "claims-grid" },
      event.date_claims.map((claim) =>
        h(
          "article",
          { class: "claim" },
          h("h4", { text: claim.label }),
          h("p", {
            class: "claimed-by",
            text: `claimed by ${plural(claim.source_ids.length, "source")}`,
          }),
          h(
            "ul",
            {},
            claim.citation_ids
              .map((id) => citations.get(id))
              .filter(Boolean)
              .map((citation) =>
                h(
                  "li",
                  {},
                  h("blockquote", {}, h("p", { text: citation.quote })),
                  sourceLine(citation.source),
                ),
              ),
          ),
        ),
      ),
    ),
  );
}

/** Fill the dialog's title and body with `event`. */
export function renderDetail(title, body, event, { programsById, apiUrl }) {
  title.textContent = event.title;
  const facts = [
    h("span", { class: "detail-date", text: event.date_label }),
    h("span", { class: `status-pill ${event.status}`, text: event.status }),
    h("span", { text: event.kind }),
  ];
  if (event.date_source === "public_record") {
    facts.push(h("span", { text: "date from the public record" }));
  }
  if (event.location) facts.push(h("span", { text: event.location }));
  const programs = event.programs.map((ref) => {
    const program = programsById.get(ref.id) || { ...NO_PROGRAM, ...ref };
    const tag = h("span", { class: "tag", text: program.name });
    tag.style.setProperty("--c", program.colour);
    return tag;
  });
  fill(
    body,
    h("p", { class: "facts" }, facts),
    event.planned_date_passed
      ? h("p", {
          class: "notice",
          text:
            "Still planned in the sources, although this date has passed: the dataset keeps " +
            "the status the articles report.",
        })
      : null,
    h("p", { class: "summary", text: event.summary }),
    programs.length ? h("p", { class: "tags" }, programs) : null,
    h("h3", { text: "Who" }),
    actorsOf(event),
    event.disputed ? claimsOf(event) : null,
    h("h3", {
      text: `Sources (${plural(event.citations.length, "citation")}, ${plural(event.source_count, "article")})`,
    }),
    h("ol", { class: "citations" }, event.citations.map(citationOf)),
    h("p", { class: "raw" }, h("a", { href: apiUrl, text: "This event in the API (JSON)" })),
  );
  body.dataset.eventId = event.id;
}
