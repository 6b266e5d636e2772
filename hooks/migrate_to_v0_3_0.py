"""Moves a v0.2.0 project onto the kit (ai-runner-kit), around `copier update`'s merge.

v0.3.0 took the template's `src/<package>/runtime/` out of generated projects: the same code is
now the kit, a dependency that every update reaches. For your project that means:

- before the merge, each file in runtime/ is compared with what v0.2.0 generated. Copier deletes
  every file the new release no longer has, changed or not, so a file you changed is put aside
  here and put back after the merge, with a line that says so (nothing imports it any more:
  port your change to the kit, or keep it as your own module, then delete it);
- your imports of runtime/ point at the kit's public API (`ai_runner_kit.live`,
  `ai_runner_kit.batch`); `runtime.model_dir`, whose `models_dir()` took no folder, becomes your
  own `pipeline/model_folder.py`, which calls the kit's `models_dir(MODEL_FOLDER)`;
- after the merge, the imports it changed are sorted with ruff where ruff is installed.

    migrate_to_v0_3_0.py before|after .copier-answers.yml     (run in the project)

Copier runs it once per stage when an update crosses v0.3.0. Running it again changes nothing.
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from migrate_to_v0_2_0 import read_answers, rewrite_imports
from sorted_imports import sort_imports

HOOKS = Path(__file__).resolve().parent
# sha256 of each file v0.2.0 generated under runtime/, by kind, with the answers in the three
# rendered lines put back as placeholders (v0_2_0_placeholders); tests/test_update.py
# recomputes it from the commit "Release v0.2.0".
V0_2_0_RUNTIME = HOOKS / "data" / "v0_2_0_runtime.json"
# Where changed runtime/ files wait while copier merges (it deletes them from runtime/).
ASIDE = Path(".copier-v0.3.0-kept")
LABEL = "migration v0.3.0"

# runtime/ modules -> the kit's public module that now holds their public names.
PUBLIC = {
    "worker": "ai_runner_kit.live",
    "device": "ai_runner_kit.live",
    "local_stream": "ai_runner_kit.live",
    "http_guard": "ai_runner_kit.batch",
}
# runtime/ modules -> the kit's module of the same code (for dotted names, e.g. in a monkeypatch).
INTERNAL = {
    "worker": "ai_runner_kit.live.worker",
    "device": "ai_runner_kit.live.device",
    "local_stream": "ai_runner_kit.live.local_stream",
    "passthrough": "ai_runner_kit.live.passthrough",
    "bench": "ai_runner_kit.live.bench",
    "live_runner": "ai_runner_kit.live.runner",
    "session": "ai_runner_kit.live.session",
    "tryit": "ai_runner_kit.live.tryit",
    "http_guard": "ai_runner_kit.batch.http_guard",
    "measure": "ai_runner_kit.measure",
    "readiness": "ai_runner_kit.readiness",
    "contact_sheet": "ai_runner_kit.contact_sheet",
}
MODEL_FOLDER_LINE = re.compile(r'^MODEL_FOLDER = "([^"\n]+)"$', re.MULTILINE)
SHIM = '''"""This pipeline's own folder in ai-runner's MODEL_DIR.

Written by the template's v0.3.0 migration: it was the template's runtime/model_dir.py, and is
yours now. The kit's models_dir(folder) does the work.
"""

from pathlib import Path

from ai_runner_kit import model_dir_root
from ai_runner_kit import models_dir as kit_models_dir

MODEL_FOLDER = {folder}

__all__ = ["MODEL_FOLDER", "model_dir_root", "models_dir"]


def models_dir() -> Path:
    """This pipeline's own folder in MODEL_DIR."""
    return kit_models_dir(MODEL_FOLDER)
'''


def v0_2_0_placeholders(text: str, package: str, models_folder: str) -> str:
    """The file as v0.2.0's template wrote it, before the answers went in (where they did)."""
    return text.replace(f"python -m {package}.runtime", "python -m {package}.runtime").replace(
        f'MODEL_FOLDER = "{models_folder}"', 'MODEL_FOLDER = "{models_folder}"'
    )


def fingerprint(path: Path, package: str, models_folder: str) -> str:
    text = v0_2_0_placeholders(path.read_text(errors="replace"), package, models_folder)
    return hashlib.sha256(text.encode()).hexdigest()


def say(line: str, ok: bool = True) -> None:
    """One message, wrapped to 80 columns under its `[ok] migration v0.3.0:` prefix."""
    prefix = f"[{'ok' if ok else '!!'}] {LABEL}: "
    print(textwrap.fill(line, 80, initial_indent=prefix, subsequent_indent=" " * 4))


# --- before the merge --------------------------------------------------------------------------


def set_aside_changed_files(runtime: Path, kind: str, models_folder: str, package: str) -> None:
    generated = json.loads(V0_2_0_RUNTIME.read_text())[kind]
    for path in sorted(p for p in runtime.rglob("*") if p.is_file()):
        relative = path.relative_to(runtime).as_posix()
        if "__pycache__" in path.parts or relative not in generated:
            continue  # not the template's: copier leaves it where it is
        if fingerprint(path, package, models_folder) != generated[relative]:
            kept = ASIDE / path
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, kept)


def import_rewrites(package: str) -> list[tuple[str, str]]:
    """(pattern, replacement) pairs, applied in order to every line of your modules."""
    pkg = re.escape(package)
    runtime = rf"(?:\.\.runtime|{pkg}\.runtime)"
    rewrites = [
        # model_dir -> your own pipeline/model_folder.py (relative from pipeline/, else absolute)
        (r"^from \.\.runtime\.model_dir import\b", "from .model_folder import"),
        (rf"\b{pkg}\.runtime\.model_dir\b", f"{package}.pipeline.model_folder"),
    ]
    rewrites += [
        (rf"^from {runtime}\.{module} import\b", f"from {kit} import")
        for module, kit in PUBLIC.items()
    ]
    rewrites += [(rf"\b{pkg}\.runtime\.{module}\b", kit) for module, kit in INTERNAL.items()]
    rewrites += [
        (rf"^from \.\.runtime\.{module} import\b", f"from {kit} import")
        for module, kit in INTERNAL.items()
    ]
    return rewrites


def write_model_folder(pipeline_dir: Path, runtime: Path, class_name: str) -> bool:
    shim = pipeline_dir / "model_folder.py"
    if shim.exists():
        return False
    old = runtime / "model_dir.py"
    found = MODEL_FOLDER_LINE.search(old.read_text()) if old.exists() else None
    folder = found.group(1) if found else f"{class_name}--models"
    shim.write_text(SHIM.format(folder=json.dumps(folder)))
    return True


def before(answers: dict[str, str]) -> None:
    package, kind = answers["package_name"], answers.get("pipeline_kind", "live")
    class_name = answers.get("class_name", "")
    models_folder = f"{class_name}--models"
    runtime = Path("src") / package / "runtime"
    pipeline_dir = Path("src") / package / "pipeline"
    if runtime.is_dir():
        set_aside_changed_files(runtime, kind, models_folder, package)
    yours = sorted(pipeline_dir.rglob("*.py")) + sorted(Path("tests").rglob("*.py"))
    changed = rewrite_imports(yours, import_rewrites(package))
    if any(".model_folder" in path.read_text() for path in changed):
        if write_model_folder(pipeline_dir, runtime, class_name):
            changed.append(pipeline_dir / "model_folder.py")
            say(f"wrote {pipeline_dir / 'model_folder.py'}: MODEL_FOLDER and models_dir()")
    ASIDE.mkdir(exist_ok=True)
    (ASIDE / "imports-changed.txt").write_text("".join(f"{path}\n" for path in changed))
    for path in changed:
        say(f"imports point at the kit in {path}")


# --- after the merge ---------------------------------------------------------------------------


def after(answers: dict[str, str]) -> None:
    package = answers["package_name"]
    runtime = Path("src") / package / "runtime"
    if not ASIDE.is_dir():
        return
    listed = ASIDE / "imports-changed.txt"
    changed = [Path(line) for line in listed.read_text().splitlines()] if listed.exists() else []
    listed.unlink(missing_ok=True)
    for kept in sorted(p for p in ASIDE.rglob("*") if p.is_file()):
        original = kept.relative_to(ASIDE)
        original.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(kept), original)
        say(
            f"kept {original}: you changed it, and the kit now holds that code; nothing "
            "imports it: port your change, then delete it",
            ok=False,
        )
    shutil.rmtree(ASIDE)
    left = sorted(p for p in runtime.rglob("*.py")) if runtime.is_dir() else []
    if left:
        say(f"{runtime}/ keeps {len(left)} file(s) of yours; the kit replaces the rest")
    else:
        say(f"{runtime}/ is gone: the kit (ai-runner-kit) replaces it")
        shutil.rmtree(runtime, ignore_errors=True)  # __pycache__ copier does not know
    if not sort_imports(changed):
        say("sort the imports it changed: `just format` (or ruff check --fix)", ok=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["before", "after"])
    parser.add_argument("answers_file", type=Path)
    args = parser.parse_args(argv)
    try:
        answers = read_answers(args.answers_file)
        (before if args.stage == "before" else after)(answers)
    except (KeyError, OSError, ValueError, subprocess.SubprocessError) as error:
        print(f"[FAILED] {LABEL}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
