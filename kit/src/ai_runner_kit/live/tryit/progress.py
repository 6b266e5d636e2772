"""A progress bar with the live output rate, on stderr (stdout stays clean for --json). On a
terminal it redraws one line; elsewhere (a log, CI) it prints a line every few seconds."""

from __future__ import annotations

import sys
import time

BAR_WIDTH = 30
REDRAW_S = 0.2
LOG_EVERY_S = 5.0
RATE_WINDOW_S = 2.0


class ProgressBar:
    def __init__(self, expected_frames: int | None, quiet: bool = False) -> None:
        self._expected = expected_frames
        self._quiet = quiet
        self._terminal = sys.stderr.isatty()
        self._recent: list[float] = []  # output times in the last RATE_WINDOW_S
        self._drawn_at = 0.0
        self._frames = 0

    def update(self, frames_out: int) -> None:
        now = time.monotonic()
        self._frames = frames_out
        self._recent = [t for t in self._recent if now - t <= RATE_WINDOW_S] + [now]
        if now - self._drawn_at >= (REDRAW_S if self._terminal else LOG_EVERY_S):
            self._draw(now)

    def finish(self) -> None:
        if not self._quiet and self._frames:
            self._draw(time.monotonic())
            if self._terminal:
                print(file=sys.stderr, flush=True)

    def fps(self) -> float:
        if len(self._recent) < 2:
            return 0.0
        return (len(self._recent) - 1) / max(1e-9, self._recent[-1] - self._recent[0])

    def _draw(self, now: float) -> None:
        self._drawn_at = now
        if self._quiet:
            return
        if self._expected:
            done = min(1.0, self._frames / self._expected)
            filled = round(done * BAR_WIDTH)
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self._frames}/{self._expected}"
        else:
            bar = f"{self._frames} frames"
        line = f"{bar}  {self.fps():5.1f} fps"
        if self._terminal:
            print(f"\r{line}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
