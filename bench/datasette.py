"""Datasette serving the main query's page as a canned SQL query, for comparison (issue 7).

The query returns what the API's page holds: the 50 first events (by start date, then id) of
an actor or any actor below it that overlap a year, each with its actors and roles, programs,
and citations with their sources, aggregated as JSON. It does not count the total, make a
cursor or derive labels and disputes, so it does less than the API.
"""

import sys
from pathlib import Path
from urllib.parse import urlencode

import yaml

QUERY = "events_page"

SQL = """
WITH RECURSIVE tree(id) AS (
  SELECT id FROM actor WHERE id = :actor
  UNION ALL
  SELECT actor.id FROM actor JOIN tree ON actor.parent_id = tree.id
),
page AS (
  SELECT * FROM event
  WHERE id IN (SELECT event_id FROM event_actor WHERE actor_id IN (SELECT id FROM tree))
    AND start_date <= :year || '-12-31' AND span_end >= :year || '-01-01'
  ORDER BY start_date, id
  LIMIT 50
)
SELECT
  page.id, page.title, page.summary, page.start_date, page.end_date, page.date_precision,
  page.date_qualifier, page.date_source, page.status, page.kind, page.location,
  (SELECT json_group_array(json_object('id', a.id, 'name', a.name, 'kind', a.kind,
                                       'role', x.role))
     FROM (SELECT * FROM event_actor WHERE event_id = page.id ORDER BY position) AS x
     JOIN actor AS a ON a.id = x.actor_id) AS actors,
  (SELECT json_group_array(json_object('id', p.id, 'name', p.name))
     FROM (SELECT * FROM event_program WHERE event_id = page.id ORDER BY program_id) AS ep
     JOIN program AS p ON p.id = ep.program_id) AS programs,
  (SELECT json_group_array(json_object(
       'id', c.id, 'quote', c.quote, 'claimed_date', c.claimed_date,
       'claimed_date_precision', c.claimed_date_precision,
       'claimed_date_qualifier', c.claimed_date_qualifier, 'note', c.note,
       'source', json_object('id', s.id, 'title', s.title, 'publisher', s.publisher,
                             'published_date', s.published_date,
                             'published_date_precision', s.published_date_precision,
                             'published_date_estimated',
                             json(CASE WHEN s.published_date_estimated THEN 'true'
                                       ELSE 'false' END))))
     FROM (SELECT * FROM citation WHERE event_id = page.id ORDER BY position, id) AS c
     JOIN source AS s ON s.id = c.source_id) AS citations
FROM page
ORDER BY page.start_date, page.id
"""


def write_metadata(path: Path, database: str) -> None:
    """Datasette's metadata file declaring the canned query on this database."""
    metadata = {
        "title": "Space Cooperation Timeline benchmark",
        "databases": {database: {"queries": {QUERY: {"sql": SQL.strip()}}}},
    }
    path.write_text(yaml.safe_dump(metadata, sort_keys=False))


def page_path(database: str, actor: str, year: int) -> str:
    """The canned query's URL for one actor and year, JSON columns parsed into objects."""
    params = [("actor", actor), ("year", str(year)), ("_shape", "array")]
    params += [("_json", name) for name in ("actors", "programs", "citations")]
    return f"/{database}/{QUERY}.json?{urlencode(params)}"


def command(sqlite_file: Path, metadata: Path, port: int) -> list[str]:
    """Serve the file read-only (`-i`, immutable), one process; 10 s per query at most."""
    datasette = Path(sys.executable).with_name("datasette")
    return [
        str(datasette),
        "serve",
        "-i",
        str(sqlite_file),
        "--metadata",
        str(metadata),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "10000",
    ]
