/* SPDX-License-Identifier: MIT */
#include "attempts.h"

struct tally {
	unsigned infra, pass, fail, known;
	int breach;       /* the first unexpected breach, or -1 */
};

static struct tally count(const GPtrArray *attempts)
{
	struct tally t = { .breach = -1 };

	for (guint i = 0; i < attempts->len; i++) {
		const struct hpci_cell_result *a = g_ptr_array_index(attempts, i);

		if (t.breach < 0 && hpci_cell_breached(a))
			t.breach = (int)i;
		switch (hpci_cell_verdict(a)) {
		case HPCI_VERDICT_INFRA_ERROR:
			t.infra++;
			break;
		case HPCI_VERDICT_PASS:
			t.pass++;
			break;
		case HPCI_VERDICT_KNOWN_ISSUE:
			t.known++;
			break;
		default:
			t.fail++;
			break;
		}
	}
	return t;
}

bool hpci_attempts_more(const struct hpci_retry_policy *policy, const GPtrArray *attempts)
{
	struct tally t = count(attempts);
	unsigned answers = t.pass + t.fail + t.known;

	/* A breach is decided: no attempt can undo it. */
	if (t.breach >= 0)
		return false;
	if (answers < policy->repeat)
		return t.infra <= policy->infra_retries;
	/* Enough answers: only a failure that has never been contradicted is
	 * tried again, to tell a solid failure from a flaky one. */
	return t.fail == answers && answers < policy->repeat + policy->retries;
}

static int first_with(GPtrArray *attempts, enum hpci_verdict verdict, bool last)
{
	int found = -1;

	for (guint i = 0; i < attempts->len; i++) {
		if (hpci_cell_verdict(g_ptr_array_index(attempts, i)) != verdict)
			continue;
		found = (int)i;
		if (!last)
			break;
	}
	return found;
}

struct hpci_cell_result *hpci_attempts_fold(GPtrArray *attempts)
{
	struct tally t = count(attempts);
	struct hpci_cell_result *decider;
	int at;

	if (attempts->len == 0)
		return NULL;
	if (t.breach >= 0)
		at = t.breach;
	else if (t.fail)
		at = first_with(attempts, HPCI_VERDICT_FAIL, false);
	else if (t.known)
		at = first_with(attempts, HPCI_VERDICT_KNOWN_ISSUE, false);
	else if (t.pass)
		at = first_with(attempts, HPCI_VERDICT_PASS, true);
	else
		at = (int)attempts->len - 1;
	decider = g_ptr_array_steal_index(attempts, (guint)at);
	decider->flaky = t.breach < 0 && t.fail && t.pass;
	while (attempts->len)
		g_ptr_array_add(decider->other_attempts, g_ptr_array_steal_index(attempts, 0));
	return decider;
}
