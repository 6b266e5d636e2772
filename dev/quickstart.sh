#!/usr/bin/env bash
# Generate the default live pipeline and run it: prepare its model, initialize it, stream 300
# frames through it and print fps and latency, then run it on a generated sample clip and print
# where the resulting video and its contact sheet are.
#
#   bash dev/quickstart.sh [DESTINATION]        (default: ./quickstart/my-pipeline)
#
# Where GitHub answers, the project is installed as its README says (uv sync: the real ai-runner,
# a CUDA torch on Linux). Where it does not, the project runs on the offline double of ai-runner
# that this repository keeps for its tests, and says so. QUICKSTART_RUNTIME=double forces that.
set -euo pipefail
# shellcheck source=dev/environment.sh
source "$(dirname "${BASH_SOURCE[0]}")/environment.sh"

destination="${1:-$repo_root/quickstart/my-pipeline}"
if [ -e "$destination" ]; then
    echo "$destination already exists: remove it, or pass another destination." >&2
    exit 1
fi

github_answers() {
    python - <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("https://github.com/livepeer/ai-runner", timeout=5)
except Exception:
    sys.exit(1)
PY
}

runtime="${QUICKSTART_RUNTIME:-}"
if [ -z "$runtime" ]; then
    if github_answers; then runtime=real; else runtime=double; fi
fi

echo "==> Generating the default pipeline into $destination"
# --skip-tasks: this script does what the post-generation steps would (lock, prepare, bench)
copier copy --trust --defaults --quiet --skip-tasks --vcs-ref HEAD "$repo_root" "$destination"
cd "$destination" || exit 1
export MODEL_DIR="$destination/models"

if [ "$runtime" = real ]; then
    echo "==> Installing it with uv: the real ai-runner (git tag), torch, diffusers, transformers"
    env -u VIRTUAL_ENV uv sync
    run=(env -u VIRTUAL_ENV uv run)
else
    echo "==> GitHub is out of reach: running on the OFFLINE DOUBLE of ai-runner (tests/ai_runner_double)."
    echo "    Same pipeline API, frame format and trickle streams; no GPU isolation, no audio."
    python -m pip install --quiet --no-deps --no-build-isolation -e "$destination"
    run=()
fi

echo "==> Preparing the model into $MODEL_DIR"
"${run[@]}" my-pipeline --prepare-models
echo "==> Streaming 300 frames through the pipeline"
"${run[@]}" python -m my_pipeline.runtime.bench --frames 300
echo "==> Trying it on a sample clip, in real time, as ai-runner would run it on the network"
video="$destination/try-output/sample.mp4"
sheet="$destination/try-output/sample-contact-sheet.png"
"${run[@]}" my-pipeline-try --sample --seconds 5 --no-prepare --side-by-side \
    --output "$video" --contact-sheet "$sheet"
echo
echo "Done. The project is in $destination; its README.md says what to do next."
echo "  video (input | output): $video"
echo "  contact sheet:          $sheet"
