"""PipelineSpec of the ai-runner v0.14.1 offline double.

Classes are named "dotted.module.path:ClassName", as in ai-runner.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator


def _name_from_pipeline_cls(pipeline_cls: str) -> str:
    """'pkg.mod:MyEffectPipeline' -> 'myeffect'."""
    class_name = pipeline_cls.rsplit(":", 1)[-1]
    return class_name.lower().removesuffix("pipeline")


class PipelineSpec(BaseModel):
    """Where to import a live pipeline (and its params class) from, and how to start it."""

    name: str = ""
    """The runner's model_id; derived from pipeline_cls when empty."""

    pipeline_cls: str
    """Import path of the Pipeline subclass, "module.path:ClassName"."""

    params_cls: str | None = None
    """Import path of the BaseParams subclass; None means plain BaseParams."""

    initial_params: dict = {}
    """Parameters given to Pipeline.initialize at start-up."""

    @model_validator(mode="before")
    @classmethod
    def _derive_empty_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name") and "pipeline_cls" in data:
            data = {**data, "name": _name_from_pipeline_cls(data["pipeline_cls"])}
        return data


def builtin_pipeline_spec(name: str) -> PipelineSpec | None:
    """The spec of a pipeline shipped with the runner, or None. The double ships only noop."""
    if name == "noop":
        return PipelineSpec(name="noop", pipeline_cls="runner.live.pipelines.noop:Noop")
    return None
