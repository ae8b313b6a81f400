/* SPDX-License-Identifier: MIT */
/*
 * hotplug-ci bisect on real edk2 code: a git history made from Debian's edk2
 * source package (edk2-stable202211, then each Debian patch as one commit,
 * tests/vm/make-edk2-history.sh), with one commit planted at a random place
 * that stops OVMF from negotiating CPU hotplug with QEMU (QEMU then refuses
 * the plug) and one commit elsewhere that does not build.  The bisect runs a
 * plug cell on our patched QEMU at each step and must name the planted
 * commit, skip the broken one (placed where git's first step falls), stay within
 * ceil(log2 n) + 2 calls (plus a skip), and `git bisect replay` of its log
 * in the repository must agree.  It is interrupted once after its endpoints
 * and resumed: nothing is left running, and the endpoints are not run again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fsutil.h"
#include "vm-common.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static char *capture(const char *cwd, const char *script)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *argv[] = { "sh", "-ec", script, NULL };
	int status = 0;

	if (!g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
			  &status, NULL) || !g_spawn_check_wait_status(status, NULL))
		fail_msg("'%s' failed: %s", script, err ? err : "");
	return g_strstrip(g_steal_pointer(&out));
}

/* "key=value" out of the script's summary line. */
static char *field(const char *line, const char *key)
{
	g_autofree char *k = g_strdup_printf("%s=", key);
	const char *at = strstr(line, k);

	if (!at)
		fail_msg("no %s in '%s'", key, line);
	at += strlen(k);
	return g_strndup(at, strcspn(at, " \n"));
}

/*
 * The history: the regression planted at a random place, and the commit that
 * does not build where git's first step falls (git bisect's choice depends on
 * the history only), so the bisect must skip it on its way.  Returns the
 * script's summary line.
 */
static char *make_history(const char *tmp, const char *repo)
{
	g_autofree char *script = g_build_filename(HPCI_SOURCE_ROOT, "tests", "vm",
						   "make-edk2-history.sh", NULL);
	g_autoptr(GRand) rand = g_rand_new();
	/* Debian's 34 patches; the first 3 make the tree build. */
	unsigned bad = (unsigned)g_rand_int_range(rand, 3, 35);

	for (unsigned broken = 14; broken <= 22; broken++) {
		g_autofree char *make = NULL, *summary = NULL, *first_step = NULL;
		g_autofree char *broken_id = NULL;

		if (broken == bad || broken + 1 == bad)
			continue;
		make = g_strdup_printf("rm -rf %s && %s %s --plant-bad %u --plant-broken %u | "
				       "tail -n 1", repo, script, repo, bad, broken);
		summary = capture(tmp, make);
		first_step = capture(repo, "git rev-list --bisect HEAD ^debian-build-fixes");
		broken_id = field(summary, "planted-broken");
		if (strcmp(first_step, broken_id) == 0) {
			fprintf(stderr, "history: %s\n", summary);
			return g_steal_pointer(&summary);
		}
	}
	fail_msg("no place for the broken commit is git's first step");
	return NULL;
}

static unsigned count_runs(json_object *rec, const char *purpose)
{
	json_object *runs = vm_get(rec, "runs");
	unsigned n = 0;

	for (size_t i = 0; runs && i < json_object_array_length(runs); i++)
		n += !strcmp(vm_get_str(json_object_array_get_idx(runs, i), "purpose"), purpose);
	return n;
}

/*
 * Starts the bisect and sends it SIGINT once both endpoints have run: it must
 * stop its child run (which destroys its domains), keep bisect.json with the
 * runs made, remove its private clone and exit 130.
 */
static void interrupt_after_endpoints(const char *matrix, const char *repo, const char *first,
				      const char *out)
{
	g_autofree char *path = g_build_filename(out, "bisect.json", NULL);
	g_autofree char *clone = g_build_filename(out, "git-edk2", NULL);
	const char *argv[] = { vm_binary(), "bisect", "--matrix", matrix, "--edk2", repo, "--good",
			       first, "--bad", "HEAD", "--out", out, NULL };
	gint64 deadline = g_get_monotonic_time() + (gint64)3600 * G_USEC_PER_SEC;
	json_object *rec = NULL;
	int status = 0;
	GPid pid;

	assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				  &pid, NULL));
	for (;;) {
		rec = json_object_from_file(path);
		if (rec && count_runs(rec, "endpoint") == 2)
			break;
		json_object_put(rec);
		if (g_get_monotonic_time() > deadline || waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("the bisect never got past its endpoints");
		g_usleep(G_USEC_PER_SEC);
	}
	json_object_put(rec);
	g_usleep(20 * G_USEC_PER_SEC);   /* into the first step's build or run */
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_spawn_close_pid(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);
	rec = json_object_from_file(path);
	assert_non_null(rec);
	assert_string_equal(vm_get_str(rec, "state"), "interrupted");
	assert_int_equal(count_runs(rec, "endpoint"), 2);
	json_object_put(rec);
	assert_false(g_file_test(clone, G_FILE_TEST_EXISTS));
	assert_int_equal(vm_count_domains("hpci-"), 0);
	assert_int_equal(vm_count_processes("guest=hpci-"), 0);
}

static char *write_matrix(const char *dir, const char *repo)
{
	g_autofree char *patches = g_build_filename(HPCI_SOURCE_ROOT, "qemu-build", "patches", NULL);
	g_autofree char *path = g_build_filename(dir, "bisect-edk2.json", NULL);
	g_autofree char *json = g_strdup_printf(
		"{ \"name\": \"bisect-edk2\","
		"  \"defaults\": { \"image\": \"minimal\", \"timeouts\": { \"boot_s\": 120, "
		"    \"plug_s\": 60, \"online_s\": 60, \"unplug_s\": 120, \"smi_s\": 180 } },"
		"  \"axes\": {"
		"    \"topology\": { \"1s4c\": { \"sockets\": 1, \"dies\": 1, \"cores\": 4, "
		"      \"threads\": 1, \"boot\": 1, \"max\": 4 } },"
		"    \"smi\": { \"full\": { \"machine\": \"pc-q35-7.2\", \"broadcast\": true, "
		"      \"cpu_hotplug\": true, \"cpu_hotunplug\": true } },"
		"    \"firmware\": { \"edk2\": { \"build\": { \"source\": \"%s\", \"rev\": \"HEAD\" } } },"
		"    \"qemu\": { \"patched\": { \"build\": { \"source\": \"debian:qemu\", "
		"      \"patches\": \"%s\" } } },"
		"    \"count\": [1],"
		"    \"ops\": { \"each\": [\"plug-each\", { \"op\": \"smi\", \"sweeps\": 1 }] } },"
		"  \"expect\": [ { \"when\": {}, \"outcome\": \"pass\", \"reason\": \"OVMF "
		"    relocates the hot-added CPU on our patched QEMU\" } ] }", repo, patches);

	g_assert_true(g_file_set_contents(path, json, -1, NULL));
	return g_steal_pointer(&path);
}

static void test_bisect_names_planted_commit(void **state)
{
	g_autofree char *tmp = vm_tmpdir("bisect");
	g_autofree char *repo = g_build_filename(tmp, "edk2", NULL);
	g_autofree char *out = g_build_filename(tmp, "out", NULL);
	g_autofree char *summary = make_history(tmp, repo);
	g_autofree char *planted = field(summary, "planted-bad");
	g_autofree char *broken = field(summary, "planted-broken");
	g_autofree char *matrix = write_matrix(tmp, repo);
	g_autofree char *first = capture(repo, "git rev-parse debian-build-fixes");
	g_autofree char *bisect_json = g_build_filename(out, "bisect.json", NULL);
	g_autofree char *clone = g_build_filename(out, "git-edk2", NULL);
	g_autofree char *replay = NULL;
	g_autofree char *replay_cmd = NULL;
	struct vm_result r = { 0 };
	json_object *rec, *steps;
	unsigned count, calls = 0, skips = 0;
	unsigned bound;

	(void)state;
	interrupt_after_endpoints(matrix, repo, first, out);
	vm_hotplug_ci(&r, "bisect", "--resume", out, NULL);
	fprintf(stderr, "%s\nbisect took %" G_GINT64_FORMAT " s\n", r.out, r.ms / 1000);
	assert_int_equal(r.status, 0);
	rec = json_object_from_file(bisect_json);
	assert_non_null(rec);
	assert_string_equal(vm_get_str(rec, "result"), "found");
	assert_string_equal(vm_get_str(rec, "first_new.commit"), planted);
	assert_non_null(strstr(r.out, planted));
	assert_true(json_object_get_double(vm_get(rec, "confidence")) > 0.99);
	/* The endpoints ran before the interrupt and were not run again. */
	assert_int_equal(count_runs(rec, "endpoint"), 2);

	/* Every call git asked for (endpoints and steps, not the verification's
	 * fresh runs); the broken commit, if asked for, is a skip. */
	steps = vm_get(rec, "steps");
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);

		if (!strcmp(vm_get_str(s, "purpose"), "verify"))
			continue;
		calls++;
		if (!strcmp(vm_get_str(s, "commit"), broken)) {
			assert_string_equal(vm_get_str(s, "class"), "untestable");
			assert_string_equal(vm_get_str(s, "mark"), "skip");
			skips++;
		} else {
			assert_string_not_equal(vm_get_str(s, "class"), "untestable");
		}
	}
	count = (unsigned)json_object_get_int(vm_get(rec, "commits_in_range"));
	bound = (unsigned)ceil(log2(count)) + 2 + skips;
	fprintf(stderr, "%u commits, %u calls (bound %u), the broken commit skipped\n", count,
		calls, bound);
	assert_int_equal(skips, 1);
	assert_true(calls <= bound);

	/* The log replays to the same answer in the repository itself. */
	replay_cmd = g_strdup_printf("git bisect replay %s/bisect.log | "
				     "sed -n 's/ is the first bad commit$//p'; git bisect reset >/dev/null",
				     out);
	replay = capture(repo, replay_cmd);
	assert_string_equal(replay, planted);

	/* Nothing left behind: no private clone, no domain. */
	assert_false(g_file_test(clone, G_FILE_TEST_EXISTS));
	assert_int_equal(vm_count_domains("hpci-"), 0);
	json_object_put(rec);
	vm_result_release(&r);
	(void)hpci_rm_rf(tmp);
}

/* Bad input is refused before any build: a filter that selects nothing, a
 * revision the repository does not have, a reversed range. */
static void test_bad_input(void **state)
{
	g_autofree char *tmp = vm_tmpdir("bisect-input");
	g_autofree char *repo = g_build_filename(tmp, "r", NULL);
	g_autofree char *matrix = write_matrix(tmp, repo);
	g_autofree char *full = g_build_filename(HPCI_SOURCE_ROOT, "matrix", "full.json", NULL);
	struct vm_result r = { 0 };

	(void)state;
	vm_sh(tmp, "git init -q r && cd r && git commit -q --allow-empty -m a && git tag a && "
		   "git commit -q --allow-empty -m b && git tag b");
	vm_hotplug_ci(&r, "bisect", "--matrix", matrix, "--edk2", repo, "--good", "a", "--bad",
		      "nope", "--out", tmp, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--bad 'nope' is not a commit of"));
	vm_result_release(&r);
	vm_hotplug_ci(&r, "bisect", "--matrix", matrix, "--edk2", repo, "--good", "b", "--bad",
		      "a", "--out", tmp, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "'b' comes after 'a'"));
	vm_result_release(&r);
	vm_hotplug_ci(&r, "bisect", "--matrix", matrix, "--filter", "count=7", "--edk2", repo,
		      "--good", "a", "--bad", "b", "--out", tmp, NULL);
	assert_int_equal(r.status, 2);
	vm_result_release(&r);
	vm_hotplug_ci(&r, "bisect", "--matrix", full, "--edk2", repo, "--good", "a",
		      "--bad", "b", "--out", tmp, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "which is not a build recipe"));
	vm_result_release(&r);
	(void)hpci_rm_rf(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bisect_names_planted_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
