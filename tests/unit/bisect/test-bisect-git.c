/* SPDX-License-Identifier: MIT */
/*
 * bisect/git-history.c against real git: a 40-commit repository with a
 * side branch merged back, one commit that cannot be built, one planted
 * regression.  The search names the planted commit, the user's checkout is
 * untouched, and `git bisect replay` of the log agrees.
 */
#include "git-history.h"
#include "error.h"
#include "fsutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

struct repo {
	char *tmp;
	char *path;
};

static char *sh(const char *dir, const char *script)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *argv[] = { "sh", "-ec", script, NULL };
	int status = 0;

	if (!g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
			  &status, NULL) || !g_spawn_check_wait_status(status, NULL))
		fail_msg("'%s' failed: %s", script, err ? err : "");
	return g_strstrip(g_steal_pointer(&out));
}

/* c1..c40 on main; c12-c14 on a side branch from c10, merged as c15;
 * c20 adds `planted` (the regression); c27 adds `broken`, c28 removes it. */
static int setup(void **state)
{
	struct repo *r = g_new0(struct repo, 1);

	r->tmp = g_dir_make_tmp("hpci-bisect-git-XXXXXX", NULL);
	r->path = g_build_filename(r->tmp, "repo", NULL);
	g_free(sh(r->tmp,
		  "git init -q -b main repo && cd repo && "
		  "git config user.name T && git config user.email t@example.org && "
		  "export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z && "
		  "echo 0 > f && git add f && git commit -qm c0 && git tag c0 && "
		  "for i in $(seq 1 40); do "
		  "  if [ $i = 12 ]; then git checkout -q -b side c10; fi; "
		  "  if [ $i = 15 ]; then git checkout -q main && "
		  "    git merge -q --no-ff -m c15 side && git tag c15 && continue; fi; "
		  "  echo $i > f$i; git add f$i; "
		  "  if [ $i = 20 ]; then echo x > planted; git add planted; fi; "
		  "  if [ $i = 27 ]; then echo x > broken; git add broken; fi; "
		  "  if [ $i = 28 ]; then git rm -q broken; fi; "
		  "  git commit -qm c$i; git tag c$i; "
		  "done; git checkout -q main; echo local > f"));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct repo *r = *state;

	(void)hpci_rm_rf(r->tmp);
	g_free(r->tmp);
	g_free(r->path);
	g_free(r);
	return 0;
}

struct git_oracle {
	const char *repo;
	const char *regression;   /* the file whose commits fail */
	unsigned builds;
};

static bool has_file(const char *repo, const char *commit, const char *file)
{
	g_autofree char *spec = g_strdup_printf("%s:%s", commit, file);
	const char *argv[] = { "git", "-C", repo, "cat-file", "-e", spec, NULL };
	int status = 0;

	assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				 G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
				 NULL, &status, NULL));
	return g_spawn_check_wait_status(status, NULL);
}

static int git_run(void *self, const char *commit, unsigned runs,
		   enum hpci_bisect_purpose why, struct hpci_bisect_tally *tally)
{
	struct git_oracle *o = self;

	o->builds++;
	if (has_file(o->repo, commit, "broken")) {
		tally->unbuildable = true;
		return 0;
	}
	if (has_file(o->repo, commit, o->regression))
		tally->fails += runs;
	else
		tally->holds += runs;
	return 0;
}

static void test_finds_planted_and_replays(void **state)
{
	struct repo *r = *state;
	g_autofree char *clone = g_build_filename(r->tmp, "work", "git", NULL);
	g_autofree char *log_path = g_build_filename(r->tmp, "bisect.log", NULL);
	g_autoptr(hpci_bisect_git) g = NULL;
	g_auto(hpci_bisect_search) s = { 0 };
	g_auto(hpci_commit_info) info = { 0 };
	g_autofree char *old_id = NULL, *new_id = NULL, *planted = NULL, *log = NULL;
	g_autofree char *head_before = sh(r->path, "git rev-parse HEAD; git status --porcelain");
	g_autofree char *head_after = NULL, *replayed = NULL, *bisect_log = NULL;
	struct git_oracle go = { r->path, "planted", 0 };
	struct hpci_bisect_oracle oracle = { git_run, NULL, &go };
	struct hpci_bisect_history ops;
	struct hpci_bisect_policy p;
	unsigned count = 0;

	assert_int_equal(hpci_bisect_git_open(r->path, clone, "good", "bad", &g), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--good", "c0", &old_id), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--bad", "main", &new_id), 0);
	assert_int_equal(hpci_bisect_git_check_range(g, "c0", old_id, "main", new_id, &count), 0);
	assert_int_equal(count, 40);   /* c1..c40, c15 the merge */
	planted = sh(r->path, "git rev-parse c20");

	hpci_bisect_policy_init(&p);
	hpci_bisect_git_history(g, &ops);
	hpci_bisect_search_init(&s, &p, old_id, new_id, true, false);
	assert_int_equal(hpci_bisect_search_run(&s, &ops, &oracle), 0);
	assert_int_equal(s.result, HPCI_BISECT_FOUND);
	assert_string_equal(s.first_new, planted);
	assert_int_equal(s.parents->len, 1);
	/* ceil(log2 41) = 6 steps, the two endpoints, the verified parent */
	assert_true(go.builds <= 6 + 2 + 1 + 2);

	assert_int_equal(hpci_bisect_git_info(g, s.first_new, &info), 0);
	assert_string_equal(info.subject, "c20");
	assert_string_equal(info.author, "T <t@example.org>");
	assert_string_equal(info.date, "2026-01-01T00:00:00+00:00");
	assert_int_equal(info.files->len, 2);

	/* The user's checkout is as it was, local change included. */
	head_after = sh(r->path, "git rev-parse HEAD; git status --porcelain");
	assert_string_equal(head_before, head_after);
	bisect_log = g_build_filename(r->path, ".git", "BISECT_LOG", NULL);
	assert_false(g_file_test(bisect_log, G_FILE_TEST_EXISTS));

	assert_int_equal(hpci_bisect_git_log(g, &log), 0);
	assert_int_equal(hpci_write_file(log_path, log, -1), 0);
	replayed = sh(r->path, "git bisect replay ../bisect.log | "
			       "sed -n 's/ is the first bad commit$//p'; git bisect reset -q || "
			       "git bisect reset >/dev/null");
	assert_string_equal(replayed, planted);
}

/* The regression is c28 (it adds f28) and its parent c27 cannot be built:
 * git, and so the search, cannot tell the two apart.  Old/new terms. */
static void test_only_skipped_left(void **state)
{
	struct repo *r = *state;
	g_autofree char *clone = g_build_filename(r->tmp, "work2", "git", NULL);
	g_autoptr(hpci_bisect_git) g = NULL;
	g_auto(hpci_bisect_search) s = { 0 };
	g_autofree char *old_id = NULL, *new_id = NULL, *c27 = NULL, *c28 = NULL;
	g_autofree char *log = NULL;
	struct git_oracle go = { r->path, "f28", 0 };
	struct hpci_bisect_oracle oracle = { git_run, NULL, &go };
	struct hpci_bisect_history ops;
	struct hpci_bisect_policy p;
	unsigned count;

	assert_int_equal(hpci_bisect_git_open(r->path, clone, "old", "new", &g), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--old", "c21", &old_id), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--new", "c40", &new_id), 0);
	assert_int_equal(hpci_bisect_git_check_range(g, "c21", old_id, "c40", new_id, &count), 0);
	hpci_bisect_policy_init(&p);
	hpci_bisect_git_history(g, &ops);
	hpci_bisect_search_init(&s, &p, old_id, new_id, true, false);
	assert_int_equal(hpci_bisect_search_run(&s, &ops, &oracle), 0);
	assert_int_equal(s.result, HPCI_BISECT_AMBIGUOUS);
	c27 = sh(r->path, "git rev-parse c27");
	c28 = sh(r->path, "git rev-parse c28");
	assert_int_equal(s.candidates->len, 2);
	assert_true((!strcmp(s.candidates->pdata[0], c27) && !strcmp(s.candidates->pdata[1], c28)) ||
		    (!strcmp(s.candidates->pdata[0], c28) && !strcmp(s.candidates->pdata[1], c27)));
	assert_int_equal(hpci_bisect_git_log(g, &log), 0);
	assert_non_null(strstr(log, "git bisect skip"));
	assert_non_null(strstr(log, "'--term-old' 'old' '--term-new' 'new'"));
}

static void test_bad_input(void **state)
{
	struct repo *r = *state;
	g_autofree char *clone = g_build_filename(r->tmp, "work3", "git", NULL);
	g_autofree char *not_repo = g_build_filename(r->tmp, "work3", NULL);
	g_autoptr(hpci_bisect_git) g = NULL;
	g_autoptr(hpci_bisect_git) none = NULL;
	g_autofree char *a = NULL, *b = NULL, *x = NULL;
	unsigned count;

	assert_int_equal(hpci_bisect_git_open(r->path, clone, "good", "bad", &g), 0);
	assert_true(hpci_bisect_git_resolve(g, "--good", "no-such-rev", &x) < 0);
	assert_non_null(strstr(hpci_error_message(), "--good 'no-such-rev' is not a commit of"));
	assert_int_equal(hpci_bisect_git_resolve(g, "--good", "c30", &a), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--bad", "c10", &b), 0);
	assert_true(hpci_bisect_git_check_range(g, "c30", a, "c10", b, &count) < 0);
	assert_non_null(strstr(hpci_error_message(), "'c30' comes after 'c10'"));
	assert_true(hpci_bisect_git_check_range(g, "c10", b, "c10", b, &count) < 0);
	assert_non_null(strstr(hpci_error_message(), "the same commit"));
	/* side branch commit c13 vs main's c11..: c13 is not an ancestor of c11 */
	g_free(a);
	g_free(b);
	a = b = NULL;
	assert_int_equal(hpci_bisect_git_resolve(g, "--good", "c13", &a), 0);
	assert_int_equal(hpci_bisect_git_resolve(g, "--bad", "c11", &b), 0);
	assert_true(hpci_bisect_git_check_range(g, "c13", a, "c11", b, &count) < 0);
	assert_non_null(strstr(hpci_error_message(), "'c13' is not an ancestor of 'c11'"));

	assert_true(hpci_bisect_git_open(not_repo, clone, "good", "bad", &none) < 0);
	assert_non_null(strstr(hpci_error_message(), "is not a git checkout"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_planted_and_replays),
		cmocka_unit_test(test_only_skipped_left),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
