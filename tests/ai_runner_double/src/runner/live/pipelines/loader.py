"""Pipeline and params loading of the ai-runner v0.14.1 offline double.

parse_pipeline_params runs inside the same import guard as ai-runner's: it raises
TimeoutError when importing and validating the params class took over 0.5 s, else
ImportError when that newly imported torch, streamdiffusion or comfystream. Importing
torch itself takes longer than 0.5 s on most machines, so a params module that imports
torch usually gets the TimeoutError (as upstream would).

Stricter than upstream: in ai-runner v0.14.1, runner.live.pipelines imports
runner.live.trickle, whose frame module imports torch, so torch is always loaded before
the guard runs and the guard never catches a params module that imports torch. The
double keeps runner.live.pipelines and runner.live.trickle torch-free, so the guard
enforces the documented rule. A params module that passes here passes upstream.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .interface import BaseParams, Pipeline
from .spec import PipelineSpec

# Modules a params class must not pull in: it is parsed outside the pipeline process.
GUARDED_MODULES = ("torch", "streamdiffusion", "comfystream")
PARAMS_IMPORT_TIMEOUT_S = 0.5


def load_pipeline_class(pipeline_cls: str) -> type[Pipeline]:
    """Import the Pipeline subclass named "module.path:ClassName"."""
    return _import_class(pipeline_cls)


def load_pipeline(pipeline_spec: PipelineSpec) -> Pipeline:
    """A new instance of the spec's pipeline class, built with no arguments."""
    return load_pipeline_class(pipeline_spec.pipeline_cls)()


def parse_pipeline_params(spec: PipelineSpec, params: dict) -> BaseParams:
    """Validate `params` with the spec's params class (BaseParams when it has none)."""
    with _no_heavy_imports(PARAMS_IMPORT_TIMEOUT_S):
        if spec.params_cls is None:
            return BaseParams(**params)
        params_class = _import_class(spec.params_cls)
        return params_class(**params)


@contextmanager
def _no_heavy_imports(timeout_s: float) -> Iterator[None]:
    loaded_before = _loaded_guarded_modules()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        newly_loaded = _loaded_guarded_modules() - loaded_before
        # Checked first, as in ai-runner: importing torch itself usually takes over 0.5 s.
        if elapsed > timeout_s:
            culprits = f" (it imported {sorted(newly_loaded)})" if newly_loaded else ""
            raise TimeoutError(
                f"ai-runner double (reproducing ai-runner's params guard): importing and "
                f"validating the params class took {elapsed:.3f}s, over the {timeout_s}s "
                f"limit{culprits}; the params module probably imports something heavy."
            )
        if newly_loaded:
            raise ImportError(
                f"ai-runner double (reproducing ai-runner's params guard): importing and "
                f"validating the params class imported {sorted(newly_loaded)}; a params "
                "module (and its package __init__) must not import these."
            )


def _loaded_guarded_modules() -> set[str]:
    return {name for name in GUARDED_MODULES if name in sys.modules}


def _import_class(import_path: str) -> type:
    module_name, class_name = import_path.rsplit(":", 1)
    return getattr(importlib.import_module(module_name), class_name)
