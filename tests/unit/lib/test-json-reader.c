/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/json-reader: the size cap, strict parsing and the
 * JSON-path messages of the typed accessors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "fsutil.h"
#include "json-reader.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_message(const char *want)
{
	if (strcmp(hpci_error_message(), want) != 0)
		fail_msg("message\n    %s\nwant\n    %s", hpci_error_message(), want);
}

static json_object *parse_ok(const char *text)
{
	json_object *root = NULL;

	if (hpci_json_parse("t.json", text, strlen(text), &root) < 0)
		fail_msg("unexpected error: %s", hpci_error_message());
	return root;
}

/* An endless device must fail at once, naming the file, without reading it. */
static void test_dev_zero_refused_at_once(void **state)
{
	g_autofree char *data = NULL;
	gint64 start = g_get_monotonic_time();
	gsize len = 0;

	(void)state;
	hpci_error_clear();
	assert_int_equal(hpci_json_read_bytes("/dev/zero", HPCI_JSON_MAX_BYTES, &data, &len),
			 -EINVAL);
	assert_true(g_get_monotonic_time() - start < G_USEC_PER_SEC);
	assert_null(data);
	expect_message("/dev/zero: is a character device, not a regular file; give the path of "
		       "a JSON file");
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_INPUT);
}

/* A FIFO with no writer must not block the open. */
static void test_fifo_and_directory_refused(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("hpci-json-XXXXXX", NULL);
	g_autofree char *fifo = g_build_filename(dir, "pipe.json", NULL);
	g_autofree char *want = g_strdup_printf("%s: is a FIFO, not a regular file; give the "
						"path of a JSON file", fifo);
	g_autofree char *want_dir = g_strdup_printf("%s: is a directory, not a regular file; "
						    "give the path of a JSON file", dir);
	g_autoptr(json_object) root = NULL;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(hpci_json_load(fifo, &root), -EINVAL);
	expect_message(want);
	assert_int_equal(hpci_json_load(dir, &root), -EINVAL);
	expect_message(want_dir);
	assert_null(root);
	assert_int_equal(hpci_rm_rf(dir), 0);
}

static void test_size_cap(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("hpci-json-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "big.json", NULL);
	g_autofree char *want = g_strdup_printf("%s: the file has 11 bytes; a JSON input may "
						"have at most 10", path);
	g_autofree char *data = NULL;
	gsize len = 0;

	(void)state;
	assert_true(g_file_set_contents(path, "[1,2,3,4,5]", -1, NULL));
	assert_int_equal(hpci_json_read_bytes(path, 10, &data, &len), -EFBIG);
	assert_null(data);
	assert_int_equal(len, 11);
	expect_message(want);
	assert_int_equal(hpci_json_read_bytes(path, 11, &data, &len), 0);
	assert_int_equal(len, 11);
	assert_string_equal(data, "[1,2,3,4,5]");
	assert_int_equal(hpci_rm_rf(dir), 0);
}

static void test_missing_file(void **state)
{
	g_autoptr(json_object) root = NULL;

	(void)state;
	assert_int_equal(hpci_json_load("/nonexistent/x.json", &root), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "cannot read '/nonexistent/x.json': "));
}

static void test_strict_syntax(void **state)
{
	static const char nul[] = "{\"a\":1}\n\0{";
	json_object *root = NULL;

	(void)state;
	assert_int_equal(hpci_json_parse("t.json", "{\"a\":1}\n{}", 10, &root), -EINVAL);
	expect_message("t.json: invalid JSON near line 2: trailing text after the top-level "
		       "value");
	assert_int_equal(hpci_json_parse("t.json", "1 2", 3, &root), -EINVAL);
	expect_message("t.json: invalid JSON near line 1: trailing text after the top-level "
		       "value");
	assert_int_equal(hpci_json_parse("t.json", "{\"a\":1,}", 8, &root), -EINVAL);
	expect_message("t.json: invalid JSON near line 1: unexpected character");
	assert_int_equal(hpci_json_parse("t.json", "{\"a\":\n[1,", 9, &root), -EINVAL);
	expect_message("t.json: invalid JSON near line 2: unexpected end of data");
	assert_int_equal(hpci_json_parse("t.json", nul, sizeof(nul) - 1, &root), -EINVAL);
	expect_message("t.json: invalid JSON near line 2: NUL byte in the file");
	assert_null(root);
}

static void test_path_messages(void **state)
{
	g_autoptr(json_object) root = parse_ok("{\"a\":{\"b\":[1,2,{\"c\":\"2\",\"n\":0,"
					       "\"big\":5000,\"x y\":true}]}}");
	json_object *a = NULL, *b = NULL, *e;
	unsigned u = 0;
	bool flag = false;
	const char *s = NULL;

	(void)state;
	assert_true(json_object_object_get_ex(root, "a", &a));
	assert_true(json_object_object_get_ex(a, "b", &b));
	e = json_object_array_get_idx(b, 2);
	assert_int_equal(hpci_json_req_uint("f.json", "$.a.b[2]", e, "c", 10, &u), -EINVAL);
	expect_message("f.json: $.a.b[2].c: expected a positive integer, got string \"2\"");
	assert_int_equal(hpci_json_req_uint("f.json", "$.a.b[2]", e, "n", 10, &u), -EINVAL);
	expect_message("f.json: $.a.b[2].n: expected a positive integer, got number 0");
	assert_int_equal(hpci_json_opt_uint("f.json", "$.a.b[2]", e, "big", 1024, &u), -EINVAL);
	expect_message("f.json: $.a.b[2].big: big 5000 exceeds the limit of 1024");
	assert_int_equal(hpci_json_req_string("f.json", "$.a.b[2]", e, "d", &s), -EINVAL);
	expect_message("f.json: $.a.b[2]: missing required key 'd'");
	assert_int_equal(hpci_json_opt_string("f.json", "$.a.b[2]", e, "d", &s), 0);
	assert_int_equal(hpci_json_opt_bool("f.json", "$.a.b[2]", e, "x y", &flag), 1);
	assert_true(flag);
	/* A member and its path; JSON null is a member, with a NULL value. */
	{
		g_autoptr(json_object) o = parse_ok("{\"z\":null,\"x y\":1}");
		g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL;
		json_object *v = o;

		assert_true(hpci_json_child(o, "$.o", "z", &v, &p1));
		assert_null(v);
		assert_string_equal(p1, "$.o.z");
		assert_true(hpci_json_child(o, "$.o", "x y", &v, &p2));
		assert_int_equal(json_object_get_int(v), 1);
		assert_string_equal(p2, "$.o[\"x y\"]");
		assert_false(hpci_json_child(o, "$.o", "w", &v, &p3));
		assert_string_equal(p3, "$.o.w");
	}
	/* Read, a required member is 0, as every function but opt_* returns. */
	flag = false;
	assert_int_equal(hpci_json_req_bool("f.json", "$.a.b[2]", e, "x y", &flag), 0);
	assert_true(flag);
	assert_int_equal(hpci_json_req_uint("f.json", "$.a.b[2]", e, "big", 5000, &u), 0);
	assert_int_equal(u, 5000);
	assert_int_equal(hpci_json_req_string("f.json", "$.a.b[2]", e, "c", &s), 0);
	assert_string_equal(s, "2");
	assert_int_equal(hpci_json_opt_string("f.json", "$.a.b[2]", e, "x y", &s), -EINVAL);
	expect_message("f.json: $.a.b[2][\"x y\"]: expected a string, got boolean true");
	assert_int_equal(hpci_json_object("f.json", "$.a.b", b), -EINVAL);
	expect_message("f.json: $.a.b: expected an object, got array");
	assert_int_equal(hpci_json_keys("f.json", "$.a", a, (const char *const[]){ "c", NULL }),
			 -EINVAL);
	expect_message("f.json: $.a: unknown key 'b'; allowed keys are c");
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_INPUT);
}

static void test_paths_and_describe(void **state)
{
	g_autoptr(json_object) long_string = json_object_new_string(
		"0123456789012345678901234567890123456789tail");
	g_autofree char *p1 = hpci_json_path_key("$.axes", "small-1.x_y+z");
	g_autofree char *p2 = hpci_json_path_key("$.axes", "a\"b");
	g_autofree char *p3 = hpci_json_path_index("$.expect", 3);
	g_autofree char *d = hpci_json_describe(long_string);
	g_autofree char *n = hpci_json_describe(NULL);

	(void)state;
	assert_string_equal(p1, "$.axes.small-1.x_y+z");
	assert_string_equal(p2, "$.axes[\"a\\\"b\"]");
	assert_string_equal(p3, "$.expect[3]");
	assert_string_equal(d, "string \"0123456789012345678901234567890123456789\"...");
	assert_string_equal(n, "null");
	assert_false(hpci_json_name_ok("", "-"));
	assert_false(hpci_json_name_ok("a/b", "-"));
	assert_true(hpci_json_name_ok("a-b", "-"));
}

static void test_string_list_and_abs_path(void **state)
{
	g_autoptr(json_object) root = parse_ok("{\"l\":[\"a\",\"b\"],\"bad\":[\"a\",1],"
					       "\"s\":\"x\",\"rel\":\"bin/qemu\"}");
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autofree char *abs = NULL;

	(void)state;
	assert_int_equal(hpci_json_opt_string_list("f.json", "$", root, "l", &list), 0);
	assert_int_equal(list->len, 2);
	assert_string_equal(g_ptr_array_index(list, 1), "b");
	assert_int_equal(hpci_json_opt_string_list("f.json", "$", root, "absent", &none), 0);
	assert_int_equal(none->len, 0);
	assert_int_equal(hpci_json_opt_string_list("f.json", "$", root, "s", &none), -EINVAL);
	expect_message("f.json: $.s: expected an array of strings, got string");
	assert_int_equal(hpci_json_opt_string_list("f.json", "$", root, "bad", &none), -EINVAL);
	expect_message("f.json: $.bad[1]: expected a string, got number 1");
	assert_int_equal(hpci_json_req_abs_path("f.json", "$", root, "rel", &abs), -EINVAL);
	expect_message("f.json: $.rel: 'bin/qemu' is not an absolute path; give the full path");
	assert_null(abs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_zero_refused_at_once),
		cmocka_unit_test(test_fifo_and_directory_refused),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_strict_syntax),
		cmocka_unit_test(test_path_messages),
		cmocka_unit_test(test_paths_and_describe),
		cmocka_unit_test(test_string_list_and_abs_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
