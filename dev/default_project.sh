# shellcheck shell=bash
# Sourced by dev/quickstart.sh and dev/benchmark.sh, after environment.sh:
#
#   generate_default_project DESTINATION install|path
#
# generates the default live pipeline into DESTINATION (the post-generation tasks are skipped:
# the caller does what it needs), enters it, exports MODEL_DIR, and sets `run`, the prefix for
# the project's commands. Where GitHub answers, the project is installed as its README says (uv
# sync: the real ai-runner, a CUDA torch on Linux). Where it does not, it runs on the offline
# double of ai-runner in this environment, and says so: `install` installs it there (editable),
# `path` only puts its source on PYTHONPATH (for a project in a folder that goes away).
# QUICKSTART_RUNTIME=real or double forces one.
# shellcheck disable=SC2034,SC2154  # sets `run` for the caller; repo_root comes from environment.sh

github_answers() {
    python - <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("https://github.com/livepeer/ai-runner", timeout=5)
except Exception:
    sys.exit(1)
PY
}

generate_default_project() {
    local destination="$1" double_setup="$2" runtime="${QUICKSTART_RUNTIME:-}"
    if [ -z "$runtime" ]; then
        if github_answers; then runtime=real; else runtime=double; fi
    fi

    echo "==> Generating the default pipeline into $destination"
    copier copy --trust --defaults --quiet --skip-tasks --vcs-ref HEAD "$repo_root" "$destination"
    cd "$destination" || exit 1
    export MODEL_DIR="$destination/models"

    if [ "$runtime" = real ]; then
        echo "==> Installing it with uv: the real ai-runner (git tag), torch, diffusers, transformers"
        env -u VIRTUAL_ENV uv sync
        run=(env -u VIRTUAL_ENV uv run)
        return
    fi
    echo "==> GitHub is out of reach: running on the OFFLINE DOUBLE of ai-runner (tests/ai_runner_double)."
    echo "    Same pipeline API, frame format and trickle streams; no GPU isolation, no audio."
    if [ "$double_setup" = install ]; then
        python -m pip install --quiet --no-deps --no-build-isolation -e "$destination"
    else
        export PYTHONPATH="$destination/src"  # this environment has the dependencies
    fi
    run=()
}
