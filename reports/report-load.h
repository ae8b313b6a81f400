/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_LOAD_H
#define HPCI_REPORT_LOAD_H

#include "result.h"

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

/*
 * Reading report.json files back (reports/README.md), for the `report` verbs:
 * merge, junit, html and diff all start from hpci_report_load() and share
 * the helpers below, the matrix order of cells among them.
 */

/* The six axes, in the order cell ids name them (matrix/README.md). */
#define HPCI_REPORT_AXES 6
extern const char *const hpci_report_axis_names[HPCI_REPORT_AXES];

/*
 * Reads and checks a report: a JSON object with "schema": 1 and a "cells"
 * array of objects with an "id".  Anything else is one error naming the file:
 * -ENOENT or -EIO when it cannot be read, -EINVAL otherwise.
 */
int hpci_report_load(const char *path, json_object **ret);
/* Same, from the len bytes at text (a NUL among them is an error); `path`
 * is used in messages only. */
int hpci_report_load_buffer(const char *path, const char *text, size_t len, json_object **ret);

/* The cells array of a loaded report. */
json_object *hpci_report_cells(json_object *report);

/* The integer at path ("a.b" looks into nested objects), -1 when absent or
 * null, and when negative or above HPCI_REPORT_MS_MAX (no time, count or
 * number in a report is: a damaged file must not overflow arithmetic). */
#define HPCI_REPORT_MS_MAX (G_GINT64_CONSTANT(1) << 40)   /* ms: 34 years */
gint64 hpci_report_ms(json_object *o, const char *path);

/* The array at path ("a.b" as above), or NULL when absent or not an array. */
json_object *hpci_report_array(json_object *o, const char *path);

/* The cell's verdict: HPCI_VERDICT_NOT_RUN for a cell without one,
 * HPCI_VERDICT__COUNT for a word this reader does not know. */
enum hpci_verdict hpci_report_verdict(json_object *cell);

/* The cell's verdict as the report spells it ("not-run" without one), for
 * showing: an unknown word is shown as it is. */
const char *hpci_report_verdict_name(json_object *cell);

/* Whether the cell's verdict is verdict. */
bool hpci_report_verdict_is(json_object *cell, enum hpci_verdict verdict);

/* Whether the cell (or attempt) breached when it was not expected to: outcome
 * "breach" with any verdict but pass (hpci_cell_breached()). */
bool hpci_report_breach(json_object *cell);

/* How many cells have each verdict; a verdict this reader does not know
 * counts as a cell only. */
void hpci_report_count_verdicts(json_object *cells, struct hpci_verdict_counts *counts);

/* A report's "summary" for these cells: "cells" and one count per verdict. */
json_object *hpci_report_summary(json_object *cells);

/* The cell's attempts in run order, or NULL for a report from before
 * attempts were recorded (its cell is its only attempt). */
json_object *hpci_report_attempts(json_object *cell);

/*
 * The note of the cell's expected known issue with this outcome, or NULL:
 * from "expected.known_issues", or from the single "expected.known_issue"
 * of reports written before a rule could name several.
 */
const char *hpci_report_known_issue(json_object *cell, const char *outcome);

/* The cell's value on an axis ("" when absent). */
const char *hpci_report_axis(json_object *cell, unsigned axis);

/*
 * path relative to base_dir; both relative ones are taken from the current
 * directory.  Lexical (symlinks are not resolved), since the output directory
 * may not exist yet.
 */
char *hpci_report_relative_path(const char *path, const char *base_dir);

/*
 * Where each axis value comes in matrix order.  Matrices expand as the
 * cartesian product of the axes in id order, each axis's values in the
 * order the file lists them, so this rank is all a sort needs.
 */
struct hpci_axis_order {
	GHashTable *rank[HPCI_REPORT_AXES];   /* value (char *) -> rank + 1 */
};

/*
 * From the "axes" the first of the reports that has one records
 * (reports/README.md).  Reports written before "axes" have their values
 * ranked in the order their cells first show them, with a warning; that
 * is the matrix's order unless include/exclude rules hid a value's first
 * combinations.
 */
void hpci_axis_order_init(struct hpci_axis_order *order, json_object *const *reports,
			  guint n_reports);
void hpci_axis_order_release(struct hpci_axis_order *order);

/* Compares two cells on the axes [first, last), by rank. */
int hpci_axis_order_compare(const struct hpci_axis_order *order, json_object *a,
			    json_object *b, unsigned first, unsigned last);

#endif
