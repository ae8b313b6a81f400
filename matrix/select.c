/* SPDX-License-Identifier: MIT */
#include "select.h"
#include "error.h"
#include "strlist.h"

#include <errno.h>
#include <fnmatch.h>
#include <string.h>

struct term {
	char *axis;
	bool negated;
	GStrv patterns;
};

static void term_clear(gpointer p)
{
	struct term *t = p;

	g_free(t->axis);
	g_strfreev(t->patterns);
}

static const char *const axis_names[] = {
	"topology", "smi", "firmware", "qemu", "count", "ops",
};

static bool axis_known(const char *axis)
{
	for (size_t i = 0; i < G_N_ELEMENTS(axis_names); i++) {
		if (!strcmp(axis, axis_names[i]))
			return true;
	}
	return false;
}

static bool matches_any(const char *value, GStrv patterns)
{
	for (char **p = patterns; *p; p++) {
		if (fnmatch(*p, value, 0) == 0)
			return true;
	}
	return false;
}

/* The value names the matrix's cells use on one axis, in first-seen order. */
static GPtrArray *axis_values(const struct hpci_matrix *matrix, const char *axis)
{
	GPtrArray *values = g_ptr_array_new();

	for (guint i = 0; i < matrix->cells->len; i++) {
		const char *v = hpci_cell_axis(g_ptr_array_index(matrix->cells, i), axis);
		guint at;

		if (v && !g_ptr_array_find_with_equal_func(values, v, g_str_equal, &at))
			g_ptr_array_add(values, (gpointer)v);
	}
	return values;
}

static int parse_term(const struct hpci_matrix *matrix, const char *what, const char *filter,
		      const char *text, struct term *ret)
{
	const char *eq = strchr(text, '=');
	g_autoptr(GPtrArray) values = NULL;
	g_autofree char *known = NULL;
	size_t axis_len;

	if (!eq || eq == text || (eq == text + 1 && text[0] == '!') || !eq[1])
		return hpci_error(EINVAL, "%s '%s': term '%s' is not AXIS=VALUE or AXIS!=VALUE "
				  "(e.g. 'qemu=patched,ops!=burst')", what, filter, text);
	ret->negated = eq[-1] == '!';
	axis_len = (size_t)(eq - text) - ret->negated;
	ret->axis = g_strndup(text, axis_len);
	ret->patterns = g_strsplit(eq + 1, "|", -1);
	if (!axis_known(ret->axis))
		return hpci_error(EINVAL, "%s '%s': unknown axis '%s'; the axes are topology, smi, "
				  "firmware, qemu, count and ops", what, filter, ret->axis);
	values = axis_values(matrix, ret->axis);
	known = values->len ? hpci_strings_join(values, ", ") : g_strdup("none");
	for (char **p = ret->patterns; *p; p++) {
		bool used = false;

		for (guint v = 0; v < values->len && !used; v++)
			used = fnmatch(*p, g_ptr_array_index(values, v), 0) == 0;
		if (!used)
			return hpci_error(EINVAL, "%s '%s': no %s value of '%s' matches '%s'; its "
					  "values are: %s", what, filter, ret->axis, matrix->path,
					  **p ? *p : "(empty)", known);
	}
	return 0;
}

/* One filter: the terms that must all hold. */
static int parse_filter(const struct hpci_matrix *matrix, const char *what, const char *filter,
			GArray **ret)
{
	g_autoptr(GArray) terms = g_array_new(FALSE, TRUE, sizeof(struct term));
	g_auto(GStrv) parts = g_strsplit(filter, ",", -1);
	int rc;

	g_array_set_clear_func(terms, term_clear);
	if (!parts[0])
		return hpci_error(EINVAL, "%s is empty; give AXIS=VALUE terms separated by commas "
				  "(e.g. 'qemu=patched,count=1')", what);
	for (char **p = parts; *p; p++) {
		struct term t = { 0 };

		g_array_set_size(terms, terms->len + 1);
		if ((rc = parse_term(matrix, what, filter, g_strstrip(*p), &t)) < 0) {
			term_clear(&t);
			g_array_set_size(terms, terms->len - 1);
			return rc;
		}
		g_array_index(terms, struct term, terms->len - 1) = t;
	}
	*ret = g_steal_pointer(&terms);
	return 0;
}

static bool filter_selects(GArray *terms, const struct hpci_cell *cell)
{
	for (guint i = 0; i < terms->len; i++) {
		const struct term *t = &g_array_index(terms, struct term, i);
		const char *value = hpci_cell_axis(cell, t->axis);

		if (!value || matches_any(value, t->patterns) == t->negated)
			return false;
	}
	return true;
}

int hpci_matrix_filter(struct hpci_matrix *matrix, const char *const *filters, guint n,
		       const char *what)
{
	g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	int rc;

	if (n == 0)
		return 0;
	for (guint f = 0; f < n; f++) {
		GArray *terms = NULL;

		if ((rc = parse_filter(matrix, what, filters[f], &terms)) < 0)
			return rc;
		g_ptr_array_add(parsed, terms);
	}
	for (guint i = matrix->cells->len; i-- > 0;) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		bool keep = false;

		for (guint f = 0; f < parsed->len && !keep; f++)
			keep = filter_selects(g_ptr_array_index(parsed, f), cell);
		if (!keep)
			g_ptr_array_remove_index(matrix->cells, i);
	}
	if (matrix->cells->len == 0)
		return hpci_error(EINVAL, "%s selects no cell of '%s' (each filter's terms must all "
				  "hold; 'hotplug-ci list --matrix %s' shows the cells)", what,
				  matrix->path, matrix->path);
	return 0;
}

int hpci_shard_parse(const char *text, const char *what, unsigned *ret_k, unsigned *ret_n)
{
	guint64 k, n;
	char *end;

	if (!text || !g_ascii_isdigit(*text))
		goto bad;
	k = g_ascii_strtoull(text, &end, 10);
	if (*end != '/' || !g_ascii_isdigit(end[1]))
		goto bad;
	n = g_ascii_strtoull(end + 1, &end, 10);
	if (*end || n == 0 || n > 1024 || k == 0 || k > n)
		goto bad;
	*ret_k = (unsigned)k;
	*ret_n = (unsigned)n;
	return 0;
bad:
	return hpci_error(EINVAL, "%s '%s' is not K/N with 1 <= K <= N <= 1024 (e.g. 2/4 runs the "
			  "second of four shards)", what, text ? text : "");
}

int hpci_matrix_shard(struct hpci_matrix *matrix, unsigned k, unsigned n)
{
	guint total = matrix->cells->len;

	for (guint i = total; i-- > 0;) {
		if (i % n != k - 1)
			g_ptr_array_remove_index(matrix->cells, i);
	}
	if (matrix->cells->len == 0)
		return hpci_error(EINVAL, "shard %u/%u of '%s' is empty: the selection has only %u "
				  "cell(s); use fewer shards", k, n, matrix->path, total);
	return 0;
}
