/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <math.h>

void hpci_bisect_policy_init(struct hpci_bisect_policy *p)
{
	*p = (struct hpci_bisect_policy){
		.repeat = 1,
		.repeat_max = 8,
		.disagree_extra = 2,
		.verify = 3,
		.check_max = 5,
		.silent_max = 1,    /* `run` already retried its infrastructure errors */
		.step_error = 0.01,
	};
}

double hpci_bisect_hold_rate(const struct hpci_bisect_policy *p, unsigned fails_holds,
			     unsigned fails_runs)
{
	unsigned runs = p->prior_runs + fails_runs;

	return runs ? (double)(p->prior_holds + fails_holds) / runs : 0.0;
}

unsigned hpci_bisect_holds_needed(const struct hpci_bisect_policy *p, double hold_rate)
{
	double n;

	if (hold_rate <= 0.0)
		return p->repeat;
	if (hold_rate >= 1.0)
		return p->repeat_max;
	/* rate^n <= step_error */
	n = ceil(log(p->step_error) / log(hold_rate));
	if (n < p->repeat)
		return p->repeat;
	return n > p->repeat_max ? p->repeat_max : (unsigned)n;
}

enum hpci_bisect_class hpci_bisect_judge(const struct hpci_bisect_policy *p,
					 const struct hpci_bisect_tally *t, unsigned holds_needed,
					 bool expect_fail, unsigned *more_runs)
{
	unsigned answered = t->holds + t->fails;
	unsigned need;

	*more_runs = 0;
	if (t->unbuildable)
		return HPCI_BISECT_UNTESTABLE;
	if (t->fails > 0 && t->holds == 0)
		return HPCI_BISECT_FAILS;   /* one failure is conclusive */
	if (t->fails > 0) {
		/* Runs that disagree: more of them measure how often this failing
		 * commit holds, which sets the holds every later call needs. */
		need = holds_needed + p->disagree_extra;
		if (answered >= need)
			return HPCI_BISECT_FAILS;
		*more_runs = need - answered;
		return HPCI_BISECT_UNDECIDED;
	}
	if (t->holds == 0 && t->silent >= p->silent_max)
		return HPCI_BISECT_UNTESTABLE;
	need = holds_needed;
	if (expect_fail && need < p->check_max)
		need = p->check_max;
	if (t->holds >= need)
		return HPCI_BISECT_HOLDS;
	*more_runs = need - t->holds;
	return HPCI_BISECT_UNDECIDED;
}

double hpci_bisect_false_hold(unsigned holds, double hold_rate)
{
	double l = pow(hold_rate, holds);

	return l / (l + 1.0);
}

const char *hpci_bisect_class_name(enum hpci_bisect_class c)
{
	switch (c) {
	case HPCI_BISECT_HOLDS:
		return "holds";
	case HPCI_BISECT_FAILS:
		return "fails";
	case HPCI_BISECT_UNTESTABLE:
		return "untestable";
	case HPCI_BISECT_UNDECIDED:
		break;
	}
	return "undecided";
}
