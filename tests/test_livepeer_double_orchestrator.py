"""Tests of the orchestrator double (tests/livepeer_double/orchestrator.py).

One orchestrator process serves the whole module; every test registers its own runners (a small
aiohttp app in the test's event loop) under fresh labels, so tests do not see each other.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import pytest
from aiohttp import web

from tests.livepeer_double.fixtures import run_orchestrator, run_orchestrator_async

WAIT = 5
RUNNER_FACING = "http://orchestrator.internal:8935"  # --live-runner-addr


@pytest.fixture(scope="module")
def orch():
    with run_orchestrator(health_interval=0.2, live_runner_addr=RUNNER_FACING) as orchestrator:
        yield orchestrator
    # A handler that crashed would have answered 500 somewhere; make it visible.
    assert "Traceback" not in orchestrator.logs(), orchestrator.logs()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as session:
        yield session


class FakeRunner:
    """A live runner app: /health answers `health_status`, /echo/... describes the request."""

    def __init__(self) -> None:
        self.health_status = 200
        self.release = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_get("/health", self._health)
        self.app.router.add_get("/base/stream", self._stream)
        self.app.router.add_get("/base/ws", self._websocket)
        self.app.router.add_route("*", "/base/hold", self._hold)
        self.app.router.add_route("*", "/base/empty", self._empty)
        self.app.router.add_route("*", "/base", self._echo)
        self.app.router.add_route("*", "/base/{tail:.*}", self._echo)
        self.url = ""

    async def _health(self, _request):
        return web.Response(status=self.health_status)

    async def _echo(self, request):
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": request.rel_url.raw_query_string,
                # Every value of a repeated header, so a smuggled copy shows.
                "headers": {
                    k.lower(): ", ".join(request.headers.getall(k)) for k in request.headers
                },
                "body": (await request.read()).decode(),
            },
            headers={"X-Runner": "yes"},
        )

    async def _stream(self, request):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        await self.release.wait()
        await response.write(b"data: second\n\n")
        return response

    async def _websocket(self, request):
        socket = web.WebSocketResponse(protocols=("echo",))
        await socket.prepare(request)
        await socket.send_str("session " + request.headers["Livepeer-Session-Id"])
        async for message in socket:
            await socket.send_str("echo " + message.data)
        return socket

    async def _empty(self, request):
        return web.Response(status=int(request.query.get("status", "204")))

    async def _hold(self, _request):
        await self.release.wait()
        return web.Response(text="done")


@pytest.fixture
async def runner():
    fake = FakeRunner()
    app_runner = web.AppRunner(fake.app)
    await app_runner.setup()
    site = web.TCPSite(app_runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{app_runner.addresses[0][1]}"
    yield fake
    fake.release.set()
    await app_runner.cleanup()


def entry(runner: FakeRunner, **fields) -> dict:
    label = fields.pop("label", f"runner-{uuid.uuid4().hex[:8]}")
    base = {
        "label": label,
        "runner_url": runner.url + "/base",
        "health_url": runner.url + "/health",
        "app": "live-video-to-video/test",
    }
    return {**base, **fields}


async def register(http, orch, *entries: dict) -> tuple[int, dict | str]:
    async with http.post(
        orch.cli_url + "/registerLiveRunners", json={"runners": list(entries)}
    ) as r:
        if r.status == 200:
            return r.status, await r.json()
        return r.status, await r.text()


async def register_one(http, orch, runner, **fields) -> dict:
    status, body = await register(http, orch, entry(runner, **fields))
    assert status == 200, body
    return body["runners"][0]


async def discovered(http, orch) -> list[dict]:
    async with http.get(orch.url + "/discovery") as response:
        assert response.status == 200
        document = await response.json()
    assert document[0]["address"] == orch.url
    return document[0].get("runners", [])


def discovery_entry(runners: list[dict], route: str) -> dict | None:
    matches = [r for r in runners if f"/apps/{route}/" in r["url"]]
    return matches[0] if matches else None


async def reserve(http, orch, route: str) -> tuple[int, dict | str]:
    async with http.post(f"{orch.url}/apps/{route}/session") as response:
        if response.status == 200:
            return 200, await response.json()
        return response.status, await response.text()


async def wait_until(condition) -> None:
    """Poll `condition` (the health loop runs every 0.2 s) for up to WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


# Configuration


def _with(**fields):
    return fields


INVALID = [
    (_with(label=""), "runners[0]: label is required and must be trimmed"),
    (_with(label=" padded"), "runners[0]: label is required and must be trimmed"),
    (
        _with(label="a/b", routing="label"),
        'runners[0]: label cannot contain / when routing is "label"',
    ),
    (_with(routing="name"), 'runners[0]: routing must be "runner-id" or "label"'),
    (_with(runner_url="", health_url="/health"), "runners[0]: invalid runner_url"),
    (_with(runner_url="ftp://host/x"), "runners[0]: invalid runner_url"),
    (_with(runner_url="/relative"), "runners[0]: invalid runner_url"),
    (_with(health_url=""), "runners[0]: health_url is required"),
    (_with(health_url="health"), "runners[0]: invalid health_url"),
    (_with(health_url="ftp://host/health"), "runners[0]: invalid health_url"),
    (_with(healthy_status_code=99), "runners[0]: healthy_status_code must be a valid HTTP"),
    (_with(healthy_status_code=600), "runners[0]: healthy_status_code must be a valid HTTP"),
    (_with(app=""), "runners[0]: app must be trimmed"),
    (_with(app="app "), "runners[0]: app must be trimmed"),
    (_with(metadata="é" * 512 + "x"), "runners[0]: metadata must be at most 1024 bytes"),
    (_with(metadata="bad \ufffd"), "runners[0]: metadata must not contain Unicode replacement"),
    (_with(mode="batch"), 'runners[0]: mode must be "persistent" or "single-shot"'),
    (_with(capacity=-1), "runners[0]: capacity must be >= 0"),
    (_with(capacity="2"), "json: cannot unmarshal string"),
    (_with(capacity=1.5), "json: cannot unmarshal number 1.5"),
    (_with(gpu="big"), "json: cannot unmarshal string"),
    (_with(proxy="yes"), "json: cannot unmarshal string"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID, ids=[m for _, m in INVALID])
async def test_invalid_runner_entries_are_400_with_the_reason(http, orch, runner, fields, message):
    status, body = await register(http, orch, entry(runner, **fields))
    assert status == 400
    assert body.startswith(message), body


VALID = [
    (_with(label="a/b"), {"label": "a/b"}),  # a slash is fine with runner-id routing
    (_with(healthy_status_code=0), {"healthy_status_code": 200, "healthy": True}),
    (_with(mode="single_shot"), {"mode": "single-shot"}),
    (_with(mode=""), {"mode": "persistent"}),
    (_with(metadata="é" * 512), {}),  # exactly 1024 bytes
    # root-relative: appended to runner_url (whose echo route answers 200)
    (_with(health_url="/health"), {"health_url": "{runner}/base/health", "healthy": True}),
    (_with(price_info={"price": -1, "currency": "eur", "unit": "day"}), {}),  # offchain: ignored
    (_with(unknown_field=True), {}),
]


@pytest.mark.parametrize(("fields", "expected"), VALID, ids=[str(f) for f, _ in VALID])
async def test_valid_runner_entries_are_normalised(http, orch, runner, fields, expected):
    registration = await register_one(http, orch, runner, **fields)
    for key, value in expected.items():
        if isinstance(value, str):
            value = value.format(runner=runner.url)
        assert registration[key] == value, key


async def test_capacity_zero_means_one_and_gpu_may_be_an_index(http, orch, runner):
    registration = await register_one(http, orch, runner, capacity=0, gpu=3, metadata="m")
    found = discovery_entry(await discovered(http, orch), registration["runner_id"])
    assert found is not None
    assert (found["capacity"], found["gpu"], found["metadata"]) == (1, {"id": "3"}, "m")


async def test_json_field_names_match_case_insensitively_like_go(http, orch, runner):
    fields = entry(runner)
    fields["LABEL"] = fields.pop("label")
    status, body = await register(http, orch, fields)
    assert status == 200
    assert body["runners"][0]["label"] == fields["LABEL"]


async def test_a_registration_answers_ids_and_initial_health(http, orch, runner):
    registration = await register_one(http, orch, runner, mode="persistent")
    assert registration["runner_id"].startswith("runner_")
    assert set(registration) == {
        "runner_id", "label", "app", "runner_url", "mode", "health_url",
        "healthy_status_code", "healthy",
    }  # fmt: skip
    assert registration["healthy"] is True


async def test_a_batch_with_one_invalid_entry_registers_nothing(http, orch, runner):
    good = entry(runner, routing="label")
    status, body = await register(http, orch, good, entry(runner, app=""))
    assert (status, body.strip()) == (400, "runners[1]: app must be trimmed")
    assert discovery_entry(await discovered(http, orch), good["label"]) is None


async def test_duplicate_labels_in_one_batch_are_400(http, orch, runner):
    first = entry(runner)
    status, body = await register(http, orch, first, entry(runner, label=first["label"]))
    assert (status, body.strip()) == (400, f'runners[1]: duplicate label "{first["label"]}"')


async def test_invalid_json_and_other_methods_are_refused(http, orch):
    async with http.post(orch.cli_url + "/registerLiveRunners", data=b"{nope") as response:
        assert response.status == 400
    async with http.get(orch.cli_url + "/registerLiveRunners") as response:
        assert (response.status, await response.text()) == (405, "Method not allowed\n")


async def test_an_upsert_keeps_the_runner_id_and_its_sessions(http, orch, runner):
    first = await register_one(http, orch, runner, label="upsert-" + uuid.uuid4().hex[:6])
    route = first["runner_id"]
    status, _ = await reserve(http, orch, route)
    assert status == 200
    again = await register_one(http, orch, runner, label=first["label"], capacity=3)
    assert again["runner_id"] == route
    found = discovery_entry(await discovered(http, orch), route)
    assert (found["capacity"], found["capacity_used"], found["capacity_available"]) == (3, 1, 2)


async def test_label_routing_uses_the_label_and_can_change_on_upsert(http, orch, runner):
    label = "label-" + uuid.uuid4().hex[:6]
    first = await register_one(http, orch, runner, label=label, routing="label")
    assert (await reserve(http, orch, label))[0] == 200
    assert (await reserve(http, orch, first["runner_id"]))[0] == 404
    await register_one(http, orch, runner, label=label)  # back to runner-id routing
    assert (await reserve(http, orch, first["runner_id"]))[0] in (200, 503)
    assert (await reserve(http, orch, label))[0] == 404


async def test_a_config_file_is_registered_at_start(runner, http):
    config = [entry(runner, label="from-file", routing="label", mode="single-shot")]
    async with run_orchestrator_async(live_runner_config=config) as orchestrator:
        found = discovery_entry(await discovered(http, orchestrator), "from-file")
        assert found["url"] == f"{orchestrator.url}/apps/from-file/app"
        assert "price_info" not in found


async def test_an_invalid_config_file_stops_the_double_with_the_reason(runner):
    with pytest.raises(RuntimeError, match=r"runners\[0\]: capacity must be >= 0"):
        async with run_orchestrator_async(live_runner_config=[entry(runner, capacity=-2)]):
            pass


# Health


async def test_health_decides_discovery_and_reservations(http, orch, runner):
    runner.health_status = 500
    registration = await register_one(http, orch, runner)
    route = registration["runner_id"]
    assert registration["healthy"] is False
    assert discovery_entry(await discovered(http, orch), route) is None
    assert await reserve(http, orch, route) == (404, "runner not found\n")

    runner.health_status = 200

    async def listed():
        return discovery_entry(await discovered(http, orch), route) is not None

    await wait_until(listed)
    status, session = await reserve(http, orch, route)
    assert status == 200

    runner.health_status = 503
    await wait_until(lambda: _not(listed))
    runner.health_status = 200
    await wait_until(listed)
    # The session did not survive the unhealthy spell.
    async with http.get(f"{orch.url}/apps/{route}/session/{session['session_id']}/app/x") as r:
        assert (r.status, await r.text()) == (404, "runner session not found\n")


async def _not(condition):
    return not await condition()


async def test_health_needs_exactly_the_configured_status(http, orch, runner):
    registration = await register_one(http, orch, runner, healthy_status_code=204)
    assert registration["healthy"] is False
    runner.health_status = 204
    await wait_until(
        lambda: _found(http, orch, registration["runner_id"]),
    )


async def _found(http, orch, route):
    return discovery_entry(await discovered(http, orch), route) is not None


# Sessions and discovery


async def test_discovery_lists_proxy_urls_and_capacity_without_prices(http, orch, runner):
    label = "disc-" + uuid.uuid4().hex[:6]
    await register_one(
        http, orch, runner, label=label, routing="label", capacity=2, version="1.2",
        gpu={"id": "0", "name": "L40S", "vram_mb": 46068}, price_info={"price": 3.5},
    )  # fmt: skip
    found = discovery_entry(await discovered(http, orch), label)
    assert found == {
        "url": f"{orch.url}/apps/{label}/session",
        "gpu": {"id": "0", "name": "L40S", "vram_mb": 46068},
        "app": "live-video-to-video/test",
        "version": "1.2",
        "mode": "persistent",
        "capacity": 2,
        "capacity_used": 0,
        "capacity_available": 2,
    }
    assert runner.url not in json.dumps(found)


async def test_sessions_beyond_capacity_are_503_until_one_stops(http, orch, runner):
    route = (await register_one(http, orch, runner, capacity=1))["runner_id"]
    status, session = await reserve(http, orch, route)
    assert status == 200
    sid = session["session_id"]
    assert session == {
        "session_id": sid,
        "app_url": f"{orch.url}/apps/{route}/session/{sid}/app",
        "control_url": f"{orch.url}/apps/{route}/session/{sid}",
    }
    assert await reserve(http, orch, route) == (503, "no capacity available for runner\n")
    async with http.post(f"{orch.url}/apps/{route}/session/{sid}/stop") as response:
        assert response.status == 204
    assert (await reserve(http, orch, route))[0] == 200


async def test_unknown_runners_are_404_and_modes_are_not_mixed(http, orch, runner):
    assert await reserve(http, orch, "runner_nope") == (404, "runner not found\n")
    async with http.post(f"{orch.url}/apps/runner_nope/session/s/stop") as response:
        assert response.status == 404
    shot = (await register_one(http, orch, runner, mode="single-shot"))["runner_id"]
    assert await reserve(http, orch, shot) == (400, "only persistent runners have sessions\n")
    kept = (await register_one(http, orch, runner))["runner_id"]
    async with http.get(f"{orch.url}/apps/{kept}/app/x") as response:
        assert (response.status, await response.text()) == (400, "runner is not single-shot\n")


# Reverse proxy


async def _session(http, orch, runner, **fields) -> tuple[str, dict]:
    route = (await register_one(http, orch, runner, **fields))["runner_id"]
    status, session = await reserve(http, orch, route)
    assert status == 200, session
    return route, session


async def test_the_proxy_forwards_method_path_query_body_and_sets_session_headers(
    http, orch, runner
):
    route, session = await _session(http, orch, runner)
    spoofed = {
        "Livepeer-Session-Token": "forged",
        "Livepeer-Session-Id": "forged",
        "Livepeer-Runner-Route": "forged",
        "Livepeer-Session-Control": "http://evil.example/",
        "X-Forwarded-For": "6.6.6.6",
        "X-Custom": "kept",
    }
    url = session["app_url"] + "/v1/items?b=2&a=%20x"
    async with http.put(url, data=b"payload", headers=spoofed) as response:
        assert response.status == 200
        assert response.headers["X-Runner"] == "yes"
        seen = await response.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("PUT", "/base/v1/items", "b=2&a=%20x")
    assert seen["body"] == "payload"
    headers = seen["headers"]
    assert headers["x-custom"] == "kept"
    assert "x-forwarded-for" not in headers
    assert headers["host"] == runner.url.removeprefix("http://")
    assert headers["livepeer-runner-route"] == route
    assert headers["livepeer-session-id"] == session["session_id"]
    assert "forged" not in json.dumps(headers) and "evil" not in json.dumps(headers)
    assert len(headers["livepeer-session-token"]) > 20
    assert headers["livepeer-session-control"] == (
        f"{RUNNER_FACING}/runner/{route}/session/{session['session_id']}"
    )


async def test_the_proxy_streams_the_response_as_it_comes(http, orch, runner):
    _, session = await _session(http, orch, runner)
    async with http.get(session["app_url"] + "/stream") as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        assert await response.content.readuntil(b"\n\n") == b"data: first\n\n"
        runner.release.set()  # the runner sends the rest only now
        assert await response.content.read() == b"data: second\n\n"


async def test_statuses_and_empty_bodies_pass_through(http, orch, runner):
    _, session = await _session(http, orch, runner)
    for status in (204, 304, 418, 500):
        async with http.get(session["app_url"] + f"/empty?status={status}") as response:
            assert (response.status, await response.read()) == (status, b"")
    async with http.head(session["app_url"] + "/echo") as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) > 0


async def test_an_unreachable_runner_is_502(http, orch, runner):
    _, session = await _session(http, orch, runner, runner_url="http://127.0.0.1:9/base")
    async with http.get(session["app_url"] + "/x") as response:
        assert response.status == 502


async def test_a_single_shot_request_holds_a_slot_until_its_response_ends(http, orch, runner):
    route = (await register_one(http, orch, runner, mode="single-shot"))["runner_id"]
    held = asyncio.create_task(http.post(f"{orch.url}/apps/{route}/app/hold", data=b"x"))

    async def in_use():
        found = discovery_entry(await discovered(http, orch), route)
        return found["capacity_used"] == 1

    await wait_until(in_use)
    async with http.get(f"{orch.url}/apps/{route}/app/other") as response:
        assert (response.status, await response.text()) == (
            503,
            "no capacity available for runner\n",
        )
    runner.release.set()
    response = await held
    assert (response.status, await response.text()) == (200, "done")
    await wait_until(lambda: _not(in_use))
    async with http.get(f"{orch.url}/apps/{route}/app/echo?q=1") as response:
        seen = await response.json()
    assert (seen["path"], seen["query"]) == ("/base/echo", "q=1")
    assert seen["headers"]["livepeer-session-id"].startswith("session_")


async def test_a_proxy_enabled_persistent_runner_gets_a_session_proxy_url(http, orch, runner):
    _, session = await _session(http, orch, runner, proxy=True)
    assert session["app_url"].startswith(f"{orch.url}/run/")
    async with http.get(session["app_url"] + "/deep/path?x=1") as response:
        seen = await response.json()
    assert (seen["path"], seen["query"]) == ("/base/deep/path", "x=1")
    assert seen["headers"]["livepeer-session-id"] == session["session_id"]


async def test_websockets_are_relayed_with_session_headers(http, orch, runner):
    _, session = await _session(http, orch, runner)
    async with http.ws_connect(session["app_url"] + "/ws", protocols=("echo",)) as socket:
        assert socket.protocol == "echo"
        assert await socket.receive_str() == "session " + session["session_id"]
        await socket.send_str("hi")
        assert await socket.receive_str() == "echo hi"


async def test_an_app_root_without_slash_is_redirected_like_go(http, orch, runner):
    route, session = await _session(http, orch, runner)
    async with http.get(session["app_url"] + "?a=1", allow_redirects=False) as response:
        assert response.status == 307
        assert (
            response.headers["Location"]
            == f"/apps/{route}/session/{session['session_id']}/app/?a=1"
        )
    async with http.get(session["app_url"] + "/?a=1") as response:
        assert (await response.json())["path"] == "/base"


async def test_session_proxies_only_target_the_runner_host(http, orch, runner):
    route, session = await _session(http, orch, runner)
    headers = {"Livepeer-Session-Token": await _token(http, session)}
    url = _callback_url(orch, route, session["session_id"], "proxy")
    body = {"target_url": "http://elsewhere.example/ui"}
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status == 400
        assert "hostname must match" in await response.text()
    body = {"target_url": runner.url + "/base/ui"}
    async with http.post(url, json=body, headers=headers) as response:
        created = await response.json()
    assert created["url"] == f"{orch.url}/run/{created['proxy_id']}"
    async with http.get(created["url"] + "/page") as response:
        assert (await response.json())["path"] == "/base/ui/page"
    async with http.post(f"{orch.url}/apps/{route}/session/{session['session_id']}/stop"):
        pass
    async with http.get(created["url"] + "/page") as response:
        assert (response.status, await response.text()) == (404, "live runner proxy not found\n")


# Runner callbacks and trickle channels


def _callback_url(orch, route, sid, what="channels") -> str:
    return f"{orch.url}/runner/{route}/session/{sid}/{what}"


async def test_callbacks_need_the_session_token(http, orch, runner):
    route, session = await _session(http, orch, runner)
    sid = session["session_id"]
    body = {"channels": [{"name": "events"}]}
    async with http.post(_callback_url(orch, route, sid), json=body) as response:
        assert (response.status, await response.text()) == (401, "invalid authorization\n")
    headers = {"Livepeer-Session-Token": "wrong"}
    async with http.post(_callback_url(orch, route, sid), json=body, headers=headers) as response:
        assert response.status == 401
    async with http.post(_callback_url(orch, route, "session_x"), json=body) as response:
        assert (response.status, await response.text()) == (404, "runner session not found\n")
    async with http.post(_callback_url(orch, "runner_x", sid), json=body) as response:
        assert (response.status, await response.text()) == (404, "runner not found\n")


async def _token(http, session) -> str:
    async with http.get(session["app_url"] + "/echo") as response:
        return (await response.json())["headers"]["livepeer-session-token"]


async def test_channels_are_created_on_the_embedded_trickle_server(http, orch, runner):
    route, session = await _session(http, orch, runner)
    sid = session["session_id"]
    headers = {"Livepeer-Session-Token": await _token(http, session)}
    body = {"channels": [{"name": "events", "mime_type": "application/json"}, {"name": "a/b"}]}
    async with http.post(_callback_url(orch, route, sid), json=body, headers=headers) as response:
        assert response.status == 200
        channels = (await response.json())["channels"]
    assert channels[0] == {
        "name": "events",
        "channel_name": f"{sid}-events",
        "url": f"{orch.url}/ai/trickle/{sid}-events",
        "internal_url": f"{RUNNER_FACING}/ai/trickle/{sid}-events",
        "mime_type": "application/json",
    }
    assert (channels[1]["name"], channels[1]["mime_type"]) == ("a-b", "application/octet-stream")
    # Asking again returns the same channels.
    async with http.post(_callback_url(orch, route, sid), json=body, headers=headers) as response:
        assert (await response.json())["channels"] == channels
    # The channel works: publish through the public URL, read it back.
    async with http.post(channels[0]["url"] + "/0", data=b'{"n":1}') as response:
        assert response.status == 200
    async with http.get(channels[0]["url"] + "/0") as response:
        assert (await response.read(), response.headers["Content-Type"]) == (
            b'{"n":1}',
            "application/json",
        )
    # Channels can be deleted by name.
    delete = {"channels": ["a/b"]}
    async with http.delete(_callback_url(orch, route, sid), json=delete, headers=headers) as r:
        assert (r.status, await r.json()) == (200, {"deleted": ["a/b"]})
    async with http.delete(_callback_url(orch, route, sid), json=delete, headers=headers) as r:
        assert (r.status, await r.text()) == (404, "trickle channel not found\n")


BAD_CHANNELS = [
    ({"channels": []}, "channels is required"),
    ({"channels": [{"name": f"c{i}"} for i in range(26)]}, "channels cannot contain more than 25"),
    ({"channels": [{"name": "  "}]}, "trickle channel name is required"),
    ({"channels": [{"name": "no spaces"}]}, "trickle channel name may only contain"),
]


@pytest.mark.parametrize(("body", "message"), BAD_CHANNELS, ids=[m for _, m in BAD_CHANNELS])
async def test_invalid_channel_requests_are_400(http, orch, runner, body, message):
    route, session = await _session(http, orch, runner)
    headers = {"Livepeer-Session-Token": await _token(http, session)}
    url = _callback_url(orch, route, session["session_id"])
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status == 400
        assert (await response.text()).startswith(message)


async def test_stopping_a_session_closes_its_channels_for_waiting_subscribers(http, orch, runner):
    route, session = await _session(http, orch, runner)
    sid = session["session_id"]
    headers = {"Livepeer-Session-Token": await _token(http, session)}
    body = {"channels": [{"name": "out"}]}
    async with http.post(_callback_url(orch, route, sid), json=body, headers=headers) as response:
        channel_url = (await response.json())["channels"][0]["url"]
    subscriber = asyncio.create_task(http.get(channel_url + "/0"))
    await asyncio.sleep(0.2)
    assert not subscriber.done()
    async with http.post(f"{orch.url}/apps/{route}/session/{sid}/stop") as response:
        assert response.status == 204
    response = await subscriber
    assert response.headers["Lp-Trickle-Closed"] == "terminated"
    async with http.get(channel_url + "/0") as response:
        assert response.status == 404


async def test_a_runner_can_stop_its_own_session(http, orch, runner):
    label = "self-" + uuid.uuid4().hex[:6]
    await register_one(http, orch, runner, label=label, routing="label", capacity=1)
    _, session = await reserve(http, orch, label)
    headers = {"Livepeer-Session-Token": await _token(http, session)}
    stop_url = _callback_url(orch, label, session["session_id"], "stop")
    async with http.post(stop_url, headers=headers) as response:
        assert response.status == 204
    async with http.post(stop_url, headers=headers) as response:
        assert response.status == 404
    assert (await reserve(http, orch, label))[0] == 200


async def test_dynamic_registration_is_refused_like_an_orchestrator_without_secret(
    http, orch, runner
):
    route = (await register_one(http, orch, runner))["runner_id"]
    async with http.post(f"{orch.url}/runners/{route}/unregister") as response:
        assert response.status == 400
        assert "static runner cannot unregister" in await response.text()
    async with http.post(orch.url + "/runners/heartbeat", json={"runner_id": route}) as response:
        assert (response.status, await response.text()) == (400, "static runner cannot heartbeat\n")
    body = {"runner_url": "http://x", "app": "a"}
    async with http.post(orch.url + "/runners/heartbeat", json=body) as response:
        assert (response.status, await response.text()) == (
            404,
            "dynamic live runner registration is disabled\n",
        )
