"""What one run did, for people (lines) and for scripts (one JSON object)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_runner_kit.measure import percentile_ms

PERCENTILES = (50, 95, 99)


def latency_percentiles_ms(latencies_s: list[float]) -> dict[str, float | None]:
    """p50, p95 and p99 of put -> get latency, in ms, as every report of the project computes
    them (measure.percentile_ms); None without outputs."""
    return {
        f"p{percent}": percentile_ms(latencies_s, percent) if latencies_s else None
        for percent in PERCENTILES
    }


@dataclass
class TryReport:
    source: str  # what was read: a path, "sample" or "camera <device>"
    kind: str  # video, sample, camera or images
    output: str | None = None
    contact_sheet: str | None = None
    input_fps: float | None = None  # the rate frames were sent at; None for images
    width: int = 0  # output size
    height: int = 0
    frames_in: int = 0
    frames_out: int = 0
    loading_frames: int = 0  # outputs that were ai-runner's loading overlay
    param_changes: int = 0  # update_params calls that were accepted, the first included
    elapsed_s: float = 0.0
    output_fps: float = 0.0
    latency_ms: dict[str, float | None] = field(default_factory=dict)  # pipeline outputs only
    interrupted: bool = False

    @property
    def skipped(self) -> int:
        return self.frames_in - self.frames_out

    def as_json(self) -> dict:
        return {key: getattr(self, key) for key in (*self.__dataclass_fields__, "skipped")}

    def lines(self) -> list[str]:
        rate = f" at {self.input_fps:.3f} fps" if self.input_fps else ", each once"
        latency = ", ".join(
            f"{name} {value:.1f} ms" if value is not None else f"{name} n/a"
            for name, value in self.latency_ms.items()
        )
        lines = [
            f"frames in    : {self.frames_in} ({self.kind}{rate})",
            f"frames out   : {self.frames_out} at {self.width}x{self.height}, {self.skipped} "
            f"skipped (the pipeline works on the newest frame), {self.loading_frames} loading",
            f"speed        : {self.output_fps:.1f} fps out over {self.elapsed_s:.1f} s",
            f"latency      : {latency} (put -> get)",
        ]
        if self.interrupted:
            lines.append("interrupted  : the input was cut short by Ctrl-C")
        lines.append(f"output       : {self.output or '-'}")
        lines.append(f"contact sheet: {self.contact_sheet or '-'} (input above, output below)")
        return lines
