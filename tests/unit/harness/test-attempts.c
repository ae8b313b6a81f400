/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "attempts.h"
#include "progress.h"

#include <string.h>

static struct hpci_cell cell = { .id = (char *)"topology=t,smi=s" };

/* An attempt with the given verdict: 'p' pass, 'f' fail, 'k' known issue,
 * 'i' infrastructure error, 'b' an unexpected breach, 'B' an expected one
 * (the positive control: a pass). */
static struct hpci_cell_result *attempt(char kind, unsigned number)
{
	struct hpci_cell_result *res = hpci_cell_result_new(&cell);

	res->ran = true;
	res->attempt = number;
	res->outcome = kind == 'i' ? HPCI_OUTCOME_INFRA_ERROR
		     : kind == 'f' ? HPCI_OUTCOME_GUEST_CRASH
		     : kind == 'k' ? HPCI_OUTCOME_HANG_SMM
		     : kind == 'b' || kind == 'B' ? HPCI_OUTCOME_BREACH : HPCI_OUTCOME_PASS;
	res->verdict_pass = kind == 'p' || kind == 'B';
	res->known_issue = kind == 'k';
	return res;
}

static GPtrArray *attempts(const char *kinds)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);

	for (unsigned i = 0; kinds[i]; i++)
		g_ptr_array_add(a, attempt(kinds[i], i + 1));
	return a;
}

static bool more(unsigned repeat, unsigned retries, unsigned infra, const char *kinds)
{
	struct hpci_retry_policy policy = { repeat, retries, infra };
	g_autoptr(GPtrArray) a = attempts(kinds);

	return hpci_attempts_more(&policy, a);
}

static void test_more_attempts(void **state)
{
	(void)state;
	assert_true(more(1, 1, 2, ""));
	assert_false(more(1, 1, 2, "p"));
	assert_false(more(1, 1, 2, "k"));          /* a known issue is an answer */
	assert_true(more(1, 1, 2, "f"));           /* one retry of a failure */
	assert_false(more(1, 1, 2, "ff"));         /* solid failure */
	assert_false(more(1, 1, 2, "fp"));         /* flaky: decided */
	assert_false(more(1, 0, 2, "f"));          /* no retries */
	assert_true(more(1, 1, 2, "i"));           /* infra errors are retried ... */
	assert_true(more(1, 1, 2, "ii"));
	assert_false(more(1, 1, 2, "iii"));        /* ... twice */
	assert_false(more(1, 1, 2, "ip"));
	assert_true(more(1, 1, 2, "if"));          /* the failure still gets its retry */
	assert_true(more(3, 1, 2, "pp"));          /* --repeat 3 */
	assert_false(more(3, 1, 2, "ppp"));
	assert_false(more(3, 1, 2, "pfp"));
	assert_true(more(3, 2, 2, "fff"));
	assert_false(more(3, 2, 2, "fffff"));
}

/* A breach decides its cell at once: no repeat, retry or infra retry
 * follows it.  Expected (the positive control), it is a pass like any. */
static void test_more_after_breach(void **state)
{
	(void)state;
	assert_false(more(1, 1, 2, "b"));          /* a failure, yet no retry */
	assert_false(more(3, 1, 2, "b"));          /* nor the rest of --repeat */
	assert_false(more(3, 1, 2, "pb"));
	assert_false(more(1, 1, 2, "ib"));
	assert_false(more(1, 3, 2, "fb"));
	assert_false(more(1, 1, 2, "B"));
	assert_true(more(3, 1, 2, "B"));
	assert_false(more(1, 1, 2, "iB"));
	assert_true(more(1, 1, 2, "f"));           /* the positive control that missed */
}

/* Whatever the other attempts did, the cell is its first breach: not
 * flaky, not a known issue, not an infra error. */
static void test_fold_breach(void **state)
{
	static const struct {
		const char *kinds;
		enum hpci_verdict verdict;
		enum hpci_outcome outcome;
		unsigned deciding;
	} cases[] = {
		{ "b", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 1 },
		{ "pb", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 2 },    /* not flaky */
		{ "bp", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 1 },
		{ "fbf", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 2 },   /* before a first failure */
		{ "kb", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 2 },    /* not a known issue */
		{ "iib", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 3 },
		{ "pbpb", HPCI_VERDICT_FAIL, HPCI_OUTCOME_BREACH, 2 },  /* the first breach */
		/* the positive control: breach is its pass, a miss is a failure */
		{ "B", HPCI_VERDICT_PASS, HPCI_OUTCOME_BREACH, 1 },
		{ "BB", HPCI_VERDICT_PASS, HPCI_OUTCOME_BREACH, 2 },
		{ "Bf", HPCI_VERDICT_FLAKY, HPCI_OUTCOME_GUEST_CRASH, 2 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) a = attempts(cases[i].kinds);
		g_autoptr(hpci_cell_result) res = hpci_attempts_fold(a);

		if (hpci_cell_verdict(res) != cases[i].verdict ||
		    res->outcome != cases[i].outcome || res->attempt != cases[i].deciding)
			fail_msg("%s: verdict %s, outcome %s, attempt %u", cases[i].kinds,
				 hpci_cell_verdict_name(res), hpci_outcome_name(res->outcome),
				 res->attempt);
		assert_int_equal(res->flaky, cases[i].verdict == HPCI_VERDICT_FLAKY);
		assert_int_equal(res->other_attempts->len, strlen(cases[i].kinds) - 1);
	}
}

static void test_fold(void **state)
{
	struct {
		const char *kinds;
		enum hpci_verdict verdict;
		unsigned deciding;
	} cases[] = {
		{ "p", HPCI_VERDICT_PASS, 1 },
		{ "ff", HPCI_VERDICT_FAIL, 1 },
		{ "pfp", HPCI_VERDICT_FLAKY, 2 },       /* flaky shows the failing attempt */
		{ "fp", HPCI_VERDICT_FLAKY, 1 },
		{ "iip", HPCI_VERDICT_PASS, 3 },        /* retried infra error does not taint */
		{ "iii", HPCI_VERDICT_INFRA_ERROR, 3 },
		{ "pk", HPCI_VERDICT_KNOWN_ISSUE, 2 },
		{ "kf", HPCI_VERDICT_FAIL, 2 },         /* a different failure is not a flake */
		{ "ppp", HPCI_VERDICT_PASS, 3 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) a = attempts(cases[i].kinds);
		g_autoptr(hpci_cell_result) res = hpci_attempts_fold(a);

		assert_int_equal(a->len, 0);
		if (hpci_cell_verdict(res) != cases[i].verdict || res->attempt != cases[i].deciding)
			fail_msg("%s: verdict %s, attempt %u", cases[i].kinds,
				 hpci_cell_verdict_name(res), res->attempt);
		assert_int_equal(res->other_attempts->len, strlen(cases[i].kinds) - 1);
	}
}

static void test_progress_status(void **state)
{
	g_autofree char *start = hpci_progress_status(0, 2, 48, 0, 4000);
	g_autofree char *mid = hpci_progress_status(12, 2, 48, 1, 185000);
	g_autofree char *long_run = hpci_progress_status(1, 1, 10, 0, 3 * 3600 * 1000 + 60000);

	(void)state;
	assert_string_equal(start, "[0/48] 2 running, 0 failed, 0m04s, ETA --");
	/* 185 s for 12 cells: 36 left take 555 s. */
	assert_string_equal(mid, "[12/48] 2 running, 1 failed, 3m05s, ETA 9m15s");
	assert_string_equal(long_run, "[1/10] 1 running, 0 failed, 3h01m, ETA 27h09m");
}

/* run's last words: breaches first, then the counts (breaches among the
 * failures); the positive control's expected breach is a pass. */
static void test_summary_breaches_first(void **state)
{
	struct hpci_cell control = { .id = (char *)"topology=t,smi=off,ops=attack" };
	struct hpci_cell other = { .id = (char *)"topology=t,smi=full,ops=attack" };
	g_auto(hpci_run_report) report = { 0 };
	g_autofree char *quiet = NULL, *loud = NULL;
	struct hpci_cell_result *res;

	(void)state;
	hpci_run_report_init(&report);
	g_ptr_array_add(report.results, attempt('p', 1));
	g_ptr_array_add(report.results, attempt('f', 1));
	res = attempt('B', 1);
	res->cell = &control;
	g_ptr_array_add(report.results, res);
	quiet = hpci_progress_summary(&report, "out/report.json");
	assert_string_equal(quiet, "2 of 3 cells as expected, 1 fail; report: out/report.json\n");

	g_ptr_array_add(report.results, attempt('b', 1));
	res = attempt('b', 1);
	res->cell = &other;
	g_ptr_array_add(report.results, res);
	report.interrupted = true;
	loud = hpci_progress_summary(&report, "out/report.json");
	assert_string_equal(loud, "BREACH: 2 cell(s) ran guest code in SMM or exposed SMRAM: "
			    "topology=t,smi=s, topology=t,smi=full,ops=attack\n"
			    "2 breach, 2 of 5 cells as expected, 3 fail (interrupted); report: "
			    "out/report.json\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_more_attempts),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_more_after_breach),
		cmocka_unit_test(test_fold_breach),
		cmocka_unit_test(test_progress_status),
		cmocka_unit_test(test_summary_breaches_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
