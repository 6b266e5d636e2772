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
exec python -m pytest tests "$@"
