"""The identifiers a pipeline gets in the upstream files, derived from its name in one place."""

import re
from dataclasses import dataclass

# The template's validators allow exactly these; checked again here because project.py can be
# edited by hand, and these strings go unquoted into shell, Go and regular expressions.
PIPELINE_NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
DOCKER_IMAGE_PATTERN = re.compile(
    r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
)
PIPELINE_KINDS = ("live", "batch")  # the keys of go-livepeer's -aiRunnerImageOverrides


@dataclass(frozen=True)
class PipelineNames:
    name: str  # go-livepeer's model_id (live) or pipeline (batch)
    image: str  # Docker image without a tag
    kind: str  # "live" or "batch"

    def __post_init__(self) -> None:
        if not PIPELINE_NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                f"PIPELINE_NAME {self.name!r} in integrate/project.py must be lowercase letters, "
                "digits and single dashes, starting with a letter (as the pipeline's name)"
            )
        if not DOCKER_IMAGE_PATTERN.fullmatch(self.image):
            raise ValueError(
                f"DOCKER_IMAGE {self.image!r} in integrate/project.py must be a lowercase image "
                "name without a tag, such as my-org/my-pipeline"
            )
        if self.kind not in PIPELINE_KINDS:
            raise ValueError(
                f"PIPELINE_KIND {self.kind!r} in integrate/project.py must be one of "
                f"{', '.join(PIPELINE_KINDS)}"
            )

    @property
    def identifier(self) -> str:
        """The name as a shell identifier: neon-glow-fx-2 -> neon_glow_fx_2."""
        return self.name.replace("-", "_")

    @property
    def image_variable(self) -> str:
        """dl_checkpoints.sh's override for the image: AI_RUNNER_NEON_GLOW_FX_2_IMAGE."""
        return f"AI_RUNNER_{self.identifier.upper()}_IMAGE"

    @property
    def prepare_function(self) -> str:
        """dl_checkpoints.sh's function that prepares the models: prepare_neon_glow_fx_2_models."""
        return f"prepare_{self.identifier}_models"
