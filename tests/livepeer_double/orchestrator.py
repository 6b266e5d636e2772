"""A DOUBLE of a go-livepeer orchestrator's live-runner API, for CI. It is not go-livepeer.

It serves what doc/live-runner.md describes for *static* live runners on an *offchain*
orchestrator started without -orchSecret, with go-livepeer's status codes, JSON field names and
error messages (see README.md in this folder for the full list):

- CLI port: ``POST /registerLiveRunners`` (atomic validation, upsert by label).
- Service port: ``GET /discovery``; ``POST /apps/{route}/session`` and ``.../stop``; the reverse
  proxy at ``/apps/{route}/session/{id}/app/...`` and ``/apps/{route}/app/...`` (single-shot);
  the runner callbacks ``/runner/{route}/session/{id}/channels|proxy|stop``; session proxies at
  ``{service}/run/{proxy}``; and a trickle server DOUBLE at ``/ai/trickle/`` for the channels.
- Health polling of every runner's ``health_url``.

It refuses: payments and price conversion (offchain only), dynamic registration (heartbeats
answer like an orchestrator without -orchSecret), host-form proxy URL templates, TLS, the
serverless/BYOC/transcoding APIs, and everything else go-livepeer does.

Run: ``python -m tests.livepeer_double.orchestrator --port 0 --cli-port 0
[--live-runner-config FILE] [--service-addr URL] [--live-runner-addr URL] [--health-interval S]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
from aiohttp import web

from .go_http import go_mux_errors, go_redirect, http_error
from .go_url import is_absolute_http_url, join_url
from .live_runner_config import (
    MODE_PERSISTENT,
    MODE_SINGLE_SHOT,
    ConfigError,
    parse_static_config,
)
from .live_runner_proxy import proxy
from .live_runner_registry import LiveRunnerRegistry, ProxyURLTemplate, RunnerError
from .trickle_server import TrickleServerDouble

log = logging.getLogger("livepeer_double.orchestrator")

DOUBLE_NOTICE = "DOUBLE of a go-livepeer orchestrator (tests/livepeer_double), not go-livepeer"
MAX_CHANNELS_PER_REQUEST = 25

REGISTRY = web.AppKey("registry", LiveRunnerRegistry)
HTTP = web.AppKey("http", aiohttp.ClientSession)


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data, separators=(",", ":")), content_type="application/json"
    )


def _runner_error(error: RunnerError) -> web.Response:
    return http_error(error.status, error.message)


async def _decode_json(request: web.Request, allow_empty: bool = False) -> object:
    """Like Go's json.NewDecoder(body).Decode: the first JSON value; empty is "EOF"."""
    text = (await request.read()).decode("utf-8", errors="replace").strip()
    if not text:
        if allow_empty:
            return {}
        raise RunnerError(400, "EOF")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as error:
        raise RunnerError(400, f"invalid JSON: {error}") from None
    return value


def _session_headers(request: web.Request, route: str, session) -> dict[str, str]:
    registry = request.app[REGISTRY]
    control = join_url(registry.live_runner_url, "runner", route, "session", session.session_id)
    return {
        "Livepeer-Runner-Route": route,
        "Livepeer-Session-Id": session.session_id,
        "Livepeer-Session-Token": session.token,
        "Livepeer-Session-Control": control,
    }


# Client endpoints


async def discovery(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    entry: dict = {"address": registry.service_url}
    runners = registry.discovery_runners()
    if runners:
        entry["runners"] = runners
    return _json([entry])


async def reserve_session(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    route = request.match_info["route"]
    try:
        if registry.ready_runner(route).entry.mode != MODE_PERSISTENT:
            return http_error(400, "only persistent runners have sessions")
        _, session, app_url = registry.reserve(route)
    except RunnerError as error:
        return _runner_error(error)
    control_url = join_url(registry.service_url, "apps", route, "session", session.session_id)
    return _json({"session_id": session.session_id, "app_url": app_url, "control_url": control_url})


async def stop_session(request: web.Request) -> web.Response:
    try:
        request.app[REGISTRY].release(request.match_info["route"], request.match_info["sid"])
    except RunnerError as error:
        return _runner_error(error)
    return web.Response(status=204)


async def proxy_session(request: web.Request) -> web.StreamResponse:
    route, session_id = request.match_info["route"], request.match_info["sid"]
    try:
        runner, session = request.app[REGISTRY].session(route, session_id)
    except RunnerError as error:
        return _runner_error(error)
    return await proxy(
        request,
        request.app[HTTP],
        runner_url=runner.entry.runner_url,
        app_path=request.match_info["path"],
        session_headers=_session_headers(request, route, session),
    )


async def proxy_single_shot(request: web.Request) -> web.StreamResponse:
    return await _single_shot(request, request.match_info["route"], request.match_info["path"])


async def _single_shot(request: web.Request, route: str, app_path: str) -> web.StreamResponse:
    registry = request.app[REGISTRY]
    try:
        if registry.ready_runner(route).entry.mode != MODE_SINGLE_SHOT:
            return http_error(400, "runner is not single-shot")
        _, session, endpoint = registry.reserve(route)
    except RunnerError as error:
        return _runner_error(error)
    try:
        return await proxy(
            request,
            request.app[HTTP],
            runner_url=endpoint,
            app_path=app_path,
            session_headers=_session_headers(request, route, session),
        )
    finally:
        # The slot is held until the whole response has been streamed (or the client left).
        with contextlib.suppress(RunnerError):
            registry.release(route, session.session_id)


async def redirect_to_subtree(request: web.Request) -> web.Response:
    # Go's ServeMux sends ".../app" to ".../app/" for a `{path...}` pattern.
    query = request.rel_url.raw_query_string
    return go_redirect(request, request.rel_url.raw_path + "/" + (f"?{query}" if query else ""))


# Runner callbacks


async def _check_callback(request: web.Request) -> tuple[str, str]:
    route, session_id = request.match_info["rid"], request.match_info["sid"]
    token = request.headers.get("Livepeer-Session-Token", "")
    request.app[REGISTRY].check_token(route, session_id, token)
    return route, session_id


def _channel_list(body: object, key: str = "channels") -> list:
    if not isinstance(body, dict):
        raise RunnerError(400, "json: cannot unmarshal non-object into Go value")
    channels = body.get(key) or []
    if not isinstance(channels, list):
        raise RunnerError(400, f"json: cannot unmarshal {type(channels).__name__} into channels")
    if not channels:
        raise RunnerError(400, "channels is required")
    if len(channels) > MAX_CHANNELS_PER_REQUEST:
        raise RunnerError(
            400, f"channels cannot contain more than {MAX_CHANNELS_PER_REQUEST} entries"
        )
    return channels


async def create_channels(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    try:
        route, session_id = await _check_callback(request)
        created = []
        # Not atomic, like go-livepeer: channels before an invalid one stay created.
        for item in _channel_list(await _decode_json(request)):
            if not isinstance(item, dict):
                raise RunnerError(400, "json: cannot unmarshal channel entry")
            name, mime_type = item.get("name") or "", item.get("mime_type") or ""
            if not isinstance(name, str) or not isinstance(mime_type, str):
                raise RunnerError(400, "json: name and mime_type must be strings")
            created.append(registry.create_channel(route, session_id, name, mime_type))
    except RunnerError as error:
        return _runner_error(error)
    return _json({"channels": created})


async def delete_channels(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    try:
        route, session_id = await _check_callback(request)
        names = _channel_list(await _decode_json(request))
        for name in names:
            if not isinstance(name, str):
                raise RunnerError(400, "json: channels must be strings")
            registry.delete_channel(route, session_id, name)
    except RunnerError as error:
        return _runner_error(error)
    return _json({"deleted": names})


async def create_session_proxy(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    try:
        route, session_id = await _check_callback(request)
        body = await _decode_json(request, allow_empty=True)
        target = (body.get("target_url") or "") if isinstance(body, dict) else ""
        if not isinstance(target, str):
            raise RunnerError(400, "json: cannot unmarshal target_url into Go value of type string")
        runner, session = registry.session(route, session_id)
        return _json(registry.create_proxy(runner, session, target))
    except RunnerError as error:
        return _runner_error(error)


async def runner_stop_session(request: web.Request) -> web.Response:
    try:
        route, session_id = await _check_callback(request)
        request.app[REGISTRY].release(route, session_id)
    except RunnerError as error:
        return _runner_error(error)
    return web.Response(status=204)


async def heartbeat(request: web.Request) -> web.Response:
    # As an orchestrator without -orchSecret: static runners cannot heartbeat, new ones are off.
    try:
        body = await _decode_json(request)
    except RunnerError as error:
        return _runner_error(error)
    runner_id = str(body.get("runner_id") or "").strip() if isinstance(body, dict) else ""
    if runner_id in request.app[REGISTRY].runners:
        if request.headers.get("Authorization"):
            return http_error(401, "invalid heartbeat authorization")
        return http_error(400, "static runner cannot heartbeat")
    return http_error(404, "dynamic live runner registration is disabled")


async def unregister(request: web.Request) -> web.Response:
    try:
        request.app[REGISTRY].runner(request.match_info["rid"])
    except RunnerError as error:
        return _runner_error(error)
    return http_error(400, "static runner cannot unregister with heartbeat credentials")


# Session proxy URLs ({service}/run/{proxy}) are resolved before routing, as in go-livepeer.


@web.middleware
async def session_proxies(request: web.Request, handler) -> web.StreamResponse:
    registry = request.app[REGISTRY]
    try:
        resolved = registry.resolve_proxy(request.host, request.path)
    except RunnerError as error:
        return _runner_error(error)
    if resolved is None:
        return await handler(request)
    if isinstance(resolved[0], str):  # a proxy-enabled single-shot runner: its /apps route
        route, app_path = resolved
        return await _single_shot(request, route, app_path)
    runner, session, target, app_path = resolved
    return await proxy(
        request,
        request.app[HTTP],
        runner_url=target,
        app_path=app_path,
        session_headers=_session_headers(request, runner.route, session),
    )


# CLI server


async def register_live_runners(request: web.Request) -> web.Response:
    if request.method != "POST":
        return http_error(405, "Method not allowed")
    registry = request.app[REGISTRY]
    try:
        entries = parse_static_config(await request.read())
        return _json(await registry.register_static(entries))
    except ConfigError as error:
        return http_error(400, str(error))
    except RunnerError as error:
        return _runner_error(error)


# Wiring


def make_service_app(registry: LiveRunnerRegistry) -> web.Application:
    app = web.Application(middlewares=[session_proxies, go_mux_errors])
    app[REGISTRY] = registry
    registry.trickle.add_routes(app)
    routes = app.router
    routes.add_get("/discovery", discovery)
    routes.add_post("/apps/{route}/session", reserve_session)
    routes.add_post("/apps/{route}/session/{sid}/stop", stop_session)
    routes.add_route("*", "/apps/{route}/session/{sid}/app", redirect_to_subtree)
    routes.add_route("*", "/apps/{route}/session/{sid}/app/{path:.*}", proxy_session)
    routes.add_route("*", "/apps/{route}/app", redirect_to_subtree)
    routes.add_route("*", "/apps/{route}/app/{path:.*}", proxy_single_shot)
    routes.add_post("/runner/{rid}/session/{sid}/channels", create_channels)
    routes.add_delete("/runner/{rid}/session/{sid}/channels", delete_channels)
    routes.add_post("/runner/{rid}/session/{sid}/proxy", create_session_proxy)
    routes.add_post("/runner/{rid}/session/{sid}/stop", runner_stop_session)
    routes.add_post("/runners/heartbeat", heartbeat)
    routes.add_post("/runners/{rid}/unregister", unregister)
    app.cleanup_ctx.append(_proxy_client)
    return app


async def _proxy_client(app: web.Application):
    # No overall timeout: proxied responses may stream for as long as a session lives.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as http:
        app[HTTP] = http
        yield


def make_cli_app(registry: LiveRunnerRegistry) -> web.Application:
    app = web.Application(middlewares=[go_mux_errors])
    app[REGISTRY] = registry
    app.router.add_route("*", "/registerLiveRunners", register_live_runners)
    return app


def _absolute_url(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    if "://" not in value:
        value = "http://" + value  # go-livepeer would assume https; the double speaks http only
    if not is_absolute_http_url(value):
        raise SystemExit(f"invalid {option}: must be an absolute http(s) URL: {value}")
    return value


class ExternalTrickleServer:
    """Session channels on another trickle server, created and closed over HTTP as go-livepeer's
    trickle server allows (`POST <base><channel>` creates, `DELETE <base><channel>` closes).
    For checks by hand against the real server; the calls block the loop for a moment."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def add_routes(self, app: web.Application) -> None:
        """Nothing to serve here: clients reach the channels on the external server."""

    def create_channel(self, name: str, mime_type: str) -> None:
        self._call("POST", name, {"Expect-Content": mime_type})

    def close_channel(self, name: str) -> None:
        self._call("DELETE", name, {})

    def _call(self, method: str, name: str, headers: dict[str, str]) -> None:
        request = urllib.request.Request(self.base_url + name, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except urllib.error.HTTPError as error:
            log.warning("trickle server: %s %s answered %s", method, name, error.code)


async def serve(args: argparse.Namespace) -> None:
    if args.trickle_server:
        trickle = ExternalTrickleServer(args.trickle_server)
    else:
        trickle = TrickleServerDouble()  # no autocreate, as in go-livepeer's orchestrator
    registry = LiveRunnerRegistry(trickle)
    registry.log_session_tokens = args.log_session_tokens
    service = web.AppRunner(make_service_app(registry), handler_cancellation=True)
    cli = web.AppRunner(make_cli_app(registry), handler_cancellation=True)
    await service.setup()
    await cli.setup()
    await web.TCPSite(service, args.host, args.port).start()
    await web.TCPSite(cli, args.host, args.cli_port).start()
    port, cli_port = service.addresses[0][1], cli.addresses[0][1]
    registry.set_addresses(
        service_url=args.service_addr or f"http://{args.host}:{port}",
        live_runner_url=args.live_runner_addr,
        proxy_url_template=args.live_runner_proxy_url,
    )
    try:
        if args.live_runner_config is not None:
            try:
                result = await registry.register_static(
                    parse_static_config(args.live_runner_config)
                )
            except (ConfigError, RunnerError) as error:
                message = getattr(error, "message", None) or str(error)
                print(f"error registering --live-runner-config: {message}", file=sys.stderr)
                raise SystemExit(1) from None
            log.info("registered %d static live runners", len(result["runners"]))
        health = asyncio.create_task(registry.health_loop(args.health_interval))
        log.warning("%s: service %s", DOUBLE_NOTICE, registry.service_url)
        print(
            f"listening on http://{args.host}:{port} cli http://{args.host}:{cli_port}", flush=True
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        health.cancel()
    finally:
        await registry.close()
        await cli.cleanup()
        await service.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"Run the {DOUBLE_NOTICE}.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="service port; 0 picks a free one")
    parser.add_argument("--cli-port", type=int, default=0, help="CLI port; 0 picks a free one")
    parser.add_argument("--live-runner-config", metavar="FILE")
    parser.add_argument("--service-addr", metavar="URL", help="public URL (default: bound address)")
    parser.add_argument("--live-runner-addr", metavar="URL", help="URL runners reach us at")
    parser.add_argument("--live-runner-proxy-url", metavar="TEMPLATE", help="…/{proxy} (path form)")
    parser.add_argument("--health-interval", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument(
        "--trickle-server",
        metavar="URL",
        help="create session channels on this trickle server (e.g. go-livepeer's real one, "
        "http://127.0.0.1:5935/ai/trickle/) instead of the embedded double",
    )
    parser.add_argument(
        "--log-session-tokens",
        action="store_true",
        help="test-only: log each session token issued (a real orchestrator never does)",
    )
    args = parser.parse_args(argv)
    args.service_addr = _absolute_url("--service-addr", args.service_addr)
    args.live_runner_addr = _absolute_url("--live-runner-addr", args.live_runner_addr)
    if args.live_runner_proxy_url:
        try:
            ProxyURLTemplate(args.live_runner_proxy_url)
        except ValueError as error:
            raise SystemExit(f"invalid --live-runner-proxy-url: {error}") from None
    if args.live_runner_config:
        try:
            args.live_runner_config = Path(args.live_runner_config).read_bytes()
        except OSError as error:
            raise SystemExit(f"error reading --live-runner-config: {error}") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
