/* SPDX-License-Identifier: MIT */
#include "answers.h"
#include "error.h"
#include "report-load.h"

#include <errno.h>
#include <string.h>

enum answer { ANSWER_NONE, ANSWER_HOLDS, ANSWER_FAILS };

static enum answer attempt_answer(json_object *attempt)
{
	enum hpci_verdict v = hpci_report_verdict(attempt);

	if (v == HPCI_VERDICT_PASS || v == HPCI_VERDICT_KNOWN_ISSUE)
		return ANSWER_HOLDS;
	if (v == HPCI_VERDICT_FAIL || v == HPCI_VERDICT_FLAKY)
		return ANSWER_FAILS;
	return ANSWER_NONE;
}

/* The cell's k-th answered attempt, in run order. */
static enum answer kth_answer(json_object *cell, unsigned k)
{
	json_object *attempts = hpci_report_attempts(cell);
	unsigned seen = 0;

	if (!attempts)   /* a report from before attempts: the cell is one */
		return k == 0 ? attempt_answer(cell) : ANSWER_NONE;
	for (size_t i = 0; i < json_object_array_length(attempts); i++) {
		enum answer a = attempt_answer(json_object_array_get_idx(attempts, i));

		if (a != ANSWER_NONE && seen++ == k)
			return a;
	}
	return ANSWER_NONE;
}

int hpci_bisect_answers_add(const char *path, json_object *report, unsigned runs,
			    struct hpci_bisect_tally *tally)
{
	json_object *cells = hpci_report_cells(report);
	size_t n = cells ? json_object_array_length(cells) : 0;

	if (n == 0)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s: the run has no cells", path);
	for (unsigned k = 0; k < runs; k++) {
		bool all_hold = true, any_fails = false;

		for (size_t i = 0; i < n; i++) {
			enum answer a = kth_answer(json_object_array_get_idx(cells, i), k);

			any_fails |= a == ANSWER_FAILS;
			all_hold &= a == ANSWER_HOLDS;
		}
		if (any_fails)
			tally->fails++;
		else if (all_hold)
			tally->holds++;
		else
			tally->silent++;
	}
	return 0;
}
