"""HTTP load: servers pinned to core 0, wrk pinned to core 1, results parsed from wrk's Lua."""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
SERVER_CORE, WRK_CORE = "0", "1"
NICE = 0  # set by `--nice`: a negative value gives the bench priority on a shared machine


def pinned(core: str, command: Sequence[str]) -> list[str]:
    """The command pinned to a core, with the configured niceness."""
    prefix = ["nice", "-n", str(NICE)] if NICE else []
    return [*prefix, "taskset", "-c", core, *command]


def start(command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start a (pinned) command in a session of its own, whose scheduling group gets the
    configured niceness too: with the kernel's autogroups on (the default), a process's own
    niceness only ranks it within its session, so `--nice` alone would not lift the bench
    above other sessions' work (e.g. other users' tests)."""
    process = subprocess.Popen(command, start_new_session=True, **popen)
    if NICE:
        with suppress(OSError):  # no autogroups, or not allowed: the plain niceness holds
            Path(f"/proc/{process.pid}/autogroup").write_text(str(NICE))
    return process


@dataclass
class WrkResult:
    label: str
    connections: int
    requests: int
    sent: int  # requests written (wrk's script also builds one untimed probe request)
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    # Mean response size: the mix's pages fill up as the dataset grows.
    bytes_per_answer: float = 0.0
    server_cores: float = 0.0  # CPU the server used, in cores (1.0 = its core fully busy)
    server_cpu_seconds: float = 0.0  # the same, as CPU seconds over the run
    other_cores: float = 0.0  # CPU used by every other process but wrk (PostgreSQL included)

    @property
    def error_count(self) -> int:
        """Socket errors and non-2xx/3xx answers; timeouts are counted apart."""
        return sum(n for kind, n in self.errors.items() if kind != "timeout")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak) of the server process, in KiB."""
        found = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y wrk util-linux")


@contextmanager
def serve(
    command: Sequence[str],
    env: dict[str, str],
    port: int,
    log: Path,
    ready_path: str,
    *,
    cwd: Path = PROJECT_ROOT,
) -> Iterator[Server]:
    """Start a server pinned to the server core, wait until it answers, stop it afterwards.

    `cwd` is the source tree it runs from (`python -m app` imports the `app` found there)."""
    with log.open("ab") as out:
        process = start(
            pinned(SERVER_CORE, command),
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=out,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(server.base + ready_path, timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer within 120 s; see {log}")
            time.sleep(0.3)
        yield server
    finally:
        # Abandoned requests keep running after wrk stops; no need to let them finish.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def warm_up(server: Server, paths: Sequence[str], seconds: float, *, strict: bool = True) -> int:
    """Sequential requests through the paths until `seconds` pass: nothing left in flight.

    A failed answer stops the run when `strict`; otherwise (a server we only compare with,
    whose own limits may refuse a slow query) it is counted, as wrk counts it after."""
    deadline = time.monotonic() + seconds
    done = 0
    with httpx.Client(base_url=server.base, timeout=120) as client:
        while time.monotonic() < deadline:
            response = client.get(paths[done % len(paths)])
            if strict:
                response.raise_for_status()
            done += 1
    return done


def app_env(database_url: str, *, cached: bool = True) -> dict[str, str]:
    """The API's environment for a run: one worker on the dataset, no seeding; `cached=False`
    turns the response cache off (the cold mix)."""
    env = {"DATABASE_URL": database_url, "AUTO_SEED": "0", "WORKERS": "1"}
    return env if cached else env | {"RESPONSE_CACHE_ENTRIES": "0"}


def app_command(port: int) -> list[str]:
    """The API as operators run it: `python -m app serve`, one worker."""
    return [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]


def ceiling_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.ceiling:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time all cores spent busy since boot (user, nice, system, irq, softirq, steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _process_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    server: Server, paths: Sequence[str], connections: int, seconds: float, label: str
) -> WrkResult:
    """One wrk run cycling through `paths`; latency percentiles come from the Lua `done`."""
    paths_file = server.log.with_suffix(".paths")
    paths_file.write_text("\n".join(paths) + "\n")
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "2s",
        "-s",
        str(BENCH_DIR / "mix.lua"),
        server.base,
        "--",
        str(paths_file),
    ]
    before = (_busy_seconds(), _process_seconds(server.process.pid), _children_seconds())
    started = time.monotonic()
    wrk = start(pinned(WRK_CORE, command), stdout=subprocess.PIPE)
    try:
        stdout = wrk.communicate()[0].decode()
    except BaseException:  # interrupted: its own session does not get the terminal's signal
        wrk.kill()
        raise
    wall = time.monotonic() - started
    if wrk.returncode:
        raise subprocess.CalledProcessError(wrk.returncode, command, stdout)
    server_cpu = _process_seconds(server.process.pid) - before[1]
    wrk_cpu = _children_seconds() - before[2]
    other_cpu = _busy_seconds() - before[0] - server_cpu - wrk_cpu
    with server.log.with_suffix(".wrk.txt").open("a") as out:
        out.write(f"# {label}, {connections} connections\n{stdout}\n")
    line = next(x for x in stdout.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = data["duration_us"] / 1e6
    return WrkResult(
        label=label,
        connections=connections,
        requests=data["requests"],
        sent=data["sent"],
        seconds=round(elapsed, 2),
        rps=round(data["requests"] / elapsed, 1),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
        bytes_per_answer=data["bytes"] / max(data["requests"], 1),
        server_cores=round(server_cpu / wall, 2),
        server_cpu_seconds=round(server_cpu, 2),
        other_cores=round(max(other_cpu, 0.0) / wall, 2),
    )
