"""Real time for media time: when a frame is due, waiting for it, and the latency it shows."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable


class Pacer:
    """The frame at `pts` seconds is due `pts` seconds after start()."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.start_time: float | None = None

    def start(self) -> float:
        self.start_time = self._clock()
        return self.start_time

    def due_at(self, media_seconds: float) -> float:
        if self.start_time is None:
            self.start()
        assert self.start_time is not None
        return self.start_time + media_seconds

    def delay(self, media_seconds: float) -> float:
        """Seconds to wait before sending media time `media_seconds` (0 when late)."""
        return max(0.0, self.due_at(media_seconds) - self._clock())


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when stopped."""
    if stop.is_set():
        return True
    if seconds <= 0:
        return False
    # asyncio.wait, not wait_for: its timeout raises nothing (before Python 3.11, wait_for's
    # asyncio.TimeoutError is not the builtin TimeoutError).
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopping}, timeout=seconds)
    finally:
        stopping.cancel()
    return stop.is_set()


class LatencyTracker:
    """Output timestamps follow the input's, and input frame at media time t was sent at
    start + t: an output segment whose first frame has time t, arriving at wall time r, took
    r - (start + t). Implausible values (another time base) are left out."""

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self.samples: list[float] = []

    def observe(self, first_pts: float | None, arrived_at: float) -> None:
        if first_pts is None or self._pacer.start_time is None:
            return
        latency = arrived_at - self._pacer.due_at(first_pts)
        if 0.0 <= latency <= 120.0:
            self.samples.append(latency)

    def estimate(self) -> float | None:
        """The median, in seconds; None before any output."""
        return statistics.median(self.samples) if self.samples else None
