/* SPDX-License-Identifier: MIT */
#include "report-merge.h"
#include "error.h"
#include "manifest.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct shard {
	const char *path;       /* as given */
	json_object *report;
	char *dir;              /* absolute: cell dirs are relative to it */
};

/* The cell the merged report takes for an id, and the shard it came from. */
struct picked {
	json_object *cell;
	const struct shard *from;
};

static int load_shard(struct shard *s, const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int rc;

	s->path = path;
	if ((rc = hpci_report_load(path, &s->report)) < 0)
		return rc;
	s->dir = g_canonicalize_filename(dir, NULL);
	return 0;
}

static int check_same_matrix(const struct shard *first, const struct shard *s)
{
	const char *a = hpci_json_get_string(first->report, "matrix.sha256");
	const char *b = hpci_json_get_string(s->report, "matrix.sha256");

	if (a && b && strcmp(a, b) == 0)
		return 0;
	return hpci_error(EINVAL, "'%s' and '%s' are reports of different matrices "
			  "(matrix.sha256 %s and %s); merge joins shards of one matrix",
			  first->path, s->path, a ? a : "missing", b ? b : "missing");
}

static bool cell_ran(json_object *cell)
{
	return strcmp(hpci_report_verdict(cell), "not-run") != 0;
}

/* Each id once: a cell that ran beats one that did not; two that ran are
 * two answers to one question, which merge cannot choose between. */
static int pick_cells(const struct shard *s, GPtrArray *picked, GHashTable *by_id)
{
	json_object *cells = hpci_report_cells(s->report);

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		const char *id = hpci_json_get_string(cell, "id");
		struct picked *seen = g_hash_table_lookup(by_id, id);

		if (!seen) {
			seen = g_new(struct picked, 1);
			*seen = (struct picked){ cell, s };
			g_ptr_array_add(picked, seen);
			g_hash_table_insert(by_id, (gpointer)id, seen);
		} else if (cell_ran(seen->cell) && cell_ran(cell)) {
			return hpci_error(EINVAL, "cell '%s' ran in both '%s' and '%s'; shards to "
					  "merge must not run the same cell", id, seen->from->path,
					  s->path);
		} else if (cell_ran(cell)) {
			*seen = (struct picked){ cell, s };
		}
	}
	return 0;
}

static gint compare_picked(gconstpointer a, gconstpointer b, gpointer order)
{
	const struct picked *pa = *(const struct picked *const *)a;
	const struct picked *pb = *(const struct picked *const *)b;

	return hpci_axis_order_compare(order, pa->cell, pb->cell, 0, HPCI_REPORT_AXES);
}

static void sort_matrix_order(const struct shard *shards, guint n, GPtrArray *picked)
{
	g_autofree json_object **reports = g_new(json_object *, n);
	struct hpci_axis_order order;

	for (guint i = 0; i < n; i++)
		reports[i] = shards[i].report;
	hpci_axis_order_init(&order, reports, n);
	g_ptr_array_sort_with_data(picked, compare_picked, &order);
	hpci_axis_order_release(&order);
}

static json_object *copy_of(json_object *o)
{
	json_object *copy = NULL;

	if (o && json_object_deep_copy(o, &copy, NULL) < 0)
		g_error("out of memory copying JSON");
	return copy;
}

static void copy_key(json_object *to, json_object *from, const char *key)
{
	json_object *value = NULL;

	if (json_object_object_get_ex(from, key, &value))
		json_object_object_add(to, key, copy_of(value));
}

/* The earliest parseable started_at, kept as written. */
static json_object *earliest_start(const struct shard *shards, guint n)
{
	g_autoptr(GDateTime) best = NULL;
	const char *best_text = hpci_json_get_string(shards[0].report, "started_at");

	for (guint i = 0; i < n; i++) {
		const char *text = hpci_json_get_string(shards[i].report, "started_at");
		GDateTime *t = text ? g_date_time_new_from_iso8601(text, NULL) : NULL;

		if (t && (!best || g_date_time_compare(t, best) < 0)) {
			g_clear_pointer(&best, g_date_time_unref);
			best = g_steal_pointer(&t);
			best_text = text;
		}
		g_clear_pointer(&t, g_date_time_unref);
	}
	return best_text ? json_object_new_string(best_text) : NULL;
}

static void add_run_fields(json_object *root, const struct shard *shards, guint n)
{
	gint64 duration = 0;
	bool interrupted = false;
	json_object *merged_from = json_object_new_array();

	for (guint i = 0; i < n; i++) {
		json_object *flag = NULL;

		duration = MAX(duration, hpci_report_ms(shards[i].report, "duration_ms"));
		if (json_object_object_get_ex(shards[i].report, "interrupted", &flag))
			interrupted |= json_object_get_boolean(flag);
		json_object_array_add(merged_from, json_object_new_string(shards[i].path));
	}
	json_object_object_add(root, "started_at", earliest_start(shards, n));
	json_object_object_add(root, "duration_ms", json_object_new_int64(duration));
	json_object_object_add(root, "interrupted", json_object_new_boolean(interrupted));
	json_object_object_add(root, "merged_from", merged_from);
}

static json_object *merged_identities(const struct shard *shards, guint n)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	json_object *merged = json_object_new_array();

	for (guint i = 0; i < n; i++) {
		json_object *ids = NULL;

		if (!json_object_object_get_ex(shards[i].report, "identities", &ids) ||
		    !json_object_is_type(ids, json_type_array))
			continue;
		for (size_t j = 0; j < json_object_array_length(ids); j++) {
			json_object *id = json_object_array_get_idx(ids, j);
			const char *role = hpci_json_get_string(id, "role");
			const char *path = hpci_json_get_string(id, "path");
			char *key = g_strdup_printf("%s\n%s", role ? role : "", path ? path : "");

			if (g_hash_table_add(seen, key))
				json_object_array_add(merged, copy_of(id));
		}
	}
	return merged;
}

/* A cell's dir is relative to its report; the merged report sits elsewhere. */
static json_object *rebased_cell(const struct picked *p, const char *out_dir)
{
	json_object *cell = copy_of(p->cell);
	const char *dir = hpci_json_get_string(cell, "dir");
	g_autofree char *abs = NULL, *rel = NULL;

	if (!dir || g_path_is_absolute(dir))
		return cell;
	abs = g_build_filename(p->from->dir, dir, NULL);
	rel = hpci_report_relative_path(abs, out_dir);
	json_object_object_add(cell, "dir", json_object_new_string(rel));
	return cell;
}

static json_object *summary_of(GPtrArray *picked)
{
	static const char *const verdicts[] = { "pass", "fail", "not-run", "known-issue" };
	static const char *const keys[] = { "pass", "fail", "not_run", "known_issue" };
	int counts[G_N_ELEMENTS(verdicts)] = { 0 };
	json_object *summary = json_object_new_object();

	for (guint i = 0; i < picked->len; i++) {
		const struct picked *p = picked->pdata[i];

		for (size_t v = 0; v < G_N_ELEMENTS(verdicts); v++)
			counts[v] += strcmp(hpci_report_verdict(p->cell), verdicts[v]) == 0;
	}
	json_object_object_add(summary, "cells", json_object_new_int((int)picked->len));
	for (size_t v = 0; v < G_N_ELEMENTS(keys); v++)
		json_object_object_add(summary, keys[v], json_object_new_int(counts[v]));
	return summary;
}

static json_object *merged_report(const struct shard *shards, guint n, GPtrArray *picked,
				  const char *out_dir)
{
	json_object *first = shards[0].report;
	json_object *root = json_object_new_object();
	json_object *cells = json_object_new_array();
	struct json_object_iterator it, end;

	copy_key(root, first, "schema");
	copy_key(root, first, "tool");
	copy_key(root, first, "tool_version");
	add_run_fields(root, shards, n);
	copy_key(root, first, "host");
	copy_key(root, first, "matrix");
	json_object_object_add(root, "identities", merged_identities(shards, n));
	json_object_object_add(root, "summary", summary_of(picked));
	for (guint i = 0; i < picked->len; i++)
		json_object_array_add(cells, rebased_cell(picked->pdata[i], out_dir));
	json_object_object_add(root, "cells", cells);
	/* Keys a newer writer added: keep the first shard's. */
	it = json_object_iter_begin(first);
	end = json_object_iter_end(first);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		if (!json_object_object_get_ex(root, json_object_iter_peek_name(&it), NULL))
			copy_key(root, first, json_object_iter_peek_name(&it));
	}
	return root;
}

int hpci_report_merge(const char *out_path, const char *const *inputs, guint n_inputs,
		      json_object **ret)
{
	g_autofree struct shard *shards = g_new0(struct shard, MAX(n_inputs, 1));
	g_autoptr(GPtrArray) picked = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *out_dir = g_path_get_dirname(out_path);
	int rc = 0;

	if (n_inputs == 0)
		return hpci_error(EINVAL, "merge needs at least one report to read");
	for (guint i = 0; i < n_inputs && rc == 0; i++) {
		if ((rc = load_shard(&shards[i], inputs[i])) == 0 && i > 0)
			rc = check_same_matrix(&shards[0], &shards[i]);
	}
	for (guint i = 0; i < n_inputs && rc == 0; i++)
		rc = pick_cells(&shards[i], picked, by_id);
	if (rc == 0) {
		sort_matrix_order(shards, n_inputs, picked);
		*ret = merged_report(shards, n_inputs, picked, out_dir);
	}
	for (guint i = 0; i < n_inputs; i++) {
		json_object_put(shards[i].report);
		g_free(shards[i].dir);
	}
	return rc;
}
