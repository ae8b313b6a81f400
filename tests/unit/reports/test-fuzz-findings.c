/* SPDX-License-Identifier: MIT */
/* What the fuzz targets in tests/fuzz found in the report readers, each on
 * the input that found it (tests/fixtures/fuzz/TARGET/), and the buffer
 * entry point they use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "report-diff.h"
#include "report-load.h"

#include <errno.h>
#include <string.h>

static char *fixture_path(const char *target, const char *name)
{
	const char *dir = g_getenv("HPCI_FIXTURES");

	return g_build_filename(dir ? dir : "tests/fixtures", "fuzz", target, name, NULL);
}

static void assert_message(const char *expected)
{
	if (strcmp(hpci_error_message(), expected) != 0)
		fail_msg("error message\n  is:        %s\n  should be: %s", hpci_error_message(),
			 expected);
}

/* ---- report-load -------------------------------------------------------- */

static void test_load_buffer(void **state)
{
	static const char good[] = "{ \"schema\": 1, \"cells\": [ { \"id\": \"a\" } ] }\n";
	static const char nul[] = "{ \"schema\": 1, \"cells\": [] }\0 ";
	json_object *report = NULL;

	(void)state;
	assert_int_equal(hpci_report_load_buffer("mem.json", good, strlen(good), &report), 0);
	assert_int_equal(json_object_array_length(hpci_report_cells(report)), 1);
	json_object_put(report);
	report = NULL;
	/* the bytes count, not the C string: a NUL in them is not JSON */
	assert_int_equal(hpci_report_load_buffer("mem.json", nul, sizeof(nul) - 1, &report),
			 -EINVAL);
	assert_message("'mem.json' is not JSON: trailing data at byte 28");
	assert_null(report);
}

/* Two cells with one id: diff matched the second against the first and
 * found a report regressed against itself.  The loader refuses it. */
static void test_duplicate_cell_id(void **state)
{
	g_autofree char *path = fixture_path("fuzz-report-load", "duplicate-cell-id.json");
	g_autofree char *expected = NULL;
	json_object *report = NULL;

	(void)state;
	assert_int_equal(hpci_report_load(path, &report), -EINVAL);
	expected = g_strdup_printf("'%s' is not a hotplug-ci report: $.cells[3] has the id of "
				   "$.cells[1], '%s'", path,
				   "topology=1s4c,smi=full,firmware=debug,qemu=patched,count=1,"
				   "ops=each");
	assert_message(expected);
	assert_null(report);
}

static void test_duplicate_cell_id_small(void **state)
{
	static const char text[] =
		"{ \"schema\": 1, \"cells\": [ { \"id\": \"a\", \"verdict\": \"pass\" },\n"
		"  { \"id\": \"b\" }, { \"id\": \"a\", \"verdict\": \"fail\" } ] }\n";
	json_object *report = NULL;

	(void)state;
	assert_int_equal(hpci_report_load_buffer("dup.json", text, strlen(text), &report),
			 -EINVAL);
	assert_message("'dup.json' is not a hotplug-ci report: $.cells[2] has the id of "
		       "$.cells[0], 'a'");
	assert_null(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_buffer),
		cmocka_unit_test(test_duplicate_cell_id),
		cmocka_unit_test(test_duplicate_cell_id_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
