#!/usr/bin/env bash
# The whole test suite of the template: render matrix, validators, the offline double, and
# the generated projects' own tests. Extra arguments go to pytest (e.g. -k double, -x).
set -euo pipefail
# shellcheck source=dev/environment.sh
source "$(dirname "${BASH_SOURCE[0]}")/environment.sh"
cd "$repo_root" || exit 1
exec python -m pytest tests "$@"
