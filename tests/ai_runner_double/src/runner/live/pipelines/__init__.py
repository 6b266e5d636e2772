"""Live pipeline API of the ai-runner v0.14.1 offline double (torch-free to import)."""

from .interface import BaseParams, Pipeline
from .spec import PipelineSpec, builtin_pipeline_spec

__all__ = ["BaseParams", "Pipeline", "PipelineSpec", "builtin_pipeline_spec"]
