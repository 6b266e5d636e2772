"""Frames and trickle transport of the ai-runner v0.14.1 offline double.

The frame classes are imported eagerly and stay free of torch, av and numpy, so a params
module importing runner.live.* stays light (see the README, "Stricter than upstream").
The transport names ai-runner exports here (run_subscribe, run_publish, TrickleSubscriber,
TricklePublisher) are the double's own implementations with ai-runner's signatures; they
are imported on first use, and run_subscribe/run_publish then import torch and av.
"""

from __future__ import annotations

import importlib
from typing import Any

from .frame import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    AudioFrame,
    AudioOutput,
    InputFrame,
    OutputFrame,
    VideoFrame,
    VideoOutput,
)

__all__ = [
    "DEFAULT_HEIGHT",
    "DEFAULT_WIDTH",
    "AudioFrame",
    "AudioOutput",
    "InputFrame",
    "OutputFrame",
    "TricklePublisher",
    "TrickleSubscriber",
    "VideoFrame",
    "VideoOutput",
    "run_publish",
    "run_subscribe",
]

_LAZY_NAMES = {
    "run_subscribe": ".media",
    "run_publish": ".media",
    "TrickleSubscriber": ".trickle_subscriber",
    "TricklePublisher": ".trickle_publisher",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value
