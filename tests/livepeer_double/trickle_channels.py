"""In-memory channel and segment state of the trickle server DOUBLE (not go-livepeer's code).

The behaviour mirrors what go-livepeer's trickle/trickle_server.go does, as documented in
trickle/README.md and observed against the real server: a channel keeps a ring of
RETAINED_SEGMENTS segments indexed by `seq % RETAINED_SEGMENTS`, so an old seq is gone as soon as
a newer seq lands in its slot. Everything here runs on one asyncio loop, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import time

# go-livepeer keeps the last 5 segments of a channel (maxSegmentsPerStream).
RETAINED_SEGMENTS = 5


class Segment:
    """One seq of a channel: bytes that grow while the publisher writes, then closed."""

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.data = bytearray()
        self.closed = False
        # Set once; a preconnected publisher that has sent nothing yet waits on it.
        self.closed_event = asyncio.Event()
        # Replaced on every change so each waiting subscriber wakes exactly once per change.
        self._changed = asyncio.Event()

    def write(self, chunk: bytes) -> None:
        # Like the real server, bytes that arrive after close are still appended: a publisher
        # that already started keeps writing even when the segment was closed under it.
        self.data += chunk
        self._notify()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.closed_event.set()
            self._notify()

    def is_fresh(self) -> bool:
        return not self.closed and not self.data

    async def read_from(self, position: int) -> tuple[bytes, bool]:
        """Wait for bytes past `position`; return (bytes, end_of_segment)."""
        while True:
            if position < len(self.data):
                return bytes(self.data[position:]), self.closed
            if self.closed:
                return b"", True
            changed = self._changed
            await changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


class Channel:
    """A named stream of segments with the real server's seq bookkeeping."""

    def __init__(self, name: str, mime_type: str) -> None:
        self.name = name
        self.mime_type = mime_type
        self.segments: list[Segment | None] = [None] * RETAINED_SEGMENTS
        # The seq a publisher of seq -1, or a subscriber of seq -1, gets next.
        self.next_write = 0
        # Last time a publish started; the idle sweep closes channels that stay quiet.
        self.write_time = time.monotonic()
        self.closed = False

    def segment_for_write(self, seq: int) -> Segment:
        if seq == -1:
            seq = self.next_write
        slot = seq % RETAINED_SEGMENTS
        existing = self.segments[slot]
        if existing is not None:
            if existing.seq == seq:
                # A preconnect by a subscriber (or a repeated POST) already made it.
                return existing
            # An older seq lives in the slot: it leaves retention now.
            existing.close()
        segment = Segment(seq)
        self.segments[slot] = segment
        return segment

    def segment_for_read(self, seq: int) -> tuple[Segment | None, int]:
        """Return (the segment, or None when it is not retained, next_write at lookup time)."""
        if seq == -1:
            seq = self.next_write  # the live edge: the next publish
        elif seq == -2:
            seq = max(self.next_write - 1, 0)  # the segment being (or last) published
        slot = seq % RETAINED_SEGMENTS
        segment = self.segments[slot]
        exists = segment is not None and segment.seq == seq
        # A subscriber may arrive slightly before the publisher: the real server pre-creates
        # the next seq (and seq 1 before anything was written) so the GET can wait for it.
        just_ahead = seq == self.next_write or (self.next_write == 0 and seq == 1)
        if not exists and just_ahead and not self.closed:
            segment = Segment(seq)
            self.segments[slot] = segment
            exists = True
        return (segment if exists else None), self.next_write

    def started_publish(self, seq: int) -> None:
        self.next_write = seq + 1
        self.write_time = time.monotonic()

    def close_segments_before(self, seq: int) -> None:
        for segment in self.segments:
            if segment is not None and segment.seq < seq:
                segment.close()

    def close(self) -> None:
        for segment in self.segments:
            if segment is not None:
                segment.close()
        self.segments = [None] * RETAINED_SEGMENTS
        self.closed = True
