/* SPDX-License-Identifier: MIT */
/*
 * `--set PATH=VALUE` and `--set PATH:=JSON` (matrix/README.md, "Changing
 * fields from the command line"): parsing one option, and applying it to the
 * matrix's JSON tree after the file is read and before anything in it is
 * checked, so a value set here is checked exactly like one in the file.
 */
#include "matrix-private.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define SET_OPTION "--set"
#define SET_FORMS "give PATH=VALUE (VALUE a string) or PATH:=JSON, e.g. " \
	"axes.firmware.smm-debug.build.rev=4f3a2b1"

/* ---- parsing ------------------------------------------------------------- */

static int set_usage(const char *arg, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int set_usage(const char *arg, const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s", arg, problem);
}

int hpci_matrix_set_parse(const char *arg, struct hpci_matrix_set *ret)
{
	const char *eq = strchr(arg, '=');
	g_autofree char *path = NULL;
	bool json;

	if (!eq)
		return set_usage(arg, "no '=' in it; " SET_FORMS);
	json = eq > arg && eq[-1] == ':';
	path = g_strndup(arg, (gsize)(eq - arg) - (json ? 1 : 0));
	if (!*path)
		return set_usage(arg, "the PATH before '%s' is empty; name the field from the "
				 "top of the matrix, e.g. axes.qemu.patched.build.source",
				 json ? ":=" : "=");
	if (*path == '.' || g_str_has_suffix(path, ".") || strstr(path, ".."))
		return set_usage(arg, "PATH '%s' has an empty key; join the keys with single "
				 "dots, e.g. axes.qemu.patched.build.source", path);
	if (json) {
		g_autoptr(json_object) v = NULL;
		const char *problem = NULL;
		size_t line = 0;
		int rc = hpci_json_parse_strict(eq + 1, strlen(eq + 1), &v, &line, &problem);

		if (rc == -EINVAL)
			return set_usage(arg, "the value after ':=' is not JSON (%s); quote a string "
					 "as \"...\" or give it as PATH=VALUE", problem);
		if (rc < 0)
			return rc;
	}
	ret->path = g_steal_pointer(&path);
	ret->value = g_strdup(eq + 1);
	ret->json = json;
	return 0;
}

void hpci_matrix_set_clear(struct hpci_matrix_set *set)
{
	g_clear_pointer(&set->path, g_free);
	g_clear_pointer(&set->value, g_free);
	set->json = false;
}

/* ---- paths in values ----------------------------------------------------- */

/*
 * The members of the schema that hold a path, as key paths from the root:
 * "*" stands for any object key (an axis value's name), NULL for any array
 * element.  The file's own relative paths are relative to the file (or, for
 * a git source, to the current directory); a relative path given with --set
 * is relative to the current directory, so it is made absolute here.
 */
enum path_form {
	PATH_FILE,         /* any path */
	PATH_SOURCE,       /* only a git checkout's; not debian:PKG nor a URL */
	PATH_DESCRIPTOR,   /* only with a '/'; a bare name is looked up as QEMU does */
};

#define PATH_DEPTH 5
#define ANY_KEY "*"

static const struct {
	const char *keys[PATH_DEPTH];
	guint n;
	enum path_form form;
} path_members[] = {
	{ { "axes", "firmware", ANY_KEY, "code" }, 4, PATH_FILE },
	{ { "axes", "firmware", ANY_KEY, "vars" }, 4, PATH_FILE },
	{ { "axes", "firmware", ANY_KEY, "descriptor" }, 4, PATH_DESCRIPTOR },
	{ { "axes", "firmware", ANY_KEY, "build", "source" }, 5, PATH_SOURCE },
	{ { "axes", "firmware", ANY_KEY, "build", "patches" }, 5, PATH_FILE },
	{ { "axes", "qemu", ANY_KEY, "emulator" }, 4, PATH_FILE },
	{ { "axes", "qemu", ANY_KEY, "build", "source" }, 5, PATH_SOURCE },
	{ { "axes", "qemu", ANY_KEY, "build", "patches" }, 5, PATH_FILE },
	{ { "expect", NULL, "known_issue", "evidence" }, 4, PATH_FILE },
	{ { "expect", NULL, "known_issue", NULL, "evidence" }, 5, PATH_FILE },
};

static bool key_matches(const char *pattern, const char *key)
{
	if (!pattern || !key)
		return !pattern && !key;
	return strcmp(pattern, ANY_KEY) == 0 || strcmp(pattern, key) == 0;
}

/* The form of the member at keys[0..n) when it holds a path, else -1. */
static int path_form(const char *const *keys, guint n)
{
	for (size_t m = 0; m < G_N_ELEMENTS(path_members); m++) {
		guint i = 0;

		if (path_members[m].n != n)
			continue;
		while (i < n && key_matches(path_members[m].keys[i], keys[i]))
			i++;
		if (i == n)
			return (int)path_members[m].form;
	}
	return -1;
}

/* s made absolute against cwd when it is a relative path of that form, else NULL. */
static char *absolute_path(enum path_form form, const char *s, const char *cwd)
{
	if (!*s || g_path_is_absolute(s))
		return NULL;
	if (form == PATH_SOURCE && hpci_source_kind_of(s) != HPCI_SOURCE_GIT)
		return NULL;
	if (form == PATH_DESCRIPTOR && !strchr(s, '/'))
		return NULL;
	return g_canonicalize_filename(s, cwd);
}

/*
 * Makes the relative paths in v, the value at keys[0..n), absolute: returns
 * a new string to put in v's place when v is such a path, else NULL (and
 * v's members are made absolute in place).
 */
static json_object *absolute_paths(json_object *v, const char **keys, guint n, const char *cwd)
{
	g_autofree char *abs = NULL;
	int form;

	switch (json_object_get_type(v)) {
	case json_type_string:
		form = path_form(keys, n);
		if (form >= 0 && (abs = absolute_path(form, json_object_get_string(v), cwd)))
			return json_object_new_string(abs);
		return NULL;
	case json_type_object:
		if (n == PATH_DEPTH)
			return NULL;
		json_object_object_foreach(v, key, member) {
			json_object *replaced;

			keys[n] = key;
			if ((replaced = absolute_paths(member, keys, n + 1, cwd)))
				json_object_object_add(v, key, replaced);
		}
		return NULL;
	case json_type_array:
		if (n == PATH_DEPTH)
			return NULL;
		keys[n] = NULL;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *element = json_object_array_get_idx(v, i);
			json_object *replaced = absolute_paths(element, keys, n + 1, cwd);

			if (replaced)
				json_object_array_put_idx(v, i, replaced);
		}
		return NULL;
	default:
		return NULL;
	}
}

/* ---- applying ------------------------------------------------------------ */

/* "a, b, c", or "none" for an empty object. */
static char *member_names(json_object *obj)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	json_object_object_foreach(obj, key, member) {
		(void)member;
		g_ptr_array_add(names, key);
	}
	if (names->len == 0)
		return g_strdup("none");
	g_ptr_array_add(names, NULL);
	return matrix_join((const char *const *)names->pdata);
}

/* The longest key of obj that is rest itself or a prefix of it up to a dot
 * (axis value names may hold dots: smi.machine-5.1.broadcast), or NULL. */
static const char *longest_key(json_object *obj, const char *rest)
{
	const char *best = NULL;
	size_t best_len = 0;

	json_object_object_foreach(obj, key, member) {
		size_t len = strlen(key);

		(void)member;
		if (len > best_len && strncmp(rest, key, len) == 0 &&
		    (rest[len] == '\0' || rest[len] == '.')) {
			best = key;
			best_len = len;
		}
	}
	return best;
}

/* What `--set` may not create: a new value of an axis (a typo would add
 * cells); every other new key is checked against the schema like the file's. */
static bool may_create(const char *const *keys, guint n)
{
	return !(n == 2 && strcmp(keys[0], "axes") == 0);
}

/* "PATH=STRING" or "PATH:=JSON" for value, a form --set reads back to the same. */
static char *set_text(const char *path, json_object *value)
{
	if (json_object_is_type(value, json_type_string))
		return g_strdup_printf("%s=%s", path, json_object_get_string(value));
	return g_strdup_printf("%s:=%s", path,
			       json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The error for a key of PATH that obj, at jpath, does not have. */
static int no_key(const struct matrix_parser *p, const char *arg, const char *jpath,
		  json_object *obj, const char *rest, bool removing)
{
	g_autofree char *key = g_strndup(rest, strcspn(rest, "."));
	g_autofree char *names = member_names(obj);

	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s has no key "
			       "'%s'%s (it has: %s)", arg, p->file, jpath, key,
			       removing ? " to remove" : "", names);
}

/* Applies one option to root; *ret_text gets what it set (set_text()). */
static int apply_set(const struct matrix_parser *p, json_object *root, const char *arg,
		     const char *cwd, char **ret_text)
{
	g_auto(hpci_matrix_set) set = { 0 };
	g_autoptr(json_object) value = NULL;
	g_autofree char *jpath = g_strdup("$");
	const char *keys[PATH_DEPTH];
	json_object *obj = root;
	const char *rest = NULL, *key = NULL;
	bool removing;
	guint n = 0;
	int rc;

	if ((rc = hpci_matrix_set_parse(arg, &set)) < 0)
		return rc;
	if (!set.json)
		value = json_object_new_string(set.value);
	else if ((rc = hpci_json_parse(SET_OPTION, set.value, strlen(set.value), &value)) < 0)
		return rc;   /* hpci_matrix_set_parse() saw it parse */
	removing = json_object_is_type(value, json_type_null);
	/* Down the objects PATH names, to the one that holds its last key. */
	for (rest = set.path;; rest += strlen(key) + 1) {
		g_autofree char *child = NULL;

		if (!json_object_is_type(obj, json_type_object)) {
			g_autofree char *got = hpci_json_describe(obj);
			g_autofree char *first = g_strndup(rest, strcspn(rest, "."));
			g_autofree char *whole = g_strndup(set.path, (gsize)(rest - set.path) - 1);

			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s: "
					       "expected an object with the key '%s', got %s; "
					       "--set reaches members of objects only, so set "
					       "%s as a whole (%s:=JSON)", arg, p->file, jpath,
					       first, got, whole, whole);
		}
		key = longest_key(obj, rest);
		if (key && !rest[strlen(key)])
			break;   /* the last key, which obj has */
		if (!key && !strchr(rest, '.') && !removing && may_create(keys, n)) {
			key = rest;   /* the last key, new */
			break;
		}
		if (!key)
			return no_key(p, arg, jpath, obj, rest, removing && !strchr(rest, '.'));
		if (n < PATH_DEPTH)
			keys[n] = key;
		n++;
		child = hpci_json_path_key(jpath, key);
		g_free(jpath);
		jpath = g_steal_pointer(&child);
		obj = json_object_object_get(obj, key);
	}
	if (removing) {
		json_object_object_del(obj, key);
	} else {
		json_object *replaced = NULL;

		/* A relative path is the current directory's; no member that
		 * holds a path is deeper than PATH_DEPTH. */
		if (n < PATH_DEPTH) {
			keys[n] = key;
			replaced = absolute_paths(value, keys, n + 1, cwd);
		}
		if (replaced) {
			json_object_put(value);
			value = replaced;
		}
		json_object_object_add(obj, key, json_object_get(value));
	}
	*ret_text = set_text(set.path, value);
	return 0;
}

int matrix_apply_sets(const struct matrix_parser *p, json_object *root, const char *const *sets,
		      guint n_sets, GPtrArray *applied)
{
	g_autofree char *cwd = g_get_current_dir();
	int rc;

	for (guint i = 0; i < n_sets; i++) {
		char *text = NULL;

		if ((rc = apply_set(p, root, sets[i], cwd, &text)) < 0)
			return rc;
		g_ptr_array_add(applied, text);
	}
	return 0;
}
