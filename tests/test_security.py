"""What a generated project never does with weights and secrets, in every cell: weights are
safetensors (no pickle), HF_TOKEN reaches only the Hub download and never the image or a log,
and the build context leaves secrets and weights out."""

import re
from pathlib import Path

import pytest

from .rendering import render

CELLS = {
    "live": {},
    "live-huggingface": {"model_source": "huggingface"},
    "batch": {"pipeline_kind": "batch"},
    "batch-huggingface": {"pipeline_kind": "batch", "model_source": "huggingface"},
}
# Ways to run pickle: torch.load (without weights_only), pickle itself, numpy's allow_pickle.
PICKLE = re.compile(r"\btorch\.load\(|\bimport pickle\b|\bpickle\.load|allow_pickle\s*=\s*True")
NEVER_IN_THE_BUILD_CONTEXT = {".env", ".env.*", "*.pem", "*.key", ".netrc", "models", ".git"}


@pytest.fixture(scope="module", params=CELLS, ids=str)
def project(request, template, tmp_path_factory) -> Path:
    return render(template, tmp_path_factory.mktemp(request.param) / "p", **CELLS[request.param])


def sources(project: Path) -> dict[Path, str]:
    return {path: path.read_text() for path in sorted((project / "src").rglob("*.py"))}


def test_weights_are_safetensors_and_nothing_unpickles(project):
    code = sources(project)
    assert not [path for path, text in code.items() if PICKLE.search(text)]
    assert any("safetensors" in text for text in code.values())


def test_hf_token_is_read_only_for_the_hub_download(project):
    uses = [
        line.strip()
        for text in sources(project).values()
        for line in text.splitlines()
        if "HF_TOKEN" in line and not line.strip().startswith(('"', 'f"'))
    ]
    # only `token=... os.environ.get("HF_TOKEN") ...` in the download call: never logged
    assert all(use.startswith("token=") for use in uses), uses
    assert not any("logger" in use or "print(" in use for use in uses)


def test_the_image_bakes_in_no_token(project):
    dockerfile = (project / "Dockerfile").read_text()
    assert not re.search(r"^\s*(ARG|ENV)\b.*\b(HF_TOKEN|TOKEN|SECRET|PASSWORD)", dockerfile, re.M)


def test_the_build_context_leaves_secrets_and_weights_out(project):
    ignored = set((project / ".dockerignore").read_text().split())
    assert NEVER_IN_THE_BUILD_CONTEXT <= ignored
