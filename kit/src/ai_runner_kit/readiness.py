"""`GET /ready`: 200 only once the model is ready, for go-livepeer's live-runner health checks.

ai-runner's `/health` answers 200 while the pipeline is LOADING and in ERROR too (the state is in
its body), but the orchestrator compares status codes only: it would route sessions to a runner
that cannot serve them. This route answers 503 with a Retry-After until the pipeline says OK or
IDLE, and again whenever it leaves those states.
"""

from collections.abc import Callable
from typing import Protocol

from fastapi import APIRouter
from fastapi.responses import JSONResponse

READY_STATES = frozenset({"OK", "IDLE"})
RETRY_AFTER_S = 5  # the orchestrator polls every ~5 s


class HasHealth(Protocol):
    def get_health(self) -> object: ...


def pipeline_state(pipeline: HasHealth) -> str:
    """The pipeline's state as ai-runner reports it: LOADING, IDLE, OK or ERROR."""
    try:
        return str(pipeline.get_health().status)  # type: ignore[attr-defined]
    except ConnectionError:
        # ai-runner's live pipeline cannot reach its infer process while that process starts.
        return "LOADING"


def readiness_router(
    pipeline: HasHealth, in_session: Callable[[], bool] = lambda: False
) -> APIRouter:
    """`in_session`: whether a session is being served. ai-runner says LOADING while a stream's
    update_params task runs (new weights, say), and the orchestrator releases the sessions of a
    runner that turns unhealthy: in a session, LOADING is still ready."""
    router = APIRouter()

    # A plain `def`: ai-runner's live get_health() blocks on a local HTTP call, so FastAPI runs
    # it on its thread pool, off the event loop.
    @router.get("/ready", include_in_schema=False)
    def ready() -> JSONResponse:
        state = pipeline_state(pipeline)
        if state in READY_STATES or (state == "LOADING" and in_session()):
            return JSONResponse({"status": state})
        return JSONResponse(
            {"status": state}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
        )

    return router
