/* SPDX-License-Identifier: MIT */
#ifndef HPCI_ATTEMPTS_H
#define HPCI_ATTEMPTS_H

#include "result.h"

/*
 * The flake policy: how many times a cell runs, and what its attempts add
 * up to.  A cell runs `repeat` attempts that give a product answer (pass,
 * fail or known issue).  An attempt that ends in an infrastructure error
 * gives no answer: it is run again, at most `infra_retries` times in all.
 * When every answer so far is a failure, the cell is run again, at most
 * `retries` times, until an answer differs.  Answers that differ make the
 * cell flaky, which is still a product failure: a retry never turns a
 * failure into a pass.  An unexpected breach (hpci_cell_breached()) decides
 * the cell on the spot: no further attempt runs, and the cell is that
 * breach, never flaky, whatever the other attempts did.
 */
struct hpci_retry_policy {
	unsigned repeat;          /* >= 1 */
	unsigned retries;
	unsigned infra_retries;
};

/* Whether a cell with these finished attempts (struct hpci_cell_result *)
 * needs one more. */
bool hpci_attempts_more(const struct hpci_retry_policy *policy, const GPtrArray *attempts);

/*
 * Folds the attempts into the cell's result and takes them over (the array
 * is left empty): the deciding attempt is the first unexpected breach when
 * there is one, else the first failing one when there is one (its evidence
 * is what a reader needs), else the first known issue, else the last pass,
 * else (only infrastructure errors) the last attempt; the others become its
 * other_attempts.  NULL for an empty array.
 */
struct hpci_cell_result *hpci_attempts_fold(GPtrArray *attempts);

#endif
