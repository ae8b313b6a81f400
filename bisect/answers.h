/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_ANSWERS_H
#define HPCI_BISECT_ANSWERS_H

#include "policy.h"

#include <json-c/json.h>

/*
 * What one `hotplug-ci run --repeat N` of a commit's cells says, as N runs
 * of the commit: run k holds when every cell's k-th answered attempt held
 * its verdict (pass, or its known issue), fails when any cell's k-th
 * answered attempt failed (a product outcome not as expected: fail, or the
 * fail attempts of a flaky cell), and says nothing when a cell has no k-th
 * answer (only infrastructure errors).  Adds the N runs to *tally; returns
 * -EINVAL with an error naming `path` when the report has no cells.
 */
int hpci_bisect_answers_add(const char *path, json_object *report, unsigned runs,
			    struct hpci_bisect_tally *tally);

#endif
