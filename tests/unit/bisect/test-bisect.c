/* SPDX-License-Identifier: MIT */
/*
 * The bisect decisions (bisect/policy.c, bisect/search.c) on simulated
 * histories (sim-history.c): 1 to 200 commits, linear and with merges,
 * unbuildable commits anywhere, a deterministic oracle and one whose
 * failing commits hold 20% of their runs.
 */
#include "sim-history.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#define FLAKY_BISECTS 1000
#define FLAKE 0.2

struct outcome {
	enum hpci_bisect_result result;
	unsigned found;
	unsigned steps, runs, builds, widenings;
	double confidence;
	const char *why;
};

static struct outcome bisect(struct sim_history *h, const struct hpci_bisect_policy *p)
{
	g_auto(hpci_bisect_search) s = { 0 };
	struct hpci_bisect_history ops;
	struct hpci_bisect_oracle oracle;
	g_autofree char *old = sim_history_name(0);
	g_autofree char *new = sim_history_name(h->n - 1);
	struct outcome out = { 0 };

	sim_history_ops(h, &ops, &oracle);
	hpci_bisect_search_init(&s, p, old, new, !h->inverted, false);
	assert_int_equal(hpci_bisect_search_run(&s, &ops, &oracle), 0);
	out.result = s.result;
	if (s.result == HPCI_BISECT_FOUND)
		out.found = sim_history_index(s.first_new);
	out.steps = s.steps;
	out.runs = h->oracle_runs;
	out.builds = h->builds;
	out.widenings = s.widenings;
	out.confidence = s.confidence;
	out.why = s.why ? g_intern_string(s.why) : NULL;
	return out;
}

static void test_policy(void **state)
{
	struct hpci_bisect_policy p;
	struct hpci_bisect_tally t = { 0 };
	unsigned more;

	hpci_bisect_policy_init(&p);
	assert_int_equal(hpci_bisect_holds_needed(&p, 0.0), 1);
	assert_int_equal(hpci_bisect_holds_needed(&p, 0.2), 3);   /* 0.2^3 = 0.008 */
	assert_int_equal(hpci_bisect_holds_needed(&p, 0.5), 7);   /* 0.5^7 < 0.01 */
	assert_int_equal(hpci_bisect_holds_needed(&p, 0.9), p.repeat_max);

	/* nothing yet: one run */
	assert_int_equal(hpci_bisect_judge(&p, &t, 1, false, &more), HPCI_BISECT_UNDECIDED);
	assert_int_equal(more, 1);
	t.holds = 1;
	assert_int_equal(hpci_bisect_judge(&p, &t, 1, false, &more), HPCI_BISECT_HOLDS);
	/* an endpoint expected to fail is believed to hold only after check_max */
	assert_int_equal(hpci_bisect_judge(&p, &t, 1, true, &more), HPCI_BISECT_UNDECIDED);
	assert_int_equal(more, p.check_max - 1);
	/* one failure is conclusive ... */
	t = (struct hpci_bisect_tally){ .fails = 1 };
	assert_int_equal(hpci_bisect_judge(&p, &t, 3, false, &more), HPCI_BISECT_FAILS);
	/* ... but runs that disagree want more, and never make a holds call */
	t = (struct hpci_bisect_tally){ .holds = 2, .fails = 1 };
	assert_int_equal(hpci_bisect_judge(&p, &t, 3, false, &more), HPCI_BISECT_UNDECIDED);
	assert_int_equal(more, 2);
	t.holds = 4;
	assert_int_equal(hpci_bisect_judge(&p, &t, 3, false, &more), HPCI_BISECT_FAILS);
	/* no answer, or no build: skip */
	t = (struct hpci_bisect_tally){ .silent = 1 };
	assert_int_equal(hpci_bisect_judge(&p, &t, 1, false, &more), HPCI_BISECT_UNTESTABLE);
	t = (struct hpci_bisect_tally){ .unbuildable = true };
	assert_int_equal(hpci_bisect_judge(&p, &t, 1, false, &more), HPCI_BISECT_UNTESTABLE);

	assert_true(fabs(hpci_bisect_false_hold(3, 0.2) - 0.008 / 1.008) < 1e-12);
	assert_true(hpci_bisect_false_hold(4, 0.0) == 0.0);
}

static unsigned ceil_log2(unsigned n)
{
	unsigned k = 0;

	while ((1u << k) < n)
		k++;
	return k;
}

/* Every history length, both shapes, the planted commit at up to 24 places,
 * unbuildable commits elsewhere: always the planted commit. */
static void test_deterministic(void **state)
{
	struct hpci_bisect_policy p;
	unsigned bisects = 0, max_over = 0;

	hpci_bisect_policy_init(&p);
	for (unsigned commits = 1; commits <= 200; commits++) {
		for (int merges = 0; merges <= 1; merges++) {
			unsigned tries = MIN(commits, 24);

			for (unsigned t = 0; t < tries; t++) {
				guint32 seed = commits * 1000 + t * 2 + merges;
				unsigned skips = (commits * (t % 3)) / 12;
				struct sim_history *h = sim_history_new(commits, merges, skips, 0.0,
									seed);
				unsigned planted = tries == commits ? t + 1
					: 1 + (unsigned)g_rand_int_range(h->rand, 0, (gint32)commits);
				struct outcome o;

				sim_history_plant(h, planted);
				o = bisect(h, &p);
				if (o.result != HPCI_BISECT_FOUND || o.found != planted)
					fail_msg("commits %u merges %d planted c%u skips %u: %s c%u",
						 commits, merges, planted, skips,
						 hpci_bisect_result_name(o.result), o.found);
				assert_int_equal(o.widenings, 0);
				/* Without skips on a line: git's ceil(log2 n) steps at most,
				 * each one build, plus the two endpoints. */
				if (!merges && skips == 0) {
					unsigned bound = ceil_log2(commits) + 2;

					if (o.builds > bound)
						fail_msg("commits %u planted c%u: %u builds > %u", commits,
							 planted, o.builds, bound);
				}
				if (o.builds > ceil_log2(commits) + 2 + skips)
					max_over++;
				bisects++;
				sim_history_free(h);
			}
		}
	}
	print_message("deterministic: %u bisects, all right; %u needed more builds than "
		      "ceil(log2 n) + 2 + skipped commits\n", bisects, max_over);
}

struct flaky_figures {
	unsigned right, found_wrong, ambiguous, other;
	double steps, runs, builds, widenings, confidence;
};

static struct flaky_figures flaky_bisects(const struct hpci_bisect_policy *p, guint32 seed)
{
	g_autoptr(GRand) r = g_rand_new_with_seed(seed);
	struct flaky_figures f = { 0 };

	for (unsigned i = 0; i < FLAKY_BISECTS; i++) {
		unsigned commits = 1 + (unsigned)g_rand_int_range(r, 0, 200);
		bool merges = g_rand_boolean(r);
		unsigned skips = (unsigned)g_rand_int_range(r, 0, 1 + (gint32)commits / 10);
		struct sim_history *h = sim_history_new(commits, merges, skips, FLAKE,
							g_rand_int(r));
		unsigned planted = 1 + (unsigned)g_rand_int_range(r, 0, (gint32)commits);
		struct outcome o;

		sim_history_plant(h, planted);
		o = bisect(h, p);
		if (o.result == HPCI_BISECT_FOUND && o.found == planted)
			f.right++;
		else if (o.result == HPCI_BISECT_FOUND)
			f.found_wrong++;
		else if (o.result == HPCI_BISECT_AMBIGUOUS) {
			f.ambiguous++;
			if (g_getenv("SIM_VERBOSE"))
				print_message("ambiguous: %u commits, planted c%u, skips %u: %s\n",
					      commits, planted, skips, o.why);
		}
		else
			f.other++;
		f.steps += o.steps;
		f.runs += o.runs;
		f.builds += o.builds;
		f.widenings += o.widenings;
		f.confidence += o.confidence;
		sim_history_free(h);
	}
	f.steps /= FLAKY_BISECTS;
	f.runs /= FLAKY_BISECTS;
	f.builds /= FLAKY_BISECTS;
	f.widenings /= FLAKY_BISECTS;
	f.confidence /= FLAKY_BISECTS;
	return f;
}

static void print_figures(const char *what, const struct flaky_figures *f)
{
	print_message("%s: right %u of %u (wrong %u, ambiguous %u, other %u); mean per "
		      "bisect: %.1f steps, %.1f runs, %.1f builds, %.2f widenings, "
		      "confidence %.4f\n", what, f->right, FLAKY_BISECTS, f->found_wrong,
		      f->ambiguous, f->other, f->steps, f->runs, f->builds, f->widenings,
		      f->confidence);
}

/* The cells' history says they flake (2 holds in 10 runs of failing
 * commits): the default policy repeats holds calls from the first step. */
static void test_flaky_with_history(void **state)
{
	struct hpci_bisect_policy p;
	struct flaky_figures f;

	hpci_bisect_policy_init(&p);
	p.prior_holds = 2;
	p.prior_runs = 10;
	f = flaky_bisects(&p, 20261204);
	print_figures("20% flaky, history known", &f);
	assert_true(f.right >= FLAKY_BISECTS * 99 / 100);
	assert_int_equal(f.found_wrong, 0);
}

/* No history: the search learns the flake as it goes (runs that disagree),
 * and the verification catches the holds calls it made too early. */
static void test_flaky_without_history(void **state)
{
	struct hpci_bisect_policy p;
	struct flaky_figures f;

	hpci_bisect_policy_init(&p);
	f = flaky_bisects(&p, 4122026);
	print_figures("20% flaky, no history", &f);
	assert_true(f.right >= FLAKY_BISECTS * 99 / 100);
}

/* The planted commit's parent cannot be built: git cannot tell them apart. */
static void test_only_skipped_left(void **state)
{
	struct hpci_bisect_policy p;
	struct sim_history *h = sim_history_new(30, false, 0, 0.0, 7);
	g_auto(hpci_bisect_search) s = { 0 };
	struct hpci_bisect_history ops;
	struct hpci_bisect_oracle oracle;
	bool has_planted = false, has_parent = false;

	hpci_bisect_policy_init(&p);
	sim_history_plant(h, 17);
	h->unbuildable[16] = true;
	sim_history_ops(h, &ops, &oracle);
	hpci_bisect_search_init(&s, &p, "c0", "c30", true, false);
	assert_int_equal(hpci_bisect_search_run(&s, &ops, &oracle), 0);
	assert_int_equal(s.result, HPCI_BISECT_AMBIGUOUS);
	for (guint i = 0; i < s.candidates->len; i++) {
		has_planted |= strcmp(s.candidates->pdata[i], "c17") == 0;
		has_parent |= strcmp(s.candidates->pdata[i], "c16") == 0;
	}
	assert_true(has_planted && has_parent);
	assert_int_equal(s.candidates->len, 2);
	sim_history_free(h);
}

static void test_bad_endpoints(void **state)
{
	struct hpci_bisect_policy p;
	struct sim_history *h = sim_history_new(20, false, 0, 0.0, 9);
	struct outcome o;

	hpci_bisect_policy_init(&p);
	sim_history_plant(h, 0);     /* the old endpoint fails too */
	o = bisect(h, &p);
	assert_int_equal(o.result, HPCI_BISECT_BAD_ENDPOINTS);
	assert_int_equal(o.runs, p.verify);  /* the endpoint check's runs */
	sim_history_free(h);

	h = sim_history_new(20, false, 0, 1.0, 9);   /* failing commits always hold */
	sim_history_plant(h, 5);
	o = bisect(h, &p);
	assert_int_equal(o.result, HPCI_BISECT_BAD_ENDPOINTS);
	assert_int_equal(o.runs, p.verify + p.check_max);
	sim_history_free(h);
}

/* --term-old broken --term-new fixed: the old endpoint fails, the planted
 * commit is the first that holds. */
static void expect_old_mark_first(void *self, const struct hpci_bisect_search *s,
				  const char *commit)
{
	const struct hpci_bisect_commit *c = g_hash_table_lookup(s->commits, commit);

	/* What progress prints for the old endpoint is its old term. */
	if (strcmp(commit, s->old_commit) == 0)
		assert_int_equal(hpci_bisect_search_mark_of(s, c->class), HPCI_BISECT_MARK_OLD);
}

static void test_learned_terms(void **state)
{
	struct hpci_bisect_policy p;
	struct sim_history *h = sim_history_new(23, false, 0, 0.0, 11);
	g_auto(hpci_bisect_search) s = { 0 };
	struct hpci_bisect_history ops;
	struct hpci_bisect_oracle oracle;

	hpci_bisect_policy_init(&p);
	sim_history_plant(h, 1);
	h->inverted = true;
	sim_history_ops(h, &ops, &oracle);
	oracle.called = expect_old_mark_first;
	hpci_bisect_search_init(&s, &p, "c0", "c23", true, true);
	assert_int_equal(hpci_bisect_search_run(&s, &ops, &oracle), 0);
	assert_false(s.old_holds);
	assert_int_equal(s.result, HPCI_BISECT_FOUND);
	assert_string_equal(s.first_new, "c1");
	sim_history_free(h);
}

static int never_run(void *self, const char *commit, unsigned runs,
		     enum hpci_bisect_purpose why, struct hpci_bisect_tally *tally)
{
	fail_msg("a resumed search ran %s again", commit);
	return -1;
}

/* A search given the tallies of a finished one makes the same marks and the
 * same answer without one run. */
static void test_resume_replays(void **state)
{
	struct hpci_bisect_policy p;
	struct sim_history *h = sim_history_new(120, true, 6, FLAKE, 99);
	g_auto(hpci_bisect_search) first = { 0 };
	g_auto(hpci_bisect_search) again = { 0 };
	struct hpci_bisect_history ops;
	struct hpci_bisect_oracle oracle, silent = { never_run, NULL, NULL };
	GHashTableIter it;
	gpointer value;

	hpci_bisect_policy_init(&p);
	sim_history_plant(h, 61);
	sim_history_ops(h, &ops, &oracle);
	hpci_bisect_search_init(&first, &p, "c0", "c120", true, false);
	assert_int_equal(hpci_bisect_search_run(&first, &ops, &oracle), 0);
	assert_int_equal(first.result, HPCI_BISECT_FOUND);

	hpci_bisect_search_init(&again, &p, "c0", "c120", true, false);
	g_hash_table_iter_init(&it, first.commits);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct hpci_bisect_commit *c = value;
		struct hpci_bisect_commit *d = hpci_bisect_search_commit(&again, c->commit);

		d->tally = c->tally;
		d->verify_tally = c->verify_tally;
	}
	assert_int_equal(hpci_bisect_search_run(&again, &ops, &silent), 0);
	assert_int_equal(again.result, HPCI_BISECT_FOUND);
	assert_string_equal(again.first_new, first.first_new);
	assert_int_equal(again.marks->len, first.marks->len);
	assert_int_equal(again.steps, first.steps);
	assert_true(again.confidence == first.confidence);
	sim_history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_flaky_with_history),
		cmocka_unit_test(test_flaky_without_history),
		cmocka_unit_test(test_only_skipped_left),
		cmocka_unit_test(test_bad_endpoints),
		cmocka_unit_test(test_learned_terms),
		cmocka_unit_test(test_resume_replays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
