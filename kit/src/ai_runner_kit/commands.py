"""A pipeline project's commands, bound to its spec: what its console scripts point at.

    # main.py
    commands = PipelineCommands(pipeline_spec, "my-pipeline")

    # pyproject.toml
    [project.scripts]
    my-pipeline = "my_pipeline.main:commands.serve"
    my-pipeline-bench = "my_pipeline.main:commands.bench"
    my-pipeline-try = "my_pipeline.main:commands.try_it"
    my-pipeline-session = "my_pipeline.main:commands.session"   # live only

Each reads its arguments from the command line and exits with the command's code, as
`ai-runner-kit <command> --spec ...` does for the same spec.
"""

from __future__ import annotations

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


def run_bench(spec: Spec, argv: Sequence[str] | None, prog: str) -> int:
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
