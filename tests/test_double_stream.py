"""Streams real H.264 over trickle through the ai-runner offline double.

A synthetic clip is encoded with PyAV into MPEG-TS segments and published, paced in real
time, to an input channel of the go-livepeer trickle server DOUBLE; the ai-runner double is
started on it like go-livepeer starts a stream; the output and events channels are read
back and decoded. The pipelines under test are written to a temporary folder: a params
module (torch-free, for the params guard) and a pipeline that inverts colours by `strength`.

Everything runs on the CPU; the file takes well under a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import aiohttp
import av
import numpy as np
import pytest
import runner

from tests.livepeer_double.fixtures import run_trickle_server

FPS = 20
SIZE = 512
TIME_BASE = Fraction(1, 90_000)
PTS_STEP = 90_000 // FPS
STREAM_TIMEOUT_S = 30
IDLE_TIMEOUT_S = 15
INITIAL_PARAMS = {"gain": 1.0}
AUTH = {"Authorization": "Bearer secret"}
# The double's status events come every 10 s like upstream's, unless this says otherwise.
STATUS_VARIABLE = "AI_RUNNER_DOUBLE_STATUS_INTERVAL_S"

PARAMS_MODULE = """
from pydantic import Field

from runner.live.pipelines import BaseParams


class InvertParams(BaseParams):
    strength: float = Field(0.0, ge=0.0, le=1.0)
    gain: float = 1.0
    foreign_even_frames: bool = False
    fail_every: int = Field(0, ge=0)
    reload_s: float = Field(0.0, ge=0.0, le=5.0)
    reload_fails: bool = False
"""

PIPELINE_MODULE = """
import asyncio
import json
import os

from runner.live.pipelines import Pipeline
from runner.live.trickle import VideoOutput

FPS = 20


def record(event, **details):
    with open(os.environ["DOUBLE_STREAM_RECORD"], "a") as record_file:
        record_file.write(json.dumps({"event": event, **details}) + "\\n")


class InvertPipeline(Pipeline):
    def __init__(self):
        super().__init__()
        self.pending = asyncio.Queue()
        self.settings = {}
        self.frames_in = 0

    async def initialize(self, **params):
        record("initialize", params=params)
        self.settings = params

    async def put_video_frame(self, frame, request_id):
        self.frames_in += 1
        fail_every = self.settings.get("fail_every", 0)
        if fail_every and self.frames_in % fail_every == 0:
            raise RuntimeError(f"test failure on frame {self.frames_in}")
        index = round(float(frame.timestamp * frame.time_base) * FPS)
        if self.settings.get("foreign_even_frames") and index % 2 == 0:
            request_id = "someone-else"
        await self.pending.put(VideoOutput(frame, request_id))

    async def get_processed_video_frame(self):
        output = await self.pending.get()
        strength = self.settings.get("strength", 0.0)
        gain = self.settings.get("gain", 1.0)
        tensor = output.tensor
        return output.replace_tensor((tensor * (1 - strength) + (1 - tensor) * strength) * gain)

    async def update_params(self, **params):
        record("update_params", params=params)
        self.settings = params
        if params.get("reload_s"):
            return asyncio.create_task(asyncio.sleep(params["reload_s"]))
        if params.get("reload_fails"):
            return asyncio.create_task(self.fail_to_reload())
        return None

    async def fail_to_reload(self):
        await asyncio.sleep(0.1)
        raise RuntimeError("the new weights are corrupt")

    async def stop(self):
        record("stop")

    @classmethod
    def prepare_models(cls):
        pass
"""


# --- the input clip -------------------------------------------------------------------

QUADRANTS = ((200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40))


def input_image(index: int, width: int = SIZE, height: int = SIZE) -> np.ndarray:
    """Four coloured quadrants and a white bar that moves 8 px per frame: (H, W, 3) uint8."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    half_h, half_w = height // 2, width // 2
    image[:half_h, :half_w] = QUADRANTS[0]
    image[:half_h, half_w:] = QUADRANTS[1]
    image[half_h:, :half_w] = QUADRANTS[2]
    image[half_h:, half_w:] = QUADRANTS[3]
    left = (index * 8) % (width - 16)
    image[:, left : left + 16] = 255
    return image


@dataclass
class EncodedClip:
    """The clip as its publisher would send it: per segment, (frame index, bytes) chunks."""

    segments: list[list[tuple[int, bytes]]] = field(default_factory=list)
    frame_count: int = 0
    fps: int = FPS

    @property
    def pts(self) -> list[int]:
        return [index * PTS_STEP for index in range(self.frame_count)]


class _RecordingSink:
    def __init__(self, clip: EncodedClip, position: list[int]):
        self._chunks: list[tuple[int, bytes]] = []
        self._position = position
        clip.segments.append(self._chunks)

    def write(self, data) -> int:
        self._chunks.append((self._position[0], bytes(data)))
        return len(data)

    def close(self) -> None:
        pass


def encode_clip(
    frame_count: int, fps: int = FPS, width: int = SIZE, height: int = SIZE, gop_s: int = 1
) -> EncodedClip:
    """H.264 in MPEG-TS, one segment per `gop_s` (a keyframe each), pts from 0."""
    clip = EncodedClip(frame_count=frame_count, fps=fps)
    position = [0]
    container = av.open(
        "%d.ts",
        format="segment",
        mode="w",
        io_open=lambda url, flags, options: _RecordingSink(clip, position),
        options={"segment_time": str(gop_s)},
    )
    stream = container.add_stream(
        "libx264",
        options={
            "video_size": f"{width}x{height}",
            "g": str(fps * gop_s),
            "bf": "0",
            "preset": "ultrafast",
            "tune": "zerolatency",
        },
    )
    stream.time_base = TIME_BASE
    stream.codec_context.time_base = TIME_BASE
    for index in range(frame_count):
        position[0] = index
        frame = av.VideoFrame.from_ndarray(input_image(index, width, height), format="rgb24")
        frame.pts = index * (90_000 // fps)
        frame.time_base = TIME_BASE
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    clip.segments = [chunks for chunks in clip.segments if chunks]
    return clip


# --- trickle clients (plain aiohttp, independent of the double's own) -------------------


async def create_channels(session: aiohttp.ClientSession, base_url: str) -> dict[str, str]:
    """The four channels of a stream, created up front as go-livepeer does."""
    prefix = uuid.uuid4().hex[:8]
    urls = {}
    for role in ("in", "out", "control", "events"):
        url = f"{base_url}{prefix}-{role}"
        async with session.post(url) as response:
            assert response.status == 200, await response.text()
        urls[role] = url
    return urls


async def delete_channel(session: aiohttp.ClientSession, url: str) -> None:
    async with session.delete(url) as response:
        await response.read()


async def post_segment(session: aiohttp.ClientSession, url: str, body: bytes) -> None:
    async with session.post(url, data=body) as response:
        assert response.status == 200, await response.text()


async def publish_clip(
    session: aiohttp.ClientSession,
    url: str,
    clip: EncodedClip,
    on_frame: Callable[[int], object] | None = None,
) -> None:
    """POST each segment while 'recording' it: each frame's bytes go out at its wall time."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    announced = -1
    for seq, chunks in enumerate(clip.segments):
        body: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def stream_body(body=body):
            while (chunk := await body.get()) is not None:
                yield chunk

        post = asyncio.create_task(session.post(f"{url}/{seq}", data=stream_body()))
        for index, chunk in chunks:
            while announced < index:
                announced += 1
                await asyncio.sleep(max(0.0, started + announced / clip.fps - loop.time()))
                if on_frame is not None:
                    result = on_frame(announced)
                    if asyncio.iscoroutine(result):
                        await result
            body.put_nowait(chunk)
        body.put_nowait(None)
        response = await post
        assert response.status == 200, await response.text()
        response.release()


async def read_channel(session: aiohttp.ClientSession, url: str) -> list[bytes]:
    """Every non-empty segment of a channel from seq 0, until it is closed or deleted."""
    segments: list[bytes] = []
    seq = 0
    while True:
        async with session.get(f"{url}/{seq}") as response:
            if response.status == 404:
                return segments
            if response.status == 470:
                seq = int(response.headers["Lp-Trickle-Latest"])
                continue
            assert response.status == 200, await response.text()
            if "Lp-Trickle-Closed" in response.headers:
                return segments
            body = await response.read()
            if body:
                segments.append(body)
            seq = int(response.headers.get("Lp-Trickle-Seq", seq)) + 1


@dataclass
class DecodedFrame:
    pts: int
    image: np.ndarray
    key_frame: bool


def decode_segments(segments: list[bytes]) -> list[DecodedFrame]:
    if not segments:
        return []
    frames = []
    with av.open(io.BytesIO(b"".join(segments))) as container:
        for frame in container.decode(video=0):
            frames.append(
                DecodedFrame(frame.pts, frame.to_ndarray(format="rgb24"), frame.key_frame)
            )
    return frames


def events_of(segments: list[bytes]) -> list[dict]:
    return [json.loads(segment) for segment in segments]


# --- checks -----------------------------------------------------------------------------


def index_of(pts: int) -> int:
    return round(pts / PTS_STEP)


def mean_error(image: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(image.astype(np.int16) - expected.astype(np.int16)).mean())


def looks_like(frame: DecodedFrame, expected: np.ndarray) -> bool:
    return mean_error(frame.image, expected) < 6.0


def inverted(image: np.ndarray) -> np.ndarray:
    return 255 - image


def health_of(live) -> str:
    # The real ai-runner raises for a second or so while its infer process starts.
    try:
        return live.get_health().status
    except ConnectionError:
        return "UNAVAILABLE"


async def wait_for_health(live, wanted: str, within_s: float = IDLE_TIMEOUT_S) -> str:
    deadline = time.monotonic() + within_s
    status = health_of(live)
    while status != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        status = health_of(live)
    return status


def read_records(path) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as records:
        return [json.loads(line) for line in records]


# --- one stream, end to end ---------------------------------------------------------------


@dataclass
class StreamRun:
    urls: dict[str, str]
    output: list[bytes]
    events: list[dict]
    health: list[tuple[int, str]]  # (input frame index, health) while publishing

    @property
    def frames(self) -> list[DecodedFrame]:
        return decode_segments(self.output)

    def events_of_type(self, kind: str) -> list[dict]:
        return [e["event"] for e in self.events if e["event"].get("type") == kind]


async def run_stream(
    live,
    trickle_url: str,
    clip: EncodedClip,
    params: dict,
    *,
    controls: dict[int, dict] | None = None,
    request_id: str = "request-1",
    on_frame: Callable[[int], object] | None = None,
) -> StreamRun:
    """Start a stream on fresh channels, publish the clip, end it by closing input and control."""
    controls = controls or {}
    async with aiohttp.ClientSession() as session:
        urls = await create_channels(session, trickle_url)
        output = asyncio.create_task(read_channel(session, urls["out"]))
        events = asyncio.create_task(read_channel(session, urls["events"]))
        health: list[tuple[int, str]] = []
        control_seq = 0

        async def each_frame(index: int) -> None:
            nonlocal control_seq
            health.append((index, health_of(live)))
            if index in controls:
                body = json.dumps(controls[index]).encode()
                await post_segment(session, f"{urls['control']}/{control_seq}", body)
                control_seq += 1
            if on_frame is not None:
                result = on_frame(index)
                if asyncio.iscoroutine(result):
                    await result

        result = await asyncio.to_thread(
            live,
            subscribe_url=urls["in"],
            publish_url=urls["out"],
            control_url=urls["control"],
            events_url=urls["events"],
            params=params,
            request_id=request_id,
            manifest_id="manifest-1",
            stream_id="stream-1",
        )
        assert result == {}
        await publish_clip(session, urls["in"], clip, on_frame=each_frame)
        # There is no stop message: the stream ends when its channels do.
        await delete_channel(session, urls["in"])
        await delete_channel(session, urls["control"])
        segments, event_segments = await asyncio.wait_for(
            asyncio.gather(output, events), STREAM_TIMEOUT_S
        )
    return StreamRun(urls, segments, events_of(event_segments), health)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trickle():
    with run_trickle_server() as server:
        yield server


@pytest.fixture(scope="module")
def record_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream_pipelines")
    (folder / "stream_test_params.py").write_text(textwrap.dedent(PARAMS_MODULE))
    (folder / "stream_test_pipeline.py").write_text(textwrap.dedent(PIPELINE_MODULE))
    record = folder / "record.jsonl"
    saved_path = list(sys.path)
    saved_env = {
        k: os.environ.get(k) for k in ("DOUBLE_STREAM_RECORD", STATUS_VARIABLE, "PYTHONPATH")
    }
    # spawn hands sys.path to the double's pipeline process; the real ai-runner's infer
    # process is a subprocess, which needs PYTHONPATH (so the file also runs against it).
    sys.path.insert(0, str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), saved_env["PYTHONPATH"]]))
    os.environ["DOUBLE_STREAM_RECORD"] = str(record)
    os.environ[STATUS_VARIABLE] = "1"
    yield record
    sys.path[:] = saved_path
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def live(record_path):
    from runner.live.pipelines import PipelineSpec
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    spec = PipelineSpec(
        name="invert",
        pipeline_cls="stream_test_pipeline:InvertPipeline",
        params_cls="stream_test_params:InvertParams",
        initial_params=INITIAL_PARAMS,
    )
    pipeline = LiveVideoToVideoPipeline(spec)
    try:
        deadline = time.monotonic() + 60
        while health_of(pipeline) != "IDLE" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert health_of(pipeline) == "IDLE", getattr(pipeline, "last_error", None)
        yield pipeline
    finally:
        pipeline.stop_process()


@pytest.fixture
async def idle(live):
    """The pipeline with no stream running (the previous test's stream has wound down)."""
    assert await wait_for_health(live, "IDLE") == "IDLE"
    return live


@pytest.fixture(scope="module")
def clip_80():
    return encode_clip(80)


@pytest.fixture(scope="module")
def clip_40():
    return encode_clip(40)


# --- the tests ----------------------------------------------------------------------------

STEADY = range(25, 71)  # frames past the decoder's start-up burst and before the input ends


async def test_stream_end_to_end_with_control_messages(idle, trickle, clip_80, record_path):
    live = idle
    first_record = len(read_records(record_path))
    run = await run_stream(
        live,
        trickle.url,
        clip_80,
        {"strength": 0.0},
        controls={
            10: {"strength": 5.0},  # invalid: rejected, the stream goes on
            34: {"width": 640, "height": 512, "strength": 0.0},  # resolution change: rejected
            55: {"strength": 1.0},  # the whole param set: invert from now on
        },
    )
    frames = run.frames

    # Real video came out: the output size, pts taken from the input frames, in order.
    assert frames and {frame.image.shape for frame in frames} == {(SIZE, SIZE, 3)}
    pts = [frame.pts for frame in frames]
    assert pts == sorted(set(pts))
    assert all(p % PTS_STEP == 0 and 0 <= index_of(p) < 80 for p in pts)
    indices = [index_of(p) for p in pts]
    assert set(STEADY) <= set(indices), f"steady-state frames were dropped: {indices}"

    # Content: the input unchanged until the control message, inverted after it, never back.
    states = []
    for frame in frames:
        source = input_image(index_of(frame.pts))
        if looks_like(frame, source):
            states.append("plain")
        elif looks_like(frame, inverted(source)):
            states.append("inverted")
        else:
            pytest.fail(f"frame {index_of(frame.pts)} is neither the input nor its inverse")
    assert states == sorted(states, key=["plain", "inverted"].index)
    plain_until = max(i for i, s in zip(indices, states, strict=True) if s == "plain")
    assert 50 <= plain_until < 65

    # One trickle segment per GOP (a keyframe every 2 s of pts), each starting on a keyframe.
    # As upstream, the output after one at time 0 is a keyframe too and restarts the 2 s count,
    # so the first segment runs up to 2 s past the second output frame.
    assert 2 <= len(run.output) <= 3
    spans = []
    for segment in run.output:
        segment_frames = decode_segments([segment])
        assert segment_frames[0].key_frame
        spans.append((segment_frames[-1].pts - segment_frames[0].pts) / 90_000)
    assert spans[0] < 3.1 and all(span < 2.0 for span in spans[1:]), spans

    # Events: the stream traces, one error per rejected message, and status reports.
    traces = {e["event"]["type"] for e in run.events if e["queue_event_type"] == "stream_trace"}
    assert traces == {
        "runner_receive_stream_request",
        "runner_receive_first_ingest_segment",
        "runner_send_first_processed_segment",
    }
    errors = [e["message"] for e in run.events_of_type("error")]
    assert len(errors) == 2, errors
    assert "Error updating params" in errors[0] and "strength" in errors[0]
    assert "Cannot change output resolution mid-stream" in errors[1]
    if getattr(runner, "IS_DOUBLE", False):  # the real ai-runner reports every 10 s only
        statuses = run.events_of_type("status")
        assert statuses and all(s["pipeline"] == "invert" for s in statuses)
        assert statuses[-1]["inference_status"]["last_error"] == errors[-1]

    # Health: OK while streaming, IDLE once the channels closed; then back to initial params.
    assert {status for index, status in run.health if index >= 25} == {"OK"}
    assert await wait_for_health(live, "IDLE") == "IDLE"
    await asyncio.sleep(0.5)
    updates = [r["params"] for r in read_records(record_path)[first_record:]]
    assert updates == [{"strength": 0.0}, {"strength": 1.0}, INITIAL_PARAMS]


async def test_outputs_of_another_request_are_dropped(live, trickle, clip_40):
    run = await run_stream(
        live, trickle.url, clip_40, {"foreign_even_frames": True}, request_id="mine"
    )
    indices = [index_of(frame.pts) for frame in run.frames]
    assert indices, "no output at all"
    assert all(index % 2 == 1 for index in indices), indices
    assert {27, 29, 31, 33} <= set(indices)


async def test_pipeline_errors_are_reported_and_values_wrap_like_upstream(live, trickle, clip_40):
    run = await run_stream(live, trickle.url, clip_40, {"fail_every": 3, "gain": 1.5})
    errors = [e["message"] for e in run.events_of_type("error")]
    assert errors and all("test failure" in message for message in errors)
    frames = run.frames
    assert 8 <= len([f for f in frames if index_of(f.pts) >= 20]) < 20  # a third failed

    # x * 255 cast to uint8 with no clamp: 200 * 1.5 = 300 wraps to 44, 40 * 1.5 = 60.
    top_left = frames[-1].image[: SIZE // 4, SIZE // 16 : SIZE // 8].reshape(-1, 3).mean(axis=0)
    assert np.allclose(top_left, (44, 60, 60), atol=8), top_left


async def test_reload_task_shows_loading_frames_and_health(live, trickle, clip_80):
    run = await run_stream(
        live, trickle.url, clip_80, {}, controls={25: {"reload_s": 1.5}, 60: {"gain": 1.0}}
    )
    assert "LOADING" in {status for index, status in run.health if 25 <= index < 60}
    greys, normal_after = [], []
    for frame in run.frames:
        index = index_of(frame.pts)
        if looks_like(frame, input_image(index)):
            if index > 60:
                normal_after.append(index)
            continue
        spread = np.ptp(frame.image.astype(np.int16), axis=2).mean()
        assert spread < 10, f"frame {index} is neither the input nor a grey loading frame"
        greys.append(index)
    # The decoder's probe releases the first ~22 frames at once, just before the control
    # message goes out: the grey frames may start a few frames before frame 25.
    assert greys and 15 <= min(greys) and max(greys) < 70, greys
    assert normal_after


async def test_starting_a_stream_stops_the_running_one(live, trickle, clip_80, clip_40):
    first_ended = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        first_urls: dict[str, str] = {}

        async def start_second(index: int) -> None:
            if index != 30:
                return
            second = await run_stream(live, trickle.url, clip_40, {}, request_id="second")
            assert {index_of(frame.pts) for frame in second.frames} >= set(range(25, 36))

        async def first_stream() -> StreamRun:
            urls = await create_channels(session, trickle.url)
            first_urls.update(urls)
            output = asyncio.create_task(read_channel(session, urls["out"]))
            output.add_done_callback(lambda _: first_ended.set())
            await asyncio.to_thread(
                live,
                subscribe_url=urls["in"],
                publish_url=urls["out"],
                control_url=urls["control"],
                events_url=urls["events"],
                params={},
                request_id="first",
                manifest_id="",
                stream_id="",
            )
            await publish_clip(session, urls["in"], clip_80, on_frame=start_second)
            return StreamRun(urls, await output, [], [])

        first = await first_stream()
        # The first stream's output was closed by the runner when the second one started,
        # although its input and control channels were never closed.
        assert first_ended.is_set()
        first_indices = [index_of(frame.pts) for frame in first.frames]
        assert first_indices and max(first_indices) < 45, first_indices
        await delete_channel(session, first_urls["in"])
        await delete_channel(session, first_urls["control"])


async def test_bad_urls_end_the_stream_without_hanging(live, trickle):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        for subscribe_url in (f"{trickle.url}no-such-channel", f"http://127.0.0.1:{closed_port}/x"):
            urls = await create_channels(session, trickle.url)
            started = time.monotonic()
            await asyncio.to_thread(
                live,
                subscribe_url=subscribe_url,
                publish_url=urls["out"],
                control_url=urls["control"],
                events_url=urls["events"],
                params={},
                request_id="bad-url",
                manifest_id="",
                stream_id="",
            )
            assert time.monotonic() - started < 2
            # The runner gives up on the input and closes its output channel.
            output = await asyncio.wait_for(read_channel(session, urls["out"]), STREAM_TIMEOUT_S)
            assert output == []
    assert await wait_for_health(live, "IDLE") == "IDLE"


@pytest.fixture
def throwaway(record_path):
    """A pipeline of its own, for a test that breaks it."""
    from runner.live.pipelines import PipelineSpec
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    pipeline = LiveVideoToVideoPipeline(
        PipelineSpec(
            name="invert",
            pipeline_cls="stream_test_pipeline:InvertPipeline",
            params_cls="stream_test_params:InvertParams",
        )
    )
    yield pipeline
    pipeline.stop_process()


@pytest.mark.skipif(
    not getattr(runner, "IS_DOUBLE", False),
    reason="needs a second runner, and two real ai-runners cannot share port 8888",
)
async def test_a_failed_reload_restarts_the_pipeline_process(throwaway, trickle, clip_40):
    assert await wait_for_health(throwaway, "IDLE", within_s=60) == "IDLE"
    first_process = throwaway.process
    run = await run_stream(
        throwaway, trickle.url, clip_40, {}, controls={5: {"reload_fails": True}}
    )
    errors = [e["message"] for e in run.events_of_type("error")]
    assert any("the new weights are corrupt" in message for message in errors), errors
    # As upstream: the dead process is ERROR, the stream is stopped, a new process loads.
    assert await wait_for_health(throwaway, "IDLE", within_s=60) == "IDLE"
    assert throwaway.process is not first_process
    again = await run_stream(throwaway, trickle.url, clip_40, {}, request_id="after-restart")
    assert {index_of(frame.pts) for frame in again.frames} >= set(range(25, 36))
    statuses = again.events_of_type("status")
    assert statuses and statuses[-1]["inference_status"]["restart_count"] == 1


async def test_http_route_checks_the_token_then_streams(
    live, trickle, clip_40, record_path, monkeypatch
):
    # Last in the file: leaving the TestClient shuts the app down, which stops the pipeline.
    from fastapi.testclient import TestClient
    from runner.app import create_app

    assert await wait_for_health(live, "IDLE") == "IDLE"
    first_record = len(read_records(record_path))
    monkeypatch.setenv("AUTH_TOKEN", "secret")
    async with aiohttp.ClientSession() as session:
        urls = await create_channels(session, trickle.url)
        output = asyncio.create_task(read_channel(session, urls["out"]))
        request = {
            "subscribe_url": urls["in"],
            "publish_url": urls["out"],
            "control_url": urls["control"],
            "events_url": urls["events"],
            "model_id": "invert",
            "params": {"strength": 1.0},
            "gateway_request_id": "via-http",
        }
        with TestClient(create_app(live)) as client:
            assert client.post("/live-video-to-video", json=request).status_code == 401
            bad_params = {**request, "params": {"width": 100}}
            refused = await asyncio.to_thread(
                client.post, "/live-video-to-video", json=bad_params, headers=AUTH
            )
            assert refused.status_code == 400
            assert "Error during model execution" in refused.json()["detail"]["msg"]
            started = await asyncio.to_thread(
                client.post, "/live-video-to-video", json=request, headers=AUTH
            )
            assert started.status_code == 200, started.text
            assert started.json()["publish_url"] == ""
            await publish_clip(session, urls["in"], clip_40)
            await delete_channel(session, urls["in"])
            await delete_channel(session, urls["control"])
            frames = decode_segments(await asyncio.wait_for(output, STREAM_TIMEOUT_S))
            assert client.get("/health").json() in ({"status": "OK"}, {"status": "IDLE"})
    assert frames and all(looks_like(f, inverted(input_image(index_of(f.pts)))) for f in frames)
    if getattr(runner, "IS_DOUBLE", False):
        # The app's shutdown stopped the pipeline process, which called stop() once. (The real
        # ai-runner's shutdown races its own restart of the infer process: not asserted there.)
        assert [r["event"] for r in read_records(record_path)[first_record:]].count("stop") == 1
        assert live.get_health().status == "ERROR"
