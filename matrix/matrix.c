/* SPDX-License-Identifier: MIT */
/*
 * The matrix parser: reads a matrix file (format in matrix/README.md),
 * validates every part of it against its JSON path, and expands it into
 * cells; matrix-private.h says which file does which part.
 *
 * Every mistake is reported once, through hpci_json_fail(), as
 *   <file>: <json path>: <problem>; <fix>
 * and returned as -EINVAL; nothing is handed to the caller on failure.
 */
#include "matrix-private.h"
#include "error.h"

#include <errno.h>
#include <string.h>

#define MAX_TIMEOUT_S 86400            /* one day */
#define DEFAULT_IMAGE "minimal"

static const char *const top_keys[] = {
	"name", "description", "defaults", "axes", "include", "exclude", "expect", NULL
};
static const char *const defaults_keys[] = { "image", "timeouts", NULL };
static const char *const timeout_keys[] = {
	"boot_s", "plug_s", "online_s", "unplug_s", "smi_s", NULL
};

/* Built-in defaults, in seconds (README: "defaults"). */
static const unsigned default_timeouts_s[] = { 120, 60, 60, 90, 120 };

static void matrix_parser_release(struct matrix_parser *p)
{
	g_free(p->image);
	for (int a = 0; a < AXIS__N; a++)
		if (p->axes[a])
			g_ptr_array_unref(p->axes[a]);
	if (p->include)
		g_ptr_array_unref(p->include);
	if (p->exclude)
		g_ptr_array_unref(p->exclude);
	if (p->expect)
		g_ptr_array_unref(p->expect);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(matrix_parser, matrix_parser_release)

char *matrix_join(const char *const *list)
{
	return g_strjoinv(", ", (char **)list);
}

/* The matrix file's directory, absolute. */
char *matrix_dir(const struct matrix_parser *p)
{
	g_autofree char *base = g_path_get_dirname(p->path);
	g_autofree char *cwd = NULL;

	if (g_path_is_absolute(base))
		return g_steal_pointer(&base);
	cwd = g_get_current_dir();
	return g_build_filename(cwd, base, NULL);
}

/* A path in the matrix relative to the matrix file's directory, so a matrix
 * under matrix/ names our queue as "../qemu-build/patches". */
char *matrix_resolve_relative(const struct matrix_parser *p, const char *rel)
{
	g_autofree char *dir = NULL;

	if (g_path_is_absolute(rel))
		return g_strdup(rel);
	dir = matrix_dir(p);
	return g_build_filename(dir, rel, NULL);
}

/* ---- defaults ---------------------------------------------------------- */

static int parse_defaults(struct matrix_parser *p, json_object *root)
{
	unsigned secs[G_N_ELEMENTS(default_timeouts_s)];
	json_object *defaults, *timeouts;
	const char *image = DEFAULT_IMAGE;
	int rc;

	memcpy(secs, default_timeouts_s, sizeof(secs));
	if (json_object_object_get_ex(root, "defaults", &defaults)) {
		if ((rc = hpci_json_object(p->file, "$.defaults", defaults)) < 0 ||
		    (rc = hpci_json_keys(p->file, "$.defaults", defaults, defaults_keys)) < 0 ||
		    (rc = hpci_json_opt_string(p->file, "$.defaults", defaults, "image",
					       &image)) < 0)
			return rc;
		if (!hpci_json_name_ok(image, "._-"))
			return hpci_json_fail(p->file, "$.defaults.image", "'%s' is not an "
					      "image recipe name; use the name of a directory "
					      "under images/, e.g. 'minimal'", image);
		if (json_object_object_get_ex(defaults, "timeouts", &timeouts)) {
			const char *tpath = "$.defaults.timeouts";

			if ((rc = hpci_json_object(p->file, tpath, timeouts)) < 0 ||
			    (rc = hpci_json_keys(p->file, tpath, timeouts, timeout_keys)) < 0)
				return rc;
			for (size_t i = 0; i < G_N_ELEMENTS(secs); i++) {
				if ((rc = hpci_json_opt_uint(p->file, tpath, timeouts,
							     timeout_keys[i], MAX_TIMEOUT_S,
							     &secs[i])) < 0)
					return rc;
			}
		}
	}
	p->image = g_strdup(image);
	p->timeouts = (struct hpci_timeouts){
		.boot_ms = secs[0] * 1000,
		.plug_ms = secs[1] * 1000,
		.online_ms = secs[2] * 1000,
		.unplug_ms = secs[3] * 1000,
		.smi_ms = secs[4] * 1000,
	};
	return 0;
}

/* ---- entry points ------------------------------------------------------ */

static void axis_value_name_clear(gpointer data)
{
	struct hpci_axis_value *av = data;

	g_free(av->axis);
	g_free(av->value);
}

/* struct hpci_matrix's axis_values. */
static GArray *axis_values(const struct matrix_parser *p)
{
	GArray *values = g_array_new(FALSE, TRUE, sizeof(struct hpci_axis_value));

	g_array_set_clear_func(values, axis_value_name_clear);
	for (int a = 0; a < AXIS__N; a++) {
		for (guint i = 0; i < p->axes[a]->len; i++) {
			const struct axis_value *v = g_ptr_array_index(p->axes[a], i);
			struct hpci_axis_value av = { g_strdup(matrix_axis_names[a]), g_strdup(v->name) };

			g_array_append_val(values, av);
		}
	}
	return values;
}

static int too_large(const char *path, gsize len)
{
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s: the file has %" G_GSIZE_FORMAT " "
			       "bytes; a matrix file may have at most %u", path, len,
			       HPCI_JSON_MAX_BYTES);
}

static int parse_matrix(const char *path, const char *data, gsize len,
			const struct hpci_matrix_host *host, const char *const *sets, guint n_sets,
			struct hpci_matrix **ret)
{
	g_auto(matrix_parser) p = { .file = path, .path = path, .host = host };
	g_autofree char *changed = NULL;
	g_autoptr(GPtrArray) applied = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(json_object) root = NULL;
	g_autoptr(hpci_matrix) m = NULL;
	const char *name, *description;
	json_object *axes;
	int rc;

	if (len > HPCI_JSON_MAX_BYTES)
		return too_large(path, len);
	if ((rc = hpci_json_parse(path, data, len, &root)) < 0)
		return rc;
	for (int a = 0; a < AXIS__N; a++)
		p.axes[a] = g_ptr_array_new_with_free_func((GDestroyNotify)matrix_axis_value_free);

	if ((rc = hpci_json_object(p.file, "$", root)) < 0 ||
	    (rc = matrix_apply_sets(&p, root, sets, n_sets, applied)) < 0)
		return rc;
	/* From here on the tree is not the file's alone; messages say so. */
	if (n_sets)
		p.file = changed = g_strdup_printf("%s (with --set)", path);
	if ((rc = hpci_json_keys(p.file, "$", root, top_keys)) < 0 ||
	    (rc = hpci_json_req_string(p.file, "$", root, "name", &name)) < 0)
		return rc;
	if (!hpci_json_name_ok(name, "._-"))
		return hpci_json_fail(p.file, "$.name", "name '%s' may only contain letters, "
				      "digits and . _ -", name);
	if ((rc = hpci_json_opt_string(p.file, "$", root, "description", &description)) < 0 ||
	    (rc = parse_defaults(&p, root)) < 0)
		return rc;
	if (!json_object_object_get_ex(root, "axes", &axes))
		return hpci_json_missing(p.file, "$", "axes");
	if ((rc = matrix_parse_axes(&p, axes)) < 0 ||
	    (rc = matrix_parse_rules(&p, root, "include", &p.include)) < 0 ||
	    (rc = matrix_parse_rules(&p, root, "exclude", &p.exclude)) < 0 ||
	    (rc = matrix_parse_rules(&p, root, "expect", &p.expect)) < 0)
		return rc;

	m = g_new0(struct hpci_matrix, 1);
	m->path = g_strdup(path);
	m->name = g_strdup(name);
	m->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	m->cells = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_free);
	m->axis_values = axis_values(&p);
	m->sets = g_steal_pointer(&applied);
	if ((rc = matrix_expand(&p, m->cells)) < 0)
		return rc;
	*ret = g_steal_pointer(&m);
	return 0;
}

int hpci_matrix_load_with(const char *path, const struct hpci_matrix_host *host,
			  const char *const *sets, guint n_sets, struct hpci_matrix **ret)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	int rc;

	rc = hpci_json_read_bytes(path, HPCI_JSON_MAX_BYTES, &data, &len);
	if (rc == -EFBIG)
		return too_large(path, len);
	if (rc < 0)
		return rc;
	return parse_matrix(path, data, len, host, sets, n_sets, ret);
}

int hpci_matrix_load(const char *path, const struct hpci_matrix_host *host,
		     struct hpci_matrix **ret)
{
	return hpci_matrix_load_with(path, host, NULL, 0, ret);
}

int hpci_matrix_parse_with(const char *path, const char *json,
			   const struct hpci_matrix_host *host, const char *const *sets,
			   guint n_sets, struct hpci_matrix **ret)
{
	return parse_matrix(path, json, strlen(json), host, sets, n_sets, ret);
}

int hpci_matrix_parse(const char *path, const char *json, const struct hpci_matrix_host *host,
		      struct hpci_matrix **ret)
{
	return hpci_matrix_parse_with(path, json, host, NULL, 0, ret);
}

void hpci_matrix_free(struct hpci_matrix *matrix)
{
	if (!matrix)
		return;
	g_free(matrix->path);
	g_free(matrix->name);
	g_free(matrix->sha256);
	if (matrix->cells)
		g_ptr_array_unref(matrix->cells);
	if (matrix->axis_values)
		g_array_unref(matrix->axis_values);
	if (matrix->sets)
		g_ptr_array_unref(matrix->sets);
	g_free(matrix);
}

