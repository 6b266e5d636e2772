import os
from pathlib import Path

import pytest

from .rendering import NEWEST_RELEASE, RELEASES, snapshot_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template") / "template")


@pytest.fixture(autouse=True, scope="session")
def _no_downloads_of_interpreters_or_models():
    # uv must not fetch a Python from GitHub, and nothing here may reach the Hugging Face Hub.
    saved = {key: os.environ.get(key) for key in ("UV_PYTHON_DOWNLOADS", "HF_HUB_OFFLINE")}
    os.environ.update(UV_PYTHON_DOWNLOADS="never", HF_HUB_OFFLINE="1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True, scope="session")
def _torch_index_answered_by_pypi():
    # Generated projects take torch from the PyTorch index the release table names, which these
    # machines cannot reach; PyPI has the same torch release (another build), so the tests' locks
    # resolve against it. tests/test_torch_index.py checks the index the projects really name.
    name = RELEASES[NEWEST_RELEASE]["torch_index"]["name"]
    saved = os.environ.get("UV_INDEX")
    os.environ["UV_INDEX"] = f"{name}=https://pypi.org/simple"
    yield
    if saved is None:
        os.environ.pop("UV_INDEX", None)
    else:
        os.environ["UV_INDEX"] = saved
