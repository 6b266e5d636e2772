"""Adds the pipeline to go-livepeer's ai/worker/docker.go: the `livePipelineToImage` map tells
the orchestrator which image to start for a live model_id when -aiRunnerImageOverrides names none.

The entry goes last, after a comment line of its own. gofmt aligns the values of consecutive
entries, and a comment line ends such a run, so the new entry is gofmt-clean whatever the length
of the keys above it, and those keys keep their alignment.
"""

import re

from .names import PipelineNames
from .patching import AnchorMissing, Conflict, first_line, indentation

RELATIVE_PATH = "ai/worker/docker.go"

MAP_OPENING = r"^var livePipelineToImage = map\[string\]string\{\s*$"
MAP_ENTRY = re.compile(r'\s*"(?P<key>[^"]*)":\s*"(?P<value>[^"]*)",\s*(//.*)?')


def patch(text: str, pipeline: PipelineNames) -> tuple[str, list[str]]:
    """The file with the pipeline's map entry added when missing, and a line per piece added."""
    lines = text.split("\n")
    opening = first_line(lines, MAP_OPENING)
    if opening is None:
        raise AnchorMissing("the map `var livePipelineToImage = map[string]string{`")
    closing = first_line(lines, r"^\}\s*$", opening + 1)
    if closing is None:
        raise AnchorMissing("the `}` in column 0 that closes the map `livePipelineToImage`")

    entries = [MAP_ENTRY.fullmatch(line) for line in lines[opening + 1 : closing]]
    for entry in filter(None, entries):
        if entry["key"] != pipeline.name:
            continue
        if entry["value"] == pipeline.image:
            return text, []
        raise Conflict(
            f'livePipelineToImage already maps "{pipeline.name}" to "{entry["value"]}", but this '
            f"project's image is {pipeline.image}: fix or remove that entry, then run again"
        )

    first_entry = next((entry for entry in entries if entry), None)
    indent = indentation(first_entry.string) if first_entry else "\t"
    lines[closing:closing] = [
        f"{indent}// {pipeline.name} is a custom live pipeline, built from its own repository",
        f'{indent}"{pipeline.name}": "{pipeline.image}",',
    ]
    return "\n".join(lines), [f'livePipelineToImage: "{pipeline.name}": "{pipeline.image}"']
