"""The kit's client for a live-runner session (ai_runner_kit.live.session): segmenting, pacing,
trickle publish/subscribe (against the trickle server double), the events channel, the session
calls and their error messages, TLS, and the output files. The end-to-end run through the
orchestrator double is tested elsewhere."""

import asyncio
import importlib
import io
import json
import pkgutil
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import httpx
import numpy as np
import pytest
from ai_runner_kit.live import session as session_package
from aiohttp import web

from .livepeer_double.fixtures import run_trickle_server


def session_modules() -> SimpleNamespace:
    """The kit's session client, its modules by name (sc.run, sc.trickle...)."""
    names = [info.name for info in pkgutil.iter_modules(session_package.__path__)]
    return SimpleNamespace(
        **{name: importlib.import_module(f"{session_package.__name__}.{name}") for name in names}
    )


sc = session_modules()
FPS = Fraction(24)


def sample(seconds: float, width: int = 128, height: int = 96, fps: Fraction = FPS):
    return list(sc.frames.sample_frames(width, height, fps, seconds))


def decode(data: bytes, format: str = "mpegts") -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), format=format) as container:
        return list(container.decode(video=0))


def ts_pids(data: bytes, packets: int) -> list[int]:
    return [((data[i + 1] & 0x1F) << 8) | data[i + 2] for i in range(0, 188 * packets, 188)]


def encode_segments(frames, width: int, height: int, fps: Fraction, per_segment: int):
    """Standalone segments of `per_segment` frames, as the client cuts them (not paced)."""
    segments, parts, current = [], [], None
    for frame in frames:
        if current is None:
            current = sc.segments.TsSegment(width, height, fps)
        parts.append(current.add(frame))
        if current.frames == per_segment:
            segments.append(b"".join([*parts, current.finish()]))
            current, parts = None, []
    if current is not None:
        segments.append(b"".join([*parts, current.finish()]))
    return segments


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def options(tmp_path: Path, orchestrator: str, **overrides) -> "sc.options.ClientOptions":
    values = dict(
        input=None,
        output=tmp_path / "out.mp4",
        runner="demo",
        orchestrator=orchestrator,
        width=128,
        height=96,
        fps=FPS,
        max_seconds=2.0,
        drain_timeout=1.5,
        ready_timeout=5.0,
        quiet=True,
    )
    values.update(overrides)
    return sc.options.ClientOptions(**values)


# --- segmenting ------------------------------------------------------------------------------


def test_segments_are_standalone_keyframe_first_and_continue_the_timestamps():
    segments = encode_segments(sample(2.5), 128, 96, FPS, per_segment=24)
    assert len(segments) == 3
    expected_first = 0.0
    for data, count in zip(segments, [24, 24, 12], strict=True):
        assert data[0] == 0x47 and len(data) % 188 == 0
        assert 0 in ts_pids(data, 4)  # its own PAT, near the start
        frames = decode(data)  # decodes on its own
        assert len(frames) == count
        assert frames[0].key_frame and not any(frame.key_frame for frame in frames[1:])
        assert (frames[0].width, frames[0].height) == (128, 96)
        times = [frame.time for frame in frames]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert times[0] == pytest.approx(expected_first, abs=1e-3)
        expected_first = times[-1] + 1 / 24


def test_a_segment_hands_over_bytes_frame_by_frame():
    segment = sc.segments.TsSegment(128, 96, FPS)
    parts = [segment.add(frame) for frame in sample(0.5)]
    assert all(parts), "zerolatency + flush_packets: every frame's bytes come out at once"
    whole = b"".join(parts) + segment.finish()
    assert segment.finish() == b""  # finishing twice is harmless
    assert len(decode(whole)) == 12


def test_input_file_is_scaled_and_capped_below_24_fps(tmp_path):
    path = tmp_path / "in.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for frame in sc.frames.sample_frames(320, 240, Fraction(30), 2.0):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    video = sc.frames.open_input(path)
    try:
        assert video.fps == 30
        fps = sc.frames.sending_fps(None, video.fps)
        assert fps == Fraction(24000, 1001)
        frames = list(sc.frames.input_frames(video, 128, 96, fps, None))
    finally:
        video.close()
    assert len(frames) == 48  # 2 s at 23.976 fps
    assert {(frame.width, frame.height, frame.format.name) for frame in frames} == {
        (128, 96, "yuv420p")
    }
    assert [frame.pts for frame in frames] == list(range(48))
    assert sc.frames.sending_fps(Fraction(10), Fraction(30)) == 10
    assert sc.frames.sending_fps(None, Fraction(15)) == 15
    assert sc.frames.sending_fps(None, None) == Fraction(24000, 1001)
    assert sc.frames.sending_fps(None, Fraction(24)) == Fraction(24000, 1001)
    assert sc.frames.sending_fps(Fraction(24), Fraction(30)) == 24  # asked for: as asked


def ai_runner_keeps(times: list[float]) -> int:
    """How many frames ai-runner's decoder keeps (runner/live/trickle/decoder.py): at most 24
    fps, the next time allowed advancing by 1/24 in floating point."""
    interval, next_time, kept = 1.0 / 24, 0.0, 0
    for time_ in times:
        if time_ < next_time:
            continue
        next_time = time_ + interval if time_ > next_time + interval else next_time + interval
        kept += 1
    return kept


@pytest.mark.parametrize("start", [0, 126_000])  # MPEG-TS muxers start at 0 or 1.4 s
def test_the_default_rate_loses_no_frame_in_ai_runner(start):
    def mpegts_times(fps: Fraction, count: int) -> list[float]:  # 90 kHz ticks, as received
        return [(start + round(k * 90_000 / fps)) / 90_000 for k in range(count)]

    ten_minutes = round(600 * sc.frames.MAX_RUNNER_FPS)
    times = mpegts_times(sc.frames.MAX_RUNNER_FPS, ten_minutes)
    assert ai_runner_keeps(times) == ten_minutes
    assert ai_runner_keeps(mpegts_times(Fraction(24), 14_400)) < 14_400  # why not 24 exactly


def test_frames_are_cropped_to_fit_never_stretched():
    picture = np.zeros((100, 400, 3), np.uint8)
    picture[:, 300:] = 255  # the right quarter is white
    wide = av.VideoFrame.from_ndarray(picture, format="rgb24")
    fitter = sc.frames.FrameFitter(100, 100)
    fitted = [fitter.fit(wide) for _ in range(2)]  # the same frame twice: two new frames
    assert fitted[0] is not fitted[1]
    luma = fitted[0].to_ndarray(format="gray")
    assert fitted[0].format.name == "yuv420p" and luma.shape == (100, 100)
    assert luma.max() < 40  # the middle of the picture: all black (stretching shows white)
    tall = av.VideoFrame.from_ndarray(np.zeros((300, 100, 3), np.uint8), format="rgb24")
    assert (fitter.fit(tall).width, fitter.fit(tall).height) == (100, 100)


def test_retime_drops_repeats_and_cuts():
    same = list(sc.frames.retime(((i / 24, i) for i in range(5)), Fraction(24)))
    assert same == [(i, i) for i in range(5)]
    faster = [item for _, item in sc.frames.retime(((i / 30, i) for i in range(30)), Fraction(24))]
    assert len(faster) == 24 and faster[:6] == [0, 1, 2, 3, 5, 6]
    slower = [item for _, item in sc.frames.retime(((i / 12, i) for i in range(4)), Fraction(24))]
    assert slower == [0, 0, 1, 1, 2, 2, 3]
    cut = list(sc.frames.retime(((i / 24, i) for i in range(100)), Fraction(24), max_seconds=1.0))
    assert len(cut) == 24
    backwards = list(sc.frames.retime([(0.0, "a"), (0.1, "b"), (0.05, "c")], Fraction(10)))
    assert backwards == [(0, "a"), (1, "c")]  # a stamp going back counts as the same time
    shifted = list(sc.frames.retime(((10 + i / 24, i) for i in range(3)), Fraction(24)))
    assert [slot for slot, _ in shifted] == [0, 1, 2]  # times count from the first frame


# --- pacing ----------------------------------------------------------------------------------


def test_pacer_turns_media_time_into_wall_time():
    now = [100.0]
    pacer = sc.pacing.Pacer(clock=lambda: now[0])
    pacer.start()
    assert pacer.delay(0.5) == pytest.approx(0.5)
    now[0] = 100.3
    assert pacer.delay(0.5) == pytest.approx(0.2)
    now[0] = 101.0
    assert pacer.delay(0.5) == 0.0  # late: send now, never early
    assert pacer.due_at(2.0) == 102.0


class VirtualClock:
    """Time that moves only when the code under test waits: `wait_or_stop` is replaced by one
    that records the delay and advances the clock by it, so pacing is checked exactly and a
    loaded machine cannot make the test late."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def wait_or_stop(self, stop: asyncio.Event, seconds: float) -> bool:
        if stop.is_set():
            return True
        self.waits.append(seconds)
        self.now += max(0.0, seconds)
        return False


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    clock = VirtualClock()
    monkeypatch.setattr(sc.publish, "wait_or_stop", clock.wait_or_stop)
    return clock


class FakeUpload:
    def __init__(self, writes: list, clock: VirtualClock, on_write) -> None:
        self.writes = writes
        self.clock = clock
        self.on_write = on_write
        self.closed = False
        self.done = False

    def write(self, data: bytes) -> None:
        self.writes.append((self.clock(), data))
        self.on_write(len(self.writes))

    def close(self) -> None:
        self.closed = self.done = True

    async def result(self) -> None:
        pass

    def cancel(self) -> None:
        pass


class FakePublisher:
    def __init__(self, clock: VirtualClock, on_write=lambda writes: None) -> None:
        self.clock = clock
        self.on_write = on_write
        self.uploads: list[FakeUpload] = []
        self.writes: list[tuple[float, bytes]] = []

    def open_segment(self) -> FakeUpload:
        self.uploads.append(FakeUpload(self.writes, self.clock, self.on_write))
        return self.uploads[-1]


async def test_frames_go_out_in_real_time_in_segments(clock):
    publisher = FakePublisher(clock)
    pacer = sc.pacing.Pacer(clock)
    started = pacer.start()
    result = await sc.publish.publish_frames(
        iter(sample(0.75)),  # 18 frames
        publisher,
        width=128,
        height=96,
        fps=FPS,
        per_segment=8,
        pacer=pacer,
        stop=asyncio.Event(),
        progress=sc.progress.Progress(quiet=True),
    )
    assert (result.frames, result.segments, result.error) == (18, 3, None)
    assert len(publisher.uploads) == 3 and all(upload.closed for upload in publisher.uploads)
    # Segment 0's writes are one a frame, each when its media time is due.
    frame_writes = [when - started for when, _ in publisher.writes[:8]]
    assert frame_writes == pytest.approx([index / 24 for index in range(8)])
    assert publisher.writes[-1][0] - started == pytest.approx(17 / 24)


async def test_stop_ends_the_input_early_with_a_whole_segment(clock):
    stop = asyncio.Event()
    # Stop once the seventh frame is written: the segment under way ends with it.
    publisher = FakePublisher(clock, on_write=lambda writes: writes == 7 and stop.set())
    result = await sc.publish.publish_frames(
        iter(sample(3.0)),
        publisher,
        width=128,
        height=96,
        fps=FPS,
        per_segment=24,
        pacer=sc.pacing.Pacer(clock),
        stop=stop,
        progress=sc.progress.Progress(quiet=True),
    )
    assert (result.frames, result.segments) == (7, 1)
    assert publisher.uploads[0].closed
    assert len(decode(b"".join(data for _, data in publisher.writes))) == 7


# --- trickle ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trickle():
    with run_trickle_server() as server:
        yield server


class Collected:
    """A SegmentSink that keeps (seq, bytes)."""

    def __init__(self) -> None:
        self.segments: list[tuple[int, bytearray]] = []

    def begin_segment(self, seq: int) -> None:
        self.segments.append((seq, bytearray()))

    def add_data(self, data: bytes) -> None:
        self.segments[-1][1].extend(data)

    async def end_segment(self) -> None:
        pass


async def create_channel(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(url, headers={"Expect-Content": "video/MP2T"})
    assert response.status_code == 200


async def test_publisher_and_subscriber_through_the_trickle_server(trickle):
    url = trickle.channel_url(f"pubsub-{time.monotonic_ns()}")
    collected = Collected()
    async with httpx.AsyncClient() as client:
        await create_channel(client, url)
        reading = asyncio.create_task(sc.trickle.TrickleSubscriber(client, url).run(collected))
        await asyncio.sleep(0.1)  # the subscriber waits at the live edge
        publisher = sc.trickle.TricklePublisher(client, url)
        for index in range(3):
            upload = publisher.open_segment()
            for part in range(3):
                upload.write(f"segment {index} part {part};".encode())
                await asyncio.sleep(0.01)
            upload.close()
            await upload.result()
        assert publisher.seq == 3
        await asyncio.sleep(0.2)
        assert (await client.delete(url)).status_code == 200  # the channel closes...
        await asyncio.wait_for(reading, 5)  # ...and the subscriber ends cleanly
    assert [seq for seq, _ in collected.segments] == [0, 1, 2]
    for index, (_, data) in enumerate(collected.segments):
        assert data == b"".join(f"segment {index} part {p};".encode() for p in range(3))


async def test_subscriber_of_an_unknown_channel_ends_at_once(trickle):
    async with httpx.AsyncClient() as client:
        collected = Collected()
        await asyncio.wait_for(
            sc.trickle.TrickleSubscriber(client, trickle.channel_url("never-made")).run(collected),
            5,
        )
    assert collected.segments == []


def mock_client(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_subscriber_jumps_to_latest_on_470_and_retries_errors():
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        seq = int(request.url.path.rsplit("/", 1)[1])
        asked.append(seq)
        if seq == -1:
            return httpx.Response(470, headers={"Lp-Trickle-Latest": "7"})
        if seq == 7 and asked.count(7) == 1:
            return httpx.Response(500)
        if seq in (7, 8):
            return httpx.Response(200, headers={"Lp-Trickle-Seq": str(seq)}, content=b"x%d" % seq)
        if seq == 9:
            return httpx.Response(200, headers={"Lp-Trickle-Seq": "9"})  # empty: skipped
        return httpx.Response(200, headers={"Lp-Trickle-Closed": "terminated"}, text="Entry")

    collected = Collected()
    async with mock_client(handler) as client:
        await sc.trickle.TrickleSubscriber(client, "http://t/ch", retry_delay=0).run(collected)
    assert asked == [-1, 7, 7, 8, 9, 10]
    assert collected.segments == [(7, bytearray(b"x7")), (8, bytearray(b"x8"))]


async def test_subscriber_gives_up_after_repeated_failures():
    async with mock_client(lambda request: httpx.Response(502)) as client:
        subscriber = sc.trickle.TrickleSubscriber(client, "http://t/ch", retries=2, retry_delay=0)
        with pytest.raises(sc.errors.ClientError, match="lost the output channel"):
            await subscriber.run(Collected())


async def test_publishing_into_a_closed_channel_says_the_session_ended():
    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return httpx.Response(404, text="Stream not found")

    async with mock_client(handler) as client:
        upload = sc.trickle.TricklePublisher(client, "http://t/in").open_segment()
        upload.write(b"data")
        upload.close()
        with pytest.raises(sc.errors.ChannelClosed, match="session ended"):
            await upload.result()


# --- events --------------------------------------------------------------------------------


def ai_runner_event(event: dict) -> bytes:
    """One events segment as ai-runner's trickle protocol publishes it."""
    return json.dumps({"event": event, "queue_event_type": "ai_stream_events"}).encode()


@pytest.mark.parametrize(
    ("data", "warning"),
    [
        (
            ai_runner_event(
                {
                    "type": "error",
                    "pipeline": "demo",
                    "message": "Error processing input frame: boom",
                    "time": 1.0,
                    "timestamp": 1000,
                }
            ),
            "the runner reported an error: Error processing input frame: boom",
        ),
        (
            ai_runner_event({"type": "restart", "restart_count": 2}),
            "restarted the pipeline (restart 2)",
        ),
        (json.dumps({"error": {"code": 7}}).encode(), 'reported an error: {"code": 7}'),
        (
            ai_runner_event({"type": "stream_error", "detail": "x"}),
            "reported an error: stream_error",
        ),
        (ai_runner_event({"type": "status", "state": "ONLINE", "inference_status": {}}), None),
        (ai_runner_event({"type": "runner_receive_stream_request"}), None),
        (ai_runner_event({"type": "status", "error": None}), None),
        (b"not json", None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
    ],
)
def test_which_events_are_warned_about(data, warning):
    said = sc.events.event_warning(data)
    if warning is None:
        assert said is None
    else:
        assert warning in said


# --- session calls ---------------------------------------------------------------------------


def json_response(status: int, body, **headers) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


SESSION_BODY = {
    "session_id": "s1",
    "app_url": "http://orch/apps/demo/session/s1/app",
    "control_url": "http://orch/apps/demo/session/s1",
}


async def test_reserve_retries_503_then_names_the_runner_when_it_is_unknown():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.raw_path.decode())
        if len(calls) == 1:
            return json_response(503, {"error": "busy"}, **{"Retry-After": "0"})
        return json_response(200, SESSION_BODY)

    progress = sc.progress.Progress(quiet=True)
    async with mock_client(handler) as client:
        session = await sc.orchestrator.reserve_session(
            client, "http://orch", "de mo", time.monotonic() + 5, progress
        )
    assert calls == ["/apps/de%20mo/session"] * 2
    assert session == sc.orchestrator.Session(
        "s1", SESSION_BODY["app_url"], SESSION_BODY["control_url"]
    )

    async with mock_client(lambda request: httpx.Response(404, text="runner not found")) as client:
        with pytest.raises(sc.errors.ClientError, match="no live runner 'demo'") as error:
            await sc.orchestrator.reserve_session(
                client, "http://orch", "demo", time.monotonic(), progress
            )
    assert error.value.exit_code == sc.errors.EXIT_RUNNER
    async with mock_client(lambda request: httpx.Response(503)) as client:
        with pytest.raises(sc.errors.ClientError, match="busy") as error:
            await sc.orchestrator.reserve_session(
                client, "http://orch", "demo", time.monotonic(), progress
            )
    assert error.value.exit_code == sc.errors.EXIT_RUNNER


@pytest.mark.parametrize(
    ("status", "body", "message", "code"),
    [
        (422, {"detail": "strength must be <= 1"}, "refused --params: strength must be <= 1", 5),
        (
            422,
            {"detail": [{"loc": ["body", "params", "strength"], "msg": "too big"}]},
            "params.strength: too big",
            5,
        ),
        (409, {"detail": "a stream is running"}, "busy with another stream", 4),
        (400, {"detail": "missing Livepeer-Session-Id"}, "is --orchestrator the orchestrator", 4),
        (503, {"detail": "LOADING"}, "still not ready \\(LOADING\\)", 4),
    ],
)
async def test_start_stream_errors_carry_the_servers_words(status, body, message, code):
    session = sc.orchestrator.Session("s1", SESSION_BODY["app_url"], SESSION_BODY["control_url"])
    async with mock_client(lambda request: json_response(status, body)) as client:
        with pytest.raises(sc.errors.ClientError, match=message) as error:
            await sc.orchestrator.start_stream(
                client, session, {"strength": 2}, time.monotonic(), sc.progress.Progress(quiet=True)
            )
    assert error.value.exit_code == code


async def test_start_stream_waits_while_the_runner_loads():
    answers = [
        json_response(503, {"detail": "LOADING"}, **{"Retry-After": "0"}),
        json_response(200, {"session_id": "s1", "channels": {"in": "I", "out": "O"}}),
    ]
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return answers.pop(0)

    session = sc.orchestrator.Session("s1", SESSION_BODY["app_url"], SESSION_BODY["control_url"])
    async with mock_client(handler) as client:
        channels = await sc.orchestrator.start_stream(
            client, session, {"p": 1}, time.monotonic() + 5, sc.progress.Progress(quiet=True)
        )
    assert channels == sc.orchestrator.StreamChannels(input="I", output="O")
    assert bodies == [{"params": {"p": 1}}] * 2


# --- command line ----------------------------------------------------------------------------


def test_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv(sc.orchestrator.RUNNER_ENV, "from-env")
    out = str(tmp_path / "out.ts")
    argv = ["in.mp4", out, "--params", '{"prompt": "a"}', "--fps", "12.5", "--json"]
    argv += ["--params-at", '3={"prompt": "c"}', "--params-at", ' 1.5 ={"prompt": "b"}']
    parsed = sc.cli.parse_args(argv)
    assert parsed.input == Path("in.mp4") and parsed.output == Path(out)
    assert parsed.runner == "from-env" and parsed.orchestrator == "http://127.0.0.1:8935"
    # every set is whole: it carries the size frames are sent at (ai-runner refuses a new size)
    size = {"width": 512, "height": 512}
    assert parsed.params == size | {"prompt": "a"}
    assert parsed.params_at == ((1.5, size | {"prompt": "b"}), (3.0, size | {"prompt": "c"}))
    assert parsed.fps == Fraction(25, 2) and parsed.json_summary
    assert (parsed.width, parsed.height, parsed.drain_timeout, parsed.ready_timeout) == (
        512,
        512,
        5.0,
        180.0,
    )
    assert not parsed.insecure
    sampled = sc.cli.parse_args(
        ["--sample", out, "--runner", "r", "--orchestrator", "https://o/", "--insecure"]
    )
    assert sampled.input is None and sampled.runner == "r" and sampled.orchestrator == "https://o"
    assert sampled.insecure


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["in.mp4", "OUT"], "--runner LABEL is required"),
        (["OUT", "--runner", "r"], "give an INPUT video, or --sample"),
        (["in.mp4", "OUT", "--sample", "--runner", "r"], "not both"),
        (["in.mp4", "out.avi", "--runner", "r"], "must end in .mp4 or .ts"),
        (["in.mp4", "OUT", "--runner", "r", "--width", "511"], "--width must be an even"),
        (["in.mp4", "OUT", "--runner", "r", "--params", "{bad"], "--params is not valid JSON"),
        (["in.mp4", "OUT", "--runner", "r", "--params", "[1]"], "must be a JSON object"),
        (["in.mp4", "OUT", "--runner", "r", "--params-at=-1={}"], "zero or more"),
        (["in.mp4", "OUT", "--runner", "r", "--params-at", "soon={}"], "not 'soon'"),
        (["in.mp4", "OUT", "--runner", "r", "--params-at", "3"], "takes SECONDS=JSON"),
        (["in.mp4", "OUT", "--runner", "r", "--orchestrator", "orch:8935"], "http:// or"),
    ],
)
def test_usage_errors_exit_2_with_a_message(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(sc.orchestrator.RUNNER_ENV, raising=False)
    argv = [str(tmp_path / "out.mp4") if arg == "OUT" else arg for arg in argv]
    with pytest.raises(SystemExit) as exit_info:
        sc.cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unreachable_orchestrator_is_a_clean_error(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code = sc.cli.main(
        ["--sample", str(tmp_path / "o.mp4"), "--runner", "r", "--orchestrator", url]
    )
    err = capsys.readouterr().err
    assert code == sc.errors.EXIT_UNREACHABLE
    assert f"cannot reach the orchestrator at {url}" in err and "--orchestrator" in err
    assert "Traceback" not in err


def test_unreadable_input_is_a_clean_error(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    argv = [str(text), str(tmp_path / "o.mp4"), "--runner", "r"]
    assert sc.cli.main(argv) == sc.errors.EXIT_INPUT
    assert "cannot read" in capsys.readouterr().err
    assert sc.cli.main([str(tmp_path / "missing.mp4"), *argv[1:]]) == sc.errors.EXIT_INPUT
    assert "not found" in capsys.readouterr().err


# --- output ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".ts", ".mp4"])
def test_output_files_hold_every_frame(tmp_path, suffix):
    segments = encode_segments(sample(2.0), 128, 96, FPS, per_segment=24)
    # a second run restarts its timestamps at 0: a discontinuity the .mp4 must smooth out
    segments += encode_segments(sample(1.0), 128, 96, FPS, per_segment=24)
    path = tmp_path / f"out{suffix}"
    info = sc.output.write_output(segments, path, FPS)
    assert (info.frames, info.width, info.height) == (72, 128, 96)
    assert info.duration_seconds == pytest.approx(3.0, abs=0.05)
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 72
    assert (frames[0].width, frames[0].height) == (128, 96)
    if suffix == ".mp4":
        times = [frame.time for frame in frames]
        assert times == sorted(times) and len(set(times)) == 72
        assert times[-1] == pytest.approx(71 / 24, abs=0.01)


def test_forward_clock_smooths_jumps():
    clock = sc.output.ForwardClock(Fraction(2))
    stamps = [5.0, 5.5, 6.0, None, 0.0, 0.5, 100.0, 100.5]
    assert [clock.place(stamp) for stamp in stamps] == [
        0.0,
        0.5,
        1.0,
        1.5,
        2.0,
        2.5,
        3.0,
        3.5,
    ]


def test_summary_lines_and_json():
    summary = sc.summary.SessionSummary(
        output="o.mp4",
        fps=24.0,
        frames_sent=48,
        frames_received=47,
        width=512,
        height=512,
        duration_seconds=1.96,
        latency_seconds=0.8,
    )
    text = "\n".join(summary.lines())
    assert "48" in text and "47" in text and "512x512" in text and "~0.80 s" in text
    assert json.loads(json.dumps(asdict(summary)))["frames_received"] == 47
    assert sc.cli.exit_code_for(summary) == 0
    assert (
        sc.cli.exit_code_for(sc.summary.SessionSummary(output=None, fps=24, error="x"))
        == sc.errors.EXIT_STREAM
    )
    assert (
        sc.cli.exit_code_for(sc.summary.SessionSummary(output=None, fps=24, interrupted=True))
        == 130
    )


# --- a whole run against a small fake orchestrator + echo runner --------------------------


class EchoRunner:
    """Just enough of an orchestrator and runner: reserve, stream/start (channels on the
    trickle server), stream/params, stop; the 'pipeline' copies each input segment to out, and
    `events` go out on the events channel at the start."""

    def __init__(self, trickle_url: str) -> None:
        self.trickle_url = trickle_url
        self.params: list[dict] = []
        self.stopped: list[str] = []
        self.start_status = 200
        self.events: list[bytes] = []
        self._relay: asyncio.Task | None = None
        self._channels: dict[str, str] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/apps/{runner}/session", self.reserve)
        app.router.add_post("/apps/{runner}/session/{sid}/app/stream/start", self.start)
        app.router.add_post("/apps/{runner}/session/{sid}/app/stream/params", self.update)
        app.router.add_post("/apps/{runner}/session/{sid}/stop", self.stop)
        return app

    async def reserve(self, request: web.Request) -> web.Response:
        if request.match_info["runner"] != "demo":
            return web.Response(status=404, text="runner not found")
        base = f"{request.scheme}://{request.host}/apps/demo/session/s1"
        return web.json_response(
            {"session_id": "s1", "app_url": base + "/app", "control_url": base}
        )

    async def start(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.start_status != 200:
            return web.json_response({"detail": "bad prompt"}, status=self.start_status)
        self.params.append(body["params"])
        tag = time.monotonic_ns()
        names = ("in", "out", "events")
        self._channels = {name: f"{self.trickle_url}{name}-{tag}" for name in names}
        async with httpx.AsyncClient() as client:
            for url in self._channels.values():
                await create_channel(client, url)
            for seq, event in enumerate(self.events):
                await client.post(f"{self._channels['events']}/{seq}", content=event)
        self._relay = asyncio.create_task(self.relay())
        return web.json_response({"session_id": "s1", "channels": self._channels})

    async def relay(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client:
            seq = 0
            while True:
                response = await client.get(f"{self._channels['in']}/{seq}")
                if response.status_code != 200 or "Lp-Trickle-Closed" in response.headers:
                    return
                if response.content:
                    await client.post(f"{self._channels['out']}/{seq}", content=response.content)
                seq += 1

    async def update(self, request: web.Request) -> web.Response:
        self.params.append(await request.json())
        return web.json_response({"params": self.params[-1]})

    async def stop(self, request: web.Request) -> web.Response:
        self.stopped.append(request.match_info["sid"])
        if self._relay is not None:
            self._relay.cancel()
        async with httpx.AsyncClient() as client:
            for url in self._channels.values():
                await client.delete(url)
        return web.Response(status=204)


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1, as go-livepeer
    makes its own."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs openssl to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def echo(trickle):
    """The echo runner on http:// (`url`); `serve_https(context)` adds `https_url`."""
    runner = EchoRunner(trickle.url)
    app_runner = web.AppRunner(runner.app())
    await app_runner.setup()
    site = web.TCPSite(app_runner, "127.0.0.1", 0)
    await site.start()
    runner.url = f"http://127.0.0.1:{app_runner.addresses[0][1]}"

    async def serve_https(context: ssl.SSLContext) -> None:
        site = web.TCPSite(app_runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        runner.https_url = f"https://127.0.0.1:{app_runner.addresses[-1][1]}"

    runner.serve_https = serve_https
    yield runner
    await app_runner.cleanup()


async def test_a_whole_session_round_trip(echo, tmp_path):
    opts = options(tmp_path, echo.url, params={"prompt": "a"}, params_at=((0.5, {"prompt": "b"}),))
    started = time.monotonic()
    summary = await sc.run.run_session(opts)
    elapsed = time.monotonic() - started
    assert summary.error is None and not summary.interrupted
    assert (summary.frames_sent, summary.segments_sent) == (48, 2)
    assert (summary.frames_received, summary.segments_received) == (48, 2)
    assert (summary.width, summary.height) == (128, 96)
    assert summary.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert summary.param_updates == 1 and echo.params == [{"prompt": "a"}, {"prompt": "b"}]
    assert summary.latency_seconds is not None and 0 < summary.latency_seconds < 3
    assert echo.stopped == ["s1"]
    assert elapsed >= 2.0 - 1 / 24  # real time
    with av.open(str(opts.output)) as container:
        assert len(list(container.decode(video=0))) == 48


class StopOnFirstOutput(sc.progress.Progress):
    """Ctrl-C as soon as the first output segment is in."""

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__(quiet=True)
        self.stop = stop

    def line(self, message: str) -> None:
        if message.startswith("received segment 0"):
            self.stop.set()


async def test_interrupt_writes_what_came_back_and_stops_the_session(echo, tmp_path):
    stop = asyncio.Event()
    opts = options(tmp_path, echo.url, output=tmp_path / "out.ts", max_seconds=5.0)
    summary = await sc.run.run_session(opts, StopOnFirstOutput(stop), stop)
    assert summary.interrupted and sc.cli.exit_code_for(summary) == sc.errors.EXIT_INTERRUPTED
    assert 24 <= summary.frames_sent < 120  # it did not send all 5 s
    assert echo.stopped == ["s1"]
    assert 24 <= summary.frames_received <= summary.frames_sent
    with av.open(str(opts.output)) as container:
        assert len(list(container.decode(video=0))) == summary.frames_received


async def test_refused_params_stop_the_session_and_say_why(echo, tmp_path):
    echo.start_status = 422
    with pytest.raises(sc.errors.ClientError, match="refused --params: bad prompt") as error:
        await sc.run.run_session(options(tmp_path, echo.url))
    assert error.value.exit_code == sc.errors.EXIT_PARAMS
    assert echo.stopped == ["s1"]  # reserved, so released


async def test_unknown_runner(echo, tmp_path):
    with pytest.raises(sc.errors.ClientError, match="no live runner 'nope'") as error:
        await sc.run.run_session(options(tmp_path, echo.url, runner="nope"))
    assert error.value.exit_code == sc.errors.EXIT_RUNNER


async def test_runner_errors_on_the_events_channel_are_warnings(echo, tmp_path, capsys):
    error = ai_runner_event({"type": "error", "pipeline": "demo", "message": "boom", "time": 1})
    status = ai_runner_event({"type": "status", "state": "ONLINE"})
    echo.events = [status, error, b"garbage", error, status]  # the same error twice
    summary = await sc.run.run_session(options(tmp_path, echo.url, max_seconds=1.0))
    assert summary.error is None and summary.frames_received == 24  # events fail nothing
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == ["warning: the runner reported an error: boom"]


async def test_a_self_signed_orchestrator_needs_insecure(echo, tls_context, tmp_path):
    await echo.serve_https(tls_context)
    with pytest.raises(sc.errors.ClientError, match="certificate") as error:
        await sc.run.run_session(options(tmp_path, echo.https_url))
    assert error.value.exit_code == sc.errors.EXIT_UNREACHABLE
    assert "--insecure" in str(error.value) and "http:// -httpAddr" in str(error.value)
    assert echo.params == []  # nothing got through

    opts = options(tmp_path, echo.https_url, insecure=True, max_seconds=1.0, drain_timeout=1.0)
    summary = await sc.run.run_session(opts)
    assert summary.error is None and summary.frames_received == 24
    assert echo.stopped == ["s1"]  # the app and control calls went over TLS too


def test_a_size_in_the_params_wins_over_the_sending_size(tmp_path):
    out = str(tmp_path / "out.mp4")
    argv = ["in.mp4", out, "--runner", "r", "--width", "384", "--height", "256"]
    parsed = sc.cli.parse_args([*argv, "--params", '{"width": 640, "strength": 1}'])
    assert parsed.params == {"width": 640, "height": 256, "strength": 1}


def test_the_sample_clip_is_the_same_every_time_and_an_effect_has_shades_to_work_on():
    first, again = (sample(0.5, 96, 64) for _ in range(2))
    assert len(first) == len(again) == 12
    for one, other in zip(first, again, strict=True):
        assert np.array_equal(one.to_ndarray(format="rgb24"), other.to_ndarray(format="rgb24"))
    # Not only the test pattern's flat bars: many distinct colours, as a camera would give.
    pixels = first[6].to_ndarray(format="rgb24").reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 500
