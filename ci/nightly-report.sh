#!/bin/bash
# The report job: merges the shards into merged/report.json, writes JUnit and
# HTML, and compares with last night's report, which comes from GitLab's
# cache (PREVIOUS_DIR, a cache path keyed per branch) or, when the cache is
# empty, from the last successful report job's artifacts through the API.
# Tonight's report then goes into the cache for tomorrow.  Exits 1 when the
# diff finds a regression (the pipeline goes red; the bisect job follows).
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/pipeline-lib.sh

previous_dir=${PREVIOUS_DIR:-.hotplug-ci-previous}
mkdir -p merged "$previous_dir"
shopt -s nullglob
shards=(run-*/report.json)
if [ ${#shards[@]} -eq 0 ]; then
	say "no shard left a report.json (see the nightly jobs' logs)"
	exit 3
fi
"$HPCI" report merge merged/report.json "${shards[@]}"
"$HPCI" report junit merged/report.json -o merged/junit.xml
"$HPCI" report html merged/report.json -o merged/index.html

previous=
if [ -s "$previous_dir/report.json" ]; then
	previous="$previous_dir/report.json"
	say "last night's report: GitLab's cache"
elif [ -n "${CI_JOB_TOKEN:-}" ] && [ -n "${CI_API_V4_URL:-}" ]; then
	status=0
	"$HPCI" report fetch-gitlab --job "${CI_JOB_NAME:-report}" --path merged/report.json \
		-o "$previous_dir/report.json" || status=$?
	case $status in
	0) previous="$previous_dir/report.json"
	   say "last night's report: the last successful $CI_JOB_NAME job's artifacts" ;;
	5) ;;   # no earlier artifact
	*) say "could not fetch last night's report (exit $status); comparing with nothing" ;;
	esac
fi

regressed=0
if [ -n "$previous" ]; then
	cp "$previous" merged/previous.json
	status=0
	"$HPCI" report diff merged/previous.json merged/report.json >merged/diff.txt || status=$?
	"$HPCI" report diff --json merged/previous.json merged/report.json >merged/diff.json || true
	cat merged/diff.txt
	case $status in
	0) ;;
	1) regressed=1 ;;
	*) exit "$status" ;;
	esac
else
	echo "first night: no earlier report to compare with; tonight's is the baseline" |
		tee merged/diff.txt
fi

# Tomorrow compares with tonight, unless tonight was cut short.
if grep -q '"interrupted": *false' merged/report.json; then
	cp merged/report.json "$previous_dir/report.json"
else
	say "tonight's run was interrupted: last night's report stays the baseline"
fi
exit "$regressed"
