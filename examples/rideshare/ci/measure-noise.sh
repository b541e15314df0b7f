#!/usr/bin/env bash
# How far `hotpath diff --fail-on 10%` can be trusted on this machine: profiles the rideshare CI suite
# N times unchanged and M times with check_driver_availability twice as slow, then gates every
# unchanged run (false positives) and every slowed run (detections) against the 3 unchanged runs
# before it, and against 1; with 2 head runs too. Prints one line per setting; docs/ci.md has results.
# Usage: examples/rideshare/ci/measure-noise.sh [N=20] [M=8] [wall|cpu] [extra hotpath diff flags...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
n="${1:-20}"; m="${2:-8}"; mode="${3:-wall}"; shift $(( $# < 3 ? $# : 3 ))
python="${PYTHON:-/usr/bin/python3}"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
flags=(--hotpath-sample-rate 250); [ "$mode" = wall ] && flags+=(--hotpath-wall)
mkdir -p "$out/slow"; cp -r "$repo/examples/rideshare/lib" "$repo/examples/rideshare/ci" "$out/slow/"
sed -i 's|deadline = time.time() + n / 2 \* settings.work_scale|deadline = time.time() + n * settings.work_scale|' "$out/slow/lib/utility.py"
suite() {  # suite <dir> <output>
  (cd "$1" && PYTHONPATH="$repo/sdk/python" HOTPATH_SERVER_ADDRESS= "$python" -m pytest -q -p no:cacheprovider \
    -p hotpath.pytest --hotpath "${flags[@]}" --hotpath-output "$2" ci > /dev/null)
}
# Interleaved, so unchanged and slowed runs see the same machine load.
for i in $(seq 1 "$n"); do
  suite "$repo/examples/rideshare" "$out/run$i.pb.gz"
  if [ "$i" -gt 3 ] && [ "$((i - 3))" -le "$m" ]; then suite "$out/slow" "$out/slow$((i - 3)).pb.gz"; fi
done
gate() { local b="$1" h="$2"; shift 2; node "$repo/packages/cli/bin/hotpath.js" diff "$b" "$h" --fail-on 10% "$@" > /dev/null 2>&1 && echo 0 || echo 1; }
for scope in all lib; do
  extra=("$@"); [ "$scope" = lib ] && extra+=(--scope '\(lib/')
  fp1=0; fp3=0; fp32=0; t1=0; t3=0; t32=0; d1=0; d3=0; td=0
  for i in $(seq 2 "$n"); do
    fp1=$(( fp1 + $(gate "$out/run$((i-1)).pb.gz" "$out/run$i.pb.gz" "${extra[@]}") )); t1=$((t1+1))
    if [ "$i" -ge 4 ]; then
      fp3=$(( fp3 + $(gate "$out/run$((i-3)).pb.gz,$out/run$((i-2)).pb.gz,$out/run$((i-1)).pb.gz" "$out/run$i.pb.gz" "${extra[@]}") )); t3=$((t3+1))
    fi
    if [ "$i" -ge 5 ]; then
      fp32=$(( fp32 + $(gate "$out/run$((i-4)).pb.gz,$out/run$((i-3)).pb.gz,$out/run$((i-2)).pb.gz" "$out/run$((i-1)).pb.gz,$out/run$i.pb.gz" "${extra[@]}") )); t32=$((t32+1))
    fi
  done
  for j in $(seq 1 "$m"); do
    d1=$(( d1 + $(gate "$out/run$((j+2)).pb.gz" "$out/slow$j.pb.gz" "${extra[@]}") ))
    d3=$(( d3 + $(gate "$out/run$j.pb.gz,$out/run$((j+1)).pb.gz,$out/run$((j+2)).pb.gz" "$out/slow$j.pb.gz" "${extra[@]}") )); td=$((td+1))
  done
  echo "$mode, unnamed rule on $scope functions: false positives 1 base: $fp1/$t1, 3 base: $fp3/$t3, 3 base + 2 head: $fp32/$t32; slowed caught 1 base: $d1/$td, 3 base: $d3/$td"
done
