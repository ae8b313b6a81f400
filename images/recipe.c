/* SPDX-License-Identifier: MIT */
/* images/<name>/recipe.json: what goes into a guest image, as data. */
#include "image-private.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "own.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define DEFAULT_DISK_MIB 128

void hpci_recipe_release(struct hpci_recipe *recipe)
{
	if (!recipe)
		return;
	g_free(recipe->name);
	g_free(recipe->dir);
	g_free(recipe->path);
	g_free(recipe->description);
	g_free(recipe->kernel);
	g_free(recipe->cmdline);
	if (recipe->modules)
		g_ptr_array_unref(recipe->modules);
	g_free(recipe->busybox);
	if (recipe->binaries)
		g_ptr_array_unref(recipe->binaries);
	if (recipe->files)
		g_ptr_array_unref(recipe->files);
	if (recipe->kmods)
		g_ptr_array_unref(recipe->kmods);
	g_free(recipe->bootloader);
	memset(recipe, 0, sizeof(*recipe));
}

const char *hpci_compression_name(enum hpci_compression c)
{
	switch (c) {
	case HPCI_COMPRESS_NONE:
		return "none";
	case HPCI_COMPRESS_GZIP:
		return "gzip";
	case HPCI_COMPRESS_ZSTD:
		return "zstd";
	}
	return "unknown";
}

static void recipe_file_free(gpointer p)
{
	struct hpci_recipe_file *f = p;

	g_free(f->guest);
	g_free(f->source);
	g_free(f);
}

static int cmp_recipe_file(gconstpointer a, gconstpointer b)
{
	const struct hpci_recipe_file *fa = *(const struct hpci_recipe_file *const *)a;
	const struct hpci_recipe_file *fb = *(const struct hpci_recipe_file *const *)b;

	return strcmp(fa->guest, fb->guest);
}

/* An absolute path without empty, "." or ".." components. */
static bool is_clean_abs_path(const char *p)
{
	g_auto(GStrv) parts = NULL;

	if (p[0] != '/' || p[1] == '\0' || strpbrk(p, "\n\r\t\\"))
		return false;
	parts = g_strsplit(p + 1, "/", -1);
	for (char **c = parts; *c; c++)
		if (!**c || strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0)
			return false;
	return true;
}

/* A file name inside the recipe directory: no "/", not hidden. */
static bool is_recipe_file_name(const char *p)
{
	return *p && *p != '.' && !strchr(p, '/');
}

struct parser {
	const char *path;
	struct hpci_recipe *r;
};

static const char *const recipe_keys[] = {
	"description", "kernel", "cmdline", "modules", "busybox", "binaries", "files",
	"bootloader", "disk_mib", "compression", "kmods", NULL
};

/* "invalid recipe '<path>': <problem>", an HPCI_ERR_INPUT error; returns -code. */
static int recipe_fail(const char *path, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int recipe_fail(const char *path, int code, const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_error_kind(HPCI_ERR_INPUT, code, "invalid recipe '%s': %s", path, problem);
}

static int bad(const struct parser *ps, const char *key, const char *what)
{
	return recipe_fail(ps->path, EINVAL, "'%s' %s", key, what);
}

static int get_string(const struct parser *ps, const char *key, json_object *val, char **out)
{
	if (!json_object_is_type(val, json_type_string))
		return bad(ps, key, "must be a string");
	g_free(*out);
	*out = g_strdup(json_object_get_string(val));
	return 0;
}

static int get_abs_path(const struct parser *ps, const char *key, json_object *val, char **out)
{
	int ret = get_string(ps, key, val, out);

	if (ret == 0 && !is_clean_abs_path(*out))
		return bad(ps, key, "must be an absolute path");
	return ret;
}

static int get_string_array(const struct parser *ps, const char *key, json_object *val,
			    bool paths, GPtrArray *out)
{
	if (!json_object_is_type(val, json_type_array))
		return bad(ps, key, "must be an array of strings");
	for (size_t i = 0; i < json_object_array_length(val); i++) {
		json_object *item = json_object_array_get_idx(val, i);
		const char *s;

		if (!json_object_is_type(item, json_type_string))
			return bad(ps, key, "must be an array of strings");
		s = json_object_get_string(item);
		if (paths && !is_clean_abs_path(s))
			return recipe_fail(ps->path, EINVAL, "'%s' entry '%s' is not an absolute "
					   "path", key, s);
		if (!paths && !hpci_json_name_ok(s, "_-"))
			return recipe_fail(ps->path, EINVAL, "'%s' entry '%s' is not a module name",
					   key, s);
		for (guint j = 0; j < out->len; j++)
			if (strcmp(g_ptr_array_index(out, j), s) == 0)
				return recipe_fail(ps->path, EINVAL, "'%s' lists '%s' twice", key, s);
		g_ptr_array_add(out, g_strdup(s));
	}
	return 0;
}

/* An object mapping guest paths to entries of the recipe directory: files,
 * or (kmods) directories with a Kbuild file. */
static int get_guest_map(const struct parser *ps, const char *key, json_object *val,
			 bool kmods, GPtrArray *out)
{
	const char *what = kmods ? "module source directory" : "file";

	if (!json_object_is_type(val, json_type_object))
		return bad(ps, key, kmods ? "must be an object mapping guest .ko paths to module "
				    "source directories" : "must be an object mapping guest paths "
				    "to recipe files");
	json_object_object_foreach(val, guest, src)
	{
		struct hpci_recipe_file *f;
		const char *name;

		if (!is_clean_abs_path(guest) || (kmods && !g_str_has_suffix(guest, ".ko")))
			return recipe_fail(ps->path, EINVAL, "'%s' key '%s' is not an absolute guest "
					   "path%s", key, guest, kmods ? " ending in .ko" : "");
		if (!json_object_is_type(src, json_type_string))
			return recipe_fail(ps->path, EINVAL, "'%s' value for '%s' must be a %s name",
					   key, guest, what);
		name = json_object_get_string(src);
		if (!is_recipe_file_name(name))
			return recipe_fail(ps->path, EINVAL, "'%s' value '%s' must name a %s in the "
					   "recipe directory", key, name, what);
		f = g_new0(struct hpci_recipe_file, 1);
		f->guest = g_strdup(guest);
		f->source = g_build_filename(ps->r->dir, name, NULL);
		g_ptr_array_add(out, f);
		if (!kmods && !hpci_is_file(f->source))
			return recipe_fail(ps->path, ENOENT, "'%s' names '%s', which is not a file in "
					   "'%s'", key, name, ps->r->dir);
		if (kmods) {
			g_autofree char *kbuild = g_build_filename(f->source, "Kbuild", NULL);

			if (!hpci_is_file(kbuild))
				return recipe_fail(ps->path, ENOENT, "'%s' names '%s', which is not "
						   "a directory of '%s' with a Kbuild file", key,
						   name, ps->r->dir);
		}
	}
	g_ptr_array_sort(out, cmp_recipe_file);
	return 0;
}

static int parse_key(struct parser *ps, const char *key, json_object *val)
{
	struct hpci_recipe *r = ps->r;

	if (strcmp(key, "description") == 0)
		return get_string(ps, key, val, &r->description);
	if (strcmp(key, "kernel") == 0) {
		int ret = get_string(ps, key, val, &r->kernel);

		if (ret == 0 && !hpci_json_name_ok(r->kernel, "._+-"))
			return bad(ps, key, "must be \"newest\" or a kernel version");
		return ret;
	}
	if (strcmp(key, "cmdline") == 0) {
		int ret = get_string(ps, key, val, &r->cmdline);

		if (ret == 0 && (!*r->cmdline || strpbrk(r->cmdline, "\n\r")))
			return bad(ps, key, "must be one non-empty line");
		return ret;
	}
	if (strcmp(key, "modules") == 0)
		return get_string_array(ps, key, val, false, r->modules);
	if (strcmp(key, "busybox") == 0)
		return get_abs_path(ps, key, val, &r->busybox);
	if (strcmp(key, "binaries") == 0)
		return get_string_array(ps, key, val, true, r->binaries);
	if (strcmp(key, "files") == 0)
		return get_guest_map(ps, key, val, false, r->files);
	if (strcmp(key, "kmods") == 0)
		return get_guest_map(ps, key, val, true, r->kmods);
	if (strcmp(key, "bootloader") == 0)
		return get_abs_path(ps, key, val, &r->bootloader);
	if (strcmp(key, "disk_mib") == 0) {
		int64_t mib;

		if (!json_object_is_type(val, json_type_int))
			return bad(ps, key, "must be an integer");
		mib = json_object_get_int64(val);
		if (mib < 40 || mib > 65536)
			return bad(ps, key, "must be between 40 and 65536");
		r->disk_mib = (unsigned)mib;
		return 0;
	}
	if (strcmp(key, "compression") == 0) {
		const char *s;

		if (!json_object_is_type(val, json_type_string))
			return bad(ps, key, "must be \"none\", \"gzip\" or \"zstd\"");
		s = json_object_get_string(val);
		if (strcmp(s, "none") == 0)
			r->compression = HPCI_COMPRESS_NONE;
		else if (strcmp(s, "gzip") == 0)
			r->compression = HPCI_COMPRESS_GZIP;
		else if (strcmp(s, "zstd") == 0)
			r->compression = HPCI_COMPRESS_ZSTD;
		else
			return bad(ps, key, "must be \"none\", \"gzip\" or \"zstd\"");
		return 0;
	}
	g_assert_not_reached();   /* hpci_json_keys() let only recipe_keys through */
}

/* The required keys, and a file for /init. */
static int check_complete(const struct hpci_recipe *r)
{
	static const char *const required[] = { "cmdline", "busybox", "bootloader" };
	const char *const given[] = { r->cmdline, r->busybox, r->bootloader };

	for (size_t i = 0; i < G_N_ELEMENTS(required); i++)
		if (!given[i])
			return recipe_fail(r->path, EINVAL, "'%s' is missing", required[i]);
	for (guint i = 0; i < r->files->len; i++)
		if (strcmp(((struct hpci_recipe_file *)r->files->pdata[i])->guest, "/init") == 0)
			return 0;
	return recipe_fail(r->path, EINVAL, "'files' must provide '/init'");
}

int hpci_recipe_load(const char *recipes_dir, const char *name, struct hpci_recipe *ret)
{
	g_auto(hpci_recipe) r = { 0 };
	g_autoptr(json_object) root = NULL;
	struct parser ps = { 0 };
	int rc;

	if (!hpci_json_name_ok(name, "_-"))
		return hpci_error(EINVAL, "invalid recipe name '%s': use letters, digits, '-' and "
				  "'_'", name);
	r.name = g_strdup(name);
	r.dir = g_build_filename(recipes_dir, name, NULL);
	r.path = g_build_filename(r.dir, "recipe.json", NULL);
	r.kernel = g_strdup("newest");
	r.modules = g_ptr_array_new_with_free_func(g_free);
	r.binaries = g_ptr_array_new_with_free_func(g_free);
	r.files = g_ptr_array_new_with_free_func(recipe_file_free);
	r.kmods = g_ptr_array_new_with_free_func(recipe_file_free);
	r.disk_mib = DEFAULT_DISK_MIB;
	r.compression = HPCI_COMPRESS_GZIP;
	ps.path = r.path;
	ps.r = &r;

	if (!hpci_is_dir(r.dir))
		return hpci_error(ENOENT, "no recipe '%s': '%s' is not a directory", name, r.dir);
	if ((rc = hpci_json_load(r.path, &root)) < 0 ||
	    (rc = hpci_json_object(r.path, "$", root)) < 0 ||
	    (rc = hpci_json_keys(r.path, "$", root, recipe_keys)) < 0)
		return rc;
	json_object_object_foreach(root, key, val)
	{
		if ((rc = parse_key(&ps, key, val)) < 0)
			return rc;
	}
	if ((rc = check_complete(&r)) < 0)
		return rc;
	*ret = HPCI_STEAL_STRUCT(r);
	return 0;
}
