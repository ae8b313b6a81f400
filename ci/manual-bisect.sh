#!/bin/bash
# The manual bisect job: BISECT_GOOD..BISECT_BAD of edk2 (or of QEMU with
# BISECT_COMPONENT=qemu) on the cells BISECT_FILTER selects in the pipeline's
# matrix; the repository is BISECT_REPO, else EDK2_SOURCE (QEMU_SOURCE), a
# checkout or a git remote.  The other pipeline variables apply as in the
# nightly.  Writes bisect/ like the nightly's bisect job.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/pipeline-lib.sh

component=${BISECT_COMPONENT:-edk2}
case $component in
edk2) repo=${BISECT_REPO:-${EDK2_SOURCE:-}} ;;
qemu) repo=${BISECT_REPO:-${QEMU_SOURCE:-}} ;;
*) say "BISECT_COMPONENT is '$component'; set it to edk2 or qemu"; exit 2 ;;
esac
for v in BISECT_GOOD BISECT_BAD BISECT_FILTER; do
	[ -n "${!v:-}" ] || { say "set $v (ci/README.md, 'Bisecting by hand')"; exit 2; }
done
if [ -z "$repo" ]; then
	say "set BISECT_REPO (or ${component^^}_SOURCE) to the $component git checkout or remote"
	exit 2
fi
good=$BISECT_GOOD bad=$BISECT_BAD
if is_git_remote "$repo"; then
	mirrored=$(mirror_git "$repo" "$bad") || exit 2
	repo=${mirrored% *}
	bad=${mirrored#* }
	good=$(resolve_rev "$repo" "$good") || { say "$BISECT_REPO has no '$BISECT_GOOD'"; exit 2; }
fi
args=(bisect --matrix "$MATRIX" --filter "$BISECT_FILTER" "--$component" "$repo"
	--good "$good" --bad "$bad" --out bisect/run)
sets=()
pipeline_sets sets
args+=("${sets[@]}")
mkdir -p bisect
say "$HPCI ${args[*]}"
set +e
"$HPCI" "${args[@]}" | tee bisect/output.txt
status=${PIPESTATUS[0]}
set -e
if [ -s bisect/run/bisect.json ]; then
	"$HPCI" report html bisect/run/bisect.json -o bisect/index.html
fi
grep '^answer: ' bisect/output.txt | tail -n 1 >bisect/answer.txt || true
exit "$status"
