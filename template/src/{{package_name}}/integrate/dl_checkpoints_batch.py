"""The batch piece of dl_checkpoints.sh: `./dl_checkpoints.sh --batch` runs
download_batch_models(), which prepares every batch pipeline's models in turn (it reads no
PIPELINE), so the pipeline's prepare_<x>_models() is called at the end of that function.
"""

from .names import PipelineNames
from .patching import indentation
from .shell_script import function_span


def add_call_to_batch_downloads(lines: list[str], pipeline: PipelineNames) -> str | None:
    start, end = function_span(lines, "download_batch_models")
    body = lines[start + 1 : end]
    if any(line.strip() == pipeline.prepare_function for line in body):
        return None
    # Indented as the function's own commands (upstream's are two spaces).
    indent = next((indentation(line) for line in body if line.strip()), "  ")
    lines.insert(end, f"{indent}{pipeline.prepare_function}")
    return f"download_batch_models: {pipeline.prepare_function}"


PIECES = (add_call_to_batch_downloads,)
