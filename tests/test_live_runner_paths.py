"""Generated projects on go-livepeer's live runner, end to end through the doubles.

A live project serves `--live-runner`; a batch project serves as it always does. Each registers
with the orchestrator double from its own `integration/runners.json`, as an operator would with
`-liveRunnerConfig`. The live client publishes real H.264 into the session; the ai-runner double
decodes it, drives the pipeline, and encodes what comes back over the trickle server double.
"""

import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from .livepeer_double.fixtures import end_process, run_orchestrator
from .ownership import package_of
from .projects import installed, project_env, run_in
from .rendering import render

LIVE_NAME = "stream-fx"
BATCH_NAME = "batch-fx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(project: Path, *arguments: str, log: Path, **env: str):
    """The project's own command, serving on a free loopback port."""
    port = free_port()
    environment = project_env(project) | {"HOST": "127.0.0.1", "PORT": str(port)} | env
    command = [sys.executable, "-m", f"{package_of(project)}.main", *arguments]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=project, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            end_process(process, grace_s=20)


def registered(project: Path, runner_url: str, folder: Path, **changes) -> Path:
    """The project's runners.json, pointed at where the runner listens (the operator's edit)."""
    document = json.loads((project / "integration" / "runners.json").read_text())
    document["runners"][0] |= {"runner_url": runner_url, **changes}
    path = folder / "runners.json"
    path.write_text(json.dumps(document))
    return path


def wait_until_discovered(orchestrator, label: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            runner
            for entry in httpx.get(f"{orchestrator.url}/discovery", timeout=5).json() or []
            for runner in entry.get("runners") or []
            if f"/apps/{label}/" in runner["url"]
        ]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"{label} never became ready:\n{orchestrator.logs()[-3000:]}")


def prepared(project: Path) -> Path:
    done = run_in(project, sys.executable, "-m", f"{package_of(project)}.main", "--prepare-models")
    assert done.returncode == 0, done.stderr[-3000:]
    return project


# ---------------------------------------------------------------- live: persistent sessions


@pytest.fixture(scope="module")
def live_project(template, tmp_path_factory):
    project = render(template, tmp_path_factory.mktemp("live") / "project", pipeline_name=LIVE_NAME)
    with installed(project):
        yield prepared(project)


@pytest.fixture(scope="module")
def live_runner(live_project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("live-runner")
    log = folder / "runner.log"
    with (
        run_orchestrator(health_interval=0.2, extra_args=["--log-session-tokens"]) as orchestrator,
        serving(
            live_project, "--live-runner", log=log, LIVE_RUNNER_ORCHESTRATORS=orchestrator.url
        ) as url,
    ):
        # capacity 2 is a misconfiguration on purpose: the runner itself refuses a second stream
        config = registered(live_project, url, folder, capacity=2)
        upserted = httpx.post(
            f"{orchestrator.cli_url}/registerLiveRunners",
            content=config.read_bytes(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert upserted.status_code == 200, upserted.text
        wait_until_discovered(orchestrator, LIVE_NAME)
        yield {"url": url, "orchestrator": orchestrator, "log": log}


def saturation(frame: np.ndarray) -> float:
    """How colourful a frame is: 0 for grey, up to 255."""
    rgb = frame.astype(np.int16)
    return float((rgb.max(axis=2) - rgb.min(axis=2)).mean())


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_a_video_streams_through_a_session_and_a_params_change_shows(live_project, live_runner):
    output = live_project.parent / "out.mp4"
    noir = {"style": "noir", "strength": 1.0}
    done = run_in(
        live_project, f"{LIVE_NAME}-session", "--sample", str(output),
        "--orchestrator", live_runner["orchestrator"].url, "--runner", LIVE_NAME,
        "--params", json.dumps(noir),
        "--params-at", "3=" + json.dumps(noir | {"strength": 0.0}),
        "--max-seconds", "6", "--width", "384", "--height", "384", "--json",
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    frames = decoded_frames(output)
    assert len(frames) == summary["frames_received"] > 24, summary
    assert frames[0].shape == (384, 384, 3)
    # noir at full strength is grey; strength 0 passes the colour bars through
    early, late = saturation(frames[5]), saturation(frames[-3])
    assert early < 12 < 60 < late, (early, late)


def test_the_runner_refuses_calls_that_do_not_come_through_an_orchestrator(live_runner):
    response = httpx.post(f"{live_runner['url']}/stream/start", json={}, timeout=10)
    assert response.status_code == 400
    assert "orchestrator" in response.json()["detail"]
    assert httpx.get(f"{live_runner['url']}/ready", timeout=10).status_code == 200
    forged = {
        "Livepeer-Session-Id": "forged",
        "Livepeer-Session-Token": "forged",
        "Livepeer-Session-Control": "http://elsewhere.invalid/runner/x/session/forged",
    }
    response = httpx.post(f"{live_runner['url']}/stream/start", json={}, headers=forged, timeout=10)
    assert response.status_code == 403, "callbacks only to LIVE_RUNNER_ORCHESTRATORS"


def reserve(orchestrator, label: str) -> dict:
    # as a client would: reserve once discovery lists the runner (a runner whose pipeline
    # restarted after an error is hidden until /ready answers 200 again)
    wait_until_discovered(orchestrator, label)
    response = httpx.post(f"{orchestrator.url}/apps/{label}/session", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def start_stream(session: dict, params: dict | None = None) -> httpx.Response:
    """POST /stream/start, retried while the runner answers 503 (its pipeline restarting after
    the previous session, say), as the project's client does."""
    deadline = time.monotonic() + 120
    while True:
        response = httpx.post(
            f"{session['app_url']}/stream/start", json={"params": params or {}}, timeout=60
        )
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def stop(session: dict) -> None:
    httpx.post(f"{session['control_url']}/stop", timeout=10)


def test_a_second_session_gets_a_clear_409_and_bad_params_a_422(live_runner):
    orchestrator = live_runner["orchestrator"]
    first, second = reserve(orchestrator, LIVE_NAME), reserve(orchestrator, LIVE_NAME)
    try:
        bad = httpx.post(
            f"{first['app_url']}/stream/start", json={"params": {"strength": 7}}, timeout=30
        )
        assert bad.status_code == 422, bad.text
        assert "strength" in bad.text
        started = start_stream(first)
        assert started.status_code == 200, started.text
        assert set(started.json()["channels"]) == {"in", "out", "control", "events"}
        refused = httpx.post(f"{second['app_url']}/stream/start", json={}, timeout=30)
        assert refused.status_code == 409, refused.text
        assert "capacity 1" in refused.json()["detail"]
        changed = httpx.post(
            f"{first['app_url']}/stream/params", json={"strength": 0.25}, timeout=30
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["params"]["strength"] == 0.25
        resized = httpx.post(f"{first['app_url']}/stream/params", json={"width": 640}, timeout=30)
        assert resized.status_code == 422 and "mid-stream" in resized.text, resized.text
    finally:
        stop(first)
        stop(second)


def one_session(orchestrator) -> dict:
    """Reserve a session, start its stream, stop it: the session."""
    session = reserve(orchestrator, LIVE_NAME)
    try:
        started = start_stream(session)
        assert started.status_code == 200, started.text
    finally:
        stop(session)
    return session


def test_a_released_session_frees_the_runner_for_the_next(live_runner):
    for _ in range(2):
        one_session(live_runner["orchestrator"])


def test_the_runner_never_logs_a_session_token(live_runner):
    orchestrator = live_runner["orchestrator"]
    session = one_session(orchestrator)
    time.sleep(1)
    log = live_runner["log"].read_text()
    assert session["session_id"] in log, "the session is logged by its id"
    tokens = orchestrator_tokens(orchestrator)
    assert tokens, "the orchestrator double names the tokens it issued"
    for token in tokens:
        assert token not in log
    # httpx would log each callback's URL, channel names (secrets) included
    assert "HTTP Request:" not in log


def orchestrator_tokens(orchestrator) -> list[str]:
    """The double prints the tokens it issues when asked to (a real orchestrator does not)."""
    marker = "issued session token "
    return [
        line.split(marker, 1)[1].split()[0]
        for line in orchestrator.logs().splitlines()
        if marker in line
    ]


# ---------------------------------------------------------------- batch: single-shot requests


@pytest.fixture(scope="module")
def batch_project(template, tmp_path_factory):
    project = render(
        template,
        tmp_path_factory.mktemp("batch") / "project",
        pipeline_name=BATCH_NAME,
        pipeline_kind="batch",
    )
    with installed(project):
        yield project


def png_of(width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (width, height), (200, 60, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_batch_runner_answers_through_the_orchestrators_proxy(batch_project, tmp_path):
    prepared(batch_project)
    with serving(batch_project, log=tmp_path / "runner.log") as url:
        config = registered(batch_project, url, tmp_path)
        with run_orchestrator(live_runner_config=config, health_interval=0.2) as orchestrator:
            runner = wait_until_discovered(orchestrator, BATCH_NAME)
            assert runner["mode"] == "single-shot" and runner["url"].endswith("/app")
            response = httpx.post(
                f"{orchestrator.url}/apps/{BATCH_NAME}/app/stylize-image",
                files={"image": ("in.png", png_of(96, 64), "image/png")},
                data={"style": "noir", "strength": "1.0"},
                timeout=120,
            )
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(response.content)).size == (96, 64)


def test_a_batch_runner_without_weights_is_never_routed_to(batch_project, tmp_path):
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    with serving(batch_project, log=tmp_path / "runner.log", MODEL_DIR=str(empty_models)) as url:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"{url}/ready", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "runner.log").read_text()
                time.sleep(0.2)
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert ready.json()["status"] in {"LOADING", "ERROR"}
        health = httpx.get(f"{url}/health", timeout=5)
        assert health.status_code == 200, "ai-runner's own /health stays 200: why /ready exists"
        config = registered(batch_project, url, tmp_path)
        with run_orchestrator(live_runner_config=config, health_interval=0.2) as orchestrator:
            time.sleep(1.0)  # five health checks
            discovered = httpx.get(f"{orchestrator.url}/discovery", timeout=5).json() or []
            assert not [runner for entry in discovered for runner in entry.get("runners") or []]
            refused = httpx.post(
                f"{orchestrator.url}/apps/{BATCH_NAME}/app/stylize-image", timeout=10
            )
            assert refused.status_code in {404, 503}, refused.text
