#!/usr/bin/env bash
# Generate the default live pipeline and benchmark it: the one command behind docs/performance.md.
#
#   bash dev/benchmark.sh                 capacity and 30 fps runs at 512x512: tables, then JSON
#   bash dev/benchmark.sh --soak          also 10,000 frames at twice the model's rate
#   bash dev/benchmark.sh --ablation      also what each design choice buys (dev/ablation.py)
#   bash dev/benchmark.sh --repeat=5      the capacity run five times in a row: is it repeatable?
#   BENCH_ARGS="--device cuda" bash dev/benchmark.sh    extra arguments for every bench run
#
# The project is generated into a temporary folder and removed afterwards. Where GitHub answers
# it runs on the real ai-runner (uv sync, as its README says); where it does not, on the offline
# double of ai-runner kept in tests/ (QUICKSTART_RUNTIME=double forces that), like quickstart.sh.
set -euo pipefail
# shellcheck source=dev/environment.sh
source "$(dirname "${BASH_SOURCE[0]}")/environment.sh"

soak=false
ablation=false
repeat=1
for argument in "$@"; do
    case "$argument" in
        --soak) soak=true ;;
        --ablation) ablation=true ;;
        --repeat=[1-9]*) repeat="${argument#--repeat=}" ;;
        -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "Unknown argument $argument: use --soak, --ablation, --repeat=N or --help." >&2; exit 2 ;;
    esac
done

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
destination="$workdir/my-pipeline"

# shellcheck source=dev/default_project.sh
source "$repo_root/dev/default_project.sh"
generate_default_project "$destination" path
echo "==> Machine: $(nproc) CPU cores, $(python -c 'import platform; print(platform.processor() or platform.machine())'), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

read -r -a extra <<<"${BENCH_ARGS:-}"  # a list of arguments, split on spaces
quiet_logs() { grep -v 'level=INFO' >&2 || true; }  # keep warnings and errors, not INFO lines
bench() {
    "${run[@]}" python -m ai_runner_kit bench --spec my_pipeline.main:pipeline_spec --json "${extra[@]}" "$@" 2> >(quiet_logs) |
        tee "$workdir/last.out"
}
json_of_last() { tail -n 1 "$workdir/last.out"; }

echo "==> Capacity: frames sent twice as fast as the model alone takes them"
bench --frames 600 --input-fps 0
capacity="$(json_of_last)"
if [ "$repeat" -gt 1 ]; then
    echo "$capacity" >"$workdir/capacity.jsonl"
    for run in $(seq 2 "$repeat"); do
        echo "==> Capacity again, run $run of $repeat"
        bench --frames 600 --input-fps 0 --no-prepare >/dev/null
        json_of_last >>"$workdir/capacity.jsonl"
    done
    echo "==> Repeatability over $repeat capacity runs"
    python "$repo_root/dev/repeatability.py" "$workdir/capacity.jsonl"
fi
echo "==> A live stream: 30 fps in"
bench --frames 300 --input-fps 30 --no-prepare
paced="$(json_of_last)"
soaked="null"
if $soak; then
    rate="$(python -c 'import json, sys; print(2 * json.loads(sys.argv[1])["raw_fps"])' "$capacity")"
    echo "==> Soak: 10,000 frames at $rate fps (twice the model's rate)"
    bench --frames 10000 --input-fps "$rate" --no-prepare
    soaked="$(json_of_last)"
fi
if $ablation; then
    echo "==> Ablation: each design choice taken away in turn"
    "${run[@]}" python "$repo_root/dev/ablation.py" my_pipeline 2> >(quiet_logs)
fi
echo "==> JSON (capacity, 30 fps, soak):"
printf '{"capacity": %s, "at_30_fps": %s, "soak": %s}\n' "$capacity" "$paced" "$soaked"
