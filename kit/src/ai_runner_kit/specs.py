"""Which pipeline a command runs: a live pipeline's `PipelineSpec`, or a batch pipeline's
`BatchSpec`, found from the text of a `--spec` option.

`--spec` takes, in the order they are tried:

- a builtin name of ai-runner's (`noop`);
- `module:attribute` naming a `PipelineSpec` or a `BatchSpec` (`my_pipeline.main:pipeline_spec`);
- a pipeline class path as ai-runner's own specs write it (`runner.live.pipelines.noop:Noop`):
  a live `Pipeline` gets a spec with ai-runner's defaults (no params class, no initial
  params), a batch `Pipeline` a `BatchSpec` named after the class.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TypeAlias

from runner.live.pipelines import PipelineSpec, builtin_pipeline_spec

__all__ = ["BatchSpec", "Spec", "SpecError", "resolve_spec"]


@dataclass(frozen=True)
class BatchSpec:
    """What `PipelineSpec` is to a live pipeline, for a batch one. ai-runner has none: its batch
    pipelines are classes it builds as `Pipeline(model_id, model_dir)` and serves with
    `create_app`. `params_cls` is the pydantic model of what a request can set besides its
    inputs, or None."""

    name: str
    pipeline_cls: str
    params_cls: str | None = None


Spec: TypeAlias = PipelineSpec | BatchSpec


class SpecError(ValueError):
    """A `--spec` that names nothing runnable; the message says what to give instead."""


def import_object(path: str) -> object:
    """The object at "module.path:attribute" (the attribute may be dotted)."""
    module_name, _, attribute = path.partition(":")
    value: object = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def resolve_spec(text: str) -> Spec:
    """The spec that `--spec TEXT` names; SpecError when it names none."""
    if ":" not in text:
        builtin = builtin_pipeline_spec(text)
        if builtin is None:
            raise SpecError(
                f"{text!r} is not one of ai-runner's builtin pipelines: give a builtin name "
                "(noop), module:attribute naming a PipelineSpec, or a class path such as "
                "runner.live.pipelines.noop:Noop"
            )
        return builtin
    module, _, attribute = text.partition(":")
    if not module or module.startswith(".") or not attribute:
        raise SpecError(
            f"{text!r} is not module:attribute: give an absolute module path and a name in it, "
            "e.g. my_pipeline.main:pipeline_spec"
        )
    try:
        found = import_object(text)
    except ModuleNotFoundError as error:
        raise SpecError(
            f"cannot import {text}: {error}. Install the pipeline's package in this environment "
            "(pip install -e .), or add the folder that holds it to PYTHONPATH"
        ) from None
    except (ImportError, AttributeError, ValueError) as error:
        raise SpecError(f"cannot import {text}: {error}") from None
    if isinstance(found, PipelineSpec | BatchSpec):
        return found
    if isinstance(found, type):
        return spec_of_class(text, found)
    raise SpecError(
        f"{text} is a {type(found).__name__}: give a PipelineSpec, a BatchSpec or a Pipeline class"
    )


def spec_of_class(path: str, cls: type) -> Spec:
    from runner.live.pipelines import Pipeline as LivePipeline

    if issubclass(cls, LivePipeline):
        return PipelineSpec(pipeline_cls=path)
    from runner.pipelines.base import Pipeline as BatchPipeline

    if issubclass(cls, BatchPipeline):
        return BatchSpec(name=cls.__name__.lower().removesuffix("pipeline"), pipeline_cls=path)
    raise SpecError(f"{path} is neither a live nor a batch ai-runner Pipeline class")


def is_live(spec: Spec) -> bool:
    return isinstance(spec, PipelineSpec)
