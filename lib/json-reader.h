/* SPDX-License-Identifier: MIT */
#ifndef HPCI_JSON_READER_H
#define HPCI_JSON_READER_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

/*
 * Ownership of json-c objects: every reference a function takes is declared
 * g_autoptr(json_object) and released on every path; json_object_put() is
 * never called by hand.
 */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_tokener, json_tokener_free)

/*
 * The one reader of the tree's input files (matrices, firmware descriptors,
 * image recipes): strict JSON from a size-capped regular file or a buffer,
 * and typed access whose every mistake is one HPCI_ERR_INPUT error naming
 * the file, the JSON path and the fix:
 *   matrix/smoke.json: $.axes.topology.small.cores: expected a positive integer, got string "2"
 * Functions return 0 (opt_*: 1 when the member was read, 0 when absent) or
 * -EINVAL with the error recorded.  json-c itself does not report duplicate
 * keys (the last one wins), so neither does the reader.
 */
#define HPCI_JSON_MAX_BYTES (16u << 20)

/*
 * Reads a regular file of at most `max` bytes (NUL-terminated).  A device,
 * FIFO or directory is refused without reading it (-EINVAL); a larger file
 * is refused with -EFBIG and *ret_len set to its size, so a caller may word
 * the error its own way; a missing file is -ENOENT ("cannot read '<path>': ..."),
 * one that grows while it is read -EIO.
 */
int hpci_json_read_bytes(const char *path, gsize max, char **ret_data, gsize *ret_len);

/*
 * Strict JSON: no comments, no trailing commas, nothing after the value (a
 * NUL byte included).  On a syntax error returns -EINVAL with the line and
 * a description of the problem and records nothing; -ENOMEM is recorded.
 */
int hpci_json_parse_strict(const char *data, gsize len, json_object **ret, size_t *ret_line,
			   const char **ret_problem);

/* Same, recording "<file>: invalid JSON near line N: <problem>". */
int hpci_json_parse(const char *file, const char *data, gsize len, json_object **ret);

/* hpci_json_read_bytes() (at most HPCI_JSON_MAX_BYTES) + hpci_json_parse(). */
int hpci_json_load(const char *file, json_object **ret);

/* ---- messages ---- */

/* Records "<file>: <path>: <problem>" as an HPCI_ERR_INPUT error; -EINVAL. */
int hpci_json_fail(const char *file, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* "expected <expected>, got <describe(v)>". */
int hpci_json_type_error(const char *file, const char *path, const char *expected, json_object *v);
/* "missing required key '<key>'". */
int hpci_json_missing(const char *file, const char *path, const char *key);

/* "array", "string \"2\"", "number 0", "boolean true", "null". */
char *hpci_json_describe(json_object *v);
/* $.a.b for plain keys, $.a["b c"] for the others; $.a[2]. */
char *hpci_json_path_key(const char *parent, const char *key);
char *hpci_json_path_index(const char *parent, size_t index);
/* Non-empty, and only ASCII letters, digits and the characters of `extra`. */
bool hpci_json_name_ok(const char *s, const char *extra);

/* ---- typed access ---- */

int hpci_json_object(const char *file, const char *path, json_object *v);
int hpci_json_array(const char *file, const char *path, json_object *v);
/* The object at `path` may only hold the keys in `allowed` (NULL-terminated). */
int hpci_json_keys(const char *file, const char *path, json_object *obj,
		   const char *const *allowed);
int hpci_json_string(const char *file, const char *path, json_object *v, const char **ret);
int hpci_json_bool(const char *file, const char *path, json_object *v, bool *ret);
/* A positive integer up to `limit`; `what` names it in the limit message. */
int hpci_json_uint(const char *file, const char *path, const char *what, json_object *v,
		   unsigned limit, unsigned *ret);

/* Whether the object `obj` at `path` has the member `key`, and *ret its value
 * (NULL for JSON null); *ret_path gets the member's path either way. */
bool hpci_json_child(json_object *obj, const char *path, const char *key, json_object **ret,
		     char **ret_path);

/* Members of the object `obj` at `path`: opt_* return 1 when read, 0 when absent. */
int hpci_json_opt_string(const char *file, const char *path, json_object *obj, const char *key,
			 const char **ret);
int hpci_json_opt_bool(const char *file, const char *path, json_object *obj, const char *key,
		       bool *ret);
int hpci_json_opt_uint(const char *file, const char *path, json_object *obj, const char *key,
		       unsigned limit, unsigned *ret);
/* An optional array of strings; *ret gets an empty array when it is absent. */
int hpci_json_opt_string_list(const char *file, const char *path, json_object *obj,
			      const char *key, GPtrArray **ret);
int hpci_json_req_string(const char *file, const char *path, json_object *obj, const char *key,
			 const char **ret);
int hpci_json_req_bool(const char *file, const char *path, json_object *obj, const char *key,
		       bool *ret);
int hpci_json_req_uint(const char *file, const char *path, json_object *obj, const char *key,
		       unsigned limit, unsigned *ret);
/* A required string that is an absolute path, copied to *ret. */
int hpci_json_req_abs_path(const char *file, const char *path, json_object *obj,
			   const char *key, char **ret);

/* Lenient lookups for documents the tree did not write (no error recorded). */
json_object *hpci_json_member(json_object *obj, const char *key);
const char *hpci_json_member_string(json_object *obj, const char *key);
bool hpci_json_array_has_string(json_object *array, const char *s);

#endif
