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
	/* The --set options applied, in order, as "PATH=STRING" or "PATH:=JSON"
	 * with relative paths made absolute: given to --set again, from any
	 * directory, they make the same changes.  Empty without overrides. */
	GPtrArray *sets;
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

/*
 * Overrides, the options `run` and `list` take as `--set` (matrix/README.md,
 * "Changing fields from the command line"):
 *   PATH=VALUE    sets the string VALUE, whatever it looks like
 *   PATH:=JSON    sets a JSON value (number, boolean, array, object, "string");
 *                 null removes the key
 * PATH is object keys from the top of the matrix joined by dots, e.g.
 * axes.firmware.smm-debug.build.rev.  They are applied in order (a later one
 * wins) to the file's JSON tree before anything in it is checked, so a value
 * set is checked as one in the file would be.  Every key of PATH but the
 * last must exist, and so must the last unless the schema checks its name
 * (a new axis value is refused).  A relative path set in a member that holds
 * one (code, vars, emulator, descriptor with a '/', a git source, patches,
 * evidence) is relative to the current directory, not to the matrix file.
 * A malformed option or a PATH the tree does not have is one HPCI_ERR_USAGE
 * error naming --set, the option and the file; what the usual checks find
 * afterwards names the file as "FILE (with --set)".  matrix->sha256 stays
 * the file's and matrix->sets records the options.
 */
int hpci_matrix_load_with(const char *path, const struct hpci_matrix_host *host,
			  const char *const *sets, guint n_sets, struct hpci_matrix **ret);
int hpci_matrix_parse_with(const char *path, const char *json,
			   const struct hpci_matrix_host *host, const char *const *sets,
			   guint n_sets, struct hpci_matrix **ret);

/* One option as given, parsed without looking at any matrix. */
struct hpci_matrix_set {
	char *path;    /* PATH: "axes.firmware.smm-debug.build.rev" */
	char *value;   /* the text after '=' or ':=' */
	bool json;     /* given as PATH:=JSON (and value is JSON) */
};

/* -EINVAL (HPCI_ERR_USAGE, "--set 'ARG': ...") without '=', with an empty
 * PATH or an empty key in it, or with := and a value that is not JSON. */
int hpci_matrix_set_parse(const char *arg, struct hpci_matrix_set *ret);
void hpci_matrix_set_clear(struct hpci_matrix_set *set);
typedef struct hpci_matrix_set hpci_matrix_set;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_matrix_set, hpci_matrix_set_clear)
void hpci_matrix_free(struct hpci_matrix *matrix);
typedef struct hpci_matrix hpci_matrix;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_matrix, hpci_matrix_free)

#endif
