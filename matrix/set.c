/* SPDX-License-Identifier: MIT */
/*
 * `--set PATH=VALUE` and `--set PATH:=JSON` (matrix/README.md, "Changing
 * fields from the command line"): parsing one option, and applying it to the
 * matrix's JSON tree after the file is read and before anything in it is
 * checked, so a value set here is checked exactly like one in the file.
 * A key '*' in PATH stands for each member of the object there.
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

/*
 * One option on its way down the tree.  A '*' key of PATH stands for every
 * member of the object there, so one option may set several places; each
 * gets the same value, and the option is recorded once, as given.
 */
struct set_walk {
	const struct matrix_parser *p;
	const char *arg;                /* the option, for messages */
	const char *path;               /* its PATH; rest pointers point into it */
	const char *cwd;
	json_object *value;             /* what each place gets */
	bool removing;                  /* :=null */
	const char *keys[PATH_DEPTH];   /* the keys down to the object at hand */
	char *text;                     /* set_text() of the first place set */
	char *first;                    /* the first place's JSON path */
};

static void set_walk_release(struct set_walk *w)
{
	g_clear_pointer(&w->text, g_free);
	g_clear_pointer(&w->first, g_free);
}

typedef struct set_walk set_walk;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(set_walk, set_walk_release)

/* The error for obj, at jpath, which is not an object PATH can go into. */
static int not_object(const struct set_walk *w, const char *jpath, json_object *obj,
		      const char *rest)
{
	g_autofree char *got = hpci_json_describe(obj);
	g_autofree char *first = g_strndup(rest, strcspn(rest, "."));
	g_autofree char *whole = g_strndup(w->path, (gsize)(rest - w->path) - 1);

	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s: expected an "
			       "object with the key '%s', got %s; --set reaches members of "
			       "objects only, so set %s as a whole (%s:=JSON)", w->arg, w->p->file,
			       jpath, first, got, whole, whole);
}

/* The error for a key of PATH that obj, at jpath, does not have. */
static int no_key(const struct set_walk *w, const char *jpath, json_object *obj,
		  const char *rest)
{
	g_autofree char *key = g_strndup(rest, strcspn(rest, "."));
	g_autofree char *names = member_names(obj);

	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s has no key "
			       "'%s'%s (it has: %s)", w->arg, w->p->file, jpath, key,
			       w->removing && !strchr(rest, '.') ? " to remove" : "", names);
}

/* The error for a '*' of PATH, at jpath, that stood for no member of obj;
 * rest is PATH after it, NULL when it was the last key. */
static int no_member(const struct set_walk *w, const char *jpath, json_object *obj,
		     const char *rest)
{
	g_autofree char *names = member_names(obj);
	const char *last_dot = rest ? strrchr(rest, '.') : NULL;
	g_autofree char *needed = NULL;

	if (!rest)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s has no "
				       "members for '*' to stand for", w->arg, w->p->file, jpath);
	/* Only the keys on the way must be there, and the last one to remove it. */
	needed = last_dot && !w->removing ? g_strndup(rest, (gsize)(last_dot - rest))
					  : g_strdup(rest);
	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: no member of %s "
			       "has %s%s (members: %s); '*' stands for each member that has the "
			       "keys after it, so check them against the file", w->arg,
			       w->p->file, jpath, needed, w->removing ? " to remove" : "", names);
}

/* Sets, or removes, key of obj (at jpath), PATH's last key, n keys down. */
static int put(struct set_walk *w, json_object *obj, const char *jpath, const char *key,
	       guint n)
{
	g_autoptr(json_object) value = NULL;
	g_autofree char *text = NULL;
	g_autofree char *place = hpci_json_path_key(jpath, key);

	if (w->removing) {
		json_object_object_del(obj, key);
	} else {
		json_object *replaced = NULL;

		/* Each place its own copy, which a later option may change alone. */
		if (json_object_deep_copy(w->value, &value, NULL) < 0)
			g_error("out of memory copying JSON");
		/* A relative path is the current directory's; no member that
		 * holds a path is deeper than PATH_DEPTH. */
		if (n < PATH_DEPTH) {
			w->keys[n] = key;
			replaced = absolute_paths(value, w->keys, n + 1, w->cwd);
		}
		if (replaced) {
			json_object_put(value);
			value = replaced;
		}
		json_object_object_add(obj, key, json_object_get(value));
	}
	text = set_text(w->path, value);
	if (!w->text) {
		w->text = g_steal_pointer(&text);
		w->first = g_steal_pointer(&place);
	} else if (strcmp(text, w->text) != 0) {
		/* The record would not read back to what was set. */
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, SET_OPTION " '%s': %s: %s and %s "
				       "would get different values, as a relative path is made "
				       "absolute only where the schema holds a path; give it as an "
				       "absolute path", w->arg, w->p->file, w->first, place);
	}
	return 1;
}

static int walk(struct set_walk *w, json_object *obj, const char *jpath, guint n,
		const char *rest, bool wild);

/* walk() on from key of obj (at jpath), n keys down. */
static int walk_into(struct set_walk *w, json_object *obj, const char *jpath, guint n,
		     const char *key, const char *rest, bool wild)
{
	g_autofree char *child = hpci_json_path_key(jpath, key);

	if (n < PATH_DEPTH)
		w->keys[n] = key;
	return walk(w, json_object_object_get(obj, key), child, n + 1, rest, wild);
}

/* A '*' key: the rest of PATH (NULL when '*' was the last key) from each
 * member of obj on; at least one must take it unless a '*' above has others. */
static int walk_members(struct set_walk *w, json_object *obj, const char *jpath, guint n,
			const char *rest, bool wild)
{
	/* Copies: removing a member frees its key. */
	g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func(g_free);
	int count = 0, rc;

	json_object_object_foreach(obj, key, member) {
		(void)member;
		g_ptr_array_add(members, g_strdup(key));
	}
	for (guint i = 0; i < members->len; i++) {
		const char *name = g_ptr_array_index(members, i);

		rc = rest ? walk_into(w, obj, jpath, n, name, rest, true)
			  : put(w, obj, jpath, name, n);
		if (rc < 0)
			return rc;
		count += rc;
	}
	if (count == 0 && !wild)
		return no_member(w, jpath, obj, rest);
	return count;
}

/*
 * Applies w's option from obj on, which is at jpath, n keys down; rest is
 * what is left of PATH.  Returns how many places it set, or a negative errno.
 * Below a '*' (wild) an obj without the rest of PATH sets none, and is no
 * error: that '*' counts what its members took.
 */
static int walk(struct set_walk *w, json_object *obj, const char *jpath, guint n,
		const char *rest, bool wild)
{
	size_t first_len = strcspn(rest, ".");
	const char *key;

	if (!json_object_is_type(obj, json_type_object))
		return wild ? 0 : not_object(w, jpath, obj, rest);
	if (first_len == 1 && rest[0] == '*')
		return walk_members(w, obj, jpath, n, rest[1] ? rest + 2 : NULL, wild);
	key = longest_key(obj, rest);
	if (key && rest[strlen(key)])
		return walk_into(w, obj, jpath, n, key, rest + strlen(key) + 1, wild);
	if (key || (!rest[first_len] && !w->removing && may_create(w->keys, n)))
		return put(w, obj, jpath, key ? key : rest, n);   /* the last key, or a new one */
	return wild ? 0 : no_key(w, jpath, obj, rest);
}

/* Applies one option to root; *ret_text gets what it set (set_text()). */
static int apply_set(const struct matrix_parser *p, json_object *root, const char *arg,
		     const char *cwd, char **ret_text)
{
	g_auto(hpci_matrix_set) set = { 0 };
	g_autoptr(json_object) value = NULL;
	g_auto(set_walk) w = { 0 };
	int rc;

	if ((rc = hpci_matrix_set_parse(arg, &set)) < 0)
		return rc;
	if (!set.json)
		value = json_object_new_string(set.value);
	else if ((rc = hpci_json_parse(SET_OPTION, set.value, strlen(set.value), &value)) < 0)
		return rc;   /* hpci_matrix_set_parse() saw it parse */
	w.p = p;
	w.arg = arg;
	w.path = set.path;
	w.cwd = cwd;
	w.value = value;
	w.removing = json_object_is_type(value, json_type_null);
	if ((rc = walk(&w, root, "$", 0, set.path, false)) < 0)
		return rc;
	*ret_text = g_steal_pointer(&w.text);
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
