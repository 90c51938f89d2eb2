"""The container deployment, proven without a Docker engine (issue 6, SPEC §7).

The Dockerfile is linted by hadolint, the compose file validated against the Compose
specification, and the entrypoint run on this host against PostgreSQL with the environment
the image and docker-compose.yml would give it.
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from seed.loader import SEED_DIR
from seed.schema import read_dataset
from tests.conftest import _PG_UNAVAILABLE, REQUIRE_POSTGRES, Database, DatabaseFactory

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"
# Read by docker/entrypoint.sh and `serve`, not by Settings.
PROCESS_VARIABLES = ["HOST", "PORT", "WORKERS", "FORWARDED_ALLOW_IPS", "DB_WAIT_TIMEOUT"]
SETTING_VARIABLES = [name.upper() for name in Settings.model_fields]


def instructions(name: str = "Dockerfile") -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", (ROOT / name).read_text())
    lines = (line.strip() for line in joined.splitlines())
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def stages() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each build stage by name (or number): the image it starts from and its instructions."""
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for word, args in instructions():
        if word == "FROM":
            image, *alias = args.split()
            name = alias[1] if alias and alias[0].upper() == "AS" else str(len(found))
            found[name] = (image, [])
        else:
            list(found.values())[-1][1].append((word, args))
    return found


def runtime_image() -> list[tuple[str, str]]:
    """The instructions that make the final image: its stage and the stages it starts from."""
    by_name = stages()
    chain: list[tuple[str, str]] = []
    name = list(by_name)[-1]
    while name in by_name:
        name, body = by_name[name]
        chain = body + chain
    return chain


def image_env() -> dict[str, str]:
    """The ENV the final image runs with."""
    env: dict[str, str] = {}
    for word, args in runtime_image():
        if word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    return env


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file; commented-out assignments are left out."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is not set: compose refuses to start."""


_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$\$")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`, as compose does them."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if name is None:
            return "$"
        current = env.get(name)
        missing = current is None or (current == "" and (operator or "").startswith(":"))
        if missing and operator and operator.endswith("?"):
            raise MissingVariable(argument)
        if missing and operator and operator.endswith("-"):
            return argument
        return current or ""

    return _VARIABLE.sub(substitute, value)


def api_environment(dotenv_values: dict[str, str]) -> dict[str, str]:
    """The environment docker compose gives the API container, from the image and .env."""
    declared = compose()["services"]["api"]["environment"]
    env = image_env()
    env.update({key: interpolate(str(value), dotenv_values) for key, value in declared.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthcheck_command() -> list[str]:
    (args,) = [args for word, args in runtime_image() if word == "HEALTHCHECK"]
    command: list[str] = json.loads(args[args.index("CMD") + 3 :])
    return command


# --- The Dockerfile ---


def test_hadolint_passes() -> None:
    beside = Path(sys.executable).with_name("hadolint")
    binary = str(beside) if beside.exists() else shutil.which("hadolint")
    assert binary, "hadolint not found: install the dev extra (requirements-dev.lock)"
    result = subprocess.run(
        [binary, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_base_images_are_pinned_to_exact_versions() -> None:
    by_name = stages()
    images = [image for image, _ in by_name.values() if image not in by_name]
    images += [s["image"] for s in compose()["services"].values() if "image" in s]
    assert len(images) == 2
    for image in images:
        # A version down to the minor (PostgreSQL) or patch (Python) and the Debian release.
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?-[a-z][\w.-]*", image), image
    # The lock is compiled for one Python; the image must run that one.
    python_version = re.search(r"--python-version (\S+)", (ROOT / "requirements.lock").read_text())
    assert python_version
    assert images[0].startswith(f"python:{python_version[1]}.")


def test_the_runtime_stage_runs_unprivileged_with_probes() -> None:
    words = dict(runtime_image())
    assert words["USER"] == "10001:10001"
    assert words["EXPOSE"] == "8000"
    assert words["STOPSIGNAL"] == "SIGTERM"
    assert json.loads(words["ENTRYPOINT"]) == ["sh", "docker/entrypoint.sh"]
    assert "CMD" not in words
    assert healthcheck_command()[:2] == ["python", "-c"]
    assert "/healthz" in healthcheck_command()[2]
    assert {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= image_env().keys()


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: `*` stays within a folder, `**` crosses them."""
    out = ""
    for token in re.findall(r"\*\*/|\*\*|\*|\?|\[[^]]*\]|.", pattern.strip("/")):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
            token, token if token.startswith("[") else re.escape(token)
        )
    return re.compile(out + "(?:/.*)?")


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        if _ignore_regex(pattern.removeprefix("!")).fullmatch(path):
            ignored = not pattern.startswith("!")
    return ignored


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for word, args in instructions():
        if word == "COPY" and not args.startswith("--from"):
            sources += [arg for arg in args.split()[:-1] if not arg.startswith("--")]
    assert sources == [
        "requirements.lock", "alembic.ini", "pyproject.toml", "app/", "migrations/", "seed/",
        "docker/entrypoint.sh",
    ]  # fmt: skip
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such file in the repository"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative:
                assert not _ignored(relative, patterns), f"{relative} is in .dockerignore"
    for secret_or_cache in [".env", ".venv/bin/python", "timeline.db", "tests/conftest.py"]:
        assert _ignored(secret_or_cache, patterns), secret_or_cache


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    blocks = re.findall(
        r"^([A-Za-z0-9._-]+)==(\S+)(?: ;[^\\]*)? \\\n((?:    --hash=\S+.*\n)+)", text, re.M
    )
    assert len(blocks) == len(re.findall(r"^\S+==", text, re.M)), f"{lock}: a pin lacks hashes"
    return {canonicalize_name(name): version for name, version, _ in blocks}


def test_lock_files_pin_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    wanted = [
        (runtime, project["dependencies"]),
        (dev, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ]
    for pins, requirements in wanted:
        for requirement in map(Requirement, requirements):
            version = pins.get(canonicalize_name(requirement.name))
            assert version, f"{requirement.name} is not pinned"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{requirement.name}=={version} does not satisfy {requirement}"
            )
    # The tests run against exactly what the image installs.
    assert {name: dev.get(name) for name in runtime} == runtime


# --- docker-compose.yml and .env.example ---


def test_compose_file_follows_the_compose_specification() -> None:
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"Compose specification schema not found at {COMPOSE_SCHEMA}")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_compose_wires_postgres_and_the_api() -> None:
    services = compose()["services"]
    postgres, api = services["postgres"], services["api"]
    assert postgres["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pg_isready" in postgres["healthcheck"]["test"][1]
    assert api["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert api["build"] == "."
    assert {"command", "entrypoint"}.isdisjoint(api)
    assert api["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert {postgres["restart"], api["restart"]} == {"unless-stopped"}
    assert api["ports"] == ["${PORT:-8000}:${PORT:-8000}"]
    # Above uvicorn's 20 s graceful shutdown.
    assert api["stop_grace_period"] == "30s"


def test_required_secrets_fail_loudly_and_the_example_fills_them() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"POSTGRES_PASSWORD"}
    example = dotenv(ROOT / ".env.example")
    for name in required:
        with pytest.raises(MissingVariable, match=f"set {name} in .env"):
            api_environment({k: v for k, v in example.items() if k != name})
    env = api_environment(example)
    url = make_url(env["DATABASE_URL"])
    assert (url.host, url.port, url.username, url.password, url.database) == (
        "postgres", 5432, example["POSTGRES_USER"], example["POSTGRES_PASSWORD"],
        example["POSTGRES_DB"],
    )  # fmt: skip
    Settings(**{k.lower(): v for k, v in env.items() if k in SETTING_VARIABLES})


def test_every_variable_is_documented_and_passed_to_the_api() -> None:
    example_text = (ROOT / ".env.example").read_text()
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    api = compose()["services"]["api"]["environment"]
    for name in SETTING_VARIABLES + PROCESS_VARIABLES:
        assert re.search(rf"^(# )?{name}=", example_text, re.M), f"{name} not in .env.example"
        assert f"`{name}`" in deploy, f"{name} not in docs/deploy.md"
        assert name in api, f"{name} not passed to the api service"
    lines = example_text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^(# )?[A-Z_]+=", line):
            assert lines[number - 1].startswith("#"), f".env.example: {line} has no comment"
            name = line.lstrip("# ").split("=")[0]
            assert name in api or name.startswith("POSTGRES_"), f"{name} is used by nothing"


# --- The CLI commands the entrypoint uses ---


def test_wait_db_gives_up_after_its_timeout() -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["wait-db", "--timeout", "0.5"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert "gave up on database" in result.output
    assert time.monotonic() - started < 5


def test_seed_if_empty_seeds_once_without_the_articles(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timeline.db'}",
        "ARTICLES_DIR": str(tmp_path / "no-articles"),
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["wait-db", "--timeout", "0"], env=env).exit_code == 0
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    first = runner.invoke(cli, ["seed", "--if-empty"], env=env)
    assert first.exit_code == 0, first.output
    assert "quotes and checksums were not verified" in first.output
    second = runner.invoke(cli, ["seed", "--if-empty"], env=env)
    assert (second.exit_code, second.output) == (
        0, "the database already holds events; nothing seeded\n"
    )  # fmt: skip


def test_entrypoint_runs_one_off_commands_as_given(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), "sh", "-c", 'echo "$PWD $0"', "one-off"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.stdout == f"{ROOT} one-off\n"


# --- The entrypoint, end to end on PostgreSQL ---


@pytest.fixture
def throwaway_postgres(tmp_path: Path) -> Iterator[Database]:
    if _PG_UNAVAILABLE:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {_PG_UNAVAILABLE}")
        pytest.skip(_PG_UNAVAILABLE)
    factory = DatabaseFactory("postgresql", tmp_path)
    try:
        yield factory.create()
    finally:
        factory.drop_all()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except FileNotFoundError:
        return True


def test_entrypoint_serves_like_the_container(throwaway_postgres: Database, tmp_path: Path) -> None:
    env = api_environment(dotenv(ROOT / ".env.example"))
    port = free_port()
    # The container's, except where this host differs: its database, loopback and a free port.
    env |= {"DATABASE_URL": throwaway_postgres.url, "HOST": "127.0.0.1", "PORT": str(port)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    assert not (ROOT / env["ARTICLES_DIR"]).exists(), "the container has no articles"
    entrypoint = json.loads(dict(runtime_image())["ENTRYPOINT"])
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "entrypoint.log"
    with log.open("w") as out:
        # A session of its own, so that a failed test can stop everything it started.
        process = subprocess.Popen(
            entrypoint, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 45
        while True:
            assert process.poll() is None, f"entrypoint exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"not ready in 45 s:\n{log.read_text()}"
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        # `exec`: the process we started is the server itself, so SIGTERM reaches it.
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:4] == [b"-m", b"app", b"serve"]
        events = httpx.get(f"{base}/api/v1/events", params={"limit": 200}, timeout=5).json()
        assert sorted(e["id"] for e in events["items"]) == sorted(
            e.id for e in read_dataset(SEED_DIR).events
        )
        assert events["total"] == len(events["items"])
        health = subprocess.run(healthcheck_command(), env=env, check=False)
        assert health.returncode == 0
        workers = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        # One worker re-raises SIGTERM after shutting down; a supervisor of several exits 0.
        assert process.wait(timeout=25) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text()
    assert "quotes and checksums were not verified" in output
    assert output.count("Application shutdown complete.") == int(env["WORKERS"])
    deadline = time.monotonic() + 5
    while not all(map(_gone, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(map(_gone, workers)), f"workers left behind: {workers}"
    assert subprocess.run(healthcheck_command(), env=env, check=False).returncode == 1
