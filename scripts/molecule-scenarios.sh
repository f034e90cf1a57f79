#!/usr/bin/env bash
# Run molecule scenarios, MOLECULE_JOBS (default 2) at a time: their networks never overlap
# (tests/unit/test_test_networks.py), and two at once use the machine's 2 cores better than
# one. Each scenario's output goes to .artifacts/molecule-<scenario>.log; a failed one's
# tail is printed. Exits non-zero when any scenario failed.
#   scripts/molecule-scenarios.sh etcd multizone host-gw runtimes
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .artifacts

run_one() {
  local scenario=$1 log=.artifacts/molecule-$1.log started=$SECONDS
  echo "molecule | $scenario: started $(date -u +%H:%M:%S)"
  if (source .venv/bin/activate && molecule test -s "$scenario") >"$log" 2>&1; then
    echo "molecule | $scenario: passed in $((SECONDS - started)) s"
  else
    echo "molecule | $scenario: FAILED after $((SECONDS - started)) s; the end of $log:"
    tail -n 200 "$log"
    return 1
  fi
}
export -f run_one

printf '%s\n' "$@" | xargs -P "${MOLECULE_JOBS:-2}" -I{} bash -c 'run_one "$1"' _ {}
