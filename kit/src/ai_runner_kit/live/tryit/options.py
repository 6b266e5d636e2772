"""What one run is asked to do: the command line, parsed and checked (cli.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT_FOLDER = Path("try-output")


@dataclass(frozen=True)
class TryOptions:
    source: Path | None = None  # a video, an image or a folder of images; None: sample/camera
    camera: str | None = None  # None: no camera; "": the first one
    params: dict[str, Any] = field(default_factory=dict)  # the stream's first parameter set
    params_at: tuple[tuple[float, dict[str, Any]], ...] = ()  # later sets, in time order
    width: int | None = None  # None: the params' width, else ai-runner's default
    height: int | None = None
    seconds: float | None = None  # at most this much of a stream
    side_by_side: bool = False
    output: Path | None = None  # None: under OUTPUT_FOLDER, named after the input
    contact_sheet: Path | None = None
    json_summary: bool = False
    prepare: bool = True
    quiet: bool = False
