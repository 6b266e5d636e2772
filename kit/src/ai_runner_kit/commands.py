"""A pipeline project's commands, bound to its spec: what its console scripts point at.

    # main.py
    commands = PipelineCommands(pipeline_spec, "my-pipeline")
    main = commands.serve

    # pyproject.toml
    [project.scripts]
    my-pipeline = "my_pipeline.main:main"
    my-pipeline-bench = "my_pipeline.main:commands.bench"
    my-pipeline-try = "my_pipeline.main:commands.try_it"
    my-pipeline-session = "my_pipeline.main:commands.session"   # live only

Each reads its arguments from the command line and exits with the command's code, as
`ai-runner-kit <command> --spec ...` does for the same spec.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from ai_runner_kit.specs import Spec, is_live

__all__ = ["PipelineCommands"]


@dataclass(frozen=True)
class PipelineCommands:
    spec: Spec
    name: str  # the project's command; the others are `<name>-bench`, `<name>-try`...

    def serve(self, argv: Sequence[str] | None = None) -> None:
        from ai_runner_kit import serve

        sys.exit(serve.main(self.spec, self.name, argv))

    def bench(self, argv: Sequence[str] | None = None) -> None:
        sys.exit(run_bench(self.spec, argv, f"{self.name}-bench"))

    def try_it(self, argv: Sequence[str] | None = None) -> None:
        sys.exit(run_try(self.spec, argv, f"{self.name}-try"))

    def session(self, argv: Sequence[str] | None = None) -> None:
        from ai_runner_kit.live.session import cli

        sys.exit(cli.main(argv, f"{self.name}-session"))


# On a CPU, torch runs each operation on a team of OpenMP threads, one team for each thread that
# calls torch: a benchmark process holds several (the model alone's thread, the pipeline's
# worker, ai-runner's loading thread). With a team as wide as the machine, each operation waits
# for its slowest core, and idle teams' threads spin on the cores the working team needs: on a
# shared 2-core machine the model alone ran at 132 or 234 fps from one run to the next. One
# thread a team gives one speed, run after run, and the 30 fps latency no worse (measured in
# docs/performance.md, *Repeatability*). Set OMP_NUM_THREADS to choose otherwise.
THREADS = "OMP_NUM_THREADS"


def with_one_cpu_thread_per_team(argv: Sequence[str]) -> None:
    """On a CPU, and unless OMP_NUM_THREADS is set, sets it to 1 and runs the command again,
    once, from the start: OpenMP reads it when torch loads. A GPU run is left as it is."""
    wanted = os.environ.get("PIPELINE_DEVICE", "")
    if os.environ.get(THREADS) or "cuda" in wanted or "cuda" in argv or "--require-gpu" in argv:
        return
    import torch

    if torch.cuda.is_available():
        return
    os.environ[THREADS] = "1"
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run_bench(spec: Spec, argv: Sequence[str] | None, prog: str) -> int:
    with_one_cpu_thread_per_team(sys.argv[1:] if argv is None else argv)
    if is_live(spec):
        from ai_runner_kit.live import bench as live_bench

        return live_bench.main(spec, argv, prog)  # type: ignore[arg-type]
    from ai_runner_kit.batch import bench as batch_bench

    return batch_bench.main(spec, argv, prog)  # type: ignore[arg-type]


def run_try(spec: Spec, argv: Sequence[str] | None, prog: str) -> int:
    if is_live(spec):
        from ai_runner_kit.live.tryit import cli

        return cli.main(spec, argv, prog)  # type: ignore[arg-type]
    from ai_runner_kit.batch import tryit

    return tryit.main(spec, argv, prog)  # type: ignore[arg-type]
