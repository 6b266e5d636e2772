"""Protocol tests of the trickle server double (tests/livepeer_double/trickle_server.py).

Set TRICKLE_SERVER_URL to a real go-livepeer trickle server (autocreate on) to run the same
tests against it; the few that need the double's own options are skipped then.
"""

from __future__ import annotations

import asyncio
import errno
import os
import uuid

import aiohttp
import pytest
from yarl import URL

from tests.livepeer_double.fixtures import EXTERNAL_TRICKLE_ENV, run_trickle_server
from tests.livepeer_double.trickle_server import TrickleServerDouble

WAIT = 5  # seconds before a step that should happen at once is declared hung
double_only = pytest.mark.skipif(
    bool(os.environ.get(EXTERNAL_TRICKLE_ENV)), reason="needs the double's own options"
)


@pytest.fixture(scope="module")
def trickle():
    with run_trickle_server() as server:
        yield server
    # A handler that crashed would have answered 500 somewhere; make it visible.
    assert "Traceback" not in server.logs(), server.logs()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def channel(trickle) -> str:
    return trickle.channel_url(f"test-{uuid.uuid4().hex[:10]}")


class SlowBody:
    """A request body the test releases chunk by chunk, like ai-runner's queue-fed POSTs."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def chunks(self):
        while (chunk := await self.queue.get()) is not None:
            yield chunk

    def send(self, chunk: bytes) -> None:
        self.queue.put_nowait(chunk)

    def end(self) -> None:
        self.queue.put_nowait(None)


async def publish(http, url: str, data: bytes, **headers: str) -> aiohttp.ClientResponse:
    headers.setdefault("Content-Type", "text/plain")
    async with asyncio.timeout(WAIT), http.post(url, data=data, headers=headers) as response:
        await response.read()
        return response


async def fetch(http, url: str) -> tuple[aiohttp.ClientResponse, bytes]:
    async with asyncio.timeout(WAIT), http.get(url) as response:
        return response, await response.read()


async def publish_many(http, channel: str, count: int) -> None:
    for seq in range(count):
        response = await publish(http, f"{channel}/{seq}", f"segment {seq}".encode())
        assert response.status == 200


async def still_waiting(task: asyncio.Task, seconds: float = 0.3) -> bool:
    await asyncio.sleep(seconds)
    return not task.done()


async def test_a_published_segment_can_be_read_back_with_its_seq_and_mime_type(http, channel):
    response = await publish(http, f"{channel}/0", b"hello", **{"Content-Type": "video/mp2t"})
    assert response.status == 200
    assert response.headers["Lp-Trickle-Seq"] == "0"

    response, body = await fetch(http, f"{channel}/0")
    assert response.status == 200
    assert body == b"hello"
    assert response.headers["Lp-Trickle-Seq"] == "0"
    assert response.headers["Content-Type"] == "video/mp2t"
    # Latest is only sent when it differs from the seq served: here next is 1.
    assert response.headers["Lp-Trickle-Latest"] == "1"


async def test_a_subscriber_gets_bytes_while_the_segment_is_still_being_published(http, channel):
    await publish(http, f"{channel}/0", b"first segment")
    body = SlowBody()
    posting = asyncio.create_task(http.post(f"{channel}/1", data=body.chunks()))
    body.send(b"part one;")
    async with asyncio.timeout(WAIT), http.get(f"{channel}/1") as response:
        assert response.status == 200
        assert response.headers["Lp-Trickle-Seq"] == "1"
        assert response.headers.get("Transfer-Encoding") == "chunked"
        assert await response.content.readexactly(9) == b"part one;"
        body.send(b"part two")
        assert await response.content.readexactly(8) == b"part two"
        body.end()
        assert await response.content.read() == b""
    async with asyncio.timeout(WAIT):
        post_response = await posting
    assert post_response.status == 200
    assert post_response.headers["Lp-Trickle-Seq"] == "1"


async def test_a_subscriber_of_the_next_seq_waits_for_its_publish(http, channel):
    await publish(http, f"{channel}/0", b"zero")
    subscriber = asyncio.create_task(fetch(http, f"{channel}/1"))
    assert await still_waiting(subscriber)
    await publish(http, f"{channel}/1", b"one")
    response, body = await subscriber
    assert (response.status, body, response.headers["Lp-Trickle-Seq"]) == (200, b"one", "1")


async def test_seq_1_may_be_preconnected_before_anything_was_published(http, channel):
    await http.post(channel)  # create the (empty) channel
    subscriber = asyncio.create_task(fetch(http, f"{channel}/1"))
    assert await still_waiting(subscriber)
    await publish(http, f"{channel}/0", b"zero")
    await publish(http, f"{channel}/1", b"one")
    _, body = await subscriber
    assert body == b"one"


async def test_a_seq_beyond_the_preconnect_grace_is_470_with_the_latest_seq(http, channel):
    await publish_many(http, channel, 2)
    response, body = await fetch(http, f"{channel}/5")
    assert response.status == 470
    assert body == b"Entry not found"
    assert response.headers["Lp-Trickle-Latest"] == "2"
    assert response.headers["Lp-Trickle-Seq"] == "5"
    assert "Lp-Trickle-Closed" not in response.headers


async def test_minus_one_waits_for_the_live_edge(http, channel):
    await publish_many(http, channel, 2)
    subscriber = asyncio.create_task(fetch(http, f"{channel}/-1"))
    assert await still_waiting(subscriber)
    await publish(http, f"{channel}/2", b"live")
    response, body = await subscriber
    assert (body, response.headers["Lp-Trickle-Seq"]) == (b"live", "2")


async def test_minus_two_reads_the_most_recent_segment(http, channel):
    await publish_many(http, channel, 3)
    response, body = await fetch(http, f"{channel}/-2")
    assert (body, response.headers["Lp-Trickle-Seq"]) == (b"segment 2", "2")


async def test_publishing_to_minus_one_writes_the_next_seq(http, channel):
    await publish_many(http, channel, 2)
    response = await publish(http, f"{channel}/-1", b"appended")
    assert response.headers["Lp-Trickle-Seq"] == "2"
    _, body = await fetch(http, f"{channel}/2")
    assert body == b"appended"


async def test_next_reports_the_next_seq_in_body_and_header(http, channel):
    await publish_many(http, channel, 3)
    response, body = await fetch(http, f"{channel}/next")
    assert (response.status, body, response.headers["Lp-Trickle-Latest"]) == (200, b"3", "3")
    assert "Lp-Trickle-Closed" not in response.headers


async def test_unknown_channels_are_404_and_deleting_one_is_400(http, trickle):
    missing = trickle.channel_url(f"missing-{uuid.uuid4().hex[:8]}")
    for path in ("/0", "/-1", "/next"):
        response, body = await fetch(http, missing + path)
        assert (response.status, body) == (404, b"Stream not found\n")
    async with http.delete(missing) as response:
        assert (response.status, await response.read()) == (400, b"Invalid stream\n")


async def test_a_seq_that_is_not_a_number_is_400(http, channel):
    await publish_many(http, channel, 1)
    for seq in ("abc", "1.5", " 1"):
        response, body = await fetch(http, f"{channel}/{seq}")
        assert (response.status, body) == (400, b"Invalid idx\n"), seq
    response = await publish(http, f"{channel}/x", b"data")
    assert response.status == 400


async def assert_dropped_without_an_answer(request) -> None:
    # A dropped connection reaches the client as a clean EOF or, when the server closes with
    # the request body still unread in its socket (a POST), as a reset: the kernel answers
    # unread data with RST. Go's server and the double both close that way; which of the
    # two the client sees is a race, so both count. Any HTTP answer at all fails.
    try:
        await request
    except aiohttp.ServerDisconnectedError:
        return
    except aiohttp.ClientOSError as error:
        assert error.errno == errno.ECONNRESET, error
        return
    pytest.fail("the server answered instead of dropping the connection")


async def test_unknown_negative_seqs_drop_the_connection_like_the_real_server(http, channel):
    # go-livepeer indexes its segment ring with the negative number and panics.
    await publish_many(http, channel, 1)
    await assert_dropped_without_an_answer(fetch(http, f"{channel}/-3"))
    await assert_dropped_without_an_answer(publish(http, f"{channel}/-2", b"data"))


async def test_only_the_last_five_segments_are_kept(http, channel):
    await publish_many(http, channel, 7)
    for seq in (0, 1):
        response, _ = await fetch(http, f"{channel}/{seq}")
        assert response.status == 470
        assert response.headers["Lp-Trickle-Latest"] == "7"
    for seq in range(2, 7):
        response, body = await fetch(http, f"{channel}/{seq}")
        assert (response.status, body) == (200, f"segment {seq}".encode())


async def test_deleting_a_channel_ends_waiting_subscribers_and_preconnected_publishers(
    http, channel
):
    await publish_many(http, channel, 1)
    subscriber = asyncio.create_task(fetch(http, f"{channel}/1"))
    body = SlowBody()
    publisher = asyncio.create_task(http.post(f"{channel}/2", data=body.chunks()))
    assert await still_waiting(subscriber)
    async with http.delete(channel) as response:
        assert response.status == 200

    response, data = await subscriber
    assert (response.status, data) == (200, b"")
    assert response.headers["Lp-Trickle-Closed"] == "terminated"
    assert response.headers["Lp-Trickle-Seq"] == "1"
    async with asyncio.timeout(WAIT):
        post_response = await publisher
    assert post_response.status == 200
    assert post_response.headers["Lp-Trickle-Closed"] == "terminated"
    assert post_response.headers["Lp-Trickle-Seq"] == "2"
    body.end()

    for path in ("/0", "/next"):
        response, _ = await fetch(http, channel + path)
        assert response.status == 404


async def test_an_empty_publish_closes_the_segment_and_moves_the_channel_on(http, channel):
    # ai-runner's publisher ends its preconnected POST empty when it closes.
    await publish_many(http, channel, 1)
    subscriber = asyncio.create_task(fetch(http, f"{channel}/1"))
    assert await still_waiting(subscriber)
    response = await publish(http, f"{channel}/1", b"")
    assert response.status == 200
    assert response.headers["Lp-Trickle-Seq"] == "1"
    assert "Lp-Trickle-Closed" not in response.headers

    response, data = await subscriber
    assert (response.status, data) == (200, b"")
    assert response.headers["Lp-Trickle-Seq"] == "1"
    assert response.headers["Lp-Trickle-Latest"] == "2"
    assert "Lp-Trickle-Closed" not in response.headers


async def test_reset_closes_older_segments_that_a_publisher_left_open(http, channel):
    # A publisher died mid-segment 1; its subscriber would wait forever.
    await publish_many(http, channel, 1)
    abandoned = SlowBody()
    stuck_post = asyncio.create_task(http.post(f"{channel}/1", data=abandoned.chunks()))
    abandoned.send(b"half")
    async with asyncio.timeout(WAIT), http.get(f"{channel}/1") as response:
        assert await response.content.readexactly(4) == b"half"
        rest = asyncio.create_task(response.content.read())
        # A restart without the reset header leaves the old segment open ...
        await publish(http, f"{channel}/2", b"two")
        assert await still_waiting(rest)
        # ... with it, older segments are closed and their subscribers end.
        reset = await publish(http, f"{channel}/3", b"three", **{"Lp-Trickle-Reset": "1"})
        assert reset.status == 200
        assert await rest == b""
    abandoned.end()
    stuck_post.cancel()


async def test_deleting_a_segment_closes_it_and_unknown_segments_are_400(http, channel):
    await publish_many(http, channel, 1)
    body = SlowBody()
    posting = asyncio.create_task(http.post(f"{channel}/1", data=body.chunks()))
    body.send(b"partial")
    async with asyncio.timeout(WAIT), http.get(f"{channel}/1") as response:
        assert await response.content.readexactly(7) == b"partial"
        async with http.delete(f"{channel}/1") as deleted:
            assert deleted.status == 200
        assert await response.content.read() == b""
    async with http.delete(f"{channel}/4") as deleted:
        assert (deleted.status, await deleted.read()) == (400, b"Nonexistent segment\n")
    body.end()
    posting.cancel()


async def test_a_client_like_ai_runners_follows_470_to_the_live_edge(http, channel):
    # ai-runner's TrickleSubscriber starts at -2 and, on 470, retries at Lp-Trickle-Latest.
    await publish_many(http, channel, 7)
    response, _ = await fetch(http, f"{channel}/0")
    assert response.status == 470
    latest = response.headers["Lp-Trickle-Latest"]
    subscriber = asyncio.create_task(fetch(http, f"{channel}/{latest}"))
    await publish(http, f"{channel}/7", b"seven")
    response, body = await subscriber
    assert (body, response.headers["Lp-Trickle-Seq"]) == (b"seven", "7")


async def test_explicit_create_sets_the_mime_type_from_expect_content(http, channel):
    async with http.post(channel, headers={"Expect-Content": "application/json"}) as created:
        assert created.status == 200
    response = await publish(http, f"{channel}/0", b"{}", **{"Content-Type": "text/plain"})
    assert response.status == 200
    response, _ = await fetch(http, f"{channel}/0")
    assert response.headers["Content-Type"] == "application/json"


async def test_without_autocreate_only_created_channels_accept_publishes(http):
    # Always the double (an external server is assumed to autocreate); checked by hand against
    # go-livepeer's server started with autocreate off.
    with run_trickle_server(autocreate=False) as server:
        url = server.channel_url("unknown")
        response = await publish(http, f"{url}/0", b"data")
        assert (response.status, response.headers["Connection"]) == (404, "close")
        async with http.post(url) as created:
            assert created.status == 404


@double_only
async def test_idle_channels_are_swept():
    with run_trickle_server(extra_args=["--idle-timeout", "0.2", "--sweep-interval", "0.1"]) as s:
        async with aiohttp.ClientSession() as http:
            await publish(http, s.channel_url("idle") + "/0", b"data")
            await asyncio.sleep(0.6)
            response, _ = await fetch(http, s.channel_url("idle") + "/next")
            assert response.status == 404


async def serve_in_process(server: TrickleServerDouble):
    from aiohttp import web

    runner = web.AppRunner(server.make_app(), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}{server.base_path}"


async def test_in_process_channels_and_keepalive_of_a_long_preconnect(http):
    server = TrickleServerDouble(first_byte_timeout=0.1)
    server.create_channel("made-here", "video/mp2t")
    runner, base = await serve_in_process(server)
    try:
        # Without autocreate only the channel created in process exists.
        response = await publish(http, f"{base}other/0", b"data")
        assert response.status == 404
        # A preconnect idle for several first-byte timeouts gets "100 Continue" keepalives
        # and still publishes once its data comes.
        body = SlowBody()
        posting = asyncio.create_task(http.post(f"{base}made-here/0", data=body.chunks()))
        await asyncio.sleep(0.35)
        body.send(b"late data")
        body.end()
        async with asyncio.timeout(WAIT):
            assert (await posting).status == 200
        response, data = await fetch(http, f"{base}made-here/0")
        assert (data, response.headers["Content-Type"]) == (b"late data", "video/mp2t")
        subscriber = asyncio.create_task(fetch(http, f"{base}made-here/1"))
        assert await still_waiting(subscriber, 0.1)
        assert server.close_channel("made-here")
        response, _ = await subscriber
        assert response.headers["Lp-Trickle-Closed"] == "terminated"
        assert not server.close_channel("made-here")
    finally:
        await runner.cleanup()


async def test_unrouted_requests_get_go_servemux_answers(http, trickle, channel):
    await publish_many(http, channel, 1)
    unclean = URL(f"{channel}/./0?x=%20", encoded=True)  # sent as is, not normalised
    async with http.get(unclean, allow_redirects=False) as response:
        assert response.status == 307
        assert response.headers["Location"].endswith(f"{channel.rpartition('/')[2]}/0?x=%20")
    async with http.put(f"{channel}/0", data=b"x") as response:
        assert (response.status, await response.read()) == (405, b"Method Not Allowed\n")
        assert response.headers["Allow"] == "DELETE, GET, HEAD, POST"
    async with http.get(trickle.url + "a/b/c") as response:
        assert (response.status, await response.read()) == (404, b"404 page not found\n")
