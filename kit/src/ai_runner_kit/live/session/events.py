"""The session's events channel, read in the background: ai-runner publishes its monitoring
events there, one JSON object a segment, `{"event": {...}, "queue_event_type": ...}`. Most
are status reports; an error (`"type": "error"`, with a `message`) or a restart of the
pipeline is printed as a warning. Events never fail the run."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .errors import ClientError
from .progress import Progress
from .trickle import TrickleSubscriber


def event_warning(data: bytes) -> str | None:
    """What to warn about for one events segment: None unless it is an error or a restart."""
    try:
        event: Any = json.loads(data)
    except ValueError:
        return None
    if isinstance(event, dict) and isinstance(event.get("event"), dict):
        event = event["event"]
    if not isinstance(event, dict):
        return None
    kind = str(event.get("type", ""))
    if kind == "restart":
        return f"the runner restarted the pipeline (restart {event.get('restart_count', '?')})"
    if "error" not in kind.lower() and not event.get("error"):
        return None
    detail = event.get("message") or event.get("error") or kind
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    return f"the runner reported an error: {detail}"


class EventWarnings:
    """A SegmentSink for the events channel: warns once about each distinct error."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._data = bytearray()
        self._said: set[str] = set()

    def begin_segment(self, seq: int) -> None:
        self._data = bytearray()

    def add_data(self, data: bytes) -> None:
        self._data += data

    async def end_segment(self) -> None:
        warning = event_warning(bytes(self._data))
        if warning is not None and warning not in self._said:
            self._said.add(warning)
            self._progress.warn(warning)


async def watch_events(client: httpx.AsyncClient, channel_url: str, progress: Progress) -> None:
    """Read the events channel from its first segment until it closes (or this is cancelled)."""
    subscriber = TrickleSubscriber(client, channel_url, name="events", start_seq=0)
    try:
        await subscriber.run(EventWarnings(progress))
    except (ClientError, httpx.HTTPError) as error:
        progress.line(f"stopped reading the runner's events: {error}")
