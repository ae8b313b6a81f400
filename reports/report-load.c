/* SPDX-License-Identifier: MIT */
/* Reading report.json files back, for the `report` verbs. */
#include "report-load.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

const char *const hpci_report_axis_names[HPCI_REPORT_AXES] = {
	"topology", "smi", "firmware", "qemu", "count", "ops",
};

const struct hpci_verdict_info hpci_report_verdicts[HPCI_REPORT_VERDICTS] = {
	{ "pass", "pass", "pass" },
	{ "fail", "fail", "fail" },
	{ "flaky", "flaky", "flaky" },
	{ "known-issue", "known_issue", "known issue" },
	{ "infra-error", "infra_error", "infra error" },
	{ "not-run", "not_run", "not run" },
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
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT_MAX)
		return hpci_error(EINVAL, "'%s' is too large for a report (%" G_GSIZE_FORMAT
				  " bytes)", path, len);
	tok = json_tokener_new();
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success || !only_whitespace(text + end, len - end)) {
		json_object_put(root);
		return hpci_error(EINVAL, "'%s' is not JSON: %s at byte %zu", path,
				  jerr == json_tokener_success	  ? "trailing data"
				  : jerr == json_tokener_continue ? "unexpected end of the file"
								  : json_tokener_error_desc(jerr),
				  end);
	}
	*ret = root;
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
			return hpci_error(EINVAL, "'%s' is not a hotplug-ci report: $.cells[%zu] "
					  "is not a cell with an \"id\"", path, i);
		/* Every verb finds a cell by its id: one id, one cell. */
		if (g_hash_table_lookup_extended(seen, id, NULL, &first))
			return hpci_error(EINVAL, "'%s' is not a hotplug-ci report: $.cells[%zu] "
					  "has the id of $.cells[%u], '%s'", path, i,
					  GPOINTER_TO_UINT(first), id);
		g_hash_table_insert(seen, (gpointer)id, GUINT_TO_POINTER((guint)i));
	}
	return 0;
}

static int check_report(const char *path, json_object *root)
{
	json_object *schema = NULL, *cells = NULL;

	if (!json_object_is_type(root, json_type_object))
		return hpci_error(EINVAL, "'%s' is not a hotplug-ci report: expected a JSON "
				  "object with \"schema\": 1 and \"cells\"", path);
	if (!json_object_object_get_ex(root, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_int) || json_object_get_int64(schema) != 1)
		return hpci_error(EINVAL, "'%s' is not a hotplug-ci report: $.schema is not 1 "
				  "(this hotplug-ci reads report.json schema 1)", path);
	if (!json_object_object_get_ex(root, "cells", &cells) ||
	    !json_object_is_type(cells, json_type_array))
		return hpci_error(EINVAL, "'%s' is not a hotplug-ci report: no \"cells\" array",
				  path);
	return check_cells(path, cells);
}

int hpci_report_load(const char *path, json_object **ret)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	int rc;

	if ((rc = hpci_read_file(path, &text, &len)) < 0)
		return rc;
	return hpci_report_load_buffer(path, text, len, ret);
}

int hpci_report_load_buffer(const char *path, const char *text, size_t len, json_object **ret)
{
	json_object *root = NULL;
	int rc;

	if ((rc = parse_json(path, text, len, &root)) < 0)
		return rc;
	if ((rc = check_report(path, root)) < 0) {
		json_object_put(root);
		return rc;
	}
	*ret = root;
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

const char *hpci_report_verdict(json_object *cell)
{
	const char *verdict = hpci_json_get_string(cell, "verdict");

	return verdict ? verdict : "not-run";
}

bool hpci_report_verdict_is(json_object *cell, const char *verdict)
{
	return strcmp(hpci_report_verdict(cell), verdict) == 0;
}

void hpci_report_count_verdicts(json_object *cells, unsigned counts[HPCI_REPORT_VERDICTS])
{
	for (size_t v = 0; v < HPCI_REPORT_VERDICTS; v++)
		counts[v] = 0;
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		for (size_t v = 0; v < HPCI_REPORT_VERDICTS; v++)
			counts[v] += hpci_report_verdict_is(cell, hpci_report_verdicts[v].name);
	}
}

json_object *hpci_report_summary(json_object *cells)
{
	unsigned counts[HPCI_REPORT_VERDICTS];
	json_object *summary = json_object_new_object();

	hpci_report_count_verdicts(cells, counts);
	json_object_object_add(summary, "cells",
			       json_object_new_int64((gint64)json_object_array_length(cells)));
	for (size_t v = 0; v < HPCI_REPORT_VERDICTS; v++)
		json_object_object_add(summary, hpci_report_verdicts[v].summary_key,
				       json_object_new_int64(counts[v]));
	return summary;
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

char *hpci_report_xml_text(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	GString *clean = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* XML 1.0 allows tab, newline and carriage return below 0x20, and
		 * neither of the two non-characters at the top of the BMP. */
		if ((c < 0x20 && c != '\t' && c != '\n') || c == '\r' || c == 0xfffe || c == 0xffff)
			g_string_append_c(clean, '?');
		else
			g_string_append_unichar(clean, c);
	}
	return g_string_free(clean, FALSE);
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

/* The matrix file the report was run from, if it is still there unchanged. */
static json_object *load_same_matrix(json_object *report)
{
	const char *path = hpci_json_get_string(report, "matrix.path");
	const char *sha256 = hpci_json_get_string(report, "matrix.sha256");
	g_autofree char *text = NULL, *actual = NULL;
	gsize len = 0;

	if (!path || !sha256 || !g_file_get_contents(path, &text, &len, NULL))
		return NULL;
	actual = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
	return strcmp(actual, sha256) == 0 ? json_tokener_parse(text) : NULL;
}

/* One axis's values as the file lists them; an absent axis is "default". */
static void rank_matrix_axis(GHashTable *rank, json_object *values)
{
	if (!values) {
		rank_add(rank, "default");
	} else if (json_object_is_type(values, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(values); i++) {
			json_object *value = json_object_array_get_idx(values, i);

			rank_add(rank, json_object_get_string(value));
		}
	} else if (json_object_is_type(values, json_type_object)) {
		struct json_object_iterator it = json_object_iter_begin(values);
		struct json_object_iterator end = json_object_iter_end(values);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			rank_add(rank, json_object_iter_peek_name(&it));
	}
}

static bool order_from_matrix(struct hpci_axis_order *order, json_object *report)
{
	json_object *matrix = load_same_matrix(report);
	json_object *axes = NULL;

	if (!matrix || !json_object_object_get_ex(matrix, "axes", &axes) ||
	    !json_object_is_type(axes, json_type_object)) {
		json_object_put(matrix);
		return false;
	}
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++) {
		json_object *values = NULL;

		json_object_object_get_ex(axes, hpci_report_axis_names[a], &values);
		rank_matrix_axis(order->rank[a], values);
	}
	json_object_put(matrix);
	return true;
}

/* What the reports say about one axis: its values as first seen, and
 * "before comes ahead of after" pairs from neighbouring cells. */
struct axis_graph {
	GPtrArray *values;      /* borrowed from the reports */
	GHashTable *index;      /* value -> index + 1 */
	GArray *edges;          /* guint pairs: before, after */
};

static guint graph_value(struct axis_graph *g, const char *value)
{
	gpointer found = g_hash_table_lookup(g->index, value);

	if (found)
		return GPOINTER_TO_UINT(found) - 1;
	g_ptr_array_add(g->values, (gpointer)value);
	g_hash_table_insert(g->index, (gpointer)value, GUINT_TO_POINTER(g->values->len));
	return g->values->len - 1;
}

/* Two neighbours in a report differ first on one axis; there, the earlier
 * cell's value comes first in the matrix (lexicographic expansion). */
static void graph_neighbours(struct axis_graph *graphs, json_object *prev, json_object *cell)
{
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++) {
		guint pair[2] = { graph_value(&graphs[a], hpci_report_axis(prev, a)),
				  graph_value(&graphs[a], hpci_report_axis(cell, a)) };

		if (pair[0] != pair[1]) {
			g_array_append_vals(graphs[a].edges, pair, 2);
			return;
		}
	}
}

static void graph_report(struct axis_graph *graphs, json_object *report)
{
	json_object *cells = hpci_report_cells(report);
	json_object *prev = NULL;

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
			graph_value(&graphs[a], hpci_report_axis(cell, a));
		if (prev)
			graph_neighbours(graphs, prev, cell);
		prev = cell;
	}
}

/* Kahn's topological sort; among values free to go, the first seen goes
 * first, and so does it when contradicting inputs leave a cycle. */
static void rank_by_precedence(GHashTable *rank, const struct axis_graph *g)
{
	guint n = g->values->len;
	const guint *edges = (const guint *)(const void *)g->edges->data;
	guint n_edges = g->edges->len / 2;
	g_autofree guint *indegree = g_new0(guint, n);
	g_autofree gboolean *placed = g_new0(gboolean, n);

	for (guint e = 0; e < n_edges; e++)
		indegree[edges[2 * e + 1]]++;
	for (guint round = 0; round < n; round++) {
		guint pick = n;

		for (guint i = 0; i < n && pick == n; i++) {
			if (!placed[i] && indegree[i] == 0)
				pick = i;
		}
		for (guint i = 0; i < n && pick == n; i++) {
			if (!placed[i])
				pick = i;
		}
		placed[pick] = TRUE;
		rank_add(rank, g->values->pdata[pick]);
		for (guint e = 0; e < n_edges; e++) {
			if (edges[2 * e] == pick && indegree[edges[2 * e + 1]] > 0)
				indegree[edges[2 * e + 1]]--;
		}
	}
}

static void order_from_reports(struct hpci_axis_order *order, json_object *const *reports,
			       guint n_reports)
{
	struct axis_graph graphs[HPCI_REPORT_AXES];

	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++) {
		graphs[a].values = g_ptr_array_new();
		graphs[a].index = g_hash_table_new(g_str_hash, g_str_equal);
		graphs[a].edges = g_array_new(FALSE, FALSE, sizeof(guint));
	}
	for (guint r = 0; r < n_reports; r++)
		graph_report(graphs, reports[r]);
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++) {
		rank_by_precedence(order->rank[a], &graphs[a]);
		g_ptr_array_free(graphs[a].values, TRUE);
		g_hash_table_destroy(graphs[a].index);
		g_array_free(graphs[a].edges, TRUE);
	}
}

void hpci_axis_order_init(struct hpci_axis_order *order, json_object *const *reports,
			  guint n_reports)
{
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		order->rank[a] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (n_reports > 0 && order_from_matrix(order, reports[0]))
		return;
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		g_hash_table_remove_all(order->rank[a]);
	order_from_reports(order, reports, n_reports);
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
