import os
import sys
from pathlib import Path

import pytest
from upstream_fixture import FOLDER as UPSTREAM

FAKES = Path(__file__).resolve().parent / "fakes"
# The contract's params check imports the params module in a new interpreter: it must find the
# pipelines there too.
IMPORTABLE = [str(FAKES), str(UPSTREAM)]

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="session")
def _test_pipelines_importable_here_and_in_subprocesses():
    saved_path, saved_env = list(sys.path), os.environ.get("PYTHONPATH")
    sys.path[:0] = IMPORTABLE
    os.environ["PYTHONPATH"] = os.pathsep.join(IMPORTABLE + ([saved_env] if saved_env else []))
    yield
    sys.path[:] = saved_path
    if saved_env is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved_env
