/* SPDX-License-Identifier: MIT */
/*
 * From two nights' reports to a bisect: which cells regressed, and which
 * revisions moved under them.  A cell's firmware and emulator paths lead to
 * the report's identities, whose `source` says where a build came from.
 */
#include "regression.h"
#include "error.h"
#include "json-reader.h"
#include "manifest.h"
#include "own.h"
#include "report-diff.h"
#include "report-load.h"

#include <errno.h>
#include <string.h>

/* The components a nightly builds, and where a cell names their file. */
static const struct {
	const char *component;
	const char *role;          /* in identities */
	const char *cell_field;    /* the cell's path of that file */
	const char *variable;      /* the pipeline variable that names its source */
} components[] = {
	{ "edk2", "firmware-code", "firmware_code", "EDK2_SOURCE" },
	{ "qemu", "qemu", "emulator", "QEMU_SOURCE" },
};

enum move_kind { MOVE_NONE, MOVE_GIT, MOVE_OTHER };

/* What happened to one component under one cell between the runs. */
struct move {
	enum move_kind kind;
	const char *repository, *old_commit, *new_commit;   /* MOVE_GIT; borrowed */
	char *why;                                          /* MOVE_OTHER */
};

void hpci_bisect_regression_clear(struct hpci_bisect_regression *r)
{
	if (r->cells)
		g_ptr_array_unref(r->cells);
	if (r->filters)
		g_ptr_array_unref(r->filters);
	if (r->sets)
		g_ptr_array_unref(r->sets);
	if (r->left_out)
		g_ptr_array_unref(r->left_out);
	g_free(r->matrix);
	g_free(r->matrix_sha256);
	g_free(r->why);
	for (unsigned i = 0; i < G_N_ELEMENTS(r->moved); i++) {
		g_free(r->moved[i].component);
		g_free(r->moved[i].repository);
		g_free(r->moved[i].old_commit);
		g_free(r->moved[i].new_commit);
	}
	memset(r, 0, sizeof(*r));
}

static json_object *cell_by_id(json_object *report, const char *id)
{
	json_object *cells = hpci_report_cells(report);

	for (size_t i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		const char *cid = hpci_json_member_string(cell, "id");

		if (cid && strcmp(cid, id) == 0)
			return cell;
	}
	return NULL;
}

/* The `source` of the identity with this role and path, or NULL (a file the
 * matrix named, or a report from before identities had a source). */
static json_object *origin_of(json_object *report, const char *role, const char *path)
{
	json_object *ids = hpci_report_array(report, "identities");

	for (size_t i = 0; path && ids && i < json_object_array_length(ids); i++) {
		json_object *id = json_object_array_get_idx(ids, i);
		const char *r = hpci_json_member_string(id, "role");
		const char *p = hpci_json_member_string(id, "path");
		json_object *src = hpci_json_member(id, "source");

		if (r && p && strcmp(r, role) == 0 && strcmp(p, path) == 0)
			return json_object_is_type(src, json_type_object) ? src : NULL;
	}
	return NULL;
}

static char *origin_text(json_object *o)
{
	return g_strdup_printf("%s %s %.12s", hpci_json_member_string(o, "kind"),
			       hpci_json_member_string(o, "location"),
			       hpci_json_member_string(o, "revision"));
}

static bool origin_valid(json_object *o)
{
	return hpci_json_member_string(o, "kind") && hpci_json_member_string(o, "location") &&
	       hpci_json_member_string(o, "revision");
}

/* Component k under this cell: moved in git, moved otherwise, or not at all. */
static void component_move(json_object *old_report, json_object *old_cell,
			   json_object *new_report, json_object *new_cell, size_t k,
			   struct move *m)
{
	const char *field = components[k].cell_field, *role = components[k].role;
	const char *old_path = hpci_json_member_string(old_cell, field);
	const char *new_path = hpci_json_member_string(new_cell, field);
	json_object *o = origin_of(old_report, role, old_path);
	json_object *n = origin_of(new_report, role, new_path);

	memset(m, 0, sizeof(*m));
	if (!o && !n) {
		if (g_strcmp0(old_path, new_path) != 0)
			m->kind = MOVE_OTHER, m->why = g_strdup_printf(
				"its %s file changed from %s to %s, which are not builds", role,
				old_path ? old_path : "none (its build failed)",
				new_path ? new_path : "none (its build failed)");
		return;
	}
	if (!o || !n || !origin_valid(o) || !origin_valid(n)) {
		m->kind = MOVE_OTHER;
		m->why = g_strdup_printf("its %s changed between a given file and a build, or a "
					 "report lacks the build's source", components[k].component);
		return;
	}
	if (strcmp(hpci_json_member_string(o, "revision"),
		   hpci_json_member_string(n, "revision")) == 0)
		return;
	if (strcmp(hpci_json_member_string(o, "kind"), "git") != 0 ||
	    strcmp(hpci_json_member_string(n, "kind"), "git") != 0) {
		g_autofree char *from = origin_text(o), *to = origin_text(n);

		m->kind = MOVE_OTHER;
		m->why = g_strdup_printf("%s moved from %s to %s; only a git checkout can be "
					 "bisected: set %s to one", components[k].component, from,
					 to, components[k].variable);
		return;
	}
	m->kind = MOVE_GIT;
	m->repository = hpci_json_member_string(n, "location");
	m->old_commit = hpci_json_member_string(o, "revision");
	m->new_commit = hpci_json_member_string(n, "revision");
}

/* "topology=1s4c,smi=full,...": the filter that selects exactly this cell. */
static char *exact_filter(json_object *cell)
{
	GString *s = g_string_new(NULL);

	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		g_string_append_printf(s, "%s%s=%s", a ? "," : "", hpci_report_axis_names[a],
				       hpci_report_axis(cell, a));
	return g_string_free(s, FALSE);
}

/* What the cells whose moves match group on: "edk2 REPO OLD NEW\n...". */
static char *moves_key(const struct move *moves)
{
	GString *s = g_string_new(NULL);

	for (size_t k = 0; k < G_N_ELEMENTS(components); k++)
		if (moves[k].kind == MOVE_GIT)
			g_string_append_printf(s, "%s %s %s %s\n", components[k].component,
					       moves[k].repository, moves[k].old_commit,
					       moves[k].new_commit);
	return g_string_free(s, FALSE);
}

static int take_run_fields(const char *path, json_object *report,
			   struct hpci_bisect_regression *r)
{
	json_object *matrix = hpci_json_member(report, "matrix");
	json_object *sets = hpci_report_array(report, "run.sets");
	const char *mpath = hpci_json_member_string(matrix, "path");

	if (!mpath)
		return hpci_error(EINVAL, "%s: no matrix.path; a report from `hotplug-ci run` "
				  "names its matrix", path);
	r->matrix = g_strdup(mpath);
	r->matrix_sha256 = g_strdup(hpci_json_member_string(matrix, "sha256"));
	r->sets = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; sets && i < json_object_array_length(sets); i++) {
		json_object *set = json_object_array_get_idx(sets, i);

		if (!json_object_is_type(set, json_type_string))
			return hpci_error(EINVAL, "%s: run.sets[%zu] is not a string", path, i);
		g_ptr_array_add(r->sets, g_strdup(json_object_get_string(set)));
	}
	return 0;
}

int hpci_bisect_regression_find(json_object *old_report, const char *new_path,
				json_object *new_report, struct hpci_bisect_regression *ret)
{
	const struct hpci_diff_thresholds thresholds = { HPCI_DIFF_DEFAULT_PCT,
							 HPCI_DIFF_DEFAULT_MS };
	g_auto(hpci_bisect_regression) r = { 0 };
	g_autoptr(json_object) findings = NULL;
	g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							     (GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GPtrArray) order = g_ptr_array_new();   /* groups' keys (borrowed), first seen first */
	g_autofree char *unbisectable = NULL;
	GPtrArray *best = NULL;
	unsigned regressed = 0;
	int rc;

	if ((rc = take_run_fields(new_path, new_report, &r)) < 0)
		return rc;
	r.cells = g_ptr_array_new_with_free_func(g_free);
	r.filters = g_ptr_array_new_with_free_func(g_free);
	r.left_out = g_ptr_array_new_with_free_func(g_free);
	findings = hpci_report_diff(old_report, new_report, &thresholds);
	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		json_object *f = json_object_array_get_idx(findings, i);
		const char *id = hpci_json_member_string(f, "cell");
		json_object *old_cell, *new_cell;
		struct move moves[G_N_ELEMENTS(components)];
		g_autofree char *key = NULL;
		g_autoptr(GString) why = NULL;
		GPtrArray *group;

		if (!hpci_diff_is_regression(f))
			continue;
		regressed++;
		if (!id || !(old_cell = cell_by_id(old_report, id)) ||
		    !(new_cell = cell_by_id(new_report, id)))
			continue;
		why = g_string_new(NULL);
		for (size_t k = 0; k < G_N_ELEMENTS(components); k++) {
			component_move(old_report, old_cell, new_report, new_cell, k, &moves[k]);
			if (moves[k].why)
				g_string_append_printf(why, "%s%s", why->len ? "; " : "",
						       moves[k].why);
			g_free(moves[k].why);
		}
		if (why->len) {
			if (!unbisectable)
				unbisectable = g_strdup(why->str);
			g_ptr_array_add(r.left_out, g_strdup_printf("%s: %s", id, why->str));
			continue;
		}
		key = moves_key(moves);
		if (!*key) {
			g_ptr_array_add(r.left_out, g_strdup_printf("%s: neither edk2 nor QEMU "
								    "moved under it", id));
			continue;
		}
		if (!(group = g_hash_table_lookup(groups, key))) {
			group = g_ptr_array_new();
			g_ptr_array_add(order, key);
			g_hash_table_insert(groups, g_steal_pointer(&key), group);
		}
		g_ptr_array_add(group, new_cell);
	}
	for (guint g = 0; g < order->len; g++) {
		GPtrArray *group = g_hash_table_lookup(groups, order->pdata[g]);

		if (!best || group->len > best->len)
			best = group;
	}
	if (!best) {
		r.why = regressed == 0
			? g_strdup("no cell regressed between the runs")
			: unbisectable
			? g_strdup_printf("%u cell(s) regressed, but %s", regressed, unbisectable)
			: g_strdup_printf("%u cell(s) regressed, but neither edk2 nor QEMU moved "
					  "under them: the change came from elsewhere (the host, "
					  "the image, hotplug-ci) or is a flake, and no revision "
					  "range holds it", regressed);
		*ret = HPCI_STEAL_STRUCT(r);
		return 0;
	}
	for (guint g = 0; g < order->len; g++) {
		GPtrArray *group = g_hash_table_lookup(groups, order->pdata[g]);

		for (guint i = 0; group != best && i < group->len; i++)
			g_ptr_array_add(r.left_out, g_strdup_printf(
				"%s: another range (bisect it on its own): %s",
				hpci_json_member_string(group->pdata[i], "id"),
				(char *)order->pdata[g]));
	}
	for (guint i = 0; i < best->len; i++) {
		g_ptr_array_add(r.cells, g_strdup(hpci_json_member_string(best->pdata[i], "id")));
		g_ptr_array_add(r.filters, exact_filter(best->pdata[i]));
	}
	{
		json_object *cell = best->pdata[0];
		json_object *old_cell = cell_by_id(old_report, hpci_json_member_string(cell, "id"));

		for (size_t k = 0; k < G_N_ELEMENTS(components); k++) {
			struct move m;

			component_move(old_report, old_cell, new_report, cell, k, &m);
			if (m.kind != MOVE_GIT)
				continue;
			r.moved[r.n_moved].component = g_strdup(components[k].component);
			r.moved[r.n_moved].repository = g_strdup(m.repository);
			r.moved[r.n_moved].old_commit = g_strdup(m.old_commit);
			r.moved[r.n_moved].new_commit = g_strdup(m.new_commit);
			r.n_moved++;
		}
	}
	*ret = HPCI_STEAL_STRUCT(r);
	return 0;
}
