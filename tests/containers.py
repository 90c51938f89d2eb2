"""Podman and podman-compose, as the container proof in tests/test_container.py drives them.

The engine comes from ../shared/tools/container-engine.sh. Everything a proof starts is
named after one run id (compose projects, images), and `Stack.remove` deletes it by that
name, so a failed test leaves nothing behind and never touches anyone else's containers.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[1]
ENGINE_SCRIPT = ROOT.parent / "shared" / "tools" / "container-engine.sh"
ARTIFACTS = ROOT / "tests" / "artifacts" / "container-proof"


def engine_unavailable() -> str | None:
    """Why the engine cannot be set up here, or None when it can."""
    if os.geteuid() != 0:
        return "the container proof needs root: container-engine.sh installs Podman"
    if not ENGINE_SCRIPT.is_file():
        return f"{ENGINE_SCRIPT} not found: no container engine to prove the image on"
    return None


@dataclass
class Engine:
    """Podman with the environment container-engine.sh's env.sh sets up."""

    env: dict[str, str]

    def run(
        self, *args: str, cwd: Path = ROOT, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            args, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"{shlex.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def podman(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        return self.run("podman", *args, timeout=timeout, check=check).stdout

    def exists(self, kind: str, name: str) -> bool:
        return self.run("podman", kind, "exists", name, check=False).returncode == 0

    def image_size(self, image: str) -> int:
        return int(self.podman("image", "inspect", image, "--format", "{{.Size}}"))


@contextmanager
def engine(log: Path) -> Iterator[Engine]:
    """Run container-engine.sh, start the healthcheck runner, stop the runner afterwards."""
    with log.open("w") as out:
        subprocess.run(
            ["bash", str(ENGINE_SCRIPT), str(ROOT)], stdout=out, stderr=subprocess.STDOUT,
            timeout=900, check=True,
        )  # fmt: skip
    # The script's default home, unless CTR_HOME says otherwise.
    ctr_home = os.environ.get("CTR_HOME", "/tmp/ctr")  # noqa: S108
    sourced = subprocess.run(
        ["bash", "-c", f'. "{ctr_home}/env.sh" && env -0'],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    env = dict(item.split("=", 1) for item in sourced.stdout.split("\0") if "=" in item)
    # Podman here has no systemd to run healthchecks: this runs them at their interval.
    runner = subprocess.Popen(
        [f"{ctr_home}/bin/podman-healthcheck-runner"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield Engine(env)
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=10)


@dataclass
class Stack:
    """One podman-compose project, run from `workdir` with `files` (the last: the test's own)."""

    engine: Engine
    project: str
    workdir: Path
    files: list[str]
    started: float = field(default=0.0)

    def compose_argv(self, *args: str, files: list[str] | None = None) -> list[str]:
        argv = ["podman-compose", "-p", self.project]
        for name in files or self.files:
            argv += ["-f", name]
        return [*argv, *args]

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        result = self.engine.run(
            *self.compose_argv(*args), cwd=self.workdir, timeout=timeout, check=check
        )
        return result.stdout

    def container(self, service: str, number: int = 1) -> str:
        return f"{self.project}_{service}_{number}"

    def containers(self) -> list[str]:
        names = self.engine.podman(
            "ps", "-a", "--filter", f"label=io.podman.compose.project={self.project}",
            "--format", "{{.Names}}",
        )  # fmt: skip
        return names.split()

    def health(self, name: str) -> dict[str, object]:
        state: dict[str, object] = json.loads(
            self.engine.podman("inspect", name, "--format", "{{json .State.Health}}")
        )
        return state

    def wait_healthy(self, names: list[str], timeout: float) -> float:
        """Seconds from `started` until every one of `names` reports healthy."""
        deadline = time.monotonic() + timeout
        while True:
            states = {name: self.health(name).get("Status") for name in names}
            if set(states.values()) == {"healthy"}:
                return time.monotonic() - self.started
            if time.monotonic() > deadline:
                raise AssertionError(f"not healthy in {timeout} s: {states}\n{self.all_logs()}")
            time.sleep(0.5)

    def logs(self, name: str, *options: str) -> str:
        result = self.engine.run("podman", "logs", *options, name, check=False)
        return result.stdout + result.stderr

    def all_logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.logs(name)[-3000:]}" for name in self.containers())

    def ip(self, name: str) -> str:
        return self.engine.podman(
            "inspect", name, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        ).strip()

    def psql(self, sql: str) -> list[list[str]]:
        """Rows of a query run by psql in the postgres container, as the compose user."""
        out = self.engine.podman(
            "exec", self.container("postgres"), "sh", "-c",
            'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -At -F "|" -c "$0"', sql,
        )  # fmt: skip
        return [line.split("|") for line in out.splitlines()]

    def remove(self) -> None:
        """Take down everything of this project, by its name, whatever state it is in."""
        self.compose("down", "-v", "-t", "5", timeout=120, check=False)
        label = f"label=io.podman.compose.project={self.project}"
        for name in self.containers():
            self.engine.run("podman", "rm", "-f", "-v", "-t", "0", name, check=False)
        if self.engine.exists("pod", f"pod_{self.project}"):
            self.engine.run("podman", "pod", "rm", "-f", f"pod_{self.project}", check=False)
        volumes = self.engine.podman("volume", "ls", "-q", "--filter", label).split()
        networks = self.engine.podman("network", "ls", "-q", "--filter", label).split()
        for volume in volumes:
            self.engine.run("podman", "volume", "rm", "-f", volume, check=False)
        for network in networks:
            self.engine.run("podman", "network", "rm", "-f", network, check=False)

    def leftovers(self) -> list[str]:
        label = f"label=io.podman.compose.project={self.project}"
        found = [f"container {name}" for name in self.containers()]
        for kind in ("volume", "network"):
            listed = self.engine.podman(kind, "ls", "-q", "--filter", label).split()
            found += [f"{kind} {name}" for name in listed]
        if self.engine.exists("pod", f"pod_{self.project}"):
            found.append(f"pod pod_{self.project}")
        return found


# --- The project, as the proof runs it ---


def latest_revision() -> str:
    """The head of the migrations, read from the migration files themselves."""
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    assert head
    return head


def copy_of_the_project(target: Path) -> Path:
    """The project's files as git sees them (tracked or new, never ignored ones such as .env),
    so that the quick start's `cp .env.example .env` does not touch the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def override(path: Path, services: dict[str, dict[str, Any]]) -> str:
    """A test-only compose override; `ports` replace (`!override`) the project's own."""
    lines = ["services:"]
    for service, settings in services.items():
        lines.append(f"  {service}:")
        for key, value in settings.items():
            tag = " !override" if key == "ports" else ""
            lines.append(f"    {key}:{tag} {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# --- docs/deploy.md's commands ---


def shell_block(markdown: str, heading: str) -> list[str]:
    """The lines of the first ```sh block under `## heading`."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"no sh block under '## {heading}'"
    return match[1].splitlines()


def commands(lines: list[str]) -> list[tuple[str, str]]:
    """(command, the comment after it) for each line that is not blank or a comment."""
    found = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command, _, comment = line.partition(" #")
        found.append((command.strip(), comment.strip()))
    return found


def as_podman(command: str, stack: Stack, port: int) -> list[str]:
    """A documented `docker compose …` or `curl …` command, as it runs on this engine.

    Compose commands get the stack's project name and its test-only override after the
    files the command names; curl goes to the stack's published port instead of 8000.
    """
    words = shlex.split(command)
    if words[:2] == ["docker", "compose"]:
        rest, files = words[2:], []
        while rest[:1] == ["-f"]:
            files.append(rest[1])
            rest = rest[2:]
        files = [*(files or ["docker-compose.yml"]), stack.files[-1]]
        return stack.compose_argv(*rest, files=files)
    if words[0] == "curl":
        return [w.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for w in words]
    assert words[0] == "cp", f"no translation for: {command}"
    return words
