import os
from pathlib import Path

import pytest

from .rendering import snapshot_template


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
