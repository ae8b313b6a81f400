#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-nightly-pipeline.sh SOURCE_ROOT
#
# The nightly pipeline of .gitlab-ci.yml, run twice as GitLab's schedule
# would, with gitlab-ci-local (shell executor, each job in its own copy of
# the project, GitLab's cache and artifacts between them), on real VMs:
#
# night 1: edk2 at a commit a few before a planted regression
#          (make-edk2-history.sh), given as a git remote (file://) that the
#          pipeline mirrors; matrix/quick.json in two shards, merged, JUnit,
#          HTML; nothing to compare with, so nothing to bisect.
# night 2: the remote's branch moved past the planted commit; the report
#          job compares with night 1's report, which it takes from GitLab's
#          cache, finds both cells regressed, and the bisect job names the
#          planted commit.
#
# It asserts on what the jobs leave (artifacts, the cache), not on job logs.
set -euo pipefail

src=$(cd "${1:?usage: test-nightly-pipeline.sh SOURCE_ROOT}" && pwd)
prog=test-nightly-pipeline
failures=0
gcl_pid=

say() { echo "$prog: $*" >&2; }
check() {   # check DESCRIPTION COMMAND...: one assertion
	local what=$1
	shift
	if "$@"; then
		say "ok: $what"
	else
		say "FAIL: $what"
		failures=$((failures + 1))
	fi
}
json() {    # json FILE PYTHON-EXPRESSION-ON-r: prints the value
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

command -v gitlab-ci-local >/dev/null || { say "gitlab-ci-local is not installed; run ci/setup.sh"; exit 1; }
tmp=$(mktemp -d /tmp/hpci-vm-pipeline-XXXXXX)
cleanup() {
	# An interrupted test stops the pipeline.  gitlab-ci-local does not pass
	# SIGTERM on to its jobs (they would run on, orphaned), so the whole
	# process group it leads gets it: each job's `hotplug-ci run` destroys
	# its domains on SIGTERM.
	if [ -n "$gcl_pid" ]; then
		kill -TERM -- "-$gcl_pid" 2>/dev/null || true
		for _ in $(seq 120); do
			kill -0 -- "-$gcl_pid" 2>/dev/null || break
			sleep 1
		done
		wait "$gcl_pid" 2>/dev/null || true
	fi
	if [ "$failures" -eq 0 ] && [ -z "${HPCI_KEEP:-}" ]; then rm -rf "$tmp"; else say "kept $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the edk2 history, published as a remote ---------------------------------
bad_at=$(( RANDOM % 23 + 8 ))    # after Debian's patch 8..30 of 34
summary=$("$src/tests/vm/make-edk2-history.sh" "$tmp/edk2" --plant-bad "$bad_at" | tail -n 1)
say "history: $summary"
planted=$(git -C "$tmp/edk2" rev-parse planted-bad)
night1=$(git -C "$tmp/edk2" rev-parse planted-bad~3)
night2=$(git -C "$tmp/edk2" rev-list --reverse planted-bad..HEAD | sed -n 2p)
[ -n "$night2" ] || night2=$(git -C "$tmp/edk2" rev-parse HEAD)
git -C "$tmp/edk2" branch -f nightly "$night1"

# ---- the project, as a runner would check it out ------------------------------
mkdir "$tmp/project"
git -C "$src" ls-files -z | rsync -a --from0 --files-from=- "$src/" "$tmp/project/"
git -C "$tmp/project" init -q -b main
git -C "$tmp/project" add -A
git -C "$tmp/project" -c user.name=hotplug-ci -c user.email=ci@hotplug-ci.invalid \
	commit -q -m "the project under test"

pipeline() {   # pipeline NAME: one scheduled pipeline; its log in $tmp/NAME.log
	local status=0
	(
		cd "$tmp/project"
		exec setsid gitlab-ci-local --shell-isolation --no-color \
			--variable CI_PIPELINE_SOURCE=schedule \
			--variable HOTPLUG_CI_MATRIX=matrix/quick.json \
			--variable "EDK2_SOURCE=file://$tmp/edk2" \
			--variable EDK2_REV=nightly \
			--variable "HPCI_CACHE_DIR=${HPCI_CACHE_DIR:-$HOME/.cache/hotplug-ci}" \
			--variable "HOTPLUG_CI_MIRRORS=$tmp/mirrors"
	) >"$tmp/$1.log" 2>&1 &
	gcl_pid=$!
	wait "$gcl_pid" || status=$?
	gcl_pid=
	say "$1: gitlab-ci-local exited $status ($(grep -c . "$tmp/$1.log") log lines)"
	# Keep what the jobs left: the next pipeline overwrites the project's copies.
	mkdir -p "$tmp/$1"
	for d in merged bisect run-1 run-2; do
		[ ! -d "$tmp/project/$d" ] || cp -a "$tmp/project/$d" "$tmp/$1/"
	done
	return "$status"
}

# ---- night 1 ---------------------------------------------------------------------
t0=$(date +%s)
night_status=0
pipeline night1 || night_status=$?
say "night 1 took $(( $(date +%s) - t0 )) s"
n1=$tmp/night1
check "night 1 pipeline passed" [ "$night_status" -eq 0 ]
check "shard 1 ran one cell" [ "$(json "$n1/run-1/report.json" 'len(r["cells"])')" = 1 ]
check "shard 2 ran the other" [ "$(json "$n1/run-2/report.json" 'len(r["cells"])')" = 1 ]
check "merged report: both cells pass" \
	[ "$(json "$n1/merged/report.json" 'sorted(c["verdict"] for c in r["cells"])')" = "['pass', 'pass']" ]
check "merged report: its shards" \
	[ "$(json "$n1/merged/report.json" 'r["run"]["merged_shards"]')" = "['1/2', '2/2']" ]
check "merged report: the OVMF built from the mirror at night 1's commit" \
	[ "$(json "$n1/merged/report.json" '[i["source"]["revision"] for i in r["identities"] if i["role"] == "firmware-code"]')" = "['$night1']" ]
check "merged report: the pipeline's --set options" \
	grep -q '"axes.firmware.\*.build.rev='"$night1"'"' "$n1/merged/report.json"
check "JUnit: 2 tests, 0 failures" \
	python3 -c 'import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); s = s if s.tag == "testsuite" else s.find("testsuite"); sys.exit(not (s.get("tests") == "2" and s.get("failures") == "0"))' "$n1/merged/junit.xml"
check "HTML report written" grep -q '<html' "$n1/merged/index.html"
check "first night: nothing to compare" grep -q '^first night' "$n1/merged/diff.txt"
check "first night: no previous.json" [ ! -e "$n1/merged/previous.json" ]
check "first night: nothing to bisect" grep -q '^answer: nothing to bisect: no earlier report' "$n1/bisect/answer.txt"
cached=$(ls "$tmp"/project/.gitlab-ci-local/cache/hotplug-ci-nightly-*/.hotplug-ci-previous/report.json 2>/dev/null | head -n 1)
check "night 1's report is in GitLab's cache for night 2" cmp -s "$cached" "$n1/merged/report.json"

# ---- night 2: the remote moved past the planted regression ----------------------
git -C "$tmp/edk2" branch -f nightly "$night2"
t0=$(date +%s)
night_status=0
pipeline night2 || night_status=$?
say "night 2 took $(( $(date +%s) - t0 )) s"
n2=$tmp/night2
check "night 2 pipeline failed (a regression)" [ "$night_status" -ne 0 ]
check "night 2 compared with night 1's report, from the cache" cmp -s "$n2/merged/previous.json" "$n1/merged/report.json"
check "diff: both cells regressed" \
	[ "$(json "$n2/merged/diff.json" 'sorted(f["kind"] for f in r["findings"] if f["kind"] == "regressed")')" = "['regressed', 'regressed']" ]
check "merged report: the OVMF at night 2's commit" \
	[ "$(json "$n2/merged/report.json" '[i["source"]["revision"] for i in r["identities"] if i["role"] == "firmware-code"]')" = "['$night2']" ]
check "JUnit: 2 failures" \
	python3 -c 'import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); s = s if s.tag == "testsuite" else s.find("testsuite"); sys.exit(s.get("failures") != "2")' "$n2/merged/junit.xml"
rec=$n2/bisect/run/bisect.json
check "bisect.json published" [ -s "$rec" ]
check "bisect found a commit" [ "$(json "$rec" 'r["result"]')" = found ]
check "bisect named the planted commit $planted" [ "$(json "$rec" 'r["first_new"]["commit"]')" = "$planted" ]
check "bisect ran between the two nights' commits" \
	[ "$(json "$rec" 'r["old"]["commit"] + " " + r["new"]["commit"]')" = "$night1 $night2" ]
check "bisect ran the regressed cells only" [ "$(json "$rec" 'len(r["cells"])')" = 2 ]
check "one-line answer names the planted commit" grep -q "^answer: edk2 commit ${planted:0:12} " "$n2/bisect/answer.txt"
check "bisect's HTML page" grep -q "${planted:0:12}" "$n2/bisect/index.html"
check "no domain left behind" [ -z "$(virsh -c qemu:///system list --all --name | grep hpci || true)" ]

say "$failures failure(s)"
[ "$failures" -eq 0 ]
