/* SPDX-License-Identifier: MIT */
#ifndef HPCI_MATRIX_PRIVATE_H
#define HPCI_MATRIX_PRIVATE_H

/*
 * Inside the matrix parser, shared by its files the way curl's lib/ shares
 * urldata.h: matrix.c loads a file (the --set overrides of set.c, then
 * defaults, then the parts below, then expansion), axes.c reads the axis
 * values (builds.c the firmware and qemu ones), rules.c the
 * include/exclude/expect rules, expand.c makes the cells.  Typed JSON
 * access is lib/json-reader.h; every mistake is one hpci_json_fail() naming
 * p->file and the JSON path, returned as -EINVAL.  Only matrix/ includes
 * this header.
 */
#include "matrix.h"
#include "firmware-build.h"
#include "json-reader.h"
#include "qemu-build.h"

enum axis_id {
	AXIS_TOPOLOGY,
	AXIS_SMI,
	AXIS_FIRMWARE,
	AXIS_QEMU,
	AXIS_COUNT,
	AXIS_OPS,
	AXIS__N
};

/* Canonical order: expansion, cell ids and cell->axes all follow it. */
extern const char *const matrix_axis_names[AXIS__N + 1];

/* One value of one axis; only the member of its axis is used. */
struct axis_value {
	char *name;
	char *path;       /* its JSON path, or the axis path when implicit */
	bool implicit;    /* the value an absent axis gets */
	struct hpci_topology topology;
	struct hpci_smi_mode smi;
	struct hpci_firmware firmware;
	struct hpci_qemu qemu;
	unsigned count;   /* 0 means "all" */
	GArray *steps;    /* struct hpci_step */
};

/* include/exclude/expect rule; allowed[a] NULL: any value of axis a. */
struct rule {
	char *path;
	bool *allowed[AXIS__N];
	char *accel;      /* expect only: "tcg"/"kvm", or NULL */
	enum hpci_outcome outcome;
	unsigned also;    /* expect only: the other outcomes of an "outcome" list */
	char *message;
	char *reason;
	struct hpci_firmware_expect firmware;   /* all HPCI_FACT_ANY when not given */
	GArray *known_issues;   /* struct hpci_known_issue, or NULL when not given */
};

struct matrix_parser {
	const char *file;   /* for messages: the path, "PATH (with --set)" after overrides */
	const char *path;   /* the matrix file; relative paths in it are relative to it */
	const struct hpci_matrix_host *host;
	char *image;
	struct hpci_timeouts timeouts;   /* as written, unscaled (matrix/cell.h) */
	GPtrArray *axes[AXIS__N];        /* struct axis_value * */
	GPtrArray *include;              /* struct rule *; NULL when absent */
	GPtrArray *exclude;
	GPtrArray *expect;
};


typedef struct matrix_parser matrix_parser;
typedef struct axis_value axis_value;
typedef struct rule rule;

/* matrix.c: the file's directory, and a path in the matrix relative to it. */
char *matrix_dir(const struct matrix_parser *p);
char *matrix_resolve_relative(const struct matrix_parser *p, const char *rel);
/* "a, b, c" */
char *matrix_join(const char *const *list);

/* set.c: applies the --set options (matrix.h) to the file's tree in order;
 * `applied` gets each as it applied ("PATH=STRING" or "PATH:=JSON", with
 * relative paths made absolute). */
int matrix_apply_sets(const struct matrix_parser *p, json_object *root, const char *const *sets,
		      guint n_sets, GPtrArray *applied);

/* axes.c */
int matrix_parse_axes(struct matrix_parser *p, json_object *axes);
void matrix_axis_value_free(struct axis_value *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(axis_value, matrix_axis_value_free)
int matrix_axis_lookup(const char *name);
/* The index of the value `name` in `values`, or -1. */
int matrix_find_value(const GPtrArray *values, const char *name);
/* For messages: where an smi switch's value came from when the matrix left it out. */
char *matrix_smi_origin(const char *machine, unsigned given, enum hpci_smi_switch bit);

/* builds.c: the firmware and qemu axes' values */
int matrix_parse_firmware(const struct matrix_parser *p, const char *path, json_object *spec,
			  struct axis_value *v);
int matrix_parse_qemu(const struct matrix_parser *p, const char *path, json_object *spec,
		      struct axis_value *v);

/* rules.c: $.include / $.exclude / $.expect (key) into *ret, NULL when absent */
int matrix_parse_rules(struct matrix_parser *p, json_object *root, const char *key,
		       GPtrArray **ret);
void matrix_rule_free(struct rule *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rule, matrix_rule_free)
/* A known issue in a system component cannot excuse a cell that builds it. */
int matrix_check_known_issue_components(const struct matrix_parser *p, const struct rule *r,
					const struct axis_value *const *v, const char *id);

/* expand.c: the selected cells, in canonical order */
int matrix_expand(const struct matrix_parser *p, GPtrArray *cells);

#endif
