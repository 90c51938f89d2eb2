"""Swagger UI and ReDoc work offline; the schema is complete enough for journalists and clients."""

import re

import pytest
from fastapi.testclient import TestClient

from app.core.config import PROJECT_ROOT, Settings

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_doc_pages_load_nothing_from_other_hosts(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert EXTERNAL.findall(html) == []
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets, "the page should reference its own assets"
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


def test_swagger_ui_has_no_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_every_operation_has_a_clean_id_and_a_tag(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation_ids = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert re.fullmatch(r"[a-z][A-Za-z]+", operation["operationId"]), (path, method)
            assert operation["tags"], (path, method)
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))
    assert {"listEvents", "getEvent", "listActors", "getActor"} <= set(operation_ids)


def test_every_parameter_has_a_description_and_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    missing = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['name']}"
                if not parameter.get("description"):
                    missing.append(f"{where}: description")
                # A cursor cannot have a literal example; its description says what to paste.
                has_example = (
                    "examples" in parameter.get("schema", {})
                    or "example" in parameter
                    or (parameter["name"] == "cursor" and "next_cursor" in parameter["description"])
                )
                if not has_example:
                    missing.append(f"{where}: example")
    assert missing == []


def test_the_prefilled_swagger_examples_find_the_memorandum(client: TestClient) -> None:
    """Try-it-out fills in every example: together they must still make a useful query."""
    schema = client.get("/openapi.json").json()
    params = []
    for parameter in schema["paths"]["/api/v1/events"]["get"]["parameters"]:
        examples = parameter["schema"].get("examples")
        if examples is None:
            continue
        values = examples[0] if isinstance(examples[0], list) else [examples[0]]
        params += [(parameter["name"], str(value)) for value in values]
    response = client.get("/api/v1/events", params=params)
    assert [e["id"] for e in response.json()["items"]] == ["ilrs-memorandum"]


def test_every_endpoint_is_documented(client: TestClient) -> None:
    guide = (PROJECT_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    schema = client.get("/openapi.json").json()
    missing = [path for path in schema["paths"] if path not in guide]
    assert missing == []


def test_every_setting_is_documented() -> None:
    guide = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    names = [name.upper() for name in Settings.model_fields]
    assert [n for n in names if n not in guide or f"{n}=" not in example] == []
