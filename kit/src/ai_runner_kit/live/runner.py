"""Serve this pipeline as a go-livepeer live runner: persistent sessions, one at a time.

go-livepeer's orchestrator reserves a session for a client and reverse-proxies the client's
requests here, adding the headers `Livepeer-Session-Id`, `-Token` and `-Control`.
`POST /stream/start` creates the session's trickle channels through the orchestrator's session
callback API and hands them to ai-runner's own streamer, which subscribes to the input, runs the
pipeline and publishes the output exactly as on the docker-worker path: no video passes through
this module. The session ends when the orchestrator releases it (the client stops it, or this
runner fails its health check): the orchestrator closes the channels, ai-runner's stream ends,
and the runner takes the next session.

Routes (the client reaches them at `{app_url}/...`, the orchestrator at `health_url`):

- `GET /ready`: 200 once the model is ready, 503 while it loads or after an error.
- `POST /stream/start` `{"params": {...}}`: start the stream; answers the public channel URLs.
- `POST /stream/params` `{...}`: the whole new parameter set, validated, then sent to the stream.
- `GET /stream`: the session's state.

The session token authorises callbacks to the orchestrator; it is never logged, and neither are
channel URLs, which carry secrets too.
"""

import asyncio
import contextlib
import logging
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from runner.live.pipelines import BaseParams, PipelineSpec
from runner.live.pipelines.loader import parse_pipeline_params

from ai_runner_kit.readiness import READY_STATES, RETRY_AFTER_S, pipeline_state, readiness_router

logger = logging.getLogger(__name__)

SESSION_ID_HEADER = "Livepeer-Session-Id"
SESSION_TOKEN_HEADER = "Livepeer-Session-Token"
SESSION_CONTROL_HEADER = "Livepeer-Session-Control"
_SESSION_HEADERS = (SESSION_ID_HEADER, SESSION_TOKEN_HEADER, SESSION_CONTROL_HEADER)
# Optional: comma-separated URL prefixes that Livepeer-Session-Control must start with. Set it
# to your orchestrator's -liveRunnerAddr so that a caller who reaches this port directly cannot
# make the runner send requests elsewhere.
ALLOWED_CONTROL_ENV = "LIVE_RUNNER_ORCHESTRATORS"
# go-livepeer serves HTTPS with a self-signed certificate unless -httpAddr says http://, and
# ai-runner's trickle clients do not verify it either. Set this to 1, or to a CA bundle's path,
# when the orchestrator's certificate can be verified.
TLS_VERIFY_ENV = "LIVE_RUNNER_TLS_VERIFY"

# The channels ai-runner's streamer uses, created before the stream starts: its subscriber
# gives up on a channel that does not exist yet.
STREAM_CHANNELS = (
    {"name": "in", "mime_type": "video/MP2T"},
    {"name": "out", "mime_type": "video/MP2T"},
    {"name": "control", "mime_type": "application/json"},
    {"name": "events", "mime_type": "application/json"},
)
RELEASE_POLL_S = 2.0
CALLBACK_TIMEOUT_S = 10.0


class StreamingPipeline(Protocol):
    """What the runner needs of ai-runner's LiveVideoToVideoPipeline."""

    def __call__(self, **stream: Any) -> object: ...

    def get_health(self) -> object: ...


@dataclass(frozen=True)
class Channel:
    url: str  # the public URL, for the client
    runner_url: str  # the URL this machine reaches (the orchestrator's -liveRunnerAddr)


@dataclass
class Session:
    id: str
    control: str = field(repr=False)
    token: str = field(repr=False)
    channels: dict[str, Channel] = field(default_factory=dict, repr=False)
    resolution: tuple[int, int] = (0, 0)  # the stream's output size, fixed once it starts

    @property
    def callback_headers(self) -> dict[str, str]:
        return {SESSION_TOKEN_HEADER: self.token}


def session_from_headers(headers: Mapping[str, str]) -> Session:
    values = {name: headers.get(name, "").strip() for name in _SESSION_HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise HTTPException(
            400,
            f"missing {', '.join(missing)}: call this runner through a go-livepeer orchestrator "
            "(POST /apps/<label>/session, then <app_url>/stream/start)",
        )
    control = values[SESSION_CONTROL_HEADER].rstrip("/")
    allowed = [p.strip() for p in os.getenv(ALLOWED_CONTROL_ENV, "").split(",") if p.strip()]
    if allowed and not any(control.startswith(prefix) for prefix in allowed):
        raise HTTPException(403, f"{SESSION_CONTROL_HEADER} is not in {ALLOWED_CONTROL_ENV}")
    return Session(
        id=values[SESSION_ID_HEADER], control=control, token=values[SESSION_TOKEN_HEADER]
    )


class LiveRunner:
    """One session at a time (the runner's capacity is 1: one stream owns the GPU)."""

    def __init__(self, spec: PipelineSpec, pipeline: StreamingPipeline, http: httpx.AsyncClient):
        self.spec = spec
        self.pipeline = pipeline
        self.http = http
        self.session: Session | None = None
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    def validate(self, params: dict[str, Any]) -> BaseParams:
        try:
            return parse_pipeline_params(self.spec, params)
        except ValidationError as e:
            raise HTTPException(422, e.errors(include_url=False, include_context=False)) from e

    async def start(self, caller: Session, params: dict[str, Any]) -> Session:
        caller.resolution = self.validate(params).get_output_resolution()
        async with self._lock:
            if self.session is not None and self.session.id != caller.id:
                if await self._still_reserved(self.session):
                    raise HTTPException(
                        409,
                        f"this runner serves one session at a time and session "
                        f"{self.session.id} is active: register it with capacity 1",
                    )
                self._forget(self.session, "released by the orchestrator")
            state = await asyncio.to_thread(pipeline_state, self.pipeline)
            if state not in READY_STATES:
                raise HTTPException(
                    503,
                    f"the pipeline is {state}: retry when GET /ready answers 200",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            caller.channels = await self._create_channels(caller)
            try:
                await asyncio.to_thread(self._start_stream, caller, params)
            except Exception as e:
                logger.exception("session %s: the stream did not start", caller.id)
                await self._delete_channels(caller)
                raise HTTPException(502, f"ai-runner did not start the stream: {e}") from e
            self.session = caller
            self._watch(caller)
            logger.info("session %s: streaming", caller.id)
            return caller

    async def update_params(self, caller: Session, params: dict[str, Any]) -> dict[str, Any]:
        validated = self.validate(params)
        session = self._own(caller)
        if validated.get_output_resolution() != session.resolution:
            # ai-runner would drop the whole set silently: say so now.
            width, height = session.resolution
            raise HTTPException(
                422, f"width and height cannot change mid-stream: this stream is {width}x{height}"
            )
        # One control segment holds the whole parameter set; seq -1 appends the next one.
        try:
            response = await self.http.post(
                f"{session.channels['control'].runner_url}/-1",
                json=params,
                timeout=CALLBACK_TIMEOUT_S,
            )
        except httpx.HTTPError as e:
            raise HTTPException(502, f"the control channel failed: {type(e).__name__}") from e
        if response.status_code >= 400:
            raise HTTPException(502, f"the control channel answered {response.status_code}")
        return validated.model_dump(mode="json")

    @property
    def busy(self) -> bool:
        return self.session is not None

    def describe(self, caller: Session) -> dict[str, Any]:
        session = self._own(caller)
        return {"session_id": session.id, "state": pipeline_state(self.pipeline)}

    async def close(self) -> None:
        """At shutdown: give the session back so that the orchestrator stops routing to it."""
        if self._watcher is not None:
            self._watcher.cancel()
        if self.session is not None:
            session, self.session = self.session, None
            with contextlib.suppress(httpx.HTTPError):
                await self.http.post(
                    f"{session.control}/stop",
                    headers=session.callback_headers,
                    timeout=CALLBACK_TIMEOUT_S,
                )
            logger.info("session %s: released at shutdown", session.id)

    def _own(self, caller: Session) -> Session:
        if self.session is None or self.session.id != caller.id:
            raise HTTPException(409, "no stream in this session: POST /stream/start first")
        return self.session

    def _start_stream(self, session: Session, params: dict[str, Any]) -> None:
        channels = session.channels
        self.pipeline(
            subscribe_url=channels["in"].runner_url,
            publish_url=channels["out"].runner_url,
            control_url=channels["control"].runner_url,
            events_url=channels["events"].runner_url,
            params=params,
            request_id=session.id,
            manifest_id="",
            stream_id=session.id,
        )

    async def _create_channels(self, session: Session) -> dict[str, Channel]:
        try:
            response = await self.http.post(
                f"{session.control}/channels",
                json={"channels": list(STREAM_CHANNELS)},
                headers=session.callback_headers,
                timeout=CALLBACK_TIMEOUT_S,
            )
        except httpx.HTTPError as e:
            raise HTTPException(502, f"the orchestrator's session callback failed: {e}") from e
        if response.status_code != 200:
            raise HTTPException(
                502,
                f"the orchestrator refused the channels ({response.status_code}): "
                f"{response.text.strip()[:200]}",
            )
        return {
            descriptor["name"]: Channel(
                url=descriptor["url"],
                runner_url=descriptor.get("internal_url") or descriptor["url"],
            )
            for descriptor in response.json()["channels"]
        }

    async def _delete_channels(self, session: Session) -> None:
        with contextlib.suppress(httpx.HTTPError):
            await self.http.request(
                "DELETE",
                f"{session.control}/channels",
                json={"channels": list(session.channels)},
                headers=session.callback_headers,
                timeout=CALLBACK_TIMEOUT_S,
            )

    async def _still_reserved(self, session: Session) -> bool:
        """The orchestrator closes a session's channels when it releases the session."""
        try:
            response = await self.http.get(
                f"{session.channels['control'].runner_url}/next", timeout=CALLBACK_TIMEOUT_S
            )
        except httpx.HTTPError:
            return True  # unknown: keep the session rather than cut a stream in two
        closed = response.status_code == 404 or "Lp-Trickle-Closed" in response.headers
        return not closed

    def _watch(self, session: Session) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        self._watcher = asyncio.create_task(self._wait_for_release(session))

    async def _wait_for_release(self, session: Session) -> None:
        while self.session is session:
            await asyncio.sleep(RELEASE_POLL_S)
            if not await self._still_reserved(session):
                async with self._lock:
                    self._forget(session, "released by the orchestrator")

    def _forget(self, session: Session, why: str) -> None:
        if self.session is session:
            self.session = None
            logger.info("session %s: %s; its stream ends with its channels", session.id, why)


def create_app(spec: PipelineSpec, pipeline: StreamingPipeline) -> FastAPI:
    """The live runner's HTTP app around an ai-runner LiveVideoToVideoPipeline."""
    runner: LiveRunner | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal runner
        async with httpx.AsyncClient(verify=tls_verification()) as http:
            runner = LiveRunner(spec, pipeline, http)
            yield
            await runner.close()

    def current() -> LiveRunner:
        assert runner is not None, "the app is not started"
        return runner

    app = FastAPI(title=f"{spec.name} live runner", lifespan=lifespan)
    app.include_router(readiness_router(pipeline, lambda: runner is not None and runner.busy))

    @app.post("/stream/start")
    async def start_stream(request: Request) -> JSONResponse:
        caller = session_from_headers(request.headers)
        body = await _json_object(request)
        params = body.get("params", {})
        if not isinstance(params, dict):
            raise HTTPException(422, '"params" must be a JSON object')
        session = await current().start(caller, params)
        channels = {name: channel.url for name, channel in session.channels.items()}
        return JSONResponse({"session_id": session.id, "channels": channels})

    @app.post("/stream/params")
    async def update_params(request: Request) -> JSONResponse:
        caller = session_from_headers(request.headers)
        params = await _json_object(request)
        return JSONResponse({"params": await current().update_params(caller, params)})

    @app.get("/stream")
    async def describe(request: Request) -> JSONResponse:
        caller = session_from_headers(request.headers)
        return JSONResponse(await asyncio.to_thread(current().describe, caller))

    return app


def tls_verification() -> bool | ssl.SSLContext:
    setting = os.getenv(TLS_VERIFY_ENV, "0").strip()
    if setting in {"", "0"}:
        return False
    return True if setting == "1" else ssl.create_default_context(cafile=setting)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError as e:
        raise HTTPException(400, f"the body is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise HTTPException(422, "the body must be a JSON object")
    return body


def serve(spec: PipelineSpec) -> None:
    """Start ai-runner's pipeline process and serve the live runner on $HOST:$PORT."""
    import uvicorn
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    from ai_runner_kit.measure import quiet_request_logs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # httpx logs every request's URL at INFO, and channel URLs are secrets.
    quiet_request_logs()
    pipeline = LiveVideoToVideoPipeline(spec)
    app = create_app(spec, pipeline)
    host = os.getenv("HOST", "0.0.0.0")
    port = int(os.getenv("PORT", "8000"))
    logger.info("live runner for %s on %s:%d (health_url: /ready)", spec.name, host, port)
    uvicorn.run(app, host=host, port=port)
