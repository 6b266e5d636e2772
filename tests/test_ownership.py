"""The boundary in a generated project: the template's modules reach the user's only through
ai-runner's contract, and the user's reach the template's only through the runtime's public API.

Checked on the source (ast), in every kind and model source: the model is the user's alone.
"""

import ast
from pathlib import Path

import pytest

from .ownership import PUBLIC_API, files_by_owner, imported_modules, package_of
from .rendering import render

CELLS = {
    "live": {},
    "live-huggingface": {"model_source": "huggingface"},
    "batch": {"pipeline_kind": "batch"},
    "batch-huggingface": {"pipeline_kind": "batch", "model_source": "huggingface"},
}
# The one template-owned module that may name the user's classes: by import path, in the spec.
SPEC_MODULE = "main.py"


@pytest.fixture(scope="module", params=CELLS, ids=str)
def project(request, template, tmp_path_factory) -> Path:
    return render(template, tmp_path_factory.mktemp(request.param) / "p", **CELLS[request.param])


def python_files(project: Path, relative_paths: list[Path]) -> list[Path]:
    return [project / path for path in relative_paths if path.suffix == ".py"]


def test_the_users_room_is_the_pipeline_folder_the_tests_and_the_readme(project):
    user, template = files_by_owner(project)
    package = package_of(project)
    rooms = {path.parts[0] if path.parts[0] != "src" else "/".join(path.parts[:3]) for path in user}
    assert rooms == {"README.md", "tests", f"src/{package}/pipeline"}
    assert Path("src", package, "main.py") in template
    assert all(not path.is_relative_to(Path("src", package, "pipeline")) for path in template)


def test_template_modules_import_nothing_of_the_users(project):
    package = package_of(project)
    users_room = f"{package}.pipeline"
    _, template = files_by_owner(project)
    for path in python_files(project, template):
        for module, _name in imported_modules(path, project):
            assert not (module == users_room or module.startswith(users_room + ".")), (
                f"{path.relative_to(project)} imports {module}: template code reaches the "
                "user's only through the classes main.py names and the Pipeline interface"
            )


def test_only_the_spec_names_the_users_classes(project):
    package = package_of(project)
    _, template = files_by_owner(project)
    for path in python_files(project, template):
        strings = [
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        naming = [text for text in strings if f"{package}.pipeline." in text]
        if path.name == SPEC_MODULE:
            assert naming, "main.py names the Pipeline class by its import path"
        else:
            assert naming == [], f"{path.relative_to(project)} names {naming}"


def test_user_code_uses_only_the_runtimes_public_api(project):
    runtime = f"{package_of(project)}.runtime"
    user, _ = files_by_owner(project)
    for path in python_files(project, user):
        for module, name in imported_modules(path, project):
            if not module.startswith(runtime + ".") or name is None:
                continue
            submodule = module.removeprefix(runtime + ".")
            assert name in PUBLIC_API.get(submodule, set()), (
                f"{path.relative_to(project)} imports {module}.{name}, which is not in the "
                "runtime's public API (tests/ownership.py, runtime/__init__.py)"
            )


def test_the_public_api_is_documented_where_users_read_it(project):
    runtime = project / "src" / package_of(project) / "runtime"
    documented = ast.get_docstring(ast.parse((runtime / "__init__.py").read_text()))
    for submodule, names in PUBLIC_API.items():
        if not (runtime / f"{submodule}.py").exists():
            continue  # a kind without it (batch has no worker)
        for name in names:
            assert f"`runtime.{submodule}." in documented and name in documented, name


# The public API as users call it. A change here is a breaking change for every generated
# project: the release must say so in CHANGELOG.md and migrate user code (hooks/migrate_*.py).
PUBLIC_SIGNATURES = {
    ("model_dir", "MODEL_FOLDER"): "constant",
    ("model_dir", "model_dir_root"): "() -> Path",
    ("model_dir", "models_dir"): "() -> Path",
    ("worker", "InferenceWorker"): {
        "__init__": "(self, infer: Callable[[Job], Result], max_pending: int=1, "
        "max_results: int=2) -> None",
        "start": "(self) -> None",
        "submit": "(self, job: Job) -> None",
        "next_result": "async (self) -> Result",
        "stop": "async (self) -> None",
    },
    ("worker", "WorkerStopped"): {},
    ("device", "model_device"): "() -> torch.device",
    ("device", "DeviceFrames"): {
        "__init__": "(self, device: torch.device, dtype: torch.dtype) -> None",
        "upload": "(self, frame: Tensor) -> Upload",
        "download": "(self, image: Tensor) -> Tensor",
    },
    ("device", "Upload"): {
        "tensor": "Tensor",
        "copied": "'torch.cuda.Event | None'",
        "wait": "(self) -> Tensor",
    },
    ("local_stream", "StreamResult"): {
        "outputs": "list[VideoOutput]",
        "latencies_s": "list[float]",
        "frames_in": "int",
        "elapsed_s": "float",
        "frames_out": "(self) -> int",
        "output_fps": "(self) -> float",
        "latency_percentile_ms": "(self, percent: float) -> float",
    },
    ("http_guard", "guarded_route"): (
        "(max_active: int, max_waiting: int, max_body_bytes: int) -> type[APIRoute]"
    ),
    ("http_guard", "http_error"): (
        "(status: int, message: str, headers: dict[str, str] | None=None) -> HTTPException"
    ),
    ("local_stream", "synthetic_frame"): "(width: int, height: int, index: int) -> torch.Tensor",
    ("local_stream", "stream_frames"): (
        "async (pipeline: Pipeline, frames: Iterable[torch.Tensor], *, request_id: "
        "str='local-stream', fps: float=0.0, drain_timeout_s: float=30.0, keep_outputs: bool=True, "
        "on_output: Callable[[VideoOutput, float], None] | None=None) -> StreamResult"
    ),
}


def signature(node: ast.stmt) -> str | dict[str, str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        prefix = "async " if isinstance(node, ast.AsyncFunctionDef) else ""
        return f"{prefix}({ast.unparse(node.args)}){returns}"
    if isinstance(node, ast.ClassDef):
        members: dict[str, str] = {}
        for item in node.body:
            public = not item_name(item).startswith("_") or item_name(item) == "__init__"
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and public:
                members[item.name] = signature(item)
            elif isinstance(item, ast.AnnAssign) and public:
                members[item_name(item)] = ast.unparse(item.annotation)
        return members
    return "constant"


def item_name(node: ast.stmt) -> str:
    if isinstance(node, ast.AnnAssign | ast.Assign):
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        return ast.unparse(target)
    return getattr(node, "name", "")


def test_the_public_api_keeps_its_signatures(project):
    runtime = project / "src" / package_of(project) / "runtime"
    for (submodule, name), expected in PUBLIC_SIGNATURES.items():
        if not (runtime / f"{submodule}.py").exists():
            continue
        tree = ast.parse((runtime / f"{submodule}.py").read_text())
        (node,) = [node for node in tree.body if item_name(node) == name]
        assert signature(node) == expected, f"runtime.{submodule}.{name} changed"
