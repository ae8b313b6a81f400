#!/bin/bash
# The nightly job: one shard of the matrix (GitLab's CI_NODE_INDEX and
# CI_NODE_TOTAL pick it; `run` reads them), on the edk2 and QEMU revisions
# the pipeline variables name, into OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/pipeline-lib.sh

out=${1:?usage: ci/nightly-run.sh OUT_DIR}
args=(run --matrix "$MATRIX" --out "$out")
pipeline_sets args
[ -z "${HOTPLUG_CI_FILTER:-}" ] || args+=(--filter "$HOTPLUG_CI_FILTER")
say "$HPCI ${args[*]}"
status=0
"$HPCI" "${args[@]}" || status=$?
case $status in
0|1) exit 0 ;;   # 1, product failures, is the report job's business
3) # Infrastructure errors.  With a report, the job is allowed to fail with
   # 3 (a warning) and the report job merges the shards and shows them.
   [ -s "$out/report.json" ] && exit 3
   say "no $out/report.json: the run did not get to its cells (exit 3)"
   exit 1 ;;
*) exit "$status" ;;
esac
