"""The session's HTTP calls: reserve it on the orchestrator, start the stream and change its
parameters on the runner (through the orchestrator's `app_url`), stop it. Each failure becomes
a ClientError in the server's own words, with the exit code it maps to."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .errors import EXIT_INTERRUPTED, EXIT_PARAMS, EXIT_RUNNER, EXIT_UNREACHABLE, ClientError
from .pacing import wait_or_stop
from .progress import Progress

DEFAULT_ORCHESTRATOR = "http://127.0.0.1:8935"
RUNNER_ENV = "LIVE_RUNNER_LABEL"


@dataclass(frozen=True)
class Session:
    session_id: str
    app_url: str
    control_url: str


@dataclass(frozen=True)
class StreamChannels:
    input: str
    output: str
    events: str | None = None


def error_detail(response: httpx.Response) -> str:
    """The server's own words: FastAPI's {"detail": ...} (validation lists too), else text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else f"HTTP {response.status_code}"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                where = ".".join(str(part) for part in item.get("loc", []) if part != "body")
                parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return detail if isinstance(detail, str) else json.dumps(detail)


async def pause_before_retry(response: httpx.Response, stop: asyncio.Event | None) -> None:
    """Wait as Retry-After says (0.2 to 5 s, 1 s if it does not say); Ctrl-C (`stop`) ends
    the wait with EXIT_INTERRUPTED."""
    try:
        seconds = min(max(float(response.headers.get("Retry-After", 1.0)), 0.2), 5.0)
    except ValueError:
        seconds = 1.0
    if await wait_or_stop(stop or asyncio.Event(), seconds):
        raise ClientError("interrupted while waiting for the runner", EXIT_INTERRUPTED)


def _is_certificate_error(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _unreachable(orchestrator: str, error: httpx.HTTPError) -> ClientError:
    if _is_certificate_error(error):
        return ClientError(
            f"cannot reach the orchestrator at {orchestrator}: its TLS certificate is not "
            f"trusted ({error}). go-livepeer serves HTTPS with a self-signed certificate: pass "
            "--insecure to skip the check, or start the orchestrator with an http:// -httpAddr "
            "and give that http:// URL to --orchestrator.",
            EXIT_UNREACHABLE,
        )
    return ClientError(
        f"cannot reach the orchestrator at {orchestrator} ({type(error).__name__}: {error}). "
        "Is go-livepeer running there? Pass its service address with --orchestrator URL.",
        EXIT_UNREACHABLE,
    )


async def _post_until_served(
    client: httpx.AsyncClient,
    url: str,
    *,
    retry: frozenset[int],
    deadline: float,
    waiting: str,
    gave_up: Callable[[httpx.Response], ClientError],
    unreachable: Callable[[httpx.HTTPError], ClientError],
    progress: Progress,
    stop: asyncio.Event | None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST until the answer is not one of `retry` (statuses that mean "not ready yet"),
    waiting as Retry-After says and saying `waiting` once; past the deadline
    (time.monotonic()), raise `gave_up(response)`."""
    told = False
    while True:
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as error:
            raise unreachable(error) from error
        if response.status_code not in retry:
            return response
        if time.monotonic() >= deadline:
            raise gave_up(response)
        if not told:
            progress.line(waiting)
            told = True
        await pause_before_retry(response, stop)


async def reserve_session(
    client: httpx.AsyncClient,
    orchestrator: str,
    runner: str,
    ready_deadline: float,
    progress: Progress,
    stop: asyncio.Event | None = None,
) -> Session:
    """POST /apps/{runner}/session; 503 (busy or not healthy yet) is retried until the
    deadline (time.monotonic())."""
    response = await _post_until_served(
        client,
        f"{orchestrator}/apps/{quote(runner, safe='')}/session",
        retry=frozenset({409, 503}),
        deadline=ready_deadline,
        waiting=f"runner '{runner}' is busy or not ready yet: waiting for it...",
        gave_up=lambda response: ClientError(
            f"runner '{runner}' is busy (all its sessions in use) or not healthy: "
            f"the orchestrator still answers {response.status_code} "
            f"({error_detail(response)}). Try again later, or raise --ready-timeout.",
            EXIT_RUNNER,
        ),
        unreachable=lambda error: _unreachable(orchestrator, error),
        progress=progress,
        stop=stop,
    )
    if response.status_code == 404:
        raise ClientError(
            f"the orchestrator at {orchestrator} has no live runner '{runner}' "
            f"({error_detail(response)}). Check --runner (or ${RUNNER_ENV}) against its "
            "live-runner configuration, and that the runner is registered.",
            EXIT_RUNNER,
        )
    if response.status_code == 402:
        raise ClientError(
            f"runner '{runner}' asks for payment: this client supports off-chain "
            "orchestrators only.",
            EXIT_RUNNER,
        )
    if response.status_code != 200:
        raise ClientError(
            f"reserving a session failed: HTTP {response.status_code}: {error_detail(response)}",
            EXIT_RUNNER,
        )
    try:
        body = response.json()
        return Session(
            str(body["session_id"]), body["app_url"].rstrip("/"), body["control_url"].rstrip("/")
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ClientError(
            f"the orchestrator's session answer is not what a live runner gives: {response.text!r}",
            EXIT_RUNNER,
        ) from error


async def start_stream(
    client: httpx.AsyncClient,
    session: Session,
    params: dict[str, Any],
    ready_deadline: float,
    progress: Progress,
    stop: asyncio.Event | None = None,
) -> StreamChannels:
    """POST {app_url}/stream/start; 503 (the pipeline is still loading) is retried until the
    deadline (time.monotonic())."""
    response = await _post_until_served(
        client,
        f"{session.app_url}/stream/start",
        body={"params": params},
        retry=frozenset({503}),
        deadline=ready_deadline,
        waiting="the runner is not ready yet (loading?): waiting for it...",
        gave_up=lambda response: ClientError(
            f"the runner is still not ready ({error_detail(response)}). It may still "
            "be loading its model: raise --ready-timeout, or look at the runner's logs.",
            EXIT_RUNNER,
        ),
        unreachable=lambda error: ClientError(
            f"starting the stream failed: {error!r}", EXIT_RUNNER
        ),
        progress=progress,
        stop=stop,
    )
    status = response.status_code
    if status == 422:
        raise ClientError(f"the runner refused --params: {error_detail(response)}", EXIT_PARAMS)
    if status == 409:
        raise ClientError(
            f"the runner is busy with another stream ({error_detail(response)}).", EXIT_RUNNER
        )
    if status == 400:
        raise ClientError(
            f"the runner refused the request ({error_detail(response)}). Its session "
            "headers come from the orchestrator: is --orchestrator the orchestrator, not "
            "the runner itself?",
            EXIT_RUNNER,
        )
    if status != 200:
        raise ClientError(
            f"starting the stream failed: HTTP {status}: {error_detail(response)}", EXIT_RUNNER
        )
    try:
        channels = response.json()["channels"]
        return StreamChannels(
            input=channels["in"], output=channels["out"], events=channels.get("events")
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ClientError(
            f"the runner's stream/start answer has no 'in'/'out' channels: {response.text!r}"
        ) from error


async def update_params(
    client: httpx.AsyncClient, session: Session, params: dict[str, Any]
) -> None:
    """POST {app_url}/stream/params with the whole parameter set."""
    try:
        response = await client.post(f"{session.app_url}/stream/params", json=params)
    except httpx.HTTPError as error:
        raise ClientError(f"sending parameters failed: {error!r}") from error
    if response.status_code == 422:
        raise ClientError(
            f"the runner refused the parameters: {error_detail(response)}", EXIT_PARAMS
        )
    if response.status_code != 200:
        raise ClientError(
            f"sending parameters failed: HTTP {response.status_code}: {error_detail(response)}"
        )


async def stop_session(client: httpx.AsyncClient, session: Session) -> None:
    """POST {control_url}/stop; a session that has already ended (404) is fine."""
    try:
        response = await client.post(f"{session.control_url}/stop", timeout=10.0)
    except httpx.HTTPError as error:
        raise ClientError(f"stopping the session failed: {error!r}") from error
    if response.status_code not in (200, 204, 404):
        raise ClientError(f"stopping the session failed: HTTP {response.status_code}")
