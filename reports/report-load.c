/* SPDX-License-Identifier: MIT */
/* Reading report.json files back, for the `report` verbs. */
#include "report-load.h"
#include "report-json.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

const char *const hpci_report_axis_names[HPCI_REPORT_AXES] = {
	"topology", "smi", "firmware", "qemu", "count", "ops",
};

/* ---- reading reports ---------------------------------------------------- */

static bool only_whitespace(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isspace(text[i]))
			return false;
	}
	return true;
}

static int parse_json(const char *path, const char *text, gsize len, json_object **ret)
{
	g_autoptr(json_tokener) tok = NULL;
	g_autoptr(json_object) root = NULL;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT_MAX)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is too large for a report (%"
				       G_GSIZE_FORMAT " bytes)", path, len);
	tok = json_tokener_new();
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root || jerr != json_tokener_success || !only_whitespace(text + end, len - end))
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not JSON: %s at byte %zu",
				       path,
				       jerr == json_tokener_success    ? "trailing data"
				       : jerr == json_tokener_continue ? "unexpected end of the file"
								       : json_tokener_error_desc(jerr),
				       end);
	*ret = g_steal_pointer(&root);
	return 0;
}

static int check_cells(const char *path, json_object *cells)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		const char *id = hpci_json_get_string(cell, "id");
		gpointer first;

		if (!json_object_is_type(cell, json_type_object) || !id)
			return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not a hotplug-ci "
					       "report: $.cells[%zu] is not a cell with an \"id\"",
					       path, i);
		/* Every verb finds a cell by its id: one id, one cell. */
		if (g_hash_table_lookup_extended(seen, id, NULL, &first))
			return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not a hotplug-ci "
					       "report: $.cells[%zu] has the id of $.cells[%u], '%s'",
					       path, i, GPOINTER_TO_UINT(first), id);
		g_hash_table_insert(seen, (gpointer)id, GUINT_TO_POINTER((guint)i));
	}
	return 0;
}

static int check_report(const char *path, json_object *root)
{
	json_object *schema = NULL, *cells = NULL;

	if (!json_object_is_type(root, json_type_object))
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not a hotplug-ci report: "
				       "expected a JSON object with \"schema\": 1 and \"cells\"",
				       path);
	if (!json_object_object_get_ex(root, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_int) || json_object_get_int64(schema) != 1)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not a hotplug-ci report: "
				       "$.schema is not 1 (this hotplug-ci reads report.json schema 1)",
				       path);
	if (!json_object_object_get_ex(root, "cells", &cells) ||
	    !json_object_is_type(cells, json_type_array))
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' is not a hotplug-ci report: "
				       "no \"cells\" array", path);
	return check_cells(path, cells);
}

int hpci_report_load(const char *path, json_object **ret)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	int rc;

	/* A report is read like every JSON input: a regular file, capped. */
	if ((rc = hpci_json_read_bytes(path, HPCI_JSON_MAX_BYTES, &text, &len)) < 0)
		return rc;
	return hpci_report_load_buffer(path, text, len, ret);
}

int hpci_report_load_buffer(const char *path, const char *text, size_t len, json_object **ret)
{
	g_autoptr(json_object) root = NULL;
	int rc;

	if ((rc = parse_json(path, text, len, &root)) < 0 ||
	    (rc = check_report(path, root)) < 0)
		return rc;
	*ret = g_steal_pointer(&root);
	return 0;
}

json_object *hpci_report_cells(json_object *report)
{
	json_object *cells = NULL;

	json_object_object_get_ex(report, "cells", &cells);
	return cells;
}

/* The value at path ("a.b" looks into nested objects), NULL when absent. */
static json_object *value_at(json_object *o, const char *path)
{
	g_auto(GStrv) keys = g_strsplit(path, ".", -1);

	for (char **k = keys; *k; k++) {
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, *k, &o))
			return NULL;
	}
	return o;
}

gint64 hpci_report_ms(json_object *o, const char *path)
{
	json_object *value = value_at(o, path);
	gint64 n = json_object_is_type(value, json_type_int) ? json_object_get_int64(value) : -1;

	/* Callers add, subtract and scale these freely (charts, diff, merge). */
	return n >= 0 && n <= HPCI_REPORT_MS_MAX ? n : -1;
}

json_object *hpci_report_array(json_object *o, const char *path)
{
	json_object *value = value_at(o, path);

	return json_object_is_type(value, json_type_array) ? value : NULL;
}

const char *hpci_report_verdict_name(json_object *cell)
{
	const char *verdict = hpci_json_get_string(cell, "verdict");

	return verdict ? verdict : hpci_verdict_name(HPCI_VERDICT_NOT_RUN);
}

enum hpci_verdict hpci_report_verdict(json_object *cell)
{
	return hpci_verdict_parse(hpci_report_verdict_name(cell));
}

bool hpci_report_verdict_is(json_object *cell, enum hpci_verdict verdict)
{
	return hpci_report_verdict(cell) == verdict;
}

bool hpci_report_breach(json_object *cell)
{
	return g_strcmp0(hpci_json_get_string(cell, "outcome"),
			 hpci_outcome_name(HPCI_OUTCOME_BREACH)) == 0 &&
	       !hpci_report_verdict_is(cell, HPCI_VERDICT_PASS);
}

void hpci_report_count_verdicts(json_object *cells, struct hpci_verdict_counts *counts)
{
	*counts = (struct hpci_verdict_counts){ 0 };
	for (size_t i = 0; i < json_object_array_length(cells); i++)
		hpci_verdict_counts_add(counts,
					hpci_report_verdict(json_object_array_get_idx(cells, i)));
}

json_object *hpci_report_summary(json_object *cells)
{
	struct hpci_verdict_counts counts;

	hpci_report_count_verdicts(cells, &counts);
	return hpci_report_summary_json(&counts);
}

json_object *hpci_report_attempts(json_object *cell)
{
	return hpci_report_array(cell, "attempts");
}

/* Whether k is a known issue object with this outcome. */
static bool known_issue_is(json_object *k, const char *outcome)
{
	return g_strcmp0(hpci_json_get_string(k, "outcome"), outcome) == 0;
}

const char *hpci_report_known_issue(json_object *cell, const char *outcome)
{
	json_object *issues = hpci_report_array(cell, "expected.known_issues");
	json_object *single = value_at(cell, "expected.known_issue");

	if (!outcome)
		return NULL;
	for (size_t i = 0; issues && i < json_object_array_length(issues); i++) {
		json_object *k = json_object_array_get_idx(issues, i);

		if (known_issue_is(k, outcome))
			return hpci_json_get_string(k, "note");
	}
	return known_issue_is(single, outcome) ? hpci_json_get_string(single, "note") : NULL;
}

const char *hpci_report_axis(json_object *cell, unsigned axis)
{
	json_object *axes = NULL, *value = NULL;

	if (axis >= HPCI_REPORT_AXES || !json_object_object_get_ex(cell, "axes", &axes) ||
	    !json_object_object_get_ex(axes, hpci_report_axis_names[axis], &value) || !value)
		return "";
	return json_object_get_string(value);
}

/* The non-empty components of an absolute path. */
static GPtrArray *path_components(const char *path)
{
	g_autofree char *abs = g_canonicalize_filename(path, NULL);
	g_auto(GStrv) parts = g_strsplit(abs, "/", -1);
	GPtrArray *components = g_ptr_array_new_with_free_func(g_free);

	for (char **p = parts; *p; p++) {
		if (**p)
			g_ptr_array_add(components, g_strdup(*p));
	}
	return components;
}

char *hpci_report_relative_path(const char *path, const char *base_dir)
{
	g_autoptr(GPtrArray) to = path_components(path);
	g_autoptr(GPtrArray) from = path_components(base_dir);
	GString *rel = g_string_new(NULL);
	guint common = 0;

	while (common < to->len && common < from->len &&
	       strcmp(to->pdata[common], from->pdata[common]) == 0)
		common++;
	for (guint i = common; i < from->len; i++)
		g_string_append(rel, rel->len ? "/.." : "..");
	for (guint i = common; i < to->len; i++)
		g_string_append_printf(rel, "%s%s", rel->len ? "/" : "", (char *)to->pdata[i]);
	if (!rel->len)
		g_string_append(rel, ".");
	return g_string_free(rel, FALSE);
}

/* ---- matrix order ------------------------------------------------------- */

static void rank_add(GHashTable *rank, const char *value)
{
	if (!g_hash_table_contains(rank, value))
		g_hash_table_insert(rank, g_strdup(value),
				    GUINT_TO_POINTER(g_hash_table_size(rank) + 1));
}

static int axis_index(const char *name)
{
	for (unsigned a = 0; name && a < HPCI_REPORT_AXES; a++) {
		if (strcmp(hpci_report_axis_names[a], name) == 0)
			return (int)a;
	}
	return -1;
}

/* The order the report records in "axes"; false when it records none. */
static bool rank_recorded(struct hpci_axis_order *order, json_object *report)
{
	json_object *axes = hpci_report_array(report, "axes");

	for (size_t i = 0; axes && i < json_object_array_length(axes); i++) {
		json_object *axis = json_object_array_get_idx(axes, i);
		json_object *values = hpci_report_array(axis, "values");
		int a = axis_index(hpci_json_get_string(axis, "name"));

		for (size_t v = 0; a >= 0 && values && v < json_object_array_length(values); v++) {
			json_object *value = json_object_array_get_idx(values, v);

			if (value)
				rank_add(order->rank[a], json_object_get_string(value));
		}
	}
	return axes != NULL;
}

/* Values the record does not rank, all of them in a report from before
 * "axes": in the order the reports' cells first show them. */
static void rank_first_seen(struct hpci_axis_order *order, json_object *const *reports,
			    guint n_reports)
{
	for (guint r = 0; r < n_reports; r++) {
		json_object *cells = hpci_report_cells(reports[r]);

		for (size_t i = 0; i < json_object_array_length(cells); i++) {
			for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
				rank_add(order->rank[a],
					 hpci_report_axis(json_object_array_get_idx(cells, i), a));
		}
	}
}

void hpci_axis_order_init(struct hpci_axis_order *order, json_object *const *reports,
			  guint n_reports)
{
	bool recorded = false;

	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		order->rank[a] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint r = 0; r < n_reports && !recorded; r++)
		recorded = rank_recorded(order, reports[r]);
	if (!recorded && n_reports > 0)
		hpci_warn("%s \"axes\" (written before report.json recorded the order of the "
			  "matrix's axis values): cells go in the order they first appear",
			  n_reports == 1 ? "the report has no" : "none of the reports has");
	rank_first_seen(order, reports, n_reports);
}

void hpci_axis_order_release(struct hpci_axis_order *order)
{
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		g_clear_pointer(&order->rank[a], g_hash_table_destroy);
}

int hpci_axis_order_compare(const struct hpci_axis_order *order, json_object *a,
			    json_object *b, unsigned first, unsigned last)
{
	for (unsigned axis = first; axis < last && axis < HPCI_REPORT_AXES; axis++) {
		const char *va = hpci_report_axis(a, axis), *vb = hpci_report_axis(b, axis);
		guint ra = GPOINTER_TO_UINT(g_hash_table_lookup(order->rank[axis], va));
		guint rb = GPOINTER_TO_UINT(g_hash_table_lookup(order->rank[axis], vb));

		/* A value the order does not know goes last, by name. */
		if (ra != rb)
			return !ra ? 1 : !rb ? -1 : ra < rb ? -1 : 1;
		if (!ra && strcmp(va, vb) != 0)
			return strcmp(va, vb);
	}
	return 0;
}
