"""Where weights live: ai-runner's model directory, and a pipeline's own folder in it."""

import os
from pathlib import Path


def model_dir_root() -> Path:
    """MODEL_DIR, defaulting as in ai-runner: /models in its Docker images (set there),
    ~/.lpData/models elsewhere."""
    return Path(os.environ.get("MODEL_DIR") or Path.home() / ".lpData" / "models").expanduser()


def models_dir(folder: str) -> Path:
    """A pipeline's own folder in MODEL_DIR: ai-runner mounts one model directory for every
    pipeline, and each keeps to its own folder in it."""
    if not folder or Path(folder).name != folder or folder in (".", ".."):
        raise ValueError(f"a model folder is one plain folder name, not {folder!r}")
    return model_dir_root() / folder
