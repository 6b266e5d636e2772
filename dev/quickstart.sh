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

# shellcheck source=dev/default_project.sh
source "$repo_root/dev/default_project.sh"
generate_default_project "$destination" install

echo "==> Preparing the model into $MODEL_DIR"
"${run[@]}" my-pipeline --prepare-models
echo "==> Streaming 300 frames through the pipeline"
"${run[@]}" my-pipeline-bench --frames 300
echo "==> Trying it on a sample clip, in real time, as ai-runner would run it on the network"
video="$destination/try-output/sample.mp4"
sheet="$destination/try-output/sample-contact-sheet.png"
"${run[@]}" my-pipeline-try --sample --seconds 5 --no-prepare --side-by-side \
    --output "$video" --contact-sheet "$sheet"
echo
echo "Done. The project is in $destination; its README.md says what to do next."
echo "  video (input | output): $video"
echo "  contact sheet:          $sheet"
