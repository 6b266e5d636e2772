"""The kit's pytest plugin (the `pytest11` entry point `ai_runner_kit`): the fixtures that the
contract tests in ai_runner_kit.testing use, and a line in pytest's header saying which kit ran.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_runner_kit import __version__


def pytest_report_header() -> str:
    return f"ai-runner-kit {__version__}: contract tests from ai_runner_kit.testing"


@pytest.fixture(scope="class")
def prepared_model_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A MODEL_DIR where the contract's pipeline ran `prepare_models()`, once per test class.
    Define your own `prepared_model_dir` in conftest.py when preparing needs more (a cache to
    seed, weights to copy): yours replaces this one."""
    from runner.live.pipelines.loader import load_pipeline_class

    from ai_runner_kit.testing.live import spec_of

    spec = getattr(request.cls, "spec", None)
    if spec is None:
        raise pytest.UsageError(
            "prepared_model_dir comes from a contract class's `spec`: use it in a subclass of "
            "ai_runner_kit.testing's contracts, or define it in conftest.py"
        )
    model_dir = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODEL_DIR", str(model_dir))
        load_pipeline_class(spec_of(spec).pipeline_cls).prepare_models()
    return model_dir
