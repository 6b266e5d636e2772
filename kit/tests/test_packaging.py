"""The kit as PyPI would get it: `python -m build` makes a wheel and an sdist that pass
`twine check --strict`, hold what they should, and say the version the template pins
(data/kit.yml) with no dependency on ai-runner or torch (a pipeline's project pins those).
.github/workflows/release-kit.yml publishes the same two files."""

import email.parser
import importlib.util
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

KIT = Path(__file__).resolve().parents[1]
REPO = KIT.parent
PROJECT = tomllib.loads((KIT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
# Neither is on the kit's list: ai-runner is not on PyPI, and the project picks torch's build.
NOT_DEPENDENCIES = {"ai-runner", "torch", "runner"}


def source_files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    for tool in ("build", "twine"):
        assert importlib.util.find_spec(tool), f"dev/requirements.txt pins {tool}: run dev/test.sh"
    out = tmp_path_factory.mktemp("dist")
    # No isolation: hatchling comes from this environment, so no network is needed. build makes
    # the sdist, then the wheel from the unpacked sdist: the sdist must be enough to build from.
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(KIT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    files = {path.name: path for path in out.iterdir()}
    wheel, sdist = f"ai_runner_kit-{VERSION}-py3-none-any.whl", f"ai_runner_kit-{VERSION}.tar.gz"
    assert set(files) == {wheel, sdist}
    return {"wheel": files[wheel], "sdist": files[sdist]}


@pytest.fixture(scope="module")
def wheel_files(dist) -> set[str]:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def metadata(dist) -> email.message.Message:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        text = wheel.read(f"ai_runner_kit-{VERSION}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


def test_both_pass_twine_check_strict(dist):
    command = [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.values())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_version_is_the_one_the_template_pins():
    pinned = yaml.safe_load((REPO / "data" / "kit.yml").read_text())["kit"]["default"]["version"]
    assert VERSION == pinned


def test_the_wheel_holds_the_package_as_it_is_in_src_and_nothing_else(wheel_files):
    package = {name for name in wheel_files if not name.startswith(f"ai_runner_kit-{VERSION}.")}
    in_src = {f"ai_runner_kit/{name}" for name in source_files(KIT / "src" / "ai_runner_kit")}
    assert package == in_src
    assert "ai_runner_kit/py.typed" in package  # PEP 561: mypy reads the kit's annotations


def test_the_wheel_has_the_command(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        entry_points = wheel.read(f"ai_runner_kit-{VERSION}.dist-info/entry_points.txt").decode()
    assert "[console_scripts]\nai-runner-kit = ai_runner_kit.cli:main" in entry_points


def test_the_metadata_names_the_kit_and_its_python(metadata):
    assert metadata["Name"] == "ai-runner-kit"
    assert metadata["Version"] == VERSION
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith("# ai-runner-kit")  # the README is the PyPI page


def test_the_kit_depends_on_neither_ai_runner_nor_torch(metadata):
    required = {
        canonicalize_name(Requirement(line).name) for line in metadata.get_all("Requires-Dist")
    }
    assert required == {
        canonicalize_name(Requirement(line).name) for line in PROJECT["dependencies"]
    }
    assert required.isdisjoint(NOT_DEPENDENCIES)


def test_the_sdist_holds_the_source_the_tests_and_the_docs(dist):
    root = f"ai_runner_kit-{VERSION}"
    with tarfile.open(dist["sdist"]) as sdist:
        members = {name.removeprefix(f"{root}/") for name in sdist.getnames()}
    wanted = {"pyproject.toml", "PKG-INFO", "README.md", "CHANGELOG.md"}
    wanted |= {f"src/ai_runner_kit/{name}" for name in source_files(KIT / "src" / "ai_runner_kit")}
    wanted |= {f"tests/{name}" for name in source_files(KIT / "tests")}
    assert wanted <= members, sorted(wanted - members)
    assert "src/ai_runner_kit/py.typed" in members
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in members)
