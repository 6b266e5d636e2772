# shellcheck shell=bash
# Sourced by dev/test.sh and dev/quickstart.sh: creates (once) and activates .venv with the
# template's test environment, the offline double of ai-runner and the kit.
# pip, not a uv- or nox-managed environment: pip honours the machine's own configuration (the CI
# machines keep torch's CPU build on disk as a find-links entry), where uv resolves torch==2.13.0
# to PyPI's CUDA build and its nvidia-* wheels, several GB. The stamp is a hash of every input,
# the same freshness check a lock gives, for one environment that nox would only wrap.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
stamp="$venv/.requirements.sha256"
# Reinstall when the requirements, the double's metadata or these steps change.
wanted="$(cat "$repo_root/dev/requirements.txt" "$repo_root/tests/ai_runner_double/pyproject.toml" \
    "$repo_root/kit/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum)"

if ! command -v python3 >/dev/null; then
    echo "python3 is needed (3.11): install it, then run this again." >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "Creating $venv ..."
    python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the test environment into $venv (a few minutes the first time) ..."
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    # Optional: TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu installs the CPU build of
    # the pinned torch first (PyPI's Linux x86_64 wheel is the CUDA build, several GB).
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
        "$venv/bin/python" -m pip install --quiet --index-url "$TORCH_INDEX_URL" "torch==2.13.0"
    fi
    "$venv/bin/python" -m pip install --quiet -r "$repo_root/dev/requirements.txt"
    # editable: changes to the double apply without reinstalling
    "$venv/bin/python" -m pip install --quiet --no-build-isolation -e "$repo_root/tests/ai_runner_double"
    # the kit, editable and without dependencies (the requirements above hold them), as the
    # generated projects' path source takes it
    "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$repo_root/kit"
    echo "$wanted" >"$stamp"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
# Never let uv fetch an interpreter: these machines have Python 3.11 and no GitHub.
export UV_PYTHON_DOWNLOADS=never
