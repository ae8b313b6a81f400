/* SPDX-License-Identifier: MIT */
#ifndef HPCI_MATRIX_H
#define HPCI_MATRIX_H

#include "cell.h"

/*
 * Matrix files (JSON, documented in matrix/README.md): named axes whose values
 * combine into cells, include/exclude rules, ordered expectation rules.
 * Loading validates everything before any VM starts; every mistake is one
 * error naming the file, the JSON path and the fix, e.g.
 *   matrix/smoke.json: $.axes.topology.small.cores: expected a positive integer, got "2"
 */

struct hpci_matrix {
	char *path;        /* as given */
	char *name;        /* $.name */
	char *sha256;      /* of the file's bytes */
	GPtrArray *cells;  /* struct hpci_cell *, in expansion order */
	/* Every value of every axis (struct hpci_axis_value): the axes in the
	 * order of cell->axes, each axis's values in the order the file lists
	 * them, which is the order cells expand in ("default" for an axis the
	 * file leaves out).  Reports record it to sort cells by. */
	GArray *axis_values;
};

struct hpci_matrix_host {
	const char *accel;   /* "tcg" or "kvm": what expectation rules' "host" match */
};

/* Returns 0 or a negative errno (-EINVAL for matrix mistakes, -ENOENT/-EIO
 * for unreadable files) with the error recorded. */
int hpci_matrix_load(const char *path, const struct hpci_matrix_host *host,
		     struct hpci_matrix **ret);
/* Same, from a string; `path` is used in messages only. */
int hpci_matrix_parse(const char *path, const char *json, const struct hpci_matrix_host *host,
		      struct hpci_matrix **ret);
void hpci_matrix_free(struct hpci_matrix *matrix);
typedef struct hpci_matrix hpci_matrix;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_matrix, hpci_matrix_free)

#endif
