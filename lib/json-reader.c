/* SPDX-License-Identifier: MIT */
/* The tree's one JSON reader: size-capped strict parsing and typed access
 * with JSON-path messages (lib/json-reader.h). */
#include "json-reader.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ---------------------------------------------------------------- */

static const char *file_type_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* A file descriptor closed when it goes out of scope (g_autofd needs glib 2.76). */
typedef int hpci_fd;

static void fd_close(hpci_fd fd)
{
	close(fd);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC(hpci_fd, fd_close, -1)

int hpci_json_read_bytes(const char *path, gsize max, char **ret_data, gsize *ret_len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	g_auto(hpci_fd) fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	g_autofree char *data = NULL;
	struct stat st;
	gsize len = 0;

	if (fd < 0) {
		int err = errno;

		return hpci_error_kind(err == ENOENT ? HPCI_ERR_INPUT : HPCI_ERR_HOST,
				       err == ENOENT ? ENOENT : EIO, "cannot read '%s': %s", path,
				       g_strerror(err));
	}
	if (fstat(fd, &st) < 0)
		return hpci_error_errno(errno, "cannot read '%s'", path);
	if (!S_ISREG(st.st_mode))
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s: is %s, not a regular file; "
				       "give the path of a JSON file", path,
				       file_type_name(st.st_mode));
	if ((guint64)st.st_size > max) {
		*ret_len = (gsize)st.st_size;
		return hpci_error_kind(HPCI_ERR_INPUT, EFBIG, "%s: the file has %" G_GUINT64_FORMAT
				       " bytes; a JSON input may have at most %" G_GSIZE_FORMAT,
				       path, (guint64)st.st_size, max);
	}
	/* One byte more than fstat said, to notice a file that grows meanwhile. */
	data = g_malloc((gsize)st.st_size + 2);
	while (len <= (gsize)st.st_size) {
		ssize_t n = read(fd, data + len, (gsize)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hpci_error_errno(errno, "cannot read '%s'", path);
		if (n == 0)
			break;
		len += (gsize)n;
	}
	if (len > (gsize)st.st_size)
		return hpci_error_kind(HPCI_ERR_INPUT, EIO, "%s: the file grew while it was read; "
				       "read it when nothing writes to it", path);
	data[len] = '\0';
	*ret_data = g_steal_pointer(&data);
	*ret_len = len;
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

/* Whether data[0..end) is one whole JSON value: json-c reports text after
 * the top-level value as an "unexpected character" at `end`. */
static bool whole_value(const char *data, size_t end)
{
	g_autoptr(json_tokener) tok = json_tokener_new();
	g_autoptr(json_object) v = NULL;

	if (!tok || end == 0)
		return false;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	v = json_tokener_parse_ex(tok, data, (int)end);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		v = json_tokener_parse_ex(tok, "", 1);
	return json_tokener_get_error(tok) == json_tokener_success;
}

#define TRAILING "trailing text after the top-level value"

int hpci_json_parse_strict(const char *data, gsize len, json_object **ret, size_t *ret_line,
			   const char **ret_problem)
{
	g_autoptr(json_tokener) tok = json_tokener_new();
	g_autoptr(json_object) root = NULL;
	enum json_tokener_error jerr;
	const char *problem;
	size_t end, line = 1;

	if (!tok)
		return hpci_error(ENOMEM, "cannot allocate a JSON parser");
	if (len >= INT32_MAX)
		return hpci_error_kind(HPCI_ERR_INPUT, EFBIG, "%" G_GSIZE_FORMAT " bytes of JSON "
				       "are more than the parser takes", len);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* The terminating NUL goes in too, so json-c knows the input ends. */
	root = json_tokener_parse_ex(tok, data, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = MIN(json_tokener_get_parse_end(tok), len);
	problem = json_tokener_error_desc(jerr);
	if (jerr == json_tokener_success) {
		/* json-c stops quietly at a NUL byte inside the file. */
		for (size_t i = end; i < len; i++) {
			if (!g_ascii_isspace(data[i])) {
				end = i;
				jerr = json_tokener_error_parse_unexpected;
				problem = data[i] ? TRAILING : "NUL byte in the file";
				break;
			}
		}
	} else if (jerr == json_tokener_continue) {
		problem = "unexpected end of data";
	} else if (jerr == json_tokener_error_parse_unexpected && whole_value(data, end)) {
		problem = TRAILING;
	}
	if (jerr != json_tokener_success) {
		for (size_t i = 0; i < end; i++)
			line += data[i] == '\n';
		*ret_line = line;
		*ret_problem = problem;
		return -EINVAL;
	}
	*ret = g_steal_pointer(&root);
	return 0;
}

int hpci_json_parse(const char *file, const char *data, gsize len, json_object **ret)
{
	const char *problem = NULL;
	size_t line = 0;
	int rc = hpci_json_parse_strict(data, len, ret, &line, &problem);

	if (rc == -EINVAL)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s: invalid JSON near line %zu: %s",
				       file, line, problem);
	return rc;
}

int hpci_json_load(const char *file, json_object **ret)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	int rc;

	if ((rc = hpci_json_read_bytes(file, HPCI_JSON_MAX_BYTES, &data, &len)) < 0)
		return rc;
	return hpci_json_parse(file, data, len, ret);
}

/* ---- messages ------------------------------------------------------------- */

int hpci_json_fail(const char *file, const char *path, const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s: %s: %s", file, path, problem);
}

char *hpci_json_describe(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return g_strdup("null");
	case json_type_boolean:
		return g_strdup_printf("boolean %s", json_object_get_boolean(v) ? "true" : "false");
	case json_type_int:
	case json_type_double:
		return g_strdup_printf("number %s",
				       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	case json_type_string: {
		const char *s = json_object_get_string(v);
		gsize len = strlen(s);
		g_autofree char *head = g_strndup(s, MIN(len, 40));
		g_autofree char *escaped = g_strescape(head, NULL);

		return g_strdup_printf("string \"%s\"%s", escaped, len > 40 ? "..." : "");
	}
	case json_type_object:
		return g_strdup("object");
	case json_type_array:
		return g_strdup("array");
	}
	return g_strdup("unknown");
}

int hpci_json_type_error(const char *file, const char *path, const char *expected, json_object *v)
{
	g_autofree char *got = hpci_json_describe(v);

	return hpci_json_fail(file, path, "expected %s, got %s", expected, got);
}

int hpci_json_missing(const char *file, const char *path, const char *key)
{
	return hpci_json_fail(file, path, "missing required key '%s'", key);
}

bool hpci_json_name_ok(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!g_ascii_isalnum(*s) && !strchr(extra, *s))
			return false;
	}
	return true;
}

char *hpci_json_path_key(const char *parent, const char *key)
{
	g_autofree char *escaped = NULL;

	if (hpci_json_name_ok(key, "._+-"))
		return g_strdup_printf("%s.%s", parent, key);
	escaped = g_strescape(key, NULL);
	return g_strdup_printf("%s[\"%s\"]", parent, escaped);
}

char *hpci_json_path_index(const char *parent, size_t index)
{
	return g_strdup_printf("%s[%zu]", parent, index);
}

/* ---- typed access --------------------------------------------------------- */

int hpci_json_object(const char *file, const char *path, json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return hpci_json_type_error(file, path, "an object", v);
	return 0;
}

int hpci_json_array(const char *file, const char *path, json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return hpci_json_type_error(file, path, "an array", v);
	return 0;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++) {
		if (strcmp(*list, s) == 0)
			return true;
	}
	return false;
}

int hpci_json_keys(const char *file, const char *path, json_object *obj,
		   const char *const *allowed)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!in_list(allowed, key)) {
			g_autofree char *list = g_strjoinv(", ", (char **)allowed);
			g_autofree char *escaped = g_strescape(key, NULL);

			return hpci_json_fail(file, path, "unknown key '%s'; allowed keys are %s",
					      escaped, list);
		}
	}
	return 0;
}

int hpci_json_string(const char *file, const char *path, json_object *v, const char **ret)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return hpci_json_type_error(file, path, "a string", v);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return hpci_json_fail(file, path, "the string contains a NUL character; remove it");
	*ret = s;
	return 0;
}

int hpci_json_bool(const char *file, const char *path, json_object *v, bool *ret)
{
	if (!json_object_is_type(v, json_type_boolean))
		return hpci_json_type_error(file, path, "a boolean", v);
	*ret = json_object_get_boolean(v);
	return 0;
}

int hpci_json_uint(const char *file, const char *path, const char *what, json_object *v,
		   unsigned limit, unsigned *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return hpci_json_type_error(file, path, "a positive integer", v);
	n = json_object_get_int64(v);
	if (n <= 0)
		return hpci_json_type_error(file, path, "a positive integer", v);
	if ((uint64_t)n > limit)
		return hpci_json_fail(file, path, "%s %s exceeds the limit of %u", what,
				      json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
				      limit);
	*ret = (unsigned)n;
	return 0;
}

bool hpci_json_child(json_object *obj, const char *path, const char *key, json_object **ret,
		     char **ret_path)
{
	*ret_path = hpci_json_path_key(path, key);
	return json_object_object_get_ex(obj, key, ret);
}

/*
 * Converts one member's value; `path` is the member's.  One signature for
 * the typed readers, so looking a member up and naming its path is done once
 * (opt_member) for all of them.
 */
typedef int (*convert_fn)(const char *file, const char *path, const char *key, json_object *v,
			  unsigned limit, void *ret);

static int convert_string(const char *file, const char *path, const char *key, json_object *v,
			  unsigned limit, void *ret)
{
	(void)key;
	(void)limit;
	return hpci_json_string(file, path, v, ret);
}

static int convert_bool(const char *file, const char *path, const char *key, json_object *v,
			unsigned limit, void *ret)
{
	(void)key;
	(void)limit;
	return hpci_json_bool(file, path, v, ret);
}

static int convert_uint(const char *file, const char *path, const char *key, json_object *v,
			unsigned limit, void *ret)
{
	return hpci_json_uint(file, path, key, v, limit, ret);
}

/* 1 when `key` is in `obj` and converted, 0 when it is absent. */
static int opt_member(const char *file, const char *path, json_object *obj, const char *key,
		      convert_fn convert, unsigned limit, void *ret)
{
	g_autofree char *kpath = NULL;
	json_object *v;
	int rc;

	if (!hpci_json_child(obj, path, key, &v, &kpath))
		return 0;
	if ((rc = convert(file, kpath, key, v, limit, ret)) < 0)
		return rc;
	return 1;
}

/* Same, and absent is an error; 0 when converted. */
static int req_member(const char *file, const char *path, json_object *obj, const char *key,
		      convert_fn convert, unsigned limit, void *ret)
{
	int rc = opt_member(file, path, obj, key, convert, limit, ret);

	if (rc == 0)
		return hpci_json_missing(file, path, key);
	return rc < 0 ? rc : 0;
}

int hpci_json_opt_string(const char *file, const char *path, json_object *obj, const char *key,
			 const char **ret)
{
	return opt_member(file, path, obj, key, convert_string, 0, ret);
}

int hpci_json_opt_bool(const char *file, const char *path, json_object *obj, const char *key,
		       bool *ret)
{
	return opt_member(file, path, obj, key, convert_bool, 0, ret);
}

int hpci_json_opt_uint(const char *file, const char *path, json_object *obj, const char *key,
		       unsigned limit, unsigned *ret)
{
	return opt_member(file, path, obj, key, convert_uint, limit, ret);
}

int hpci_json_opt_string_list(const char *file, const char *path, json_object *obj,
			      const char *key, GPtrArray **ret)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *kpath = NULL;
	json_object *v;
	const char *s;
	int rc;

	if (hpci_json_child(obj, path, key, &v, &kpath)) {
		if (!json_object_is_type(v, json_type_array))
			return hpci_json_fail(file, kpath, "expected an array of strings, got %s",
					      json_type_to_name(json_object_get_type(v)));
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			g_autofree char *ipath = hpci_json_path_index(kpath, i);

			if ((rc = hpci_json_string(file, ipath, json_object_array_get_idx(v, i),
						   &s)) < 0)
				return rc;
			g_ptr_array_add(list, g_strdup(s));
		}
	}
	*ret = g_steal_pointer(&list);
	return 0;
}

int hpci_json_req_string(const char *file, const char *path, json_object *obj, const char *key,
			 const char **ret)
{
	return req_member(file, path, obj, key, convert_string, 0, ret);
}

int hpci_json_req_bool(const char *file, const char *path, json_object *obj, const char *key,
		       bool *ret)
{
	return req_member(file, path, obj, key, convert_bool, 0, ret);
}

int hpci_json_req_uint(const char *file, const char *path, json_object *obj, const char *key,
		       unsigned limit, unsigned *ret)
{
	return req_member(file, path, obj, key, convert_uint, limit, ret);
}

int hpci_json_req_abs_path(const char *file, const char *path, json_object *obj,
			   const char *key, char **ret)
{
	const char *s;
	int rc;

	if ((rc = hpci_json_req_string(file, path, obj, key, &s)) < 0)
		return rc;
	if (!g_path_is_absolute(s)) {
		g_autofree char *kpath = hpci_json_path_key(path, key);

		return hpci_json_fail(file, kpath, "'%s' is not an absolute path; give the full "
				      "path", s);
	}
	*ret = g_strdup(s);
	return 0;
}

/* ---- lenient lookups ------------------------------------------------------ */

json_object *hpci_json_member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

const char *hpci_json_member_string(json_object *obj, const char *key)
{
	json_object *v = hpci_json_member(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool hpci_json_array_has_string(json_object *array, const char *s)
{
	for (size_t i = 0; json_object_is_type(array, json_type_array) &&
			   i < json_object_array_length(array); i++) {
		json_object *e = json_object_array_get_idx(array, i);

		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), s) == 0)
			return true;
	}
	return false;
}
