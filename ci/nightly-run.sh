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
# 1 is product failures: the report job's business (it compares with last
# night), not a failure of this job.
[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
