"""What one run did: counts, output size, latency, and the error that ended it, if any."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SessionSummary:
    output: str | None
    fps: float
    frames_sent: int = 0
    segments_sent: int = 0
    frames_received: int = 0
    segments_received: int = 0
    width: int | None = None
    height: int | None = None
    duration_seconds: float = 0.0
    latency_seconds: float | None = None  # median, input frame sent -> its output arriving
    param_updates: int = 0
    interrupted: bool = False
    error: str | None = None

    def lines(self) -> list[str]:
        size = f"{self.width}x{self.height}" if self.width else "no video"
        latency = f"~{self.latency_seconds:.2f} s" if self.latency_seconds is not None else "n/a"
        return [
            f"frames sent:     {self.frames_sent} in {self.segments_sent} segments "
            f"at {self.fps:g} fps",
            f"frames received: {self.frames_received} in {self.segments_received} segments",
            f"output:          {size}, {self.duration_seconds:.2f} s -> {self.output or '-'}",
            f"latency:         {latency} (median, frame sent to its output segment arriving)",
        ]
