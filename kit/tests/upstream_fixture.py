"""Where the kit's tests find a pipeline written without the kit: tests/fixtures/upstream_pipeline
in the template's repository, a package (`sepia_upstream`) shaped like ai-runner's own."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "tests" / "fixtures" / "upstream_pipeline"
PACKAGE = "sepia_upstream"
LIVE_CLASS = f"{PACKAGE}.pipeline:SepiaPipeline"
LIVE_SPEC = f"{PACKAGE}.spec:pipeline_spec"
BATCH_CLASS = f"{PACKAGE}.batch:SepiaBatchPipeline"
