"""What one run is asked to do: the command line, parsed and checked (cli.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .orchestrator import DEFAULT_ORCHESTRATOR


@dataclass(frozen=True)
class ClientOptions:
    input: Path | None  # None: the sample pattern
    output: Path
    runner: str
    orchestrator: str = DEFAULT_ORCHESTRATOR
    params: dict[str, Any] = field(default_factory=dict)
    params_at: tuple[tuple[float, dict[str, Any]], ...] = ()
    width: int = 512
    height: int = 512
    fps: Fraction | None = None  # None: the input's, capped (frames.sending_fps)
    max_seconds: float | None = None
    drain_timeout: float = 5.0
    ready_timeout: float = 180.0
    insecure: bool = False  # skip TLS certificate checks
    json_summary: bool = False
    quiet: bool = False
