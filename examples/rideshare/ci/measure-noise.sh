#!/usr/bin/env bash
# False-positive rate of `hotpath diff --fail-on`: profiles the unchanged rideshare CI suite N times,
# then gates each run against the 3 runs before it (and against the 1 run before it) and counts fails.
# Usage: examples/rideshare/ci/measure-noise.sh [N=20] [wall|cpu] [extra hotpath diff flags...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
n="${1:-20}"; mode="${2:-wall}"; shift $(( $# < 2 ? $# : 2 ))
python="${PYTHON:-/usr/bin/python3}"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
flags=(--hotpath-sample-rate 250); [ "$mode" = wall ] && flags+=(--hotpath-wall)
cd "$repo/examples/rideshare"
for i in $(seq 1 "$n"); do
  PYTHONPATH="$repo/sdk/python" HOTPATH_SERVER_ADDRESS= "$python" -m pytest -q -p no:cacheprovider \
    -p hotpath.pytest --hotpath "${flags[@]}" --hotpath-output "$out/run$i.pb.gz" ci > /dev/null
done
gate() { local b="$1" h="$2"; shift 2; node "$repo/packages/cli/bin/hotpath.js" diff "$b" "$h" --fail-on 10% "$@" > /dev/null 2>&1 && echo 0 || echo 1; }
for scope in all lib; do
  extra=("$@"); [ "$scope" = lib ] && extra+=(--scope '\(lib/')
  fails3=0; fails1=0; tries3=0; tries1=0
  for i in $(seq 2 "$n"); do
    fails1=$(( fails1 + $(gate "$out/run$((i-1)).pb.gz" "$out/run$i.pb.gz" "${extra[@]}") )); tries1=$((tries1+1))
    if [ "$i" -ge 4 ]; then
      base="$out/run$((i-3)).pb.gz,$out/run$((i-2)).pb.gz,$out/run$((i-1)).pb.gz"
      fails3=$(( fails3 + $(gate "$base" "$out/run$i.pb.gz" "${extra[@]}") )); tries3=$((tries3+1))
    fi
  done
  echo "$mode, general rule on $scope functions: 1 base run: $fails1/$tries1 failed; 3 base runs: $fails3/$tries3 failed"
done
