/* SPDX-License-Identifier: MIT */
#include "report-merge.h"
#include "error.h"
#include "manifest.h"
#include "select.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct shard {
	const char *path;       /* as given */
	json_object *report;
	char *dir;              /* absolute: cell dirs are relative to it */
	unsigned k, n;          /* run.shard K/N; 0 and 0 for a whole run */
};

/* The cell the merged report takes for an id, and the shard it came from. */
struct picked {
	json_object *cell;
	const struct shard *from;
};

static void shard_clear(gpointer data)
{
	struct shard *s = data;

	g_clear_pointer(&s->report, json_object_put);
	g_clear_pointer(&s->dir, g_free);
}

static int load_shard(struct shard *s, const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);
	const char *shard;
	int rc;

	s->path = path;
	if ((rc = hpci_report_load(path, &s->report)) < 0)
		return rc;
	s->dir = g_canonicalize_filename(dir, NULL);
	shard = hpci_json_get_string(s->report, "run.shard");
	if (shard && (rc = hpci_shard_parse(shard, "run.shard", &s->k, &s->n)) < 0)
		hpci_error_prefix("'%s'", path);
	return rc;
}

static int check_same_matrix(const struct shard *first, const struct shard *s)
{
	const char *a = hpci_json_get_string(first->report, "matrix.sha256");
	const char *b = hpci_json_get_string(s->report, "matrix.sha256");

	if (a && b && strcmp(a, b) == 0)
		return 0;
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' and '%s' are reports of different "
			       "matrices (matrix.sha256 %s and %s); merge joins shards of one "
			       "matrix", first->path, s->path, a ? a : "missing",
			       b ? b : "missing");
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* run.filters as a sorted set, or NULL when the report does not say (it
 * was written before runs recorded them). */
static GPtrArray *filter_set(json_object *filters)
{
	GPtrArray *set;

	if (!filters)
		return NULL;
	set = g_ptr_array_new();
	for (size_t i = 0; i < json_object_array_length(filters); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(filters, i));

		f = f ? f : "";
		if (!g_ptr_array_find_with_equal_func(set, f, g_str_equal, NULL))
			g_ptr_array_add(set, (gpointer)f);
	}
	g_ptr_array_sort(set, compare_strings);
	return set;
}

/* Shards split one selection, which the filters make: shards run with
 * different filters do not add up to it.  Filters are ORed, so their
 * order does not matter. */
static int check_same_filters(const struct shard *first, const struct shard *s)
{
	json_object *fa = hpci_report_array(first->report, "run.filters");
	json_object *fb = hpci_report_array(s->report, "run.filters");
	g_autoptr(GPtrArray) a = filter_set(fa);
	g_autoptr(GPtrArray) b = filter_set(fb);
	bool same;

	if (!a || !b)
		return 0;
	same = a->len == b->len;
	for (guint i = 0; same && i < a->len; i++)
		same = strcmp(a->pdata[i], b->pdata[i]) == 0;
	if (same)
		return 0;
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' and '%s' ran different filters "
			       "(run.filters %s and %s); merge joins shards of one selection",
			       first->path, s->path,
			       json_object_to_json_string_ext(fa, JSON_C_TO_STRING_NOSLASHESCAPE),
			       json_object_to_json_string_ext(fb, JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Shards of one selection ran one matrix: the file (matrix.sha256) changed
 * by the same --set options in the same order, since a later one wins.  A
 * report without run.sets (from before --set) changed nothing. */
static int check_same_sets(const struct shard *first, const struct shard *s)
{
	json_object *a = hpci_report_array(first->report, "run.sets");
	json_object *b = hpci_report_array(s->report, "run.sets");
	size_t na = a ? json_object_array_length(a) : 0;
	size_t nb = b ? json_object_array_length(b) : 0;
	bool same = na == nb;

	for (size_t i = 0; same && i < na; i++)
		same = json_object_equal(json_object_array_get_idx(a, i),
					 json_object_array_get_idx(b, i));
	if (same)
		return 0;
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' and '%s' ran the matrix with "
			       "different --set options (run.sets %s and %s); merge joins shards "
			       "of one selection", first->path, s->path,
			       a ? json_object_to_json_string_ext(a, JSON_C_TO_STRING_NOSLASHESCAPE)
				 : "[]",
			       b ? json_object_to_json_string_ext(b, JSON_C_TO_STRING_NOSLASHESCAPE)
				 : "[]");
}

/* Sharded inputs must be distinct shards K/N of one N; an input that ran
 * the whole selection (a rerun, a report from before shards) joins any. */
static int check_distinct_shard(const struct shard *shards, guint i)
{
	const struct shard *s = &shards[i];

	for (guint j = 0; j < i && s->n; j++) {
		const struct shard *t = &shards[j];

		if (!t->n)
			continue;
		if (t->n != s->n)
			return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' and '%s' are shards "
					       "of different splits (run.shard %u/%u and %u/%u); "
					       "merge joins shards K/N of one N", t->path, s->path,
					       t->k, t->n, s->k, s->n);
		if (t->k == s->k)
			return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "'%s' and '%s' are the "
					       "same shard (run.shard %u/%u); merge joins distinct "
					       "shards", t->path, s->path, s->k, s->n);
	}
	return 0;
}

/* Input i against the ones before it; filters against each, since older
 * inputs may not record theirs. */
static int check_shard(const struct shard *shards, guint i)
{
	int rc;

	if ((rc = check_same_matrix(&shards[0], &shards[i])) < 0 ||
	    (rc = check_same_sets(&shards[0], &shards[i])) < 0)
		return rc;
	for (guint j = 0; j < i; j++) {
		if ((rc = check_same_filters(&shards[j], &shards[i])) < 0)
			return rc;
	}
	return check_distinct_shard(shards, i);
}

static bool cell_ran(json_object *cell)
{
	return !hpci_report_verdict_is(cell, HPCI_VERDICT_NOT_RUN);
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
			return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "cell '%s' ran in both '%s' "
					       "and '%s'; shards to merge must not run the same cell",
					       id, seen->from->path, s->path);
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

/* Dirs in a cell are relative to its report; the merged report sits
 * elsewhere. */
static void rebase_dir(json_object *o, const char *from_dir, const char *out_dir)
{
	const char *dir = hpci_json_get_string(o, "dir");
	g_autofree char *abs = NULL, *rel = NULL;

	if (!dir || g_path_is_absolute(dir))
		return;
	abs = g_build_filename(from_dir, dir, NULL);
	rel = hpci_report_relative_path(abs, out_dir);
	json_object_object_add(o, "dir", json_object_new_string(rel));
}

static json_object *rebased_cell(const struct picked *p, const char *out_dir)
{
	json_object *cell = copy_of(p->cell);
	json_object *attempts = hpci_report_attempts(cell);

	rebase_dir(cell, p->from->dir, out_dir);
	for (size_t i = 0; attempts && i < json_object_array_length(attempts); i++)
		rebase_dir(json_object_array_get_idx(attempts, i), p->from->dir, out_dir);
	return cell;
}

static void add_unique(json_object *array, json_object *value)
{
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		if (json_object_equal(value, json_object_array_get_idx(array, i)))
			return;
	}
	json_object_array_add(array, copy_of(value));
}

static gint compare_shard_k(gconstpointer a, gconstpointer b)
{
	const struct shard *sa = *(const struct shard *const *)a;
	const struct shard *sb = *(const struct shard *const *)b;

	return sa->k < sb->k ? -1 : sa->k > sb->k;
}

/* The inputs' "run": the first one's settings, every input's connections,
 * and the shards it joins, in K order; none when no input has one. */
static json_object *merged_run(const struct shard *shards, guint n)
{
	g_autoptr(GPtrArray) sharded = g_ptr_array_new();
	json_object *run = NULL, *connections, *merged_shards;

	for (guint i = 0; i < n && !run; i++) {
		json_object *r = NULL;

		if (json_object_object_get_ex(shards[i].report, "run", &r) &&
		    json_object_is_type(r, json_type_object))
			run = copy_of(r);
	}
	if (!run)
		return NULL;
	connections = json_object_new_array();
	merged_shards = json_object_new_array();
	for (guint i = 0; i < n; i++) {
		json_object *c = hpci_report_array(shards[i].report, "run.connections");

		for (size_t j = 0; c && j < json_object_array_length(c); j++)
			add_unique(connections, json_object_array_get_idx(c, j));
		if (shards[i].n)
			g_ptr_array_add(sharded, (gpointer)&shards[i]);
	}
	g_ptr_array_sort(sharded, compare_shard_k);
	for (guint i = 0; i < sharded->len; i++) {
		const struct shard *s = sharded->pdata[i];
		g_autofree char *text = g_strdup_printf("%u/%u", s->k, s->n);

		json_object_array_add(merged_shards, json_object_new_string(text));
	}
	json_object_object_add(run, "connections", connections);
	json_object_object_add(run, "shard", NULL);
	json_object_object_add(run, "merged_shards", merged_shards);
	return run;
}

/* The first input that has key (the first input when none has). */
static json_object *first_with(const struct shard *shards, guint n, const char *key)
{
	for (guint i = 0; i < n; i++) {
		if (json_object_object_get_ex(shards[i].report, key, NULL))
			return shards[i].report;
	}
	return shards[0].report;
}

static json_object *merged_report(const struct shard *shards, guint n, GPtrArray *picked,
				  const char *out_dir)
{
	json_object *first = shards[0].report;
	json_object *root = json_object_new_object();
	json_object *cells = json_object_new_array();
	json_object *run = merged_run(shards, n);
	struct json_object_iterator it, end;

	for (guint i = 0; i < picked->len; i++)
		json_object_array_add(cells, rebased_cell(picked->pdata[i], out_dir));
	copy_key(root, first, "schema");
	copy_key(root, first, "tool");
	copy_key(root, first, "tool_version");
	add_run_fields(root, shards, n);
	if (run)
		json_object_object_add(root, "run", run);
	copy_key(root, first, "host");
	copy_key(root, first, "matrix");
	/* Inputs from before "axes" may come first; shards of one matrix
	 * record the same. */
	copy_key(root, first_with(shards, n, "axes"), "axes");
	json_object_object_add(root, "identities", merged_identities(shards, n));
	json_object_object_add(root, "summary", hpci_report_summary(cells));
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
	g_autoptr(GArray) owned = g_array_sized_new(FALSE, TRUE, sizeof(struct shard), n_inputs);
	struct shard *shards;
	g_autoptr(GPtrArray) picked = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *out_dir = g_path_get_dirname(out_path);
	int rc = 0;

	if (n_inputs == 0)
		return hpci_error(EINVAL, "merge needs at least one report to read");
	g_array_set_clear_func(owned, shard_clear);
	g_array_set_size(owned, n_inputs);
	shards = &g_array_index(owned, struct shard, 0);
	for (guint i = 0; i < n_inputs && rc == 0; i++) {
		if ((rc = load_shard(&shards[i], inputs[i])) == 0 && i > 0)
			rc = check_shard(shards, i);
	}
	for (guint i = 0; i < n_inputs && rc == 0; i++)
		rc = pick_cells(&shards[i], picked, by_id);
	if (rc == 0) {
		sort_matrix_order(shards, n_inputs, picked);
		*ret = merged_report(shards, n_inputs, picked, out_dir);
	}
	return rc;
}
