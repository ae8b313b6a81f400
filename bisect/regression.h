/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_REGRESSION_H
#define HPCI_BISECT_REGRESSION_H

#include <glib.h>
#include <json-c/json.h>

/*
 * What a nightly asks `bisect --reports OLD NEW`: the cells that regressed
 * between two runs (`report diff`'s regressions) and the revisions that
 * moved under them, read from the reports' identities (the `source` of a
 * build: kind, location, revision).  Pure: no git, no files.
 */

/* One component whose build moved between the runs. */
struct hpci_bisect_moved {
	char *component;   /* "edk2" or "qemu" */
	char *repository;  /* the new run's git checkout */
	char *old_commit;
	char *new_commit;
};

struct hpci_bisect_regression {
	GPtrArray *cells;     /* char *: the regressed cells bisected, new report's order */
	GPtrArray *filters;   /* char *: one exact `--filter` per cell */
	GPtrArray *sets;      /* char *: the new run's `--set` options (run.sets) */
	char *matrix;         /* the new run's matrix.path */
	char *matrix_sha256;  /* and its sha256 */
	/* moved[0] is bisected; moved[1], when n_moved is 2, too (co-bisection). */
	struct hpci_bisect_moved moved[2];
	unsigned n_moved;
	/* With n_moved 0: why there is nothing to bisect, one sentence. */
	char *why;
	/* Regressed cells left out (another repository or range), with why;
	 * one line each. */
	GPtrArray *left_out;
};

void hpci_bisect_regression_clear(struct hpci_bisect_regression *r);
typedef struct hpci_bisect_regression hpci_bisect_regression;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_bisect_regression, hpci_bisect_regression_clear)

/*
 * Works out what to bisect between the reports (new_path names the new one in
 * messages: only its run fields are required).
 * Returns 0 with n_moved > 0 (bisect), or 0 with n_moved 0 and `why` (no
 * regression; nothing moved; a moved source that is not a git checkout);
 * -EINVAL with an error naming the file when a report lacks what this needs.
 */
int hpci_bisect_regression_find(json_object *old_report, const char *new_path,
				json_object *new_report, struct hpci_bisect_regression *ret);

#endif
