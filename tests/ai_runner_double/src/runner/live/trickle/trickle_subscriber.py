"""Trickle subscriber of the ai-runner v0.14.1 offline double (aiohttp).

Same public names and signatures as ai-runner's `TrickleSubscriber` and `Segment`, written
from their behaviour against go-livepeer's trickle server:

- it starts at seq -2 (the segment being published, or the last one) unless told otherwise,
  then follows the server: after a segment with `Lp-Trickle-Seq: N` it asks for N + 1;
- while the caller reads a segment, the GET for the next one is already open (preconnect);
- a 470 ("channel exists, seq does not") jumps to `Lp-Trickle-Latest`; other failures are
  retried up to `max_retries` times, 0.5 s apart; a 404 means the channel is gone;
- a response carrying `Lp-Trickle-Closed` ends the subscription (`next()` returns None).

TLS certificates are not verified, as in ai-runner (orchestrators use self-signed ones).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

logger = logging.getLogger(__name__)

_RETRY_DELAY_S = 0.5
_SEGMENT_MISSING = 470
_DEFAULT_CHUNK_SIZE = 32 * 1024


class TrickleSubscriber:
    """Reads the segments of one trickle channel in order."""

    def __init__(self, url: str, start_seq: int = -2, max_retries: int = 5):
        self.base_url = url
        self.idx = start_seq
        self.max_retries = max_retries
        self.errored = False
        self.pending_get: aiohttp.ClientResponse | None = None
        self.lock = asyncio.Lock()
        self.session: aiohttp.ClientSession | None = None
        self._preconnect_task: asyncio.Task | None = None

    async def __aenter__(self) -> TrickleSubscriber:
        return self

    async def __aexit__(self, exc_type, exc_value, traceback) -> None:
        await self.close()

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))
        return self.session

    async def preconnect(self) -> aiohttp.ClientResponse | None:
        """Open the GET for the current seq; None when the channel is gone or retries ran out."""
        url = f"{self.base_url}/{self.idx}"
        for attempt in range(self.max_retries):
            logger.debug("trickle sub (double): GET %s (attempt %d)", url, attempt)
            try:
                response = await self._session().get(url, headers={"Connection": "close"})
            except Exception as error:
                logger.warning("trickle sub (double): GET %s failed: %s", url, error)
            else:
                if response.status == 200:
                    return response
                if response.status == 404:
                    logger.info("trickle sub (double): %s answered 404, channel gone", url)
                    response.release()
                    self.errored = True
                    return None
                if response.status == _SEGMENT_MISSING:
                    # The channel exists but not this seq: jump to the live edge at once.
                    latest = response.headers.get("Lp-Trickle-Latest") or "-1"
                    response.release()
                    url = f"{self.base_url}/{latest}"
                    logger.info("trickle sub (double): seq missing, resetting to %s", url)
                    continue
                body = await response.text()
                response.release()
                logger.error(
                    "trickle sub (double): GET %s answered %d: %s", url, response.status, body
                )
            if attempt < self.max_retries - 1:
                await asyncio.sleep(_RETRY_DELAY_S)
        logger.error("trickle sub (double): giving up on %s after %d tries", url, self.max_retries)
        self.errored = True
        return None

    async def next(self) -> Segment | None:
        """The next segment, or None when the subscription is over."""
        async with self.lock:
            if self.errored:
                logger.info("trickle sub (double): %s is closed or errored", self.base_url)
                return None
            if self.pending_get is None:
                self.pending_get = await self.preconnect()
            response, self.pending_get = self.pending_get, None
            if response is None:
                return None
            segment = Segment(response)
            if segment.eos():
                await segment.close()
                return None
            seq = segment.seq()
            if seq >= 0:
                self.idx = seq + 1
            self._preconnect_task = asyncio.create_task(self._preconnect_next_segment())
        return segment

    async def _preconnect_next_segment(self) -> None:
        async with self.lock:
            if self.pending_get is None and not self.errored:
                self.pending_get = await self.preconnect()

    async def close(self) -> None:
        """Drop the preconnected GET and close the HTTP session."""
        logger.debug("trickle sub (double): closing %s", self.base_url)
        task, self._preconnect_task = self._preconnect_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with self.lock:
            if self.pending_get is not None:
                self.pending_get.close()
                self.pending_get = None
            session, self.session = self.session, None
            if session is not None:
                try:
                    await session.close()
                except Exception:
                    logger.exception("trickle sub (double): error closing the session")


class Segment:
    """One segment being received: read() it chunk by chunk until it returns b""."""

    def __init__(self, response: aiohttp.ClientResponse):
        self.response = response

    def seq(self) -> int:
        """The seq the server says this is (`Lp-Trickle-Seq`), or -1 when absent."""
        try:
            return int(self.response.headers.get("Lp-Trickle-Seq", ""))
        except ValueError:
            return -1

    def eos(self) -> bool:
        """True when the server says the channel is closed (`Lp-Trickle-Closed`)."""
        return self.response.headers.get("Lp-Trickle-Closed") is not None

    async def read(self, chunk_size: int = _DEFAULT_CHUNK_SIZE) -> bytes | None:
        """Up to chunk_size bytes; b"" at the end of the segment (which also closes it)."""
        if self.response is None:
            return None
        chunk = await self.response.content.read(chunk_size)
        if not chunk:
            await self.close()
        return chunk

    async def close(self) -> None:
        if self.response is not None and not self.response.closed:
            self.response.release()
            self.response.close()
