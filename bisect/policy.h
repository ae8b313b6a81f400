/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_POLICY_H
#define HPCI_BISECT_POLICY_H

#include <glib.h>
#include <stdbool.h>

/*
 * When one commit's runs are enough to call it, and how sure the answer is.
 *
 * A run of a commit runs every selected cell once: it *holds* when every cell
 * holds its verdict, *fails* when a cell fails with a product outcome, and
 * gives no answer when only infrastructure errors remain.  The flake model
 * (docs/bisect.md): a commit that holds never fails with a product outcome,
 * so one failure is conclusive; a commit that fails may still hold on some
 * runs (an intermittent regression, or an SMM race that the commit made
 * likely).  So only a "holds" call needs repeats, attempts that disagree make
 * the commit a failing one after a few more runs (never a holding one), and
 * the rate at which failing commits hold, learned as the bisect goes, sets
 * how many holds a call needs.
 */

/* What a commit's runs said so far. */
struct hpci_bisect_tally {
	unsigned holds;
	unsigned fails;
	unsigned silent;      /* runs with no answer (infrastructure errors only) */
	bool unbuildable;     /* its build failed: nothing to run */
};

/* The class of a commit: what its runs show, before terms are applied. */
enum hpci_bisect_class {
	HPCI_BISECT_UNDECIDED,
	HPCI_BISECT_HOLDS,
	HPCI_BISECT_FAILS,
	HPCI_BISECT_UNTESTABLE,   /* git's skip */
};

struct hpci_bisect_policy {
	unsigned repeat;          /* holds needed for a holds call when nothing flaked */
	unsigned repeat_max;      /* and at most, however flaky */
	unsigned disagree_extra;  /* more runs once a commit's runs disagree */
	unsigned verify;          /* runs of the first failing commit and of its parents */
	unsigned check_max;       /* runs an endpoint expected to fail gets before it is
				   * believed to hold */
	unsigned silent_max;      /* runs without an answer before a skip */
	double step_error;        /* accepted chance of one wrong holds call */
	/* The cells' history: runs of failing commits that held, and all runs
	 * of failing commits, as a prior for the hold rate of a failing commit. */
	unsigned prior_holds;
	unsigned prior_runs;
};

/* The defaults: 1 run per call while nothing flaked, 3 to verify. */
void hpci_bisect_policy_init(struct hpci_bisect_policy *p);

/* How often a failing commit holds a run: the runs of the commits classed
 * FAILS so far (`fails_holds` of `fails_runs`) with the policy's prior. */
double hpci_bisect_hold_rate(const struct hpci_bisect_policy *p, unsigned fails_holds,
			     unsigned fails_runs);

/* Holds needed before a commit is called HOLDS, when failing commits hold a
 * run with probability hold_rate: the fewest runs whose all-holds happens to
 * a failing commit with at most step_error, within [repeat, repeat_max]. */
unsigned hpci_bisect_holds_needed(const struct hpci_bisect_policy *p, double hold_rate);

/*
 * Calls the commit from its tally, or says how many more runs it needs
 * (*more_runs, when the result is UNDECIDED).  expect_fail: the commit is an
 * endpoint or a verification expected to fail, so a run of holds is believed
 * only after check_max runs.
 */
enum hpci_bisect_class hpci_bisect_judge(const struct hpci_bisect_policy *p,
					 const struct hpci_bisect_tally *t, unsigned holds_needed,
					 bool expect_fail, unsigned *more_runs);

/* The chance that a commit that held `holds` runs and never failed is in fact
 * a failing one, with failing commits holding at hold_rate and even odds
 * before the runs. */
double hpci_bisect_false_hold(unsigned holds, double hold_rate);

const char *hpci_bisect_class_name(enum hpci_bisect_class c);

#endif
