/* SPDX-License-Identifier: MIT */
#include "record.h"
#include "error.h"
#include "json-reader.h"
#include "manifest.h"

#include <errno.h>
#include <string.h>

#define SCHEMA 1
#define MAX_RUNS_PER_CALL 100

void hpci_bisect_run_free(struct hpci_bisect_run *r)
{
	if (!r)
		return;
	g_free(r->commit);
	g_free(r->dir);
	g_free(r->build_error);
	g_free(r);
}

void hpci_bisect_settings_clear(struct hpci_bisect_settings *s)
{
	g_free(s->component);
	g_free(s->repository);
	g_free(s->term_old);
	g_free(s->term_new);
	g_free(s->old_rev);
	g_free(s->old_commit);
	g_free(s->new_rev);
	g_free(s->new_commit);
	g_free(s->matrix);
	if (s->filters)
		g_ptr_array_unref(s->filters);
	if (s->sets)
		g_ptr_array_unref(s->sets);
	if (s->cells)
		g_ptr_array_unref(s->cells);
	g_free(s->pinned_component);
	g_free(s->pinned_repository);
	g_free(s->pinned_commit);
	memset(s, 0, sizeof(*s));
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *tally_json(const struct hpci_bisect_tally *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "holds", json_object_new_int(t->holds));
	json_object_object_add(o, "fails", json_object_new_int(t->fails));
	json_object_object_add(o, "silent", json_object_new_int(t->silent));
	json_object_object_add(o, "unbuildable", json_object_new_boolean(t->unbuildable));
	return o;
}

static const char *mark_name(const struct hpci_bisect_search *s, enum hpci_bisect_mark m,
			     const struct hpci_bisect_settings *settings)
{
	switch (m) {
	case HPCI_BISECT_MARK_OLD:
		return settings->term_old;
	case HPCI_BISECT_MARK_NEW:
		return settings->term_new;
	case HPCI_BISECT_MARK_SKIP:
		break;
	}
	return "skip";
}

/* The commit, with what git says of it (when the caller gave it) and its calls. */
static json_object *commit_json(const struct hpci_bisect_search *search,
				const struct hpci_bisect_settings *settings,
				GHashTable *commit_info, const char *commit)
{
	const struct hpci_bisect_commit *c = g_hash_table_lookup(search->commits, commit);
	json_object *info = commit_info ? g_hash_table_lookup(commit_info, commit) : NULL;
	json_object *o = info ? json_object_get(info) : json_object_new_object();

	if (!json_object_object_get_ex(o, "commit", NULL))
		json_object_object_add(o, "commit", json_object_new_string(commit));
	if (!c)
		return o;
	json_object_object_add(o, "order", json_object_new_int(c->order));
	json_object_object_add(o, "purpose",
			       json_object_new_string(hpci_bisect_purpose_name(c->purpose)));
	json_object_object_add(o, "class", json_object_new_string(hpci_bisect_class_name(c->class)));
	json_object_object_add(o, "mark", c->order ? json_object_new_string(mark_name(
				       search, hpci_bisect_search_mark_of(search, c->class), settings))
						   : NULL);
	json_object_object_add(o, "runs", tally_json(&c->tally));
	json_object_object_add(o, "verify_runs", tally_json(&c->verify_tally));
	return o;
}

static gint by_order(gconstpointer a, gconstpointer b)
{
	const struct hpci_bisect_commit *x = *(const struct hpci_bisect_commit *const *)a;
	const struct hpci_bisect_commit *y = *(const struct hpci_bisect_commit *const *)b;

	return (x->order > y->order) - (x->order < y->order);
}

json_object *hpci_bisect_record_json(const struct hpci_bisect_settings *settings,
				     const struct hpci_bisect_search *search,
				     const GPtrArray *runs, GHashTable *commit_info,
				     const char *state, gint64 duration_ms, unsigned builds)
{
	json_object *root = json_object_new_object();
	json_object *terms = json_object_new_object();
	json_object *endpoint;
	json_object *arr;
	g_autoptr(GPtrArray) called = g_ptr_array_new();
	GHashTableIter it;
	gpointer value;
	unsigned cell_runs = 0;

	json_object_object_add(root, "schema", json_object_new_int(SCHEMA));
	json_object_object_add(root, "tool_version", json_object_new_string(HPCI_VERSION));
	json_object_object_add(root, "component", json_object_new_string(settings->component));
	json_object_object_add(root, "repository", json_object_new_string(settings->repository));
	json_object_object_add(terms, "old", json_object_new_string(settings->term_old));
	json_object_object_add(terms, "new", json_object_new_string(settings->term_new));
	json_object_object_add(root, "terms", terms);
	endpoint = json_object_new_object();
	json_object_object_add(endpoint, "rev", json_object_new_string(settings->old_rev));
	json_object_object_add(endpoint, "commit", json_object_new_string(settings->old_commit));
	json_object_object_add(root, "old", endpoint);
	endpoint = json_object_new_object();
	json_object_object_add(endpoint, "rev", json_object_new_string(settings->new_rev));
	json_object_object_add(endpoint, "commit", json_object_new_string(settings->new_commit));
	json_object_object_add(root, "new", endpoint);
	json_object_object_add(root, "commits_in_range", json_object_new_int(settings->commits));
	json_object_object_add(root, "matrix", json_object_new_string(settings->matrix));
	json_object_object_add(root, "filters", hpci_json_strings(settings->filters));
	if (settings->sets)
		json_object_object_add(root, "sets", hpci_json_strings(settings->sets));
	json_object_object_add(root, "cells", hpci_json_strings(settings->cells));
	json_object_object_add(root, "old_holds", json_object_new_boolean(search->old_holds));
	if (settings->pinned_component) {
		json_object *pinned = json_object_new_object();

		json_object_object_add(pinned, "component",
				       json_object_new_string(settings->pinned_component));
		json_object_object_add(pinned, "repository",
				       json_object_new_string(settings->pinned_repository));
		json_object_object_add(pinned, "commit",
				       json_object_new_string(settings->pinned_commit));
		json_object_object_add(root, "pinned", pinned);
	} else {
		json_object_object_add(root, "pinned", NULL);
	}

	json_object_object_add(root, "state", json_object_new_string(state));
	json_object_object_add(root, "result",
			       json_object_new_string(hpci_bisect_result_name(search->result)));
	json_object_object_add(root, "why", str_or_null(search->why));
	json_object_object_add(root, "first_new", search->first_new
			       ? commit_json(search, settings, commit_info, search->first_new) : NULL);
	arr = json_object_new_array();
	for (guint i = 0; search->parents && i < search->parents->len; i++)
		json_object_array_add(arr, commit_json(search, settings, commit_info,
						       search->parents->pdata[i]));
	json_object_object_add(root, "parents", arr);
	arr = json_object_new_array();
	for (guint i = 0; search->candidates && i < search->candidates->len; i++)
		json_object_array_add(arr, commit_json(search, settings, commit_info,
						       search->candidates->pdata[i]));
	json_object_object_add(root, "candidates", arr);
	json_object_object_add(root, "confidence", search->result == HPCI_BISECT_FOUND
			       ? json_object_new_double(search->confidence) : NULL);
	json_object_object_add(root, "hold_rate",
			       json_object_new_double(hpci_bisect_search_hold_rate(search)));

	g_hash_table_iter_init(&it, search->commits);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((struct hpci_bisect_commit *)value)->order)
			g_ptr_array_add(called, value);
	g_ptr_array_sort(called, by_order);
	arr = json_object_new_array();
	for (guint i = 0; i < called->len; i++)
		json_object_array_add(arr, commit_json(search, settings, commit_info,
			((struct hpci_bisect_commit *)called->pdata[i])->commit));
	json_object_object_add(root, "steps", arr);

	arr = json_object_new_array();
	for (guint i = 0; i < runs->len; i++) {
		const struct hpci_bisect_run *r = runs->pdata[i];
		json_object *o = json_object_new_object();

		cell_runs += r->build_error ? 0 : r->runs;
		json_object_object_add(o, "commit", json_object_new_string(r->commit));
		json_object_object_add(o, "purpose",
				       json_object_new_string(hpci_bisect_purpose_name(r->purpose)));
		json_object_object_add(o, "runs", json_object_new_int(r->runs));
		json_object_object_add(o, "said", tally_json(&r->said));
		json_object_object_add(o, "dir", str_or_null(r->dir));
		json_object_object_add(o, "build_error", str_or_null(r->build_error));
		json_object_object_add(o, "build_ms", json_object_new_int64(r->build_ms));
		json_object_object_add(o, "run_ms", json_object_new_int64(r->run_ms));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "runs", arr);
	json_object_object_add(root, "builds", json_object_new_int(builds));
	json_object_object_add(root, "cell_runs", json_object_new_int(cell_runs));
	json_object_object_add(root, "duration_ms", json_object_new_int64(duration_ms));
	json_object_object_add(root, "log", json_object_new_string("bisect.log"));
	return root;
}

static int purpose_parse(const char *file, const char *path, const char *name,
			 enum hpci_bisect_purpose *ret)
{
	for (enum hpci_bisect_purpose p = HPCI_BISECT_ENDPOINT; p <= HPCI_BISECT_VERIFY; p++)
		if (strcmp(name, hpci_bisect_purpose_name(p)) == 0) {
			*ret = p;
			return 0;
		}
	return hpci_json_fail(file, path, "'%s' is not endpoint, step or verify", name);
}

/* A count of runs: 0 is a count too, which hpci_json_uint does not take. */
static int load_count(const char *file, const char *path, json_object *obj, const char *key,
		      unsigned *ret)
{
	json_object *v = hpci_json_member(obj, key);
	int64_t n;

	if (!v)
		return hpci_json_missing(file, path, key);
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || n > MAX_RUNS_PER_CALL)
		return hpci_json_fail(file, path, "%s: expected a count of runs from 0 to %d",
				      key, MAX_RUNS_PER_CALL);
	*ret = (unsigned)n;
	return 0;
}

static int load_tally(const char *file, const char *path, json_object *obj,
		      struct hpci_bisect_tally *t)
{
	g_autofree char *tpath = g_strdup_printf("%s.said", path);
	json_object *o = hpci_json_member(obj, "said");
	int rc;

	if (!o)
		return hpci_json_missing(file, path, "said");
	if ((rc = load_count(file, tpath, o, "holds", &t->holds)) < 0 ||
	    (rc = load_count(file, tpath, o, "fails", &t->fails)) < 0 ||
	    (rc = load_count(file, tpath, o, "silent", &t->silent)) < 0 ||
	    (rc = hpci_json_req_bool(file, tpath, o, "unbuildable", &t->unbuildable)) < 0)
		return rc;
	return 0;
}

static int load_settings(const char *file, json_object *root, struct hpci_bisect_settings *s)
{
	json_object *terms = hpci_json_member(root, "terms");
	json_object *old = hpci_json_member(root, "old"), *new = hpci_json_member(root, "new");
	json_object *pinned;
	const char *str[9] = { 0 };
	int rc;

	if (!terms || !old || !new)
		return hpci_json_fail(file, "$", "not a bisect.json: no terms, old or new");
	if ((rc = hpci_json_req_string(file, "$", root, "component", &str[0])) < 0 ||
	    (rc = hpci_json_req_string(file, "$", root, "repository", &str[1])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.terms", terms, "old", &str[2])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.terms", terms, "new", &str[3])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.old", old, "rev", &str[4])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.old", old, "commit", &str[5])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.new", new, "rev", &str[6])) < 0 ||
	    (rc = hpci_json_req_string(file, "$.new", new, "commit", &str[7])) < 0 ||
	    (rc = hpci_json_req_string(file, "$", root, "matrix", &str[8])) < 0 ||
	    (rc = hpci_json_opt_string_list(file, "$", root, "filters", &s->filters)) < 0 ||
	    (rc = hpci_json_opt_string_list(file, "$", root, "sets", &s->sets)) < 0 ||
	    (rc = hpci_json_opt_string_list(file, "$", root, "cells", &s->cells)) < 0)
		return rc;
	s->component = g_strdup(str[0]);
	s->repository = g_strdup(str[1]);
	s->term_old = g_strdup(str[2]);
	s->term_new = g_strdup(str[3]);
	s->old_rev = g_strdup(str[4]);
	s->old_commit = g_strdup(str[5]);
	s->new_rev = g_strdup(str[6]);
	s->new_commit = g_strdup(str[7]);
	s->matrix = g_strdup(str[8]);
	if ((pinned = hpci_json_member(root, "pinned")) && !json_object_is_type(pinned, json_type_null)) {
		const char *pc, *pr, *pk;

		if ((rc = hpci_json_req_string(file, "$.pinned", pinned, "component", &pc)) < 0 ||
		    (rc = hpci_json_req_string(file, "$.pinned", pinned, "repository", &pr)) < 0 ||
		    (rc = hpci_json_req_string(file, "$.pinned", pinned, "commit", &pk)) < 0)
			return rc;
		s->pinned_component = g_strdup(pc);
		s->pinned_repository = g_strdup(pr);
		s->pinned_commit = g_strdup(pk);
	}
	return 0;
}

int hpci_bisect_record_load(const char *path, struct hpci_bisect_settings *ret_settings,
			    GPtrArray **ret_runs)
{
	g_autoptr(json_object) root = NULL;
	g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hpci_bisect_run_free);
	json_object *arr;
	unsigned schema;
	int rc;

	if ((rc = hpci_json_load(path, &root)) < 0 ||
	    (rc = hpci_json_object(path, "$", root)) < 0 ||
	    (rc = hpci_json_req_uint(path, "$", root, "schema", 1000, &schema)) < 0)
		return rc;
	if (schema != SCHEMA)
		return hpci_json_fail(path, "$.schema", "schema %u is not %d; resume with the "
				      "hotplug-ci that wrote it", schema, SCHEMA);
	if ((rc = load_settings(path, root, ret_settings)) < 0)
		return rc;
	arr = hpci_json_member(root, "runs");
	if (!arr || (rc = hpci_json_array(path, "$.runs", arr)) < 0)
		return arr ? rc : hpci_json_missing(path, "$", "runs");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		g_autofree char *rpath = g_strdup_printf("$.runs[%zu]", i);
		json_object *o = json_object_array_get_idx(arr, i);
		g_autofree struct hpci_bisect_run *r = g_new0(struct hpci_bisect_run, 1);
		const char *commit, *purpose, *dir = NULL, *err = NULL;

		if ((rc = hpci_json_object(path, rpath, o)) < 0 ||
		    (rc = hpci_json_req_string(path, rpath, o, "commit", &commit)) < 0 ||
		    (rc = hpci_json_req_string(path, rpath, o, "purpose", &purpose)) < 0 ||
		    (rc = purpose_parse(path, rpath, purpose, &r->purpose)) < 0 ||
		    (rc = hpci_json_req_uint(path, rpath, o, "runs", MAX_RUNS_PER_CALL, &r->runs)) < 0 ||
		    (rc = load_tally(path, rpath, o, &r->said)) < 0)
			return rc;
		dir = hpci_json_member_string(o, "dir");
		err = hpci_json_member_string(o, "build_error");
		r->commit = g_strdup(commit);
		r->build_ms = json_object_get_int64(hpci_json_member(o, "build_ms"));
		r->run_ms = json_object_get_int64(hpci_json_member(o, "run_ms"));
		r->dir = g_strdup(dir);
		r->build_error = g_strdup(err);
		g_ptr_array_add(runs, g_steal_pointer(&r));
	}
	*ret_runs = g_steal_pointer(&runs);
	return 0;
}

void hpci_bisect_record_replay(const GPtrArray *runs, struct hpci_bisect_search *search)
{
	for (guint i = 0; i < runs->len; i++) {
		const struct hpci_bisect_run *r = runs->pdata[i];
		struct hpci_bisect_commit *c = hpci_bisect_search_commit(search, r->commit);
		struct hpci_bisect_tally *t = r->purpose == HPCI_BISECT_VERIFY ? &c->verify_tally
									      : &c->tally;

		t->holds += r->said.holds;
		t->fails += r->said.fails;
		t->silent += r->said.silent;
		t->unbuildable |= r->said.unbuildable;
	}
}
