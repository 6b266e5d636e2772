"""A DOUBLE of go-livepeer's trickle server, for CI without go-livepeer. It is not the real one.

It speaks the trickle protocol (go-livepeer trickle/README.md) with the status codes and headers
of go-livepeer's trickle/trickle_server.go, checked by running tests/test_livepeer_double_trickle.py
against the real server too (set TRICKLE_SERVER_URL):

- ``POST {base}{channel}/{seq}`` publishes a segment while it streams in; ``seq=-1`` is the next
  seq. ``Lp-Trickle-Seq`` answers the seq written. ``Lp-Trickle-Reset`` closes older segments.
  A preconnected POST that is still empty answers ``200`` (plus ``Lp-Trickle-Closed`` when the
  channel closed) as soon as its segment closes; it sends ``100 Continue`` every
  ``first_byte_timeout`` seconds while it waits, like the real server's keepalive.
- ``GET {base}{channel}/{seq}`` streams a segment, waiting for it when it is the next one;
  ``-1`` is the next publish, ``-2`` the current one. ``470`` plus ``Lp-Trickle-Latest`` when the
  seq is out of the 5-segment retention or too far ahead; ``404`` for an unknown channel.
- ``GET {base}{channel}/next``: the next seq as text and in ``Lp-Trickle-Latest``.
- ``DELETE {base}{channel}`` closes a channel (``400`` when unknown, like the real server);
  ``DELETE {base}{channel}/{seq}`` closes one segment.
- ``POST {base}{channel}`` creates a channel (MIME type from ``Expect-Content``) when
  ``autocreate`` is on; otherwise channels come from :meth:`TrickleServerDouble.create_channel`.
- Channels with no publish for ``idle_timeout`` seconds are closed (the real sweep).

It does NOT do: the ``_changes`` changefeed, the BeforeCreate/BeforeDelete hooks, TLS, HTTP/2,
``Lp-Trickle-Size`` or ``-N`` seqs (TODO in the real server too), and it keeps every segment's
bytes in one bytearray instead of paged buffers. A negative seq the real server does not know
(``< -1`` on POST, ``< -2`` on GET, ``< 0`` on DELETE) crashes the real handler, which drops the
connection; the double drops the connection too.

Run standalone: ``python -m tests.livepeer_double.trickle_server --port 0 [--autocreate]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import time

from aiohttp import web

from .go_http import go_mux_errors, http_error
from .trickle_channels import Channel

log = logging.getLogger("livepeer_double.trickle")

DEFAULT_BASE_PATH = "/ai/trickle/"  # go-livepeer's TrickleHTTPPath
DOUBLE_NOTICE = "DOUBLE of go-livepeer's trickle server (tests/livepeer_double), not go-livepeer"

# Go's strconv.Atoi accepts an optional sign and digits, nothing else (no spaces, no `_`).
_SEQ_PATTERN = re.compile(r"[+-]?[0-9]+")


def _parse_seq(text: str) -> int | None:
    return int(text) if _SEQ_PATTERN.fullmatch(text) else None


def _drop_connection(request: web.Request) -> web.Response:
    # The real handler indexes its segment ring with a negative number, panics, and Go's
    # server closes the connection without an answer. A client sees the same here.
    log.info("seq in %s would crash go-livepeer's handler: dropping the connection", request.path)
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


class TrickleServerDouble:
    """Trickle channels plus the aiohttp routes that serve them under ``base_path``."""

    def __init__(
        self,
        base_path: str = DEFAULT_BASE_PATH,
        *,
        autocreate: bool = False,
        idle_timeout: float = 300.0,
        sweep_interval: float = 60.0,
        first_byte_timeout: float = 10.0,
    ) -> None:
        if not base_path.startswith("/") or not base_path.endswith("/"):
            raise ValueError(f"base path must start and end with '/': {base_path!r}")
        self.base_path = base_path
        self.autocreate = autocreate
        self.idle_timeout = idle_timeout
        self.sweep_interval = sweep_interval
        self.first_byte_timeout = first_byte_timeout
        self.channels: dict[str, Channel] = {}

    # In-process API: what go-livepeer's LocalPublisher.CreateChannel / Close do.

    def create_channel(self, name: str, mime_type: str = "") -> Channel:
        """Create (or return the existing) channel `name`, whatever `autocreate` says."""
        return self._channel(name, mime_type, force_create=True)  # type: ignore[return-value]

    def close_channel(self, name: str) -> bool:
        """Close `name`: waiting subscribers and publishers end, later requests get 404."""
        channel = self.channels.pop(name, None)
        if channel is None:
            return False
        channel.close()
        log.info("closed channel %s", name)
        return True

    def close_all(self) -> None:
        for name in list(self.channels):
            self.close_channel(name)

    # aiohttp wiring

    def add_routes(self, app: web.Application) -> None:
        base = self.base_path
        # `next` must come before `{seq}` so GET .../next is not read as a seq.
        app.router.add_get(base + "{channel}/next", self._get_next)
        app.router.add_get(base + "{channel}/{seq}", self._get_segment)
        app.router.add_post(base + "{channel}/{seq}", self._post_segment)
        app.router.add_delete(base + "{channel}/{seq}", self._delete_segment)
        app.router.add_post(base + "{channel}", self._post_create)
        app.router.add_delete(base + "{channel}", self._delete_channel)
        app.cleanup_ctx.append(self._sweep_while_running)

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[go_mux_errors])
        self.add_routes(app)
        return app

    async def _sweep_while_running(self, _app: web.Application):
        task = asyncio.create_task(self._sweep_forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.close_all()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            self.sweep_idle_channels()

    def sweep_idle_channels(self) -> None:
        now = time.monotonic()
        for name, channel in list(self.channels.items()):
            # Internal channels (leading `_`, like the changefeed) are never swept.
            if not name.startswith("_") and now - channel.write_time > self.idle_timeout:
                self.close_channel(name)

    def _channel(self, name: str, mime_type: str, *, force_create: bool) -> Channel | None:
        channel = self.channels.get(name)
        if channel is None and (force_create or self.autocreate):
            channel = self.channels[name] = Channel(name, mime_type)
            log.info("created channel %s (%s)", name, mime_type or "no MIME type")
        return channel

    # Handlers

    async def _post_create(self, request: web.Request) -> web.Response:
        name = request.match_info["channel"]
        if self._channel(name, request.headers.get("Expect-Content", ""), force_create=False):
            return web.Response(status=200)
        return http_error(404, "Stream not found")

    async def _delete_channel(self, request: web.Request) -> web.Response:
        if self.close_channel(request.match_info["channel"]):
            return web.Response(status=200)
        return http_error(400, "Invalid stream")

    async def _delete_segment(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return http_error(404, "Stream not found")
        seq = _parse_seq(request.match_info["seq"])
        if seq is None:
            return http_error(400, "Invalid idx")
        if seq < 0:
            return _drop_connection(request)
        segment = channel.segments[seq % len(channel.segments)]
        if segment is None or segment.seq != seq:
            return http_error(400, "Nonexistent segment")
        segment.close()
        return web.Response(status=200)

    async def _get_next(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return http_error(404, "Stream not found")
        headers = {"Lp-Trickle-Latest": str(channel.next_write)}
        if channel.closed:
            headers["Lp-Trickle-Closed"] = "terminated"
        return web.Response(
            text=str(channel.next_write), content_type="text/plain", headers=headers
        )

    async def _post_segment(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["channel"]
        channel = self._channel(name, request.headers.get("Content-Type", ""), force_create=False)
        if channel is None:
            # The real server adds Connection: close to wake preconnected Go publishers.
            response = http_error(404, "Stream not found", Connection="close")
            response.force_close()
            return response
        seq = _parse_seq(request.match_info["seq"])
        if seq is None:
            return http_error(400, "Invalid idx")
        if seq < -1:
            return _drop_connection(request)
        return await _publish(request, channel, seq, self.first_byte_timeout)

    async def _get_segment(self, request: web.Request) -> web.StreamResponse:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return http_error(404, "Stream not found")
        seq = _parse_seq(request.match_info["seq"])
        if seq is None:
            return http_error(400, "Invalid idx")
        if seq < -2:
            return _drop_connection(request)
        return await _subscribe(request, channel, seq)


async def _publish(
    request: web.Request, channel: Channel, seq: int, first_byte_timeout: float
) -> web.StreamResponse:
    segment = channel.segment_for_write(seq)
    if request.headers.get("Lp-Trickle-Reset"):
        # The publisher restarted: unblock subscribers of older segments, keep newer ones
        # (preconnects sometimes arrive out of order).
        channel.close_segments_before(segment.seq)
    total = 0
    try:
        while True:
            if total == 0:
                chunk = await _first_chunk(request, segment, first_byte_timeout)
            else:
                chunk = await request.content.readany()
            if not chunk:
                break
            if total == 0:
                channel.started_publish(segment.seq)
            segment.write(chunk)
            total += len(chunk)
    except Exception as error:  # a body cut short: aiohttp raises several kinds
        # Like the real server the segment stays open: the publisher may retry the same seq.
        log.info("publish %s/%d failed after %d bytes: %r", channel.name, seq, total, error)
        return http_error(500, "Server error")
    headers = {"Lp-Trickle-Seq": str(segment.seq)}
    if total == 0:
        # A preconnect that ended (or was closed) empty still moves the channel on, so the
        # next seq does not error out for clients.
        channel.started_publish(segment.seq)
        if channel.closed:
            headers["Lp-Trickle-Closed"] = "terminated"
        headers["Connection"] = "close"
    segment.close()
    log.info("published %s/%d: %d bytes", channel.name, segment.seq, total)
    response = web.Response(status=200, headers=headers)
    if total == 0:
        response.force_close()
    return response


async def _first_chunk(request: web.Request, segment, first_byte_timeout: float) -> bytes:
    """The first body bytes, or b"" once the segment closes before any arrived."""
    if segment.closed:
        return b""
    read = asyncio.ensure_future(request.content.readany())
    closed = asyncio.ensure_future(segment.closed_event.wait())
    try:
        while True:
            done, _ = await asyncio.wait(
                {read, closed}, timeout=first_byte_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if read in done:
                return read.result()
            if closed in done:
                return b""
            # Keepalive for a long preconnect: an informational response, as Go does.
            if request.transport is not None and not request.transport.is_closing():
                request.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    finally:
        for task in (read, closed):
            if not task.done():
                task.cancel()


async def _subscribe(request: web.Request, channel: Channel, seq: int) -> web.StreamResponse:
    segment, latest = channel.segment_for_read(seq)
    if segment is None:
        # Lp-Trickle-Seq echoes the seq as asked (-1 stays -1), as the real server does.
        headers = {"Lp-Trickle-Latest": str(latest), "Lp-Trickle-Seq": str(seq)}
        status = 470  # "the channel exists but this seq does not": clients jump to Latest
        if channel.closed:
            headers["Lp-Trickle-Closed"] = "terminated"
            status = 200
        response = web.Response(
            status=status,
            reason=f"status code {status}" if status == 470 else None,
            text="Entry not found",
            headers=headers,
        )
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response
    response: web.StreamResponse | None = None
    position = 0
    while True:
        chunk, end = await segment.read_from(position)
        if chunk:
            if response is None:
                response = web.StreamResponse(status=200)
                if segment.seq != latest:
                    response.headers["Lp-Trickle-Latest"] = str(latest)
                response.headers["Lp-Trickle-Seq"] = str(segment.seq)
                response.headers["Content-Type"] = channel.mime_type
                response.enable_chunked_encoding()
                await response.prepare(request)
            await response.write(chunk)
            position += len(chunk)
        if end:
            break
    if response is not None:
        await response.write_eof()
        return response
    # Nothing was ever written: an empty 200 that says where the channel is now.
    headers = {"Lp-Trickle-Seq": str(segment.seq), "Lp-Trickle-Latest": str(channel.next_write)}
    if channel.closed:
        headers["Lp-Trickle-Closed"] = "terminated"
    return web.Response(status=200, headers=headers)


async def serve(host: str, port: int, server: TrickleServerDouble) -> None:
    runner = web.AppRunner(server.make_app(), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    log.warning("%s: serving %s", DOUBLE_NOTICE, server.base_path)
    print(f"listening on http://{host}:{bound_port}{server.base_path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # closes every channel, so waiting clients get their answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"Run the {DOUBLE_NOTICE}.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--base-path", default=DEFAULT_BASE_PATH)
    parser.add_argument(
        "--autocreate", action="store_true", help="a POST to an unknown channel creates it"
    )
    parser.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS")
    parser.add_argument("--sweep-interval", type=float, default=60.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = TrickleServerDouble(
        args.base_path,
        autocreate=args.autocreate,
        idle_timeout=args.idle_timeout,
        sweep_interval=args.sweep_interval,
    )
    asyncio.run(serve(args.host, args.port, server))


if __name__ == "__main__":
    main()
