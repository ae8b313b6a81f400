#!/bin/bash
# The bisect job, after the report job: when last night's and tonight's
# reports differ by a regression and the edk2 (or QEMU) revision moved,
# `hotplug-ci bisect --old-report --new-report` names the commit, on the
# regressed cells only, into bisect/ (bisect.json, index.html, answer.txt).
# Its last line is the answer in one line.  Nothing to bisect is a success.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/pipeline-lib.sh

mkdir -p bisect
if [ ! -s merged/report.json ]; then
	echo "answer: nothing to bisect: the report job left no merged/report.json" |
		tee bisect/answer.txt
	exit 0
fi
if [ ! -s merged/previous.json ]; then
	echo "answer: nothing to bisect: no earlier report to compare with (the first night)" |
		tee bisect/answer.txt
	exit 0
fi
set +e
"$HPCI" bisect --old-report merged/previous.json --new-report merged/report.json \
	--matrix "$MATRIX" --out bisect/run | tee bisect/output.txt
status=${PIPESTATUS[0]}
set -e
if [ -s bisect/run/bisect.json ]; then
	"$HPCI" report html bisect/run/bisect.json -o bisect/index.html
fi
grep '^answer: ' bisect/output.txt | tail -n 1 >bisect/answer.txt || true
# Found (0), ambiguous (4), nothing to bisect (5): bisect's last line was the
# answer.
case $status in
0|4|5) ;;
*) say "bisect failed (exit $status); its output is in bisect/output.txt"; exit "$status" ;;
esac
