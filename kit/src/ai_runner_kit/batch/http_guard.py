"""Bounded memory for an HTTP pipeline, however many requests come and however large.

    router = APIRouter(route_class=guarded_route(max_active=4, max_waiting=12, max_body_bytes=...))

Every route of that router checks two things before FastAPI reads the body:
- its size: a Content-Length over `max_body_bytes` is refused (413) unread, and a body sent
  without one stops being read, with a 413, as soon as it passes the limit;
- its turn: `max_active` requests at a time read, decode, run and encode, `max_waiting` more wait
  with their bodies unread, and any more get 503 with a Retry-After header at once.
Errors answer as ai-runner's own routes do: {"detail": {"msg": ...}}.
"""

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

RETRY_AFTER_S = 1


def http_error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"msg": message}, headers=headers)


class Admission:
    """At most `active` requests work at once and `waiting` more wait; the rest get 503."""

    def __init__(self, active: int, waiting: int) -> None:
        self._turns = asyncio.Semaphore(active)
        self._capacity = active + waiting
        self._admitted = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._admitted >= self._capacity:
            message = f"busy with {self._capacity} requests: retry in {RETRY_AFTER_S} s"
            raise http_error(503, message, headers={"Retry-After": str(RETRY_AFTER_S)})
        self._admitted += 1
        try:
            async with self._turns:
                yield
        finally:
            self._admitted -= 1


def _bounded(receive: Receive, max_body_bytes: int) -> Receive:
    """The request's receive, with a 413 as soon as the body passes `max_body_bytes`."""
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > max_body_bytes:
            raise _too_large(max_body_bytes)
        return message

    return bounded_receive


def _too_large(max_body_bytes: int) -> HTTPException:
    return http_error(413, f"the request body is over {max_body_bytes // 2**20} MiB")


def _json_safe(value: Any) -> Any:
    """NaN and Infinity as text: JSON cannot carry them, and FastAPI's 422, which echoes the
    input, would fail to serialise (a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def guarded_route(max_active: int, max_waiting: int, max_body_bytes: int) -> type[APIRoute]:
    """A route class that checks the body's size and takes a turn before the body is read.
    One Admission per call: the routes of one router share their turns."""
    admission = Admission(max_active, max_waiting)

    class GuardedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                length = request.headers.get("content-length", "")
                if length.isdigit() and int(length) > max_body_bytes:
                    raise _too_large(max_body_bytes)
                async with admission.turn():
                    bounded = _bounded(request.receive, max_body_bytes)
                    try:
                        return await handler(Request(request.scope, bounded))
                    except RequestValidationError as invalid:
                        raise RequestValidationError(_json_safe(invalid.errors())) from None

            return guarded

    return GuardedRoute
