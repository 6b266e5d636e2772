"""The kit's public API: the names its docstrings promise, importable where they say, with the
signatures pipelines call. A change here breaks pipelines that use the kit: it needs a major
release of the kit (CHANGELOG.md) and, for generated projects, a migration (hooks/)."""

import importlib
import inspect
import re

import pytest

PUBLIC = {
    "ai_runner_kit": {"__version__", "model_dir_root", "models_dir"},
    "ai_runner_kit.live": {
        "TorchLivePipeline", "check_frame", "InferenceWorker", "WorkerStopped", "model_device",
        "DeviceFrames", "Upload", "stream_frames", "StreamResult", "synthetic_frame",
    },
    "ai_runner_kit.batch": {
        "TorchBatchPipeline", "ModelNotReady", "guarded_route", "http_error",
        "image_to_image_router", "images", "routes",
    },
    "ai_runner_kit.testing": {"LivePipelineContract", "TorchLivePipelineContract"},
    "ai_runner_kit.commands": {"PipelineCommands"},
    "ai_runner_kit.specs": {"BatchSpec", "Spec", "SpecError", "resolve_spec"},
}  # fmt: skip

# Written without module paths or quotes: `signature()` below strips both, so that a type
# ai-runner moves between its modules does not count as a change.
SIGNATURES = {
    ("ai_runner_kit", "model_dir_root"): "() -> Path",
    ("ai_runner_kit", "models_dir"): "(folder: str) -> Path",
    ("ai_runner_kit.live", "model_device"): "() -> device",
    ("ai_runner_kit.live", "synthetic_frame"): "(width: int, height: int, index: int) -> Tensor",
    ("ai_runner_kit.live", "stream_frames"): (
        "(pipeline: Pipeline, frames: Iterable[Tensor], *, request_id: str = local-stream, "
        "fps: float = 0.0, drain_timeout_s: float = 30.0, keep_outputs: bool = True, "
        "on_output: Callable[[VideoOutput, float], None] | None = None) -> StreamResult"
    ),
    ("ai_runner_kit.batch", "guarded_route"): (
        "(max_active: int, max_waiting: int, max_body_bytes: int) -> type[APIRoute]"
    ),
    ("ai_runner_kit.batch", "http_error"): (
        "(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPException"
    ),
    ("ai_runner_kit.specs", "resolve_spec"): "(text: str) -> Spec",
    ("ai_runner_kit.batch", "image_to_image_router"): (
        "(pipeline: Callable[[Tensor, Any], Tensor], path: str, params_class: type[BaseModel], "
        "*, summary: str = Run the pipeline on an image, max_active: int = 4, max_waiting: int "
        "= 12, max_body_bytes: int = 29360128) -> APIRouter"
    ),
}
METHODS = {
    ("ai_runner_kit.live", "InferenceWorker"): {
        "__init__": "(self, infer: Callable[[Job], Result], max_pending: int = 1, "
        "max_results: int = 2) -> None",
        "start": "(self) -> None",
        "submit": "(self, job: Job) -> None",
        "next_result": "(self) -> Result",
        "stop": "(self) -> None",
    },
    ("ai_runner_kit.live", "DeviceFrames"): {
        "__init__": "(self, device: device, dtype: dtype) -> None",
        "upload": "(self, frame: Tensor) -> Upload",
        "download": "(self, image: Tensor) -> Tensor",
    },
    ("ai_runner_kit.live", "TorchLivePipeline"): {
        "load_model": "(self, params: ParamsT) -> ModelT",
        "run_model": "(self, model: ModelT, frames: Tensor, params: ParamsT) -> Tensor",
        "needs_reload": "(self, loaded: ParamsT, wanted: ParamsT) -> bool",
        "warm_up": "(self, model: ModelT, params: ParamsT) -> None",
        "benchmark_step": "(self, width: int, height: int) -> Callable[[], object]",
    },
    ("ai_runner_kit.batch", "TorchBatchPipeline"): {
        "__init__": "(self, model_id: str, model_dir: str) -> None",
        "load_model": "(self) -> Any",
        "run_model": "(self, model: Any, images: Tensor, params: Any) -> Tensor",
        "warm_up": "(self, model: Any) -> None",
        "__call__": "(self, frames: Tensor, params: Any) -> Tensor",
        "benchmark_step": "(self, width: int, height: int) -> Callable[[], object]",
    },
    ("ai_runner_kit.commands", "PipelineCommands"): {
        name: "(self, argv: Sequence[str] | None = None) -> None"
        for name in ("serve", "bench", "try_it", "session")
    },
}


def signature(function: object) -> str:
    text = str(inspect.signature(function))  # type: ignore[arg-type]
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])|['~]", "", text)


@pytest.mark.parametrize("module", PUBLIC)
def test_each_public_module_exports_exactly_its_public_names(module):
    imported = importlib.import_module(module)
    assert set(imported.__all__) == PUBLIC[module]
    for name in PUBLIC[module]:
        assert getattr(imported, name) is not None, name


@pytest.mark.parametrize("module", PUBLIC)
def test_the_public_names_are_documented_where_users_read_them(module):
    documented = inspect.getdoc(importlib.import_module(module)) or ""
    package = inspect.getdoc(importlib.import_module("ai_runner_kit")) or ""
    for name in PUBLIC[module] - {"__version__", "Spec", "SpecError", "resolve_spec"}:
        assert name in documented or name in package, (module, name)


@pytest.mark.parametrize(("module", "name"), SIGNATURES)
def test_public_functions_keep_their_signatures(module, name):
    function = getattr(importlib.import_module(module), name)
    assert signature(function) == SIGNATURES[module, name]


@pytest.mark.parametrize(("module", "name"), METHODS)
def test_public_classes_keep_their_methods(module, name):
    cls = getattr(importlib.import_module(module), name)
    for method, expected in METHODS[module, name].items():
        assert signature(getattr(cls, method)) == expected, method
