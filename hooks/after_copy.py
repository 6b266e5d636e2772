"""Runs once after `copier copy`, in the new project: lock, first commit, GPU smoke test.

Copier deletes a freshly generated project when a task fails, so no step here may fail the copy:
each one prints what it did, or what went wrong and the exact command to run later, and the
script always exits 0. Standard library only: it runs on copier's own Python.
"""

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from steps import Outcome, last_lines, lock, report, uv_environment

SMOKE_TIMEOUT_S = 3600  # a first `uv sync` downloads CUDA torch: several GB
SMOKE_LOG = "smoke-test.log"
# The benchmark's lines worth repeating in the summary.
BENCH_LINES = {
    "device",
    "init",
    "load",
    "stream",
    "output",
    "model",
    "requests",
    "latency",
    "memory",
}


def git(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True)


def first_commit(project: Path, author_name: str, author_email: str, message: str) -> Outcome:
    later = f"cd {shlex.quote(str(project))} && git init && git add -A && git commit -m 'Generate'"
    if shutil.which("git") is None:
        return Outcome(False, "git is not installed; `copier update` needs a git repository", later)
    if git(project, "rev-parse", "--is-inside-work-tree").returncode == 0:
        return Outcome(True, "already inside a git repository: left for you to commit")
    # The answers name an author; git's own configuration wins where it has one.
    identity = []
    if not git(project, "config", "user.email").stdout.strip():
        identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
    steps = {
        "init": ["init", "--quiet"],
        "add": ["add", "--all"],
        "commit": [*identity, "commit", "--quiet", "-m", message],
    }
    for name, step in steps.items():
        done = git(project, *step)
        if done.returncode != 0:
            failure = last_lines(done.stderr or done.stdout, 2)
            return Outcome(False, f"git {name} failed: {failure}", later)
    return Outcome(True, "git repository created with a first commit")


def gpu_name() -> str | None:
    """The first NVIDIA GPU the driver lists, or None: asks nvidia-smi, installs nothing."""
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return None
    try:
        listed = subprocess.run([nvidia_smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    gpus = [line for line in listed.stdout.splitlines() if line.startswith("GPU ")]
    return gpus[0].split(":", 1)[1].split("(UUID", 1)[0].strip() if gpus else None


# How much each kind's benchmark sends: 300 frames of a stream, or 64 requests 8 at a time.
BENCH_LOAD = {"live": ["--frames", "300"], "batch": ["--requests", "64"]}


def smoke_commands(pipeline_name: str, kind: str, *, gpu: bool) -> list[list[str]]:
    bench = ["uv", "run", f"{pipeline_name}-bench", *BENCH_LOAD[kind]]
    return [
        ["uv", "sync"],
        ["uv", "run", pipeline_name, "--prepare-models"],
        bench + (["--require-gpu"] if gpu else []),
    ]


def as_shell(project: Path, commands: list[list[str]]) -> str:
    steps = " && ".join(shlex.join(command) for command in commands)
    return f'cd {shlex.quote(str(project))} && export MODEL_DIR="$PWD/models" && {steps}'


def smoke_test(project: Path, pipeline_name: str, kind: str, locked: bool) -> Outcome:
    gpu = gpu_name()
    commands = smoke_commands(pipeline_name, kind, gpu=True)
    later = as_shell(project, commands)
    if gpu is None:
        cpu = as_shell(project, smoke_commands(pipeline_name, kind, gpu=False))
        return Outcome(
            True,
            f"no NVIDIA GPU here (nvidia-smi lists none): GPU smoke test not run. "
            f"On a GPU machine: {later}\n       its CPU mode, here: {cpu}",
        )
    if not locked:
        return Outcome(False, f"found {gpu}, but the project is not locked", later)
    print(f"Found {gpu}: running the GPU smoke test (uv sync downloads CUDA torch the first time)")
    env = uv_environment() | {"MODEL_DIR": str(project / "models")}
    log_path = project / SMOKE_LOG
    with log_path.open("w") as log:
        for command in commands:
            log.write(f"$ {shlex.join(command)}\n")
            log.flush()
            try:
                done = subprocess.run(
                    command,
                    cwd=project,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=SMOKE_TIMEOUT_S,
                )
            except subprocess.TimeoutExpired:
                return Outcome(False, f"`{shlex.join(command)}` timed out; see {log_path}", later)
            if done.returncode != 0:
                return Outcome(False, f"`{shlex.join(command)}` failed; see {log_path}", later)
    numbers = [
        line
        for line in log_path.read_text().splitlines()
        if line.split(":", 1)[0].strip() in BENCH_LINES
    ]
    return Outcome(
        True,
        f"passed on {gpu} (all output in {SMOKE_LOG}):\n         " + "\n         ".join(numbers),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline-name", required=True)
    parser.add_argument("--author-name", default="")
    parser.add_argument("--author-email", default="")
    parser.add_argument("--template", default="", help="template name and version, for the commit")
    parser.add_argument("--git-init", choices=["true", "false"], default="true")
    parser.add_argument("--pipeline-kind", choices=sorted(BENCH_LOAD), default="live")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    project = Path.cwd()
    print()
    locked = lock(project)
    report("lock", locked)
    if args.git_init == "true":
        message = f"Generate {args.pipeline_name} from {args.template or 'the template'}"
        report("git", first_commit(project, args.author_name, args.author_email, message))
    smoke = smoke_test(project, args.pipeline_name, args.pipeline_kind, locked.ok)
    report("smoke test", smoke)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # never fail the copy: copier would delete the project
        print(f"[FAILED] post-generation steps stopped: {error!r}. The project is complete.")
        sys.exit(0)
