"""Model preparation, where a pipeline has it: ai-runner's live pipelines all do
(`prepare_models`, a classmethod), its batch pipelines have no such hook."""

from __future__ import annotations


def prepare(pipeline_class: type) -> bool:
    """Runs `pipeline_class.prepare_models()`; False when the class has none to run."""
    prepare_models = getattr(pipeline_class, "prepare_models", None)
    if prepare_models is None:
        return False
    prepare_models()
    return True
