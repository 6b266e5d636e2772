"""Frame types of the ai-runner v0.14.1 offline double.

The real package also exports the trickle transport (run_subscribe, run_publish,
TrickleSubscriber, TricklePublisher). The double has no transport: those names raise
an AttributeError that says so instead of pretending to stream.
"""

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
    "VideoFrame",
    "VideoOutput",
]

_TRANSPORT_NAMES = ("run_subscribe", "run_publish", "TrickleSubscriber", "TricklePublisher")


def __getattr__(name: str):
    if name in _TRANSPORT_NAMES:
        raise AttributeError(
            f"runner.live.trickle.{name} is not available: this is the offline double of "
            "ai-runner v0.14.1, which has no trickle transport. Use the real ai-runner to stream."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
