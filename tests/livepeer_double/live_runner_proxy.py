"""Reverse proxy of the orchestrator DOUBLE: client -> orchestrator -> live runner.

It does what go-livepeer's proxyLiveRunner (an httputil.ReverseProxy) does that a runner or a
client can observe: same method, body and query; the app path appended to the runner URL's path
(joined and cleaned like Go's url.JoinPath); hop-by-hop and X-Forwarded-* request headers
dropped; Host set to the runner's; the four Livepeer session headers *set*, so a client cannot
spoof them; the response streamed back as it arrives; 502 with the error when the runner cannot
be reached. WebSocket upgrades are relayed message by message (the real proxy splices bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from .go_http import http_error
from .go_url import escape_path, join_path

# Go's httputil hop-by-hop list; Connection's own tokens are dropped too.
HOP_BY_HOP = {
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# With a Rewrite function Go drops these before forwarding.
FORWARDED = {"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"}
WEBSOCKET_HANDSHAKE = {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
}


def target_url(runner_url: str, app_path: str, raw_query: str) -> str:
    target = urlsplit(runner_url)
    path = join_path("/", target.path, app_path)
    return target._replace(path=escape_path(path), query=raw_query, fragment="").geturl()


def _without_hop_by_hop(headers) -> CIMultiDict[str]:
    dropped = set(HOP_BY_HOP)
    for value in headers.getall("Connection", []):
        dropped.update(token.strip().lower() for token in value.split(",") if token.strip())
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in dropped)


async def proxy(
    request: web.Request,
    http: aiohttp.ClientSession,
    *,
    runner_url: str,
    app_path: str,
    session_headers: dict[str, str],
) -> web.StreamResponse:
    url = URL(target_url(runner_url, app_path, request.rel_url.raw_query_string), encoded=True)
    is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    headers = _without_hop_by_hop(request.headers)
    for name in FORWARDED:
        headers.popall(name, None)
    headers["Host"] = urlsplit(runner_url).netloc.rpartition("@")[2]
    for name, value in session_headers.items():
        headers[name] = value  # set, never appended: client copies are replaced
    if is_websocket:
        return await _relay_websocket(request, http, url, headers)
    body = request.content if request.body_exists else None
    try:
        upstream = await http.request(
            request.method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            auto_decompress=False,
            # Send only what the client sent: no default User-Agent, Accept, ...
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
    except (aiohttp.ClientError, OSError) as error:
        return http_error(502, str(error) or type(error).__name__)
    try:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.extend(_without_hop_by_hop(upstream.headers))
        if "Content-Length" not in upstream.headers and request.version >= (1, 1):
            response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)  # flushed at once, like Go for streamed bodies
        await response.write_eof()
        return response
    finally:
        upstream.release()


async def _relay_websocket(
    request: web.Request, http: aiohttp.ClientSession, url: URL, headers: CIMultiDict[str]
) -> web.StreamResponse:
    protocols = [
        p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()
    ]
    for name in WEBSOCKET_HANDSHAKE:
        headers.popall(name, None)
    try:
        upstream = await http.ws_connect(url, headers=headers, protocols=protocols)
    except aiohttp.WSServerHandshakeError as error:
        return http_error(error.status, error.message)
    except (aiohttp.ClientError, OSError) as error:
        return http_error(502, str(error) or type(error).__name__)
    client = web.WebSocketResponse(protocols=[upstream.protocol] if upstream.protocol else ())
    await client.prepare(request)

    async def pump(source, sink) -> None:
        async for message in source:
            if message.type == aiohttp.WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            else:
                break

    tasks = [
        asyncio.ensure_future(pump(client, upstream)),
        asyncio.ensure_future(pump(upstream, client)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await client.close()
    return client
