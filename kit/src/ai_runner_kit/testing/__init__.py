"""Contract tests for ai-runner pipelines, as pytest classes to subclass (ai_runner_kit.testing.live
says how), and the pytest plugin that serves their fixtures (ai_runner_kit.testing.plugin).

- `LivePipelineContract`: what ai-runner's contract asks of any live pipeline.
- `TorchLivePipelineContract`: that, plus what the kit's `TorchLivePipeline` promises.

Imported on first use: pytest loads the plugin in every run where the kit is installed, and
that must not load torch or ai-runner.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai_runner_kit.testing.live import LivePipelineContract, TorchLivePipelineContract

__all__ = ["LivePipelineContract", "TorchLivePipelineContract"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.live"), name)
