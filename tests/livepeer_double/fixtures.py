"""Start the go-livepeer DOUBLES as subprocesses for tests, and stop them afterwards.

    from tests.livepeer_double.fixtures import run_orchestrator, run_trickle_server

    with run_trickle_server() as trickle:          # trickle.url == "http://127.0.0.1:P/ai/trickle/"
        publish_to(trickle.channel_url("demo"))    # channels are auto-created on first POST

    with run_orchestrator(live_runner_config=path, health_interval=0.2) as orch:
        orch.url, orch.cli_url, orch.trickle_url

In async tests use `async with run_orchestrator_async(...)` / `run_trickle_server_async(...)`:
the plain forms block the event loop while the double starts.

Set TRICKLE_SERVER_URL (e.g. http://127.0.0.1:5935/ai/trickle/) to run against an external
trickle server instead, such as go-livepeer's real one started with autocreate on:
`run_trickle_server()` then yields that server and starts nothing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_TRICKLE_ENV = "TRICKLE_SERVER_URL"
_LISTENING = re.compile(r"^listening on (?P<url>http://\S+)(?: cli (?P<cli>http://\S+))?\s*$")


@dataclass(frozen=True)
class TrickleServer:
    url: str  # base URL ending in "/", e.g. http://127.0.0.1:PORT/ai/trickle/
    external: bool = False  # True when TRICKLE_SERVER_URL named it
    output: DoubleOutput | None = None  # None for an external server

    def channel_url(self, channel: str) -> str:
        return self.url + channel

    def logs(self) -> str:
        return self.output.text() if self.output else ""


@dataclass(frozen=True)
class Orchestrator:
    url: str  # service address: /discovery, /apps/..., /runner/...
    cli_url: str  # the CLI port: /registerLiveRunners
    trickle_url: str  # the embedded trickle server double, url + "/ai/trickle/"
    output: DoubleOutput

    def logs(self) -> str:
        return self.output.text()


class DoubleOutput:
    """Keeps the last lines a double printed, draining its pipe so it never blocks."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=400)
        self._process = process
        self.listening = threading.Event()
        self.match: re.Match[str] | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line.rstrip("\n"))
            if self.match is None and (match := _LISTENING.match(line)):
                self.match = match
                self.listening.set()
        self.listening.set()  # the process ended: stop waiting

    def text(self) -> str:
        return "\n".join(self._lines)

    def wait_for_end(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


@contextlib.contextmanager
def _double_process(module: str, args: list[str], timeout: float) -> Iterator[DoubleOutput]:
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.livepeer_double.{module}", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output = DoubleOutput(process)
    try:
        output.listening.wait(timeout)
        if output.match is None:
            code = process.poll()
            state = "still runs" if code is None else f"exited with {code}"
            raise RuntimeError(
                f"the {module} double printed no 'listening on' line within {timeout}s "
                f"(process {state}); its output:\n{output.text()}"
            )
        yield output
    finally:
        end_process(process, grace_s=5)
        output.wait_for_end()  # so logs() holds everything the double printed


def end_process(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace_s` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def run_trickle_server(
    *,
    autocreate: bool = True,
    base_path: str = "/ai/trickle/",
    extra_args: list[str] | None = None,
    timeout: float = 20.0,
) -> Iterator[TrickleServer]:
    """Yield a running trickle server: $TRICKLE_SERVER_URL if set, else the double.

    An external server is assumed to autocreate channels, so `autocreate=False` always starts
    the double.
    """
    external = os.environ.get(EXTERNAL_TRICKLE_ENV)
    if external and autocreate:
        yield TrickleServer(
            url=external if external.endswith("/") else external + "/", external=True
        )
        return
    args = ["--host", "127.0.0.1", "--port", "0", "--base-path", base_path]
    if autocreate:
        args.append("--autocreate")
    with _double_process("trickle_server", args + (extra_args or []), timeout) as output:
        assert output.match is not None
        yield TrickleServer(url=output.match["url"], output=output)


@contextlib.contextmanager
def run_orchestrator(
    *,
    live_runner_config: str | os.PathLike[str] | list[dict] | dict | None = None,
    health_interval: float = 0.2,
    service_addr: str | None = None,
    live_runner_addr: str | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 20.0,
    config_dir: str | os.PathLike[str] | None = None,
) -> Iterator[Orchestrator]:
    """Yield a running orchestrator double.

    `live_runner_config` is a file path, a whole `{"runners": [...]}` document, or just the list
    of runner entries; documents and lists are written to a temporary file first.
    """
    args = ["--host", "127.0.0.1", "--port", "0", "--cli-port", "0"]
    args += ["--health-interval", str(health_interval)]
    if service_addr:
        args += ["--service-addr", service_addr]
    if live_runner_addr:
        args += ["--live-runner-addr", live_runner_addr]
    with contextlib.ExitStack() as stack:
        if isinstance(live_runner_config, (list, dict)):
            document = live_runner_config
            if isinstance(document, list):
                document = {"runners": document}
            folder = config_dir or stack.enter_context(tempfile.TemporaryDirectory())
            path = Path(folder) / "live-runners.json"
            path.write_text(json.dumps(document))
            live_runner_config = path
        if live_runner_config is not None:
            args += ["--live-runner-config", os.fspath(live_runner_config)]
        output = stack.enter_context(
            _double_process("orchestrator", args + (extra_args or []), timeout)
        )
        assert output.match is not None and output.match["cli"]
        url = output.match["url"]
        yield Orchestrator(
            url=url, cli_url=output.match["cli"], trickle_url=url + "/ai/trickle/", output=output
        )


@contextlib.asynccontextmanager
async def _off_the_loop(manager: contextlib.AbstractContextManager):
    # Starting a double blocks until it prints its "listening" line; a test whose own event
    # loop serves something the double calls at start (a runner's health_url) must not block.
    value = await asyncio.to_thread(manager.__enter__)
    try:
        yield value
    except BaseException as error:
        if not await asyncio.to_thread(manager.__exit__, type(error), error, error.__traceback__):
            raise
    else:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def run_trickle_server_async(**options) -> contextlib.AbstractAsyncContextManager[TrickleServer]:
    """`async with` form of run_trickle_server(), which keeps the event loop running."""
    return _off_the_loop(run_trickle_server(**options))


def run_orchestrator_async(**options) -> contextlib.AbstractAsyncContextManager[Orchestrator]:
    """`async with` form of run_orchestrator(), which keeps the event loop running."""
    return _off_the_loop(run_orchestrator(**options))
