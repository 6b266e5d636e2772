"""integration/runners.json, the static registration a generated project hands to an orchestrator
(`-liveRunnerConfig` or `POST /registerLiveRunners`), against a JSON Schema written from the field
table of go-livepeer's doc/live-runner.md. The schema is checked too: every rule refuses what the
table refuses."""

import copy
import json

import pytest
from ai_runner_kit.batch import routes
from jsonschema import Draft202012Validator

from .rendering import REPO, render

SCHEMA = json.loads((REPO / "tests" / "schemas" / "live-runner-config.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
MAX_METADATA_BYTES = 1024

VALID_RUNNER = {
    "label": "scope-l40s",
    "routing": "label",
    "runner_url": "http://scope-runner:8080",
    "health_url": "/health",
    "healthy_status_code": 200,
    "app": "live-video-to-video/scope",
    "version": "1.4.0",
    "metadata": '{"region":"us-west"}',
    "mode": "persistent",
    "capacity": 2,
    "proxy": True,
    "gpu": {"id": "0", "name": "NVIDIA L40S", "vram_mb": 46068},
    "price_info": {"price": 3.5, "currency": "usd", "unit": "hour"},
}


def problems(document: dict) -> list[str]:
    """Schema errors, and the table's rules that a JSON Schema cannot state."""
    found = [error.message for error in VALIDATOR.iter_errors(document)]
    runners = document.get("runners", []) if isinstance(document, dict) else []
    labels = [runner.get("label") for runner in runners if isinstance(runner, dict)]
    if len(labels) != len(set(labels)):
        found.append("labels must be unique in one batch")
    for runner in runners:
        if not isinstance(runner, dict):
            continue
        if runner.get("routing") == "label" and "/" in str(runner.get("label", "")):
            found.append("a label cannot contain / with label routing")
        if len(str(runner.get("metadata", "")).encode()) > MAX_METADATA_BYTES:
            found.append("metadata is over 1,024 UTF-8 bytes")
    return found


@pytest.fixture(scope="module", params=["live", "batch"])
def rendered(request, template, tmp_path_factory):
    project = tmp_path_factory.mktemp(request.param) / "project"
    return render(template, project, pipeline_kind=request.param)


def test_the_rendered_configuration_is_valid(rendered):
    document = json.loads((rendered / "integration" / "runners.json").read_text())
    assert problems(document) == []
    (runner,) = document["runners"]
    assert runner["label"] == "my-pipeline"
    assert runner["health_url"] == "/ready", "ai-runner's /health is 200 while loading"
    assert runner["price_info"]["price"] > 0, "on-chain orchestrators refuse a runner without it"


def test_live_registers_one_persistent_session_per_runner(template, tmp_path):
    project = render(template, tmp_path / "project")
    (runner,) = json.loads((project / "integration" / "runners.json").read_text())["runners"]
    assert (runner["mode"], runner["capacity"]) == ("persistent", 1)
    assert runner["app"] == "live-video-to-video/my-pipeline"


def test_batch_capacity_is_what_its_api_admits_at_once(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_kind="batch")
    (runner,) = json.loads((project / "integration" / "runners.json").read_text())["runners"]
    # the example's API is the kit's image-to-image routes, at their default limits
    assert runner["mode"] == "single-shot"
    assert runner["capacity"] == routes.MAX_ACTIVE


def test_the_documented_example_is_valid():
    assert problems({"runners": [VALID_RUNNER]}) == []


def with_field(**changes) -> dict:
    runner = copy.deepcopy(VALID_RUNNER)
    for name, value in changes.items():
        if value is ...:
            runner.pop(name)
        else:
            runner[name] = value
    return {"runners": [runner]}


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"runners": {}},
        with_field(label=...),
        with_field(label=""),
        with_field(label=" padded"),
        with_field(label="a/b"),
        with_field(routing="round-robin"),
        with_field(proxy="yes"),
        with_field(runner_url=...),
        with_field(runner_url="scope-runner:8080"),
        with_field(runner_url="ftp://scope-runner"),
        with_field(health_url=...),
        with_field(health_url="health"),
        with_field(healthy_status_code=99),
        with_field(healthy_status_code=600),
        with_field(healthy_status_code="200"),
        with_field(app=...),
        with_field(app="app "),
        with_field(metadata="é" * 513),
        with_field(mode="batch"),
        with_field(capacity=-1),
        with_field(capacity=1.5),
        with_field(gpu="0"),
        with_field(price_info={"price": 0}),
        with_field(price_info={"price": -1}),
        with_field(price_info={"price": 1, "currency": "eth"}),
        with_field(price_info={"price": 1, "unit": "minute"}),
        {"runners": [VALID_RUNNER, VALID_RUNNER]},
    ],
    ids=lambda document: json.dumps(document)[:60],
)
def test_the_schema_refuses_what_the_table_refuses(document):
    assert problems(document)


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": "single_shot"},
        {"capacity": 0},
        {"gpu": 0},
        {"gpu": -1},
        {"routing": "runner-id", "label": "a/b"},
        {"health_url": "http://elsewhere:9000/ready"},
        {"metadata": "é" * 512},
        {"price_info": {"price": 0.01}},
        {"unknown_field": "ignored by go-livepeer"},
    ],
    ids=str,
)
def test_the_schema_accepts_what_the_table_accepts(changes):
    assert problems(with_field(**changes)) == []
