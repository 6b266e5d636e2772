"""One whole run of the client, in order:

1. reserve a session: `POST {orchestrator}/apps/{runner}/session` gives `app_url` and
   `control_url`;
2. start the stream: `POST {app_url}/stream/start` with `{"params": ...}` gives the trickle
   channels `in`, `out`, `control` and `events` (it waits while the runner answers 503, up
   to --ready-timeout);
3. publish the input in real time, like a camera, at --fps (at most 23.976 unless asked):
   frames are fitted to --width x --height (scaled to cover, centre-cropped), encoded to
   H.264 and cut into standalone MPEG-TS segments of about one second (each has its own
   PAT/PMT and starts with a keyframe), posted to `{in}/0`, `{in}/1`... while encoded;
4. at the same time, read `out` (`GET {out}/-1`, then the next seqs), warn about the errors
   the runner reports on `events`, and send the whole parameter set to
   `POST {app_url}/stream/params` at each --params-at time;
5. once the input ends, wait until no output came for --drain-timeout seconds, then stop the
   session (`POST {control_url}/stop`; always, also after an error or Ctrl-C: the first Ctrl-C
   ends the input early and still saves the output, a second one quits);
6. write the output (output.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx

from .errors import EXIT_STREAM, ClientError
from .events import watch_events
from .frames import SAMPLE_SECONDS, input_frames, open_input, sample_frames, sending_fps
from .options import ClientOptions
from .orchestrator import (
    Session,
    StreamChannels,
    reserve_session,
    start_stream,
    stop_session,
    update_params,
)
from .output import OutputCollector, write_output
from .pacing import LatencyTracker, Pacer, wait_or_stop
from .progress import Progress
from .publish import publish_frames
from .segments import frames_per_segment
from .summary import SessionSummary
from .trickle import TricklePublisher, TrickleSubscriber


async def run_session(
    options: ClientOptions,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> SessionSummary:
    """Do the whole run. Raises ClientError for what stops it before the stream starts;
    stream problems end up in the summary's `error`."""
    progress = progress or Progress(options.quiet)
    stop = stop or asyncio.Event()
    video = open_input(options.input) if options.input is not None else None
    try:
        fps = sending_fps(options.fps, video.fps if video else None)
        if video is not None:
            frames = input_frames(video, options.width, options.height, fps, options.max_seconds)
        else:
            seconds = options.max_seconds or SAMPLE_SECONDS
            frames = sample_frames(options.width, options.height, fps, seconds)
        with interrupt_handler(stop):
            return await _stream_session(options, frames, fps, progress, stop)
    finally:
        if video is not None:
            video.close()


@contextlib.contextmanager
def interrupt_handler(stop: asyncio.Event) -> Iterator[None]:
    """First Ctrl-C: end the input early and wrap up (stop the session, write the output).
    Second Ctrl-C: cancel at once (the session is still stopped)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_interrupt() -> None:
        if stop.is_set() and main is not None:
            main.cancel()
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not Unix, or not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _stream_session(
    options: ClientOptions,
    frames: Iterator[av.VideoFrame],
    fps: Fraction,
    progress: Progress,
    stop: asyncio.Event,
) -> SessionSummary:
    summary = SessionSummary(output=None, fps=float(fps))
    deadline = time.monotonic() + options.ready_timeout
    pacer = Pacer()
    latency = LatencyTracker(pacer)
    collector = OutputCollector(progress, latency)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        verify=not options.insecure,
    ) as client:
        session = await reserve_session(
            client, options.orchestrator, options.runner, deadline, progress, stop
        )
        progress.line(f"session {session.session_id} reserved on runner '{options.runner}'")
        try:
            channels = await start_stream(client, session, options.params, deadline, progress, stop)
            progress.line(
                f"stream started: sending {options.width}x{options.height} at {float(fps):g} fps"
            )
            await _exchange(
                client,
                session,
                channels,
                options,
                frames,
                fps,
                collector,
                pacer,
                progress,
                stop,
                summary,
            )
        finally:
            await _release(client, session, progress)
    summary.interrupted = stop.is_set()
    summary.segments_received = len(collector.segments)
    estimate = latency.estimate()
    summary.latency_seconds = round(estimate, 3) if estimate is not None else None
    await _save_output(summary, collector, options.output, fps)
    if summary.frames_received == 0 and summary.error is None and not summary.interrupted:
        summary.error = (
            f"no output came back from the runner (waited {options.drain_timeout:g} s after "
            "the input ended). Look at the runner's logs; a slow pipeline may need a longer "
            "--drain-timeout."
        )
    return summary


async def _exchange(
    client: httpx.AsyncClient,
    session: Session,
    channels: StreamChannels,
    options: ClientOptions,
    frames: Iterator[av.VideoFrame],
    fps: Fraction,
    collector: OutputCollector,
    pacer: Pacer,
    progress: Progress,
    stop: asyncio.Event,
    summary: SessionSummary,
) -> None:
    """Publish the input while reading the output and the events and sending the parameter
    schedule, then drain the output. Fills in the summary's sent counts, parameter updates
    and error."""
    subscriber = asyncio.create_task(TrickleSubscriber(client, channels.output).run(collector))
    background: list[asyncio.Task[Any]] = [subscriber]
    if channels.events:
        background.append(asyncio.create_task(watch_events(client, channels.events, progress)))
    pacer.start()
    schedule = asyncio.create_task(
        send_params_schedule(client, session, options.params_at, pacer, stop, progress)
    )
    background.append(schedule)
    try:
        sent = await publish_frames(
            frames,
            TricklePublisher(client, channels.input),
            width=options.width,
            height=options.height,
            fps=fps,
            per_segment=frames_per_segment(fps),
            pacer=pacer,
            stop=stop,
            progress=progress,
        )
        summary.frames_sent = sent.frames
        summary.segments_sent = sent.segments
        summary.error = sent.error
        if not stop.is_set() and sent.error is None:
            progress.line(
                f"input done; waiting for output (--drain-timeout {options.drain_timeout:g} s)"
            )
            await drain_output(subscriber, collector, options.drain_timeout, stop)
        if subscriber.done() and not subscriber.cancelled() and subscriber.exception():
            summary.error = summary.error or str(subscriber.exception())
        if schedule.done() and not schedule.cancelled():
            summary.param_updates = schedule.result()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)


async def send_params_schedule(
    client: httpx.AsyncClient,
    session: Session,
    schedule: Sequence[tuple[float, dict[str, Any]]],
    pacer: Pacer,
    stop: asyncio.Event,
    progress: Progress,
) -> int:
    """Send each whole parameter set when its time into the stream comes; returns how many the
    runner took. A refused set is reported and the stream goes on."""
    taken = 0
    for seconds, params in schedule:
        if await wait_or_stop(stop, pacer.delay(seconds)):
            break
        try:
            await update_params(client, session, params)
            taken += 1
            progress.line(f"parameters updated at {seconds:g} s")
        except ClientError as error:
            progress.warn(f"at {seconds:g} s: {error}")
    return taken


async def drain_output(
    subscriber: asyncio.Task[None],
    collector: OutputCollector,
    drain_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Wait until no output came for `drain_seconds` (counted from now at the earliest), the
    channel ends, or `stop`."""
    input_ended_at = time.monotonic()
    while not subscriber.done() and not stop.is_set():
        quiet_since = max(input_ended_at, collector.last_data_at or input_ended_at)
        remaining = quiet_since + drain_seconds - time.monotonic()
        if remaining <= 0:
            return
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {subscriber, stopping}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopping.cancel()


async def _release(client: httpx.AsyncClient, session: Session, progress: Progress) -> None:
    """Stop the session, shielded so that a second Ctrl-C does not cut the request short."""
    try:
        await asyncio.shield(stop_session(client, session))
        progress.line(f"session {session.session_id} stopped")
    except ClientError as error:
        progress.warn(str(error))


async def _save_output(
    summary: SessionSummary, collector: OutputCollector, path: Path, fps: Fraction
) -> None:
    segments = [bytes(data) for data in collector.segments if data]
    if not segments:
        return
    try:
        info = await asyncio.to_thread(write_output, segments, path, fps)
    except (OSError, av.FFmpegError) as error:
        raise ClientError(f"cannot write {path}: {error}", EXIT_STREAM) from error
    summary.output = str(path)
    summary.frames_received = info.frames
    summary.width, summary.height = info.width, info.height
    summary.duration_seconds = round(info.duration_seconds, 3)
