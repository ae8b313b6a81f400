#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
.gitlab-ci.yml as GitLab would read it, through gitlab-ci-local (--list-json
per pipeline source, --preview for the expanded jobs): which jobs each kind of
pipeline gets, in which stage, when, after what, and the GitLab conventions
the nightly relies on (JUnit report, exposed HTML, expiring artifacts,
interruptible, timeouts, shards, caches).  Seconds; no VM.

usage: test-gitlab-ci.py SOURCE_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

SRC = sys.argv[1]
failures = []


def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def gcl(cwd, *args):
    out = subprocess.run(["gitlab-ci-local", "--no-color", *args], cwd=cwd,
                         capture_output=True, text=True, check=True)
    return out.stdout


def jobs_of(cwd, **variables):
    """(name, stage, when) of every job the pipeline would run."""
    args = ["--list-json"]
    for k, v in variables.items():
        args += ["--variable", f"{k}={v}"]
    listed = json.loads(gcl(cwd, *args))
    return sorted((j["name"], j["stage"], j["when"]) for j in listed if j["when"] != "never")


if shutil.which("gitlab-ci-local") is None:
    print("gitlab-ci-local is not installed; run ci/setup.sh")
    sys.exit(1)

with tempfile.TemporaryDirectory(prefix="hpci-gitlab-ci-") as tmp:
    shutil.copy(os.path.join(SRC, ".gitlab-ci.yml"), tmp)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "ci"], cwd=tmp, check=True)

    check("push: the tests only",
          jobs_of(tmp) == [("tests", "test", "on_success")])
    check("merge request: the tests only",
          jobs_of(tmp, CI_PIPELINE_SOURCE="merge_request_event") ==
          [("tests", "test", "on_success")])
    check("schedule: two shards, report, bisect after the report whatever it says",
          jobs_of(tmp, CI_PIPELINE_SOURCE="schedule") ==
          [("bisect", "bisect", "always"), ("nightly: [1/2]", "matrix", "on_success"),
           ("nightly: [2/2]", "matrix", "on_success"), ("report", "report", "on_success")])
    check("web pipeline with a range: the manual bisect only",
          jobs_of(tmp, CI_PIPELINE_SOURCE="web", BISECT_GOOD="a", BISECT_BAD="b") ==
          [("bisect-manual", "bisect", "manual")])
    check("web pipeline without a range: nothing",
          jobs_of(tmp, CI_PIPELINE_SOURCE="web") == [])

    p = yaml.safe_load(gcl(tmp, "--preview"))
    jobs = {k: v for k, v in p.items() if isinstance(v, dict) and "script" in v}
    check("jobs: tests, nightly, report, bisect, bisect-manual",
          sorted(jobs) == ["bisect", "bisect-manual", "nightly", "report", "tests"])
    for name, job in sorted(jobs.items()):
        check(f"{name}: interruptible", job.get("interruptible") is True)
        check(f"{name}: a timeout", bool(job.get("timeout")))
        check(f"{name}: sets the host up first", job.get("before_script") == ["ci/setup.sh"])
        if name != "tests":
            art = job.get("artifacts", {})
            check(f"{name}: artifacts kept when the job fails and expire",
                  art.get("when") == "always" and bool(art.get("expire_in")))
            check(f"{name}: the build cache", any(
                c.get("key") == "hotplug-ci-builds" and c.get("paths") == [".cache/hotplug-ci/"]
                for c in job.get("cache", [])))
    nightly, report, bisect = jobs["nightly"], jobs["report"], jobs["bisect"]
    check("nightly: 2 parallel shards", nightly.get("parallel") == 2)
    check("nightly: each shard into run-$CI_NODE_INDEX",
          'ci/nightly-run.sh "run-$CI_NODE_INDEX"' in nightly["script"])
    check("report: after the shards, with their artifacts",
          [n.get("job") if isinstance(n, dict) else n for n in report["needs"]] == ["nightly"])
    check("report: JUnit for GitLab's test tab",
          report["artifacts"]["reports"]["junit"] == "merged/junit.xml")
    check("report: the HTML report exposed",
          bool(report["artifacts"].get("expose_as")) and
          report["artifacts"]["paths"][0] == "merged/index.html")
    check("report: last night's report cached per branch, also after a red night", any(
        c.get("key") == "hotplug-ci-nightly-$CI_COMMIT_REF_SLUG" and
        c.get("paths") == [".hotplug-ci-previous/"] and c.get("when") == "always"
        for c in report["cache"]))
    check("bisect: after the report, with its artifacts",
          [n.get("job") if isinstance(n, dict) else n for n in bisect["needs"]] == ["report"])
    check("bisect: publishes bisect.json, its page and the answer",
          {"bisect/index.html", "bisect/answer.txt", "bisect/run/"} <=
          set(bisect["artifacts"]["paths"]))
    for var in ("EDK2_SOURCE", "EDK2_REV", "QEMU_SOURCE", "QEMU_REV", "HOTPLUG_CI_MATRIX"):
        check(f"pipeline variable {var}", var in p.get("variables", {}))
    for script in ("nightly-run.sh", "nightly-report.sh", "nightly-bisect.sh",
                   "manual-bisect.sh", "setup.sh", "test.sh"):
        path = os.path.join(SRC, "ci", script)
        check(f"ci/{script} exists and is executable", os.access(path, os.X_OK))


# ---- ci/pipeline-lib.sh: the variables to --set options, the mirror ------------


def lib(script, **env):
    """Runs bash with ci/pipeline-lib.sh sourced; (status, stdout, stderr)."""
    full = dict(os.environ, **env)
    out = subprocess.run(["bash", "-c", f'set -euo pipefail; . ci/pipeline-lib.sh; {script}'],
                         cwd=SRC, env=full, capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


for value, remote in (("https://github.com/tianocore/edk2.git", True),
                      ("git@gitlab.example.com:fw/edk2.git", True),
                      ("file:///srv/git/edk2", True),
                      ("/src/edk2", False), ("debian:edk2", False),
                      ("https://download.qemu.org/qemu-8.2.0.tar.xz", False)):
    status, _, _ = lib(f"is_git_remote '{value}'")
    check(f"is_git_remote {value}: {remote}", (status == 0) == remote)

status, out, _ = lib('a=(); pipeline_sets a; printf "%s\\n" "${a[@]}"',
                     EDK2_SOURCE="/src/edk2", EDK2_REV="abc123", QEMU_SOURCE="", QEMU_REV="")
check("EDK2_SOURCE/EDK2_REV become --set options for every firmware recipe",
      status == 0 and out.split("\n")[:-1] == [
          "--set", "axes.firmware.*.build.source=/src/edk2",
          "--set", "axes.firmware.*.build.rev=abc123"])
status, out, _ = lib('a=(); pipeline_sets a; echo "${#a[@]}"',
                     EDK2_SOURCE="", EDK2_REV="", QEMU_SOURCE="", QEMU_REV="")
check("no variables: no --set (the matrix's own recipes)", status == 0 and out.strip() == "0")

with tempfile.TemporaryDirectory(prefix="hpci-mirror-") as tmp:
    remote = os.path.join(tmp, "remote")
    git = ["git", "-C", remote, "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "master", remote], check=True)
    commits = []
    for n in range(2):
        with open(os.path.join(remote, "f"), "w") as f:
            f.write(str(n))
        subprocess.run(git + ["add", "f"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", f"c{n}"], check=True)
        commits.append(subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True,
                                      text=True, check=True).stdout.strip())
    subprocess.run(git + ["branch", "-f", "nightly", commits[0]], check=True)
    mirrors = os.path.join(tmp, "mirrors")
    url = "file://" + remote
    status, out, err = lib(f"mirror_git {url} nightly", HOTPLUG_CI_MIRRORS=mirrors)
    path, commit = (out.split() + ["", ""])[:2]
    check("mirror_git: a clone of the remote at its branch",
          status == 0 and commit == commits[0] and os.path.isdir(os.path.join(path, ".git")))
    subprocess.run(git + ["branch", "-f", "nightly", commits[1]], check=True)
    status, out, err = lib(f"mirror_git {url} nightly", HOTPLUG_CI_MIRRORS=mirrors)
    check("mirror_git: the next night fetches the branch where it moved",
          status == 0 and out.split() == [path, commits[1]])
    status, out, err = lib(f"mirror_git {url} no-such-branch", HOTPLUG_CI_MIRRORS=mirrors)
    check("mirror_git: an unknown revision is an error naming it",
          status == 2 and "has no branch, tag or commit 'no-such-branch'" in err)

# ---- ci/manual-bisect.sh refuses what it lacks before building anything --------
out = subprocess.run(["ci/manual-bisect.sh"], cwd=SRC, capture_output=True, text=True,
                     env=dict(os.environ, BISECT_GOOD="a", BISECT_BAD="b", BISECT_FILTER=""))
check("manual bisect without BISECT_FILTER: exit 2 naming it",
      out.returncode == 2 and "set BISECT_FILTER" in out.stderr)
out = subprocess.run(["ci/manual-bisect.sh"], cwd=SRC, capture_output=True, text=True,
                     env=dict(os.environ, BISECT_GOOD="a", BISECT_BAD="b", BISECT_FILTER="x",
                              BISECT_COMPONENT="ovmf"))
check("manual bisect with another component: exit 2 naming the two",
      out.returncode == 2 and "set it to edk2 or qemu" in out.stderr)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
