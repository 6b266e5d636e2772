"""Regenerate the lock-derived lists of data/reserved_names.yml: `distributions`, `packages` and
`commands`, from the environment a generated project really gets.

    python dev/reserved_names.py --ai-runner ../ai-runner/runner   # a checkout of the release tag

It renders a live and a batch project (Hugging Face model source: the larger dependency set),
locks each with `uv lock` (every dependency group, every platform), and reads each locked
distribution's wheel: its top-level modules (import names) and its console scripts. Only the
central directory and entry_points.txt of each wheel are fetched (HTTP range requests), so a
torch wheel costs a few hundred kilobytes, not gigabytes.

Which ai-runner: the tests lock against the offline double (tests/ai_runner_double), which
declares fewer dependencies than the real release, and GitHub and the PyTorch index may be out
of reach. So the projects are locked against the double, with the PyTorch index answered by
PyPI (as in the tests), and the real release's own dependencies come from its uv.lock: the
closure of the extras the template asks for (`realtime`, `realtime-base`). With no --ai-runner
the lists cover the double only, and the script says so. The versions of those distributions
installed where the script runs (the tests' environment) add their names too: a later lock may
take those versions. tests/test_reserved_names.py fails when a fresh lock holds a distribution
the lists lack, or an installed one a module or script they lack.
"""

import argparse
import importlib.metadata
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "reserved_names.yml"
DOUBLE = REPO / "tests" / "ai_runner_double"
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
PIPELINE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# The extras of ai-runner a generated project asks for (template/pyproject.toml.jinja).
AI_RUNNER_EXTRAS = ("realtime", "realtime-base")

# Names no lock shows, each with its reason; the lock's own names are added to these.
EXTRA_PACKAGES = {
    "test": "Python's own test package: in the standard library, not in sys.stdlib_module_names",
    "app": "ai-runner's package before v0.14.0 (copier update from older projects)",
    "runner": "ai-runner's package (the real one; the double's is read from its src/)",
    "pil": "PIL on a case-insensitive filesystem",
    "cprofile": "cProfile on a case-insensitive filesystem",
    "conftest": "pytest's own module name in tests/",
    "tests": "the project's test folder",
    "main": "the generated package's module names, which a same-named package would shadow",
    "pipeline": "the generated package's module names",
    "pipelines": "ai-runner's runner.pipelines, imported by name",
    "copier": "the tool that generates and updates the project",
    "uv": "the tool that locks and runs the project (in the base image too)",
    "pip": "the venv's own installer",
    "hatchling": "the build backend (build-system.requires, not in the lock)",
    "torchvision": "pyproject.toml says how to route it to the PyTorch index",
    "torchaudio": "pyproject.toml says how to route it to the PyTorch index",
}
EXTRA_DISTRIBUTIONS = {
    "ai-runner": "a path or git source, not a registry package of the lock",
    "ai-runner-kit": "the kit: a path or git source (the template's kit/), not a registry package",
    "hatchling": "the build backend (build-system.requires, not in the lock)",
    "torchvision": "pyproject.toml says how to add it",
    "torchaudio": "pyproject.toml says how to add it",
}
EXTRA_COMMANDS = {
    "ai-runner-kit": "the kit's command (a path or git source: no wheel to read it from)",
    "python": "the venv's interpreter",
    "python3": "the venv's interpreter",
    "pip": "the venv's installer",
    "pip3": "the venv's installer",
    "activate": "the venv's activation script",
    "deactivate": "the venv's activation function",
    "uv": "the tool that runs the project",
    "uvx": "uv's tool runner",
    "copier": "the tool that updates the project",
    "hatchling": "the build backend",
}
# Wheels on hosts this machine may not reach (the PyTorch index): their import names and
# scripts, read from the same release's wheel on PyPI (pytorch-triton is triton's build).
UNREACHABLE = {"pytorch-triton": ({"triton"}, {"proton", "proton-viewer"})}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class RemoteFile(io.RawIOBase):
    """A file on an HTTP server, read with range requests: enough for zipfile."""

    def __init__(self, url: str) -> None:
        self.url, self.position = url, 0
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as response:
            self.size = int(response.headers["Content-Length"])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = base + offset
        return self.position

    def readinto(self, buffer) -> int:
        end = min(self.position + len(buffer), self.size) - 1
        if end < self.position:
            return 0
        headers = {"Range": f"bytes={self.position}-{end}"}
        request = urllib.request.Request(self.url, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read()
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def module_name(top: str, is_folder: bool) -> str | None:
    """The import name a wheel's top-level entry installs, lowercased (a case-insensitive
    filesystem confuses PIL and pil), or None where it installs none (.pth, licences)."""
    if not is_folder:
        if not top.endswith((".py", ".pyc", ".so", ".pyd")):
            return None
        top = top.split(".", 1)[0]  # mod.cpython-311-x86_64-linux-gnu.so -> mod
    name = top.lower()
    return name if PACKAGE.fullmatch(name) else None  # numpy.libs is no module


def wheel_names(url: str) -> tuple[set[str], set[str]]:
    """(import names, console scripts) of the wheel at `url`."""
    buffered = io.BufferedReader(RemoteFile(url), buffer_size=1 << 20)
    with zipfile.ZipFile(buffered) as wheel:
        modules, scripts = set(), set()
        for entry in wheel.namelist():
            top, _, rest = entry.partition("/")
            if top.endswith(".dist-info"):
                if rest == "entry_points.txt":
                    scripts |= entry_point_scripts(wheel.read(entry).decode())
                continue
            if top.endswith(".data"):
                kind, _, inner = rest.partition("/")
                if kind in ("purelib", "platlib"):
                    top, _, rest = inner.partition("/")
                elif kind == "scripts":
                    scripts.add(inner)
                    continue
                else:
                    continue
            name = module_name(top, bool(rest))
            if name:
                modules.add(name)
    return modules, scripts


def entry_point_scripts(text: str) -> set[str]:
    scripts, section = set(), ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and section in ("console_scripts", "gui_scripts"):
            scripts.add(line.split("=", 1)[0].strip())
    return scripts


def lock_project(kind: str, scratch: Path) -> dict:
    """A fresh project of `kind`, locked against the double; its uv.lock."""
    project = scratch / kind
    answers = {
        "pipeline_kind": kind,
        "model_source": "huggingface",
        "ai_runner_source": "path",
        "ai_runner_path": str(DOUBLE),
    }
    data = [argument for key, value in answers.items() for argument in ("-d", f"{key}={value}")]
    copier = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--skip-tasks"]
    # a plain copy of the working tree: copier would render the newest tag of a git checkout
    template = scratch / "template"
    if not template.exists():
        ignored = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*_cache", "quickstart")
        shutil.copytree(REPO, template, ignore=ignored)
    subprocess.run([*copier, "-q", *data, str(template), str(project)], check=True)
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    # the torch index answered by PyPI, as in the tests (tests/conftest.py says why)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    index = pyproject["tool"]["uv"]["index"][0]["name"]
    environment.setdefault("UV_INDEX", f"{index}=https://pypi.org/simple")
    environment.setdefault("UV_PYTHON_DOWNLOADS", "never")
    subprocess.run(["uv", "lock", "--quiet"], cwd=project, env=environment, check=True)
    return tomllib.loads((project / "uv.lock").read_text())


def closure(lock: dict, root: str, extras: tuple[str, ...]) -> list[dict]:
    """The packages of `lock` that `root[extras]` brings, whatever the platform."""
    by_name: dict[str, list[dict]] = {}
    for package in lock["package"]:
        by_name.setdefault(package["name"], []).append(package)
    seen, todo = set(), [(root, extra) for extra in (None, *extras)]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for package in by_name[name]:
            wanted = package.get("dependencies", []) if extra is None else []
            if extra is not None:
                wanted = package.get("optional-dependencies", {}).get(extra, [])
            for dependency in wanted:
                todo.append((dependency["name"], None))
                todo.extend((dependency["name"], e) for e in dependency.get("extra", []))
    names = {name for name, _ in seen}
    return [package for package in lock["package"] if package["name"] in names]


def local_modules(folder: Path) -> set[str]:
    """Import names of a source tree's src/ (the double, or a real ai-runner checkout)."""
    return {
        path.stem.lower()
        for path in (folder / "src").iterdir()
        # a package folder (not *.egg-info, which an editable install leaves there) or a module
        if PACKAGE.fullmatch(path.stem.lower())
        and ((path.is_dir() and "." not in path.name) or path.suffix == ".py")
    }


def names_of(package: dict) -> tuple[set[str], set[str]] | None:
    """(import names, scripts) of a locked package, from its first readable wheel; None where
    none is (a release this registry lacks, a host out of reach)."""
    wheels = sorted(
        package.get("wheels", []),
        key=lambda wheel: ("x86_64" not in wheel["url"], "linux" not in wheel["url"]),
    )
    for wheel in wheels[:2]:
        try:
            return wheel_names(wheel["url"])
        except OSError as error:
            print(f"  {package['name']}: {wheel['url']}: {error}", file=sys.stderr)
    return None


def installed_names(wanted: set[str]) -> dict[str, tuple[set[str], set[str]]]:
    """(import names, scripts) of the distributions of `wanted` installed here."""
    found = {}
    for distribution in importlib.metadata.distributions():
        name = normalized(distribution.metadata["Name"])
        if name not in wanted:
            continue
        modules = set()
        for file in distribution.files or []:
            top, *rest = file.parts
            if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
                continue
            module = module_name(top, bool(rest))
            if module:
                modules.add(module)
        scripts = {
            entry.name
            for entry in distribution.entry_points
            if entry.group in ("console_scripts", "gui_scripts")
        }
        found[name] = (modules, scripts)
    return found


def flow_list(key: str, names: set[str]) -> str:
    """A YAML flow list in the file's style: four-space key, six-space lines of <= 100."""
    lines, line = [], ""
    for name in sorted(names):
        item = f"'{name}'" if name in ("True", "False", "None") else name
        if line and len(line) + len(item) + 2 > 100 - 6:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    lines.append(line)
    body = "\n".join("      " + text for text in lines)
    return f"    {key}: [\n{body}\n    ]\n"


def replace_list(text: str, key: str, names: set[str]) -> str:
    pattern = re.compile(rf"^    {key}: \[\n.*?^    \]\n", re.MULTILINE | re.DOTALL)
    assert pattern.search(text), f"{key} is not in {DATA.name}"
    return pattern.sub(lambda _: flow_list(key, names), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ai-runner", type=Path, help="a real ai-runner checkout's runner/")
    arguments = parser.parse_args()

    locked: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind in ("live", "batch"):
            lock = lock_project(kind, Path(scratch))
            locked += [p for p in lock["package"] if "registry" in p["source"]]
    # ai-runner and the kit are path or git sources: their import names come from their src/
    modules, commands = local_modules(DOUBLE) | local_modules(REPO / "kit"), set()
    if arguments.ai_runner:
        real = tomllib.loads((arguments.ai_runner / "uv.lock").read_text())
        locked += [
            p for p in closure(real, "ai-runner", AI_RUNNER_EXTRAS) if "registry" in p["source"]
        ]
        modules |= local_modules(arguments.ai_runner)
    else:
        print("no --ai-runner: the lists cover the double's dependencies only", file=sys.stderr)

    distributions = {normalized(package["name"]) for package in locked}
    # one wheel per distribution and version; a version whose wheels cannot be read takes
    # another version's names (a module's name outlives releases), else UNREACHABLE's
    found: dict[str, tuple[set[str], set[str]]] = {}
    missing = set()
    for package in {(p["name"], p["version"]): p for p in locked}.values():
        names = names_of(package)
        if names is None:
            missing.add(package["name"])
            continue
        previous = found.get(package["name"], (set(), set()))
        found[package["name"]] = (previous[0] | names[0], previous[1] | names[1])
        print(f"{package['name']} {package['version']}: {sorted(names[0])}")
    for name in missing - set(found):
        if name not in UNREACHABLE:
            raise SystemExit(f"no readable wheel for {name}: add it to UNREACHABLE")
        found[name] = UNREACHABLE[name]
    # and the versions installed where this runs (the tests' environment): a later lock may
    # take them, and tests/test_reserved_names.py checks the installed ones offline
    for name, names in installed_names(set(distributions)).items():
        previous = found.get(name, (set(), set()))
        found[name] = (previous[0] | names[0], previous[1] | names[1])
    for package_modules, scripts in found.values():
        modules |= package_modules
        commands |= {script for script in scripts if PIPELINE.fullmatch(script)}

    text = DATA.read_text()
    text = replace_list(text, "packages", modules | set(EXTRA_PACKAGES))
    text = replace_list(text, "distributions", distributions | set(EXTRA_DISTRIBUTIONS))
    text = replace_list(text, "commands", commands | set(EXTRA_COMMANDS))
    DATA.write_text(text)
    print(
        f"{DATA.relative_to(REPO)}: {len(distributions | set(EXTRA_DISTRIBUTIONS))} distributions, "
        f"{len(modules | set(EXTRA_PACKAGES))} import names, "
        f"{len(commands | set(EXTRA_COMMANDS))} commands"
    )


if __name__ == "__main__":
    main()
