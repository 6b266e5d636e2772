"""Contract tests for ai-runner pipelines, as pytest classes to subclass (ai_runner_kit.testing.live
says how), and the pytest plugin that serves their fixtures (ai_runner_kit.testing.plugin).

- `LivePipelineContract`: what ai-runner's contract asks of any live pipeline.
- `TorchLivePipelineContract`: that, plus what the kit's `TorchLivePipeline` promises.
"""

from ai_runner_kit.testing.live import LivePipelineContract, TorchLivePipelineContract

__all__ = ["LivePipelineContract", "TorchLivePipelineContract"]
