"""`GET /ready` (ai_runner_kit.readiness), the health_url a pipeline gives go-livepeer's
live runner. The orchestrator compares status codes only, so the code must carry the state."""

from types import SimpleNamespace

import pytest
from ai_runner_kit import readiness
from fastapi import FastAPI
from fastapi.testclient import TestClient


class Pipeline:
    def __init__(self, status: str | Exception) -> None:
        self.status = status

    def get_health(self):
        if isinstance(self.status, Exception):
            raise self.status
        return SimpleNamespace(status=self.status)


def ready(pipeline: Pipeline):
    app = FastAPI()
    app.include_router(readiness.readiness_router(pipeline))
    return TestClient(app).get("/ready")


@pytest.mark.parametrize("status", ["OK", "IDLE"])
def test_ready_states_answer_200(status):
    response = ready(Pipeline(status))
    assert (response.status_code, response.json()) == (200, {"status": status})


@pytest.mark.parametrize("status", ["LOADING", "ERROR"])
def test_other_states_answer_503_with_retry_after(status):
    response = ready(Pipeline(status))
    assert (response.status_code, response.json()) == (503, {"status": status})
    assert response.headers["Retry-After"] == "5"


def test_a_live_pipeline_whose_infer_process_is_still_starting_is_loading():
    # ai-runner's live get_health() raises ConnectionError until its infer process answers
    response = ready(Pipeline(ConnectionError("connection refused")))
    assert (response.status_code, response.json()) == (503, {"status": "LOADING"})


def test_readiness_follows_the_pipeline_both_ways():
    pipeline = Pipeline("LOADING")
    app = FastAPI()
    app.include_router(readiness.readiness_router(pipeline))
    client = TestClient(app)
    assert client.get("/ready").status_code == 503
    pipeline.status = "IDLE"
    assert client.get("/ready").status_code == 200
    pipeline.status = "ERROR"  # a crashed pipeline must drop out of discovery again
    assert client.get("/ready").status_code == 503


def test_a_runner_in_a_session_stays_ready_while_a_params_change_reloads():
    # ai-runner says LOADING while update_params' task runs; a 503 then would make the
    # orchestrator release the session that asked for the change.
    pipeline, in_session = Pipeline("LOADING"), [True]
    app = FastAPI()
    app.include_router(readiness.readiness_router(pipeline, lambda: in_session[0]))
    client = TestClient(app)
    assert client.get("/ready").status_code == 200
    pipeline.status = "ERROR"
    assert client.get("/ready").status_code == 503, "an error still drops the runner"
    pipeline.status, in_session[0] = "LOADING", False
    assert client.get("/ready").status_code == 503, "no session: the model is still loading"
