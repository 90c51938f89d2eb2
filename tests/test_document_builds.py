"""A write on an event builds the event's document once, where it stores it; If-Match and the
answer use the stored document, which is exactly what GET answers."""

from typing import Any

import pytest

from app.events import documents
from app.events import editing as event_editing
from tests.conftest import Editing
from tests.test_editing import NEW_EVENT

# Each write on the event e2024 (planned, its date passed: the stored document is shown with
# `planned_date_passed` set), the URL that reads back what it answers, and how many times it
# builds the event's document: once where it stores it, never for If-Match or its answer.
EVENT_WRITES: dict[str, tuple[str, str, dict[str, Any] | None, str | None, int]] = {
    "create event": ("POST", "/api/v1/events", NEW_EVENT, "/api/v1/events/e-new", 1),
    "update event": ("PATCH", "/api/v1/events/e2024", {"title": "X"}, "/api/v1/events/e2024", 1),
    "delete event": ("DELETE", "/api/v1/events/e2024", None, None, 0),
    "add citation": (
        "POST",
        "/api/v1/events/e2024/citations",
        {"source_id": "s2", "quote": "Q."},
        "{location}",
        1,
    ),
    "update citation": ("PATCH", "{citation}", {"quote": "Changed."}, "{citation}", 1),
    "delete citation": ("DELETE", "{citation}", None, None, 1),
}


@pytest.mark.parametrize("write", list(EVENT_WRITES))
def test_a_write_builds_the_event_document_once_and_answers_as_get_does(
    editing: Editing, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    method, url, body, read_back, builds = EVENT_WRITES[write]
    client = editing.client
    first = client.get("/api/v1/events/e2024").json()["citations"][0]["id"]
    url = url.format(citation=f"/api/v1/events/e2024/citations/{first}")
    read = url if method != "POST" else None
    headers = dict(editing.auth)
    if read is not None:  # If-Match is compared with the stored document
        headers["If-Match"] = client.get(read).headers["etag"]
    built: list[int] = []
    original = documents.event_documents

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(documents, "event_documents", counted)
    monkeypatch.setattr(event_editing, "event_documents", counted)
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code < 300, response.text
    assert len(built) == builds
    if read_back is not None:
        again = client.get(
            read_back.format(location=response.headers.get("location"), citation=url)
        )
        assert (response.content, response.headers["etag"]) == (
            again.content,
            again.headers["etag"],
        )
        if write == "update event":
            assert response.json()["planned_date_passed"] is True
