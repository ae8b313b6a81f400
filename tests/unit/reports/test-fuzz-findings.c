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
#include "report-html.h"
#include "report-junit.h"
#include "report-load.h"

#include <errno.h>
#include <limits.h>
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

static json_object *load(const char *name)
{
	g_autofree char *path = fixture_path("fuzz-report-load", name);
	json_object *report = NULL;

	if (hpci_report_load(path, &report) < 0)
		fail_msg("%s", hpci_error_message());
	return report;
}

/* The HTML, JUnit and diff of a report, which must all come out. */
static void render(json_object *report)
{
	const struct hpci_diff_thresholds t = { HPCI_DIFF_DEFAULT_PCT, HPCI_DIFF_DEFAULT_MS };
	g_autofree char *html = NULL, *xml = NULL;
	json_object *findings;

	assert_int_equal(hpci_report_html(report, NULL, ".", &html), 0);
	assert_non_null(strstr(html, "boot-chart"));
	assert_int_equal(hpci_report_junit(report, "/nonexistent", &xml), 0);
	findings = hpci_report_diff(report, report, &t);
	assert_int_equal(json_object_array_length(findings), 0);
	json_object_put(findings);
}

/* "boot_ms": 9e18 was signed overflow in the HTML chart (ms * 520): a time
 * no run can take reads as absent, like a negative one. */
static void test_huge_boot_ms(void **state)
{
	json_object *report = load("huge-boot-ms.json");
	json_object *cell = json_object_array_get_idx(hpci_report_cells(report), 0);

	(void)state;
	assert_int_equal(hpci_report_ms(cell, "timings.boot_ms"), -1);
	render(report);
	json_object_put(report);
}

/* online_ms INT64_MAX: the plug chart's scale and tick loop overflowed. */
static void test_huge_plug_ms(void **state)
{
	json_object *report = load("huge-plug-ms.json");
	json_object *cell = json_object_array_get_idx(hpci_report_cells(report), 0);
	json_object *plug = json_object_array_get_idx(hpci_report_array(cell, "timings.plugs"), 0);

	(void)state;
	assert_int_equal(hpci_report_ms(cell, "timings.boot_ms"), 15000);
	assert_int_equal(hpci_report_ms(plug, "request_ms"), 0);
	assert_int_equal(hpci_report_ms(plug, "online_ms"), -1);
	assert_int_equal(hpci_report_ms(plug, "seen_ms"), -1);
	render(report);
	json_object_put(report);
}

static void test_report_ms_bounds(void **state)
{
	g_autofree char *text = g_strdup_printf(
		"{ \"max\": %" G_GINT64_FORMAT ", \"over\": %" G_GINT64_FORMAT ", "
		"\"neg\": -5, \"zero\": 0, \"str\": \"7\" }",
		HPCI_REPORT_MS_MAX, HPCI_REPORT_MS_MAX + 1);
	json_object *o = json_tokener_parse(text);

	(void)state;
	assert_int_equal(hpci_report_ms(o, "max"), HPCI_REPORT_MS_MAX);
	assert_int_equal(hpci_report_ms(o, "over"), -1);
	assert_int_equal(hpci_report_ms(o, "neg"), -1);
	assert_int_equal(hpci_report_ms(o, "zero"), 0);
	assert_int_equal(hpci_report_ms(o, "str"), -1);
	json_object_put(o);
}

/* old_ms * --threshold-pct overflowed; past 64 bits the noise is all. */
static void test_diff_threshold_saturates(void **state)
{
	const struct hpci_diff_thresholds huge = { INT_MAX, 0 };
	const struct hpci_diff_thresholds def = { HPCI_DIFF_DEFAULT_PCT, HPCI_DIFF_DEFAULT_MS };

	(void)state;
	assert_false(hpci_diff_moved(HPCI_REPORT_MS_MAX, 0, &huge));
	assert_false(hpci_diff_moved(HPCI_REPORT_MS_MAX, HPCI_REPORT_MS_MAX / 2, &huge));
	assert_true(hpci_diff_moved(0, 1, &huge));
	assert_true(hpci_diff_moved(10000, 15000, &def));
	assert_false(hpci_diff_moved(10000, 11000, &def));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_buffer),
		cmocka_unit_test(test_duplicate_cell_id),
		cmocka_unit_test(test_duplicate_cell_id_small),
		cmocka_unit_test(test_huge_boot_ms),
		cmocka_unit_test(test_huge_plug_ms),
		cmocka_unit_test(test_report_ms_bounds),
		cmocka_unit_test(test_diff_threshold_saturates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
