/* SPDX-License-Identifier: MIT */
/* The `report` verbs: merge, junit, html and diff, on the recorded reports in
 * tests/fixtures/reports/ (full: an interrupted six-cell run; shard-1 and
 * shard-2: the same matrix split in two; retry: the cell full did not run;
 * attempts-1 and attempts-2: shards 1/2 and 2/2 of it written with attempts
 * and a "run", holding flaky and infra-error cells), through the library and
 * through the hotplug-ci binary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "manifest.h"
#include "report-diff.h"
#include "report-html.h"
#include "report-junit.h"
#include "report-merge.h"

#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <stdbool.h>
#include <string.h>

#define C1 "topology=1s4c,smi=full,firmware=debug,qemu=system,count=1,ops=each"
#define C2 "topology=1s4c,smi=full,firmware=debug,qemu=system,count=1,ops=unplug"
#define C3 "topology=1s4c,smi=full,firmware=debug,qemu=patched,count=1,ops=each"
#define C4 "topology=1s4c,smi=full,firmware=debug,qemu=patched,count=all,ops=each"
#define C5 "topology=1s4c,smi=hotplug-off,firmware=debug,qemu=system,count=1,ops=each"
#define C6 "topology=1s4c,smi=hotplug-off,firmware=debug,qemu=patched,count=1,ops=each"
static const char *const matrix_order[] = { C1, C2, C3, C4, C5, C6 };

/* ---- helpers ------------------------------------------------------------ */

static char *fixture(const char *rel)
{
	const char *dir = g_getenv("HPCI_FIXTURES");

	return g_build_filename(dir ? dir : "tests/fixtures", "reports", rel, NULL);
}

static json_object *load_fixture(const char *rel)
{
	g_autofree char *path = fixture(rel);
	json_object *report = NULL;

	if (hpci_report_load(path, &report) < 0)
		fail_msg("%s", hpci_error_message());
	return report;
}

static json_object *cell_by_id(json_object *report, const char *id)
{
	json_object *cells = hpci_report_cells(report);

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (strcmp(hpci_json_get_string(cell, "id"), id) == 0)
			return cell;
	}
	fail_msg("no cell '%s'", id);
	return NULL;
}

static void set_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

static void set_boot_ms(json_object *cell, gint64 ms)
{
	json_object *timings = NULL;

	assert_true(json_object_object_get_ex(cell, "timings", &timings));
	json_object_object_add(timings, "boot_ms", json_object_new_int64(ms));
}

static char *write_json(const char *dir, const char *name, json_object *o)
{
	char *path = g_build_filename(dir, name, NULL);
	g_autofree char *parent = g_path_get_dirname(path);

	assert_int_equal(hpci_mkdir_p(parent, 0755), 0);
	assert_int_equal(hpci_json_write_file(path, o), 0);
	return path;
}

static char *tmp_dir(void)
{
	char *dir = g_dir_make_tmp("hpci-report-tools-XXXXXX", NULL);

	assert_non_null(dir);
	return dir;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not found in:\n%s", needle, haystack);
}

static char *xpath_string(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlChar *value;
	char *copy;

	if (!result)
		fail_msg("bad XPath '%s'", expr);
	value = xmlXPathCastToString(result);
	copy = g_strdup((const char *)value);
	xmlFree(value);
	xmlXPathFreeObject(result);
	xmlXPathFreeContext(ctx);
	return copy;
}

static long xpath_count(xmlDocPtr doc, const char *expr)
{
	g_autofree char *count_expr = g_strdup_printf("count(%s)", expr);
	g_autofree char *value = xpath_string(doc, count_expr);

	return strtol(value, NULL, 10);
}

#define BREACH_EVIDENCE "the guest's token HPCI-TOKEN 5e1f came from SMM on CPU 1 " \
	"(SMBASE 0x30000)"

/* full with C1 an unexpected breach (hang-smm before), C2 a breach a
 * damaged report calls a known issue, and C3 the positive control's
 * expected breach. */
static json_object *load_breach_report(void)
{
	json_object *report = load_fixture("full/report.json");
	json_object *expected = NULL;

	set_string(cell_by_id(report, C1), "outcome", "breach");
	set_string(cell_by_id(report, C1), "evidence", BREACH_EVIDENCE "\nsecond line");
	set_string(cell_by_id(report, C2), "outcome", "breach");
	set_string(cell_by_id(report, C3), "outcome", "breach");
	assert_true(json_object_object_get_ex(cell_by_id(report, C3), "expected", &expected));
	set_string(expected, "outcome", "breach");
	return report;
}

/* ---- reading reports ---------------------------------------------------- */

static void test_load_rejects_what_is_not_a_report(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *missing = g_build_filename(dir, "missing.json", NULL);
	g_autofree char *not_json = g_build_filename(dir, "not.json", NULL);
	g_autofree char *no_schema = g_build_filename(dir, "schema.json", NULL);
	g_autofree char *no_cells = g_build_filename(dir, "cells.json", NULL);
	json_object *report = NULL;

	(void)state;
	assert_int_equal(hpci_report_load(missing, &report), -ENOENT);
	assert_contains(hpci_error_message(), missing);
	assert_int_equal(hpci_write_file(not_json, "{ \"schema\": 1, ", -1), 0);
	assert_int_equal(hpci_report_load(not_json, &report), -EINVAL);
	assert_contains(hpci_error_message(), "is not JSON");
	assert_contains(hpci_error_message(), not_json);
	assert_int_equal(hpci_write_file(no_schema, "{ \"cells\": [] }\n", -1), 0);
	assert_int_equal(hpci_report_load(no_schema, &report), -EINVAL);
	assert_contains(hpci_error_message(), "is not a hotplug-ci report");
	assert_int_equal(hpci_write_file(no_cells, "{ \"schema\": 1 }\n", -1), 0);
	assert_int_equal(hpci_report_load(no_cells, &report), -EINVAL);
	assert_contains(hpci_error_message(), "no \"cells\" array");
	assert_null(report);
	hpci_rm_rf(dir);
}

static void test_relative_path(void **state)
{
	static const char *const cases[][3] = {
		{ "/a/b/c", "/a/b", "c" },
		{ "/a/b/c", "/a/x/y", "../../b/c" },
		{ "/a/b", "/a/b", "." },
		{ "/a/b", "/a/b/c", ".." },
		{ "/a", "/", "a" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *rel = hpci_report_relative_path(cases[i][0], cases[i][1]);

		assert_string_equal(rel, cases[i][2]);
	}
}

/* ---- merge ---------------------------------------------------------------- */

static void assert_matrix_order(json_object *report)
{
	json_object *cells = hpci_report_cells(report);

	assert_int_equal(json_object_array_length(cells), G_N_ELEMENTS(matrix_order));
	for (size_t i = 0; i < G_N_ELEMENTS(matrix_order); i++)
		assert_string_equal(hpci_json_get_string(json_object_array_get_idx(cells, i), "id"),
				    matrix_order[i]);
}

struct summary {
	int pass, fail, flaky, known_issue, infra_error, not_run;
};

static void assert_summary(json_object *report, struct summary want)
{
	assert_int_equal(hpci_report_ms(report, "summary.cells"),
			 want.pass + want.fail + want.flaky + want.known_issue + want.infra_error +
			 want.not_run);
	assert_int_equal(hpci_report_ms(report, "summary.pass"), want.pass);
	assert_int_equal(hpci_report_ms(report, "summary.fail"), want.fail);
	assert_int_equal(hpci_report_ms(report, "summary.flaky"), want.flaky);
	assert_int_equal(hpci_report_ms(report, "summary.known_issue"), want.known_issue);
	assert_int_equal(hpci_report_ms(report, "summary.infra_error"), want.infra_error);
	assert_int_equal(hpci_report_ms(report, "summary.not_run"), want.not_run);
}

static void test_merge_disjoint_shards(void **state)
{
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autofree char *s2 = fixture("shard-2/report.json");
	g_autofree char *out = fixture("merged/report.json");
	const char *inputs[] = { s1, s2 };
	g_autoptr(json_object) merged = NULL;
	json_object *ids = NULL, *from = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge(out, inputs, 2, &merged), 0);
	assert_matrix_order(merged);
	assert_summary(merged, (struct summary){ .pass = 4, .fail = 1, .known_issue = 1 });
	/* shard-2 started first, shard-2 took longer, neither was interrupted */
	assert_string_equal(hpci_json_get_string(merged, "started_at"),
			    "2026-11-20T00:59:58.504311Z");
	assert_int_equal(hpci_report_ms(merged, "duration_ms"), 163900);
	assert_true(json_object_object_get_ex(merged, "interrupted", &from));
	assert_false(json_object_get_boolean(from));
	assert_true(json_object_object_get_ex(merged, "merged_from", &from));
	assert_int_equal(json_object_array_length(from), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(from, 1)), s2);
	/* both list the system and the patched QEMU, the firmware and the image */
	assert_true(json_object_object_get_ex(merged, "identities", &ids));
	assert_int_equal(json_object_array_length(ids), 5);
	assert_string_equal(hpci_json_get_string(cell_by_id(merged, C1), "dir"),
			    "../shard-1/cells/" C1);
	assert_string_equal(hpci_json_get_string(cell_by_id(merged, C2), "dir"),
			    "../shard-2/cells/" C2);
}

/* breach goes through a merge as it came: outcome, verdict, counts. */
static void test_merge_keeps_breach(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autoptr(json_object) shard1 = load_fixture("shard-1/report.json");
	g_autofree char *s1 = NULL;
	g_autofree char *s2 = fixture("shard-2/report.json");
	g_autofree char *out = g_build_filename(dir, "merged", "report.json", NULL);
	const char *inputs[2];
	g_autoptr(json_object) merged = NULL;
	g_autoptr(json_object) reread = NULL;

	(void)state;
	set_string(cell_by_id(shard1, C1), "outcome", "breach");
	set_string(cell_by_id(shard1, C1), "evidence", BREACH_EVIDENCE);
	s1 = write_json(dir, "shard-1/report.json", shard1);
	inputs[0] = s1;
	inputs[1] = s2;
	assert_int_equal(hpci_report_merge(out, inputs, 2, &merged), 0);
	g_free(write_json(dir, "merged/report.json", merged));
	assert_int_equal(hpci_report_load(out, &reread), 0);
	assert_string_equal(hpci_json_get_string(cell_by_id(reread, C1), "outcome"), "breach");
	assert_string_equal(hpci_report_verdict_name(cell_by_id(reread, C1)), "fail");
	assert_true(hpci_report_breach(cell_by_id(reread, C1)));
	assert_string_equal(hpci_json_get_string(cell_by_id(reread, C1), "evidence"),
			    BREACH_EVIDENCE);
	assert_summary(reread, (struct summary){ .pass = 4, .fail = 1, .known_issue = 1 });
	hpci_rm_rf(dir);
}

static void test_merge_rewrites_dirs_so_links_work(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *full = fixture("full/report.json");
	g_autofree char *retry = fixture("retry/report.json");
	g_autofree char *out = g_build_filename(dir, "nightly", "report.json", NULL);
	g_autofree char *out_dir = g_path_get_dirname(out);
	g_autofree char *retry_cell = fixture("retry/cells/" C6);
	g_autofree char *expected = g_canonicalize_filename(retry_cell, NULL);
	g_autofree char *cell_dir = NULL, *serial = NULL, *reached = NULL;
	const char *inputs[] = { full, retry };
	g_autoptr(json_object) merged = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge(out, inputs, 2, &merged), 0);
	/* the fixture's files, through the rewritten dir, from OUT's directory */
	cell_dir = g_canonicalize_filename(hpci_json_get_string(cell_by_id(merged, C1), "dir"),
					   out_dir);
	serial = g_build_filename(cell_dir, "serial.log", NULL);
	assert_true(hpci_is_file(serial));
	reached = g_canonicalize_filename(hpci_json_get_string(cell_by_id(merged, C6), "dir"),
					  out_dir);
	assert_string_equal(reached, expected);
	hpci_rm_rf(dir);
}

static void test_merge_ran_beats_not_run(void **state)
{
	g_autofree char *full = fixture("full/report.json");
	g_autofree char *retry = fixture("retry/report.json");
	g_autofree char *out = fixture("merged/report.json");
	const char *forward[] = { full, retry };
	const char *backward[] = { retry, full };
	g_autoptr(json_object) merged = NULL;
	json_object *flag = NULL;
	g_autoptr(json_object) back = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge(out, forward, 2, &merged), 0);
	assert_matrix_order(merged);
	assert_summary(merged, (struct summary){ .pass = 4, .fail = 1, .known_issue = 1 });
	assert_string_equal(hpci_report_verdict_name(cell_by_id(merged, C6)), "pass");
	assert_string_equal(hpci_json_get_string(cell_by_id(merged, C6), "dir"),
			    "../retry/cells/" C6);
	/* full was interrupted */
	assert_true(json_object_object_get_ex(merged, "interrupted", &flag));
	assert_true(json_object_get_boolean(flag));

	/* The one-cell retry first: full's own order still places it. */
	assert_int_equal(hpci_report_merge(out, backward, 2, &back), 0);
	assert_matrix_order(back);
	assert_string_equal(hpci_report_verdict_name(cell_by_id(back, C6)), "pass");
}

static void test_merge_refuses_a_cell_that_ran_twice(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autoptr(json_object) copy = load_fixture("shard-1/report.json");
	g_autofree char *again = write_json(dir, "again/report.json", copy);
	const char *inputs[] = { s1, again };
	json_object *merged = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge("out.json", inputs, 2, &merged), -EINVAL);
	assert_null(merged);
	assert_contains(hpci_error_message(), "cell '" C1 "' ran in both");
	assert_contains(hpci_error_message(), s1);
	assert_contains(hpci_error_message(), again);
	hpci_rm_rf(dir);
}

static void test_merge_refuses_different_matrices(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autoptr(json_object) other = load_fixture("shard-2/report.json");
	json_object *matrix = NULL;
	g_autofree char *other_path = NULL;
	const char *inputs[] = { s1, NULL };
	json_object *merged = NULL;

	(void)state;
	assert_true(json_object_object_get_ex(other, "matrix", &matrix));
	set_string(matrix, "sha256", "00000000000000000000000000000000"
				     "00000000000000000000000000000000");
	other_path = write_json(dir, "other/report.json", other);
	inputs[1] = other_path;
	assert_int_equal(hpci_report_merge("out.json", inputs, 2, &merged), -EINVAL);
	assert_contains(hpci_error_message(), "different matrices");
	assert_contains(hpci_error_message(), s1);
	assert_contains(hpci_error_message(), other_path);
	hpci_rm_rf(dir);
}

static char *json_text(json_object *o)
{
	return g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* attempts-1 (shard 1/2: C1 flaky, C3 pass, C5 infra-error) and attempts-2
 * (shard 2/2: C2 known issue, C4 flaky, C6 fail), in either order, both in
 * the matrix order their "axes" record. */
static void test_merge_shards_with_attempts(void **state)
{
	g_autofree char *s1 = fixture("attempts-1/report.json");
	g_autofree char *s2 = fixture("attempts-2/report.json");
	g_autofree char *out = fixture("merged/report.json");
	g_autofree char *out_dir = g_path_get_dirname(out);
	const char *forward[] = { s1, s2 };
	const char *backward[] = { s2, s1 };
	const char *const *orders[] = { forward, backward };

	(void)state;
	for (size_t o = 0; o < G_N_ELEMENTS(orders); o++) {
		g_autoptr(json_object) merged = NULL;
		json_object *run = NULL, *value = NULL, *attempts;
		g_autofree char *attempt_dir = NULL, *serial = NULL;
		g_autofree char *shards = NULL, *connections = NULL, *filters = NULL;

		assert_int_equal(hpci_report_merge(out, orders[o], 2, &merged), 0);
		assert_matrix_order(merged);
		assert_summary(merged, (struct summary){ .pass = 1, .fail = 1, .flaky = 2,
							 .known_issue = 1, .infra_error = 1 });
		assert_true(json_object_object_get_ex(merged, "run", &run));
		assert_true(json_object_object_get_ex(run, "shard", &value));
		assert_null(value);
		shards = json_text(hpci_report_array(run, "merged_shards"));
		assert_string_equal(shards, "[\"1/2\",\"2/2\"]");
		filters = json_text(hpci_report_array(run, "filters"));
		assert_string_equal(filters, "[\"topology=1s4c\"]");
		connections = json_text(hpci_report_array(run, "connections"));
		assert_contains(connections, "\"qemu:///system\"");
		assert_contains(connections, "\"qemu+ssh://ci-2.example/system\"");
		assert_int_equal(hpci_report_ms(run, "infra_retries"), 2);
		/* the cell's dir and each attempt's, rewritten from OUT's directory */
		assert_string_equal(hpci_json_get_string(cell_by_id(merged, C1), "dir"),
				    "../attempts-1/cells/" C1 "/attempt-1");
		attempts = hpci_report_attempts(cell_by_id(merged, C1));
		assert_int_equal(json_object_array_length(attempts), 2);
		assert_string_equal(hpci_json_get_string(json_object_array_get_idx(attempts, 1),
							 "dir"),
				    "../attempts-1/cells/" C1 "/attempt-2");
		attempt_dir = g_canonicalize_filename(
			hpci_json_get_string(json_object_array_get_idx(attempts, 1), "dir"),
			out_dir);
		serial = g_build_filename(attempt_dir, "serial.log", NULL);
		assert_true(hpci_is_file(serial));
		attempts = hpci_report_attempts(cell_by_id(merged, C6));
		assert_int_equal(json_object_array_length(attempts), 3);
		assert_string_equal(hpci_json_get_string(json_object_array_get_idx(attempts, 0),
							 "dir"),
				    "../attempts-2/cells/" C6 "/attempt-1");
	}
}

/* A fixture report with one of its "run" keys changed, written to dir/rel. */
static char *with_run_key(const char *dir, const char *rel, const char *key,
			  json_object *value)
{
	g_autoptr(json_object) report = load_fixture(rel);
	json_object *run = NULL;
	char *path;

	assert_true(json_object_object_get_ex(report, "run", &run));
	json_object_object_add(run, key, value);
	path = write_json(dir, rel, report);
	return path;
}

static json_object *strings(const char *first, ...)
{
	json_object *array = json_object_new_array();
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		json_object_array_add(array, json_object_new_string(s));
	va_end(ap);
	return array;
}

static void test_merge_refuses_different_filters(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = fixture("attempts-1/report.json");
	g_autofree char *old = fixture("shard-1/report.json");
	g_autofree char *other = with_run_key(dir, "attempts-2/report.json", "filters",
					      strings("topology=1s4c", "qemu=patched", NULL));
	const char *inputs[] = { s1, other };
	const char *after_old[] = { old, s1, other };
	json_object *merged = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge("out.json", inputs, 2, &merged), -EINVAL);
	assert_null(merged);
	assert_contains(hpci_error_message(), "ran different filters");
	assert_contains(hpci_error_message(), s1);
	assert_contains(hpci_error_message(), other);
	assert_contains(hpci_error_message(), "[\"topology=1s4c\"]");
	assert_contains(hpci_error_message(), "[\"topology=1s4c\",\"qemu=patched\"]");
	/* a first input without filters (older) does not hide the others' */
	assert_int_equal(hpci_report_merge("out.json", after_old, 3, &merged), -EINVAL);
	assert_contains(hpci_error_message(), "ran different filters");
	hpci_rm_rf(dir);
}

/* Shards of one selection ran the matrix with the same --set options, in
 * the same order; a report from before --set changed nothing. */
static void test_merge_refuses_different_sets(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *plain = fixture("attempts-1/report.json");
	g_autofree char *s1 = with_run_key(dir, "attempts-1/report.json", "sets",
					   strings("axes.qemu.patched.build.rev=v9.0.0", NULL));
	g_autofree char *s2 = with_run_key(dir, "attempts-2/report.json", "sets",
					   strings("axes.qemu.patched.build.rev=v9.0.0", NULL));
	g_autofree char *dir2 = tmp_dir();
	g_autofree char *other = with_run_key(dir2, "attempts-2/report.json", "sets",
					      strings("axes.qemu.patched.build.rev=v9.0.0",
						      "axes.qemu.patched.build.rev=v9.1.0", NULL));
	const char *same[] = { s1, s2 };
	const char *without[] = { plain, s2 };
	const char *more[] = { s1, other };
	g_autoptr(json_object) merged = NULL;
	g_autofree char *recorded = NULL;
	json_object *refused = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge("out.json", same, 2, &merged), 0);
	recorded = json_text(hpci_report_array(merged, "run.sets"));
	assert_string_equal(recorded, "[\"axes.qemu.patched.build.rev=v9.0.0\"]");
	assert_int_equal(hpci_report_merge("out.json", without, 2, &refused), -EINVAL);
	assert_null(refused);
	assert_contains(hpci_error_message(), "ran the matrix with different --set options "
			"(run.sets [] and [\"axes.qemu.patched.build.rev=v9.0.0\"])");
	assert_contains(hpci_error_message(), plain);
	assert_int_equal(hpci_report_merge("out.json", more, 2, &refused), -EINVAL);
	assert_contains(hpci_error_message(), "\"axes.qemu.patched.build.rev=v9.1.0\"]");
	hpci_rm_rf(dir);
	hpci_rm_rf(dir2);
}

/* Filters are ORed: the same ones in another order, or twice, are the same
 * selection. */
static void test_merge_filters_are_a_set(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = with_run_key(dir, "attempts-1/report.json", "filters",
					   strings("topology=1s4c", "smi=*", NULL));
	g_autofree char *s2 = with_run_key(dir, "attempts-2/report.json", "filters",
					   strings("smi=*", "topology=1s4c", "smi=*", NULL));
	const char *inputs[] = { s1, s2 };
	g_autoptr(json_object) merged = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge("out.json", inputs, 2, &merged), 0);
	assert_int_equal(json_object_array_length(hpci_report_cells(merged)), 6);
	hpci_rm_rf(dir);
}

static void test_merge_refuses_other_shards(void **state)
{
	static const char *const cases[][2] = {
		{ "1/2", "are the same shard (run.shard 1/2)" },
		{ "2/3", "are shards of different splits (run.shard 1/2 and 2/3)" },
		{ "two/2", "run.shard 'two/2' is not K/N" },
	};
	g_autofree char *s1 = fixture("attempts-1/report.json");

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = tmp_dir();
		g_autofree char *other = with_run_key(dir, "attempts-2/report.json", "shard",
						      json_object_new_string(cases[i][0]));
		const char *inputs[] = { s1, other };
		json_object *merged = NULL;

		assert_int_equal(hpci_report_merge("out.json", inputs, 2, &merged), -EINVAL);
		assert_null(merged);
		assert_contains(hpci_error_message(), cases[i][1]);
		assert_contains(hpci_error_message(), other);
		hpci_rm_rf(dir);
	}
}

/* The recorded "axes" order wins over the inputs' order, which alone
 * cannot place shard-2's "unplug" after shard-1's "each"; the matrix file
 * (not there) is not read, and the merged report records the order too. */
static void test_merge_follows_the_recorded_axes(void **state)
{
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autofree char *s2 = fixture("shard-2/report.json");
	g_autofree char *out = fixture("merged/report.json");
	const char *inputs[] = { s2, s1 };
	g_autoptr(json_object) merged = NULL;
	g_autoptr(json_object) first = load_fixture("shard-2/report.json");
	json_object *recorded = hpci_report_array(first, "axes");

	(void)state;
	assert_non_null(recorded);
	assert_int_equal(hpci_report_merge(out, inputs, 2, &merged), 0);
	assert_matrix_order(merged);
	assert_true(json_object_equal(hpci_report_array(merged, "axes"), recorded));
}

/* A fixture report as written before "axes", to dir/rel. */
static char *without_axes(const char *dir, const char *rel)
{
	g_autoptr(json_object) report = load_fixture(rel);
	char *path;

	json_object_object_del(report, "axes");
	path = write_json(dir, rel, report);
	return path;
}

/* Reports from before "axes": values go where the cells first show them,
 * which is the matrix order when shard 1 comes first; an input that has
 * "axes" gives its order whatever its place. */
static void test_merge_without_axes(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *old1 = without_axes(dir, "shard-1/report.json");
	g_autofree char *old2 = without_axes(dir, "shard-2/report.json");
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autofree char *out = g_build_filename(dir, "merged.json", NULL);
	const char *old_inputs[] = { old1, old2 };
	const char *mixed[] = { old2, s1 };
	g_autoptr(json_object) merged = NULL;
	g_autoptr(json_object) mixed_merged = NULL;

	(void)state;
	assert_int_equal(hpci_report_merge(out, old_inputs, 2, &merged), 0);
	assert_matrix_order(merged);
	assert_null(hpci_report_array(merged, "axes"));
	assert_int_equal(hpci_report_merge(out, mixed, 2, &mixed_merged), 0);
	assert_matrix_order(mixed_merged);
	assert_non_null(hpci_report_array(mixed_merged, "axes"));
	hpci_rm_rf(dir);
}

/* ---- junit ---------------------------------------------------------------- */

static xmlDocPtr junit_doc(json_object *report, const char *report_dir, char **ret_xml)
{
	char *xml = NULL;
	xmlDocPtr doc;

	assert_int_equal(hpci_report_junit(report, report_dir, &xml), 0);
	doc = xmlReadMemory(xml, (int)strlen(xml), "junit.xml", NULL, XML_PARSE_NONET);
	if (!doc)
		fail_msg("not well-formed XML:\n%s", xml);
	if (ret_xml)
		*ret_xml = xml;
	else
		g_free(xml);
	return doc;
}

static void ignore_error(void *opaque, xmlErrorPtr error)
{
	(void)opaque;
	(void)error;
}

/* 0 when the document satisfies tests/fixtures/reports/junit.xsd; quiet
 * keeps the expected complaints of the negative controls out of the log. */
static int junit_validate(xmlDocPtr doc, bool quiet)
{
	g_autofree char *xsd = fixture("junit.xsd");
	xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(xsd);
	xmlSchemaPtr schema = xmlSchemaParse(parser);
	xmlSchemaValidCtxtPtr valid;
	int rc;

	assert_non_null(schema);
	valid = xmlSchemaNewValidCtxt(schema);
	if (quiet)
		xmlSchemaSetValidStructuredErrors(valid, ignore_error, NULL);
	rc = xmlSchemaValidateDoc(valid, doc);
	xmlSchemaFreeValidCtxt(valid);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(parser);
	return rc;
}

static void test_junit_validates_and_counts(void **state)
{
	g_autoptr(json_object) report = load_fixture("full/report.json");
	g_autofree char *report_dir = fixture("full");
	g_autofree char *failure = NULL, *message = NULL, *skipped = NULL, *out = NULL;
	xmlDocPtr doc = junit_doc(report, report_dir, NULL);

	(void)state;
	assert_int_equal(junit_validate(doc, false), 0);
	assert_int_equal(xpath_count(doc, "/testsuites/testsuite"), 1);
	assert_int_equal(xpath_count(doc, "//testcase[@classname='hotplug-ci.nightly-smm']"), 6);
	assert_int_equal(xpath_count(doc, "//testsuite[@name='nightly-smm' and @tests='6' and "
				     "@failures='1' and @errors='0' and @skipped='2']"), 1);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C3 "' and @time='24.310']"), 1);
	assert_int_equal(xpath_count(doc, "//failure"), 1);
	message = xpath_string(doc, "//testcase[@name='" C1 "']/failure/@message");
	assert_string_equal(message, "outcome hang-smm (expected pass)");
	failure = xpath_string(doc, "//testcase[@name='" C1 "']/failure");
	assert_contains(failure, "evidence: CPU 1 stayed in SMM at RIP 0x7ffd3a4e");
	assert_contains(failure, "returned <no response> & the serial");
	assert_contains(failure, "firmware problem: firmware.hot_added: expected APIC ID 0x1");
	/* serial.log's last line is in, its first (of 46) is not */
	assert_contains(failure, "kthread timer wakeup didn't happen");
	assert_null(strstr(failure, "BdsDxe"));
	assert_null(strstr(failure, "\r"));
	skipped = xpath_string(doc, "//testcase[@name='" C2 "']/skipped/@message");
	assert_contains(skipped, "known issue: known-issues/tcg-unplug-timeout.md");
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C6 "']/skipped"), 1);
	out = xpath_string(doc, "//testcase[@name='" C1 "']/system-out");
	assert_contains(out, "[[ATTACHMENT|");
	assert_contains(out, C1 "/serial.log]]");
	assert_contains(out, C1 "/firmware.log]]");
	xmlFreeDoc(doc);
}

static void test_junit_infra_error_is_an_error(void **state)
{
	g_autoptr(json_object) report = load_fixture("full/report.json");
	json_object *cell = cell_by_id(report, C3);
	g_autofree char *xml = NULL;
	xmlDocPtr doc;

	(void)state;
	set_string(cell, "outcome", "infra-error");
	set_string(cell, "verdict", "fail");
	/* a console's escape sequences and a reset's noise in an error */
	set_string(cell, "error", "libvirt: \x1b[31mdomain crashed\x1b[0m \x01\x02 ]]> <&>");
	doc = junit_doc(report, NULL, &xml);
	assert_int_equal(junit_validate(doc, false), 0);
	assert_int_equal(xpath_count(doc, "//testsuite[@failures='1' and @errors='1']"), 1);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C3 "']/error"
				     "[@type='infra-error']"), 1);
	assert_null(strstr(xml, "\x1b"));
	xmlFreeDoc(doc);
}

/* flaky is the product's failure: a <failure> naming every attempt's
 * outcome; infra-error is the harness's: an <error>, not a <failure>. */
static void test_junit_flaky_fails_infra_errs(void **state)
{
	g_autoptr(json_object) report = load_fixture("attempts-1/report.json");
	g_autoptr(json_object) report2 = NULL;
	g_autofree char *report_dir = fixture("attempts-1");
	g_autofree char *message = NULL, *text = NULL, *error = NULL, *expected = NULL;
	xmlDocPtr doc = junit_doc(report, report_dir, NULL);

	(void)state;
	assert_int_equal(junit_validate(doc, false), 0);
	assert_int_equal(xpath_count(doc, "//testsuite[@tests='3' and @failures='1' and "
				     "@errors='1' and @skipped='0']"), 1);
	assert_int_equal(xpath_count(doc, "/testsuites[@failures='1' and @errors='1']"), 1);
	/* C1: hang-smm, then pass */
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C1 "']/failure[@type='flaky']"),
			 1);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C1 "']/error"), 0);
	message = xpath_string(doc, "//testcase[@name='" C1 "']/failure/@message");
	assert_string_equal(message, "flaky: attempts disagreed: hang-smm, pass (expected pass)");
	text = xpath_string(doc, "//testcase[@name='" C1 "']/failure");
	expected = g_strdup_printf("attempt 2: pass (pass, 23.900 s) in %s/cells/" C1
				   "/attempt-2\n", report_dir);
	assert_contains(text, "attempt 1: hang-smm (fail, 82.350 s) in ");
	assert_contains(text, expected);
	/* the deciding attempt's serial.log */
	assert_contains(text, "rcu_sched self-detected stall on CPU");
	/* C5: infra-error on all three attempts */
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C5 "']/failure"), 0);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C5 "']/error"
				     "[@type='infra-error']"), 1);
	error = xpath_string(doc, "//testcase[@name='" C5 "']/error/@message");
	assert_string_equal(error, "infra-error on all 3 attempts (expected refused)");
	g_free(g_steal_pointer(&text));
	text = xpath_string(doc, "//testcase[@name='" C5 "']/error");
	assert_contains(text, "attempt 3: infra-error (infra-error, 16.300 s)");
	assert_contains(text, "End of file while reading data");
	xmlFreeDoc(doc);

	/* attempts-2: C4 flaky (guest-crash twice, then pass), C6 fail, C2 known */
	report2 = load_fixture("attempts-2/report.json");
	doc = junit_doc(report2, NULL, NULL);
	assert_int_equal(junit_validate(doc, false), 0);
	assert_int_equal(xpath_count(doc, "//testsuite[@tests='3' and @failures='2' and "
				     "@errors='0' and @skipped='1']"), 1);
	g_free(g_steal_pointer(&message));
	message = xpath_string(doc, "//testcase[@name='" C4 "']/failure[@type='flaky']/@message");
	assert_string_equal(message, "flaky: attempts disagreed: guest-crash, guest-crash, pass "
			    "(expected pass)");
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C6 "']/failure"
				     "[@type='guest-crash']"), 1);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C2 "']/skipped"), 1);
	xmlFreeDoc(doc);
}

/* A breach is a <failure type="breach"> whose message starts with it; the
 * other failures keep their types, the expected breach is a pass. */
static void test_junit_breach_type(void **state)
{
	g_autoptr(json_object) report = load_breach_report();
	g_autofree char *report_dir = fixture("full");
	g_autofree char *message = NULL, *message2 = NULL, *text = NULL;
	xmlDocPtr doc = junit_doc(report, report_dir, NULL);

	(void)state;
	assert_int_equal(junit_validate(doc, false), 0);
	assert_true(hpci_report_breach(cell_by_id(report, C1)));
	assert_true(hpci_report_breach(cell_by_id(report, C2)));
	assert_false(hpci_report_breach(cell_by_id(report, C3)));
	assert_false(hpci_report_breach(cell_by_id(report, C4)));
	assert_int_equal(xpath_count(doc, "//testsuite[@tests='6' and @failures='2' and "
				     "@errors='0' and @skipped='1']"), 1);
	assert_int_equal(xpath_count(doc, "//failure[@type='breach']"), 2);
	message = xpath_string(doc, "//testcase[@name='" C1 "']/failure[@type='breach']/@message");
	assert_string_equal(message, "breach: " BREACH_EVIDENCE " (expected pass)");
	text = xpath_string(doc, "//testcase[@name='" C1 "']/failure");
	assert_contains(text, "evidence: " BREACH_EVIDENCE "\nsecond line\n");
	message2 = xpath_string(doc, "//testcase[@name='" C2 "']/failure[@type='breach']/@message");
	assert_string_equal(message2, "breach: no CPU in SMM in 3 register samples; the guest "
			    "stopped answering after the unplug request (expected pass)");
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C2 "']/skipped"), 0);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C3 "']/*[name()!='system-out']"),
			 0);
	xmlFreeDoc(doc);

	/* other failures keep their type */
	set_string(cell_by_id(report, C1), "outcome", "hang-smm");
	doc = junit_doc(report, report_dir, NULL);
	assert_int_equal(xpath_count(doc, "//testcase[@name='" C1 "']/failure[@type='hang-smm']"),
			 1);
	assert_int_equal(xpath_count(doc, "//failure[@type='breach']"), 1);
	xmlFreeDoc(doc);
}

/* The negative control: the schema does reject what GitLab could not read. */
static void test_junit_schema_rejects_bad_xml(void **state)
{
	static const char *const bad[] = {
		"<testsuites><testsuite tests='1'/></testsuites>",
		"<testsuites><testsuite name='m' tests='one'/></testsuites>",
		"<testsuites><testsuite name='m' tests='1'><testcase/></testsuite></testsuites>",
		"<testsuites><testsuite name='m' tests='1'><testcase name='c' time='-1'/>"
		"</testsuite></testsuites>",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		xmlDocPtr doc = xmlReadMemory(bad[i], (int)strlen(bad[i]), "bad.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR |
					      XML_PARSE_NOWARNING);

		assert_non_null(doc);
		assert_int_not_equal(junit_validate(doc, true), 0);
		xmlFreeDoc(doc);
	}
}

/* ---- html ----------------------------------------------------------------- */

/* report_dir NULL: the page cannot tell which logs exist and links all. */
static htmlDocPtr html_doc(json_object *report, const char *report_dir, char **ret_html)
{
	char *html = NULL;
	htmlDocPtr doc;

	assert_int_equal(hpci_report_html(report, report_dir, NULL, &html), 0);
	doc = htmlReadMemory(html, (int)strlen(html), "report.html", "UTF-8",
			     HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	assert_non_null(doc);
	if (ret_html)
		*ret_html = html;
	else
		g_free(html);
	return doc;
}

static void test_html_grid_has_one_box_per_cell(void **state)
{
	g_autoptr(json_object) report = load_fixture("full/report.json");
	json_object *cells = hpci_report_cells(report);
	htmlDocPtr doc = html_doc(report, NULL, NULL);

	(void)state;
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[contains(concat(' ', @class, "
				     "' '), ' verdict ')]"), 6);
	/* 4 rows (smi x qemu) by 3 columns (count x ops), 6 of them cells */
	assert_int_equal(xpath_count(doc, "//table[@id='grid']/tbody/tr"), 4);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@class='absent']"), 6);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		g_autofree char *expr = g_strdup_printf(
			"//table[@id='grid']//td[@data-cell='%s' and contains(concat(' ', @class, "
			"' '), ' verdict-%s ')]", hpci_json_get_string(cell, "id"),
			hpci_report_verdict_name(cell));

		assert_int_equal(xpath_count(doc, expr), 1);
	}
	/* links relative to the report; the not-run cell has no directory */
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']//a[@href='cells/" C1
				     "/serial.log']"), 1);
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C6 "']//a"), 0);
	assert_int_equal(xpath_count(doc, "//table[@id='failures']/tbody/tr[@class='problem']"),
			 1);
	xmlFreeDoc(doc);
}

/* A report from before "axes" still gets its grid: all six cells, in
 * their rows and columns. */
static void test_html_without_axes(void **state)
{
	g_autoptr(json_object) report = load_fixture("full/report.json");
	htmlDocPtr doc;

	(void)state;
	json_object_object_del(report, "axes");
	doc = html_doc(report, NULL, NULL);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[contains(concat(' ', @class, "
				     "' '), ' verdict ')]"), 6);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']/tbody/tr"), 4);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@class='absent']"), 6);
	xmlFreeDoc(doc);
}

static void test_html_charts_have_one_bar_each(void **state)
{
	g_autoptr(json_object) report = load_fixture("full/report.json");
	htmlDocPtr doc = html_doc(report, NULL, NULL);

	(void)state;
	/* five cells booted; the not-run one did not */
	assert_int_equal(xpath_count(doc, "//svg[@id='boot-chart']//rect"), 5);
	/* five plugs came online: one each in C2 and C3, three in C4 */
	assert_int_equal(xpath_count(doc, "//svg[@id='plug-chart']//rect"), 5);
	assert_int_equal(xpath_count(doc, "//svg[@id='plug-chart']//line[@class='seen']"), 5);
	xmlFreeDoc(doc);
}

/* Whether the page links a cell's attempt's file (report_dir NULL links). */
static long attempt_link(htmlDocPtr doc, const char *where, const char *cell, int attempt,
			 const char *file)
{
	g_autofree char *expr = g_strdup_printf(
		"%s//ol[@class='attempts']/li[@value='%d']//a[@href='cells/%s/attempt-%d/%s']",
		where, attempt, cell, attempt, file);

	return xpath_count(doc, expr);
}

static void test_html_flaky_infra_and_attempts(void **state)
{
	g_autoptr(json_object) report = load_fixture("attempts-1/report.json");
	g_autofree char *report_dir = fixture("attempts-1");
	g_autofree char *html = NULL, *count = NULL, *shard = NULL;
	htmlDocPtr doc = html_doc(report, report_dir, &html);
	const char *c1 = "//table[@id='grid']//td[@data-cell='" C1 "']";

	(void)state;
	assert_contains(html, ".verdict-flaky{");
	assert_contains(html, ".verdict-infra-error{");
	assert_contains(html, "rect.verdict-flaky{");
	assert_contains(html, "rect.verdict-infra-error{");
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@data-cell='" C1 "' and "
				     "@class='verdict verdict-flaky']"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@data-cell='" C5 "' and "
				     "@class='verdict verdict-infra-error']"), 1);
	count = xpath_string(doc, "//p[@id='summary']/span[@class='count verdict verdict-flaky']");
	assert_string_equal(count, "1 flaky");
	g_free(g_steal_pointer(&count));
	count = xpath_string(doc, "//p[@id='summary']/span[@class='count verdict "
			     "verdict-infra-error']");
	assert_string_equal(count, "1 infra-error");
	assert_int_equal(xpath_count(doc, "//p[@id='summary']/span"), 6);
	shard = xpath_string(doc, "//table[@id='run-info']//tr[th='shard']/td");
	assert_string_equal(shard, "1/2");
	/* the problem tables */
	assert_int_equal(xpath_count(doc, "//table[@id='flaky']/tbody/tr[@class='problem']"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='flaky']//td[@class='cell']/a[.='" C1
				     "']"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='infra-errors']/tbody/tr[@class='problem']"),
			 1);
	assert_int_equal(xpath_count(doc, "//table[@id='infra-errors']//td[@class='cell']/a[.='"
				     C5 "']"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='failures']/tbody/tr[@class='problem']"), 0);
	assert_int_equal(xpath_count(doc, "//table[@id='flaky']//td[@class='attempts']/ol/li"), 2);
	/* C1's attempts, each coloured by its verdict, linking the logs it has */
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']/ol[@class='attempts']/li"),
			 2);
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']//li[@value='1' and "
				     "@class='attempt verdict verdict-fail']"), 1);
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']//li[@value='2' and "
				     "@class='attempt verdict verdict-pass']"), 1);
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']//li[@value='2']/"
				     "a[@class='outcome' and .='pass' and @href='cells/" C1
				     "/attempt-2/']"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 1, "serial.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 1, "events.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 1, "qemu.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 1, "firmware.log"), 0);
	assert_int_equal(attempt_link(doc, c1, C1, 2, "serial.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 2, "firmware.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 2, "qemu.log"), 0);
	/* the box's own logs are the deciding attempt's (attempt 1) */
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C1 "']/div[@class='logs']/a"), 3);
	/* C5: three attempts; C3 ran once, so its box is its only attempt */
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C5 "']/ol/li"), 3);
	assert_int_equal(attempt_link(doc, "//td[@data-cell='" C5 "']", C5, 3, "events.log"), 1);
	assert_int_equal(xpath_count(doc, "//td[@data-cell='" C3 "']/ol"), 0);
	xmlFreeDoc(doc);

	/* Not knowing where the report is, the page links every log. */
	doc = html_doc(report, NULL, NULL);
	assert_int_equal(attempt_link(doc, c1, C1, 2, "qemu.log"), 1);
	assert_int_equal(attempt_link(doc, c1, C1, 1, "firmware.log"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='run-info']//tr[th='sets']"), 0);
	xmlFreeDoc(doc);
}

/* The run's --set options are among its settings. */
static void test_html_run_sets(void **state)
{
	g_autoptr(json_object) report = load_fixture("attempts-1/report.json");
	json_object *run = NULL, *sets = json_object_new_array();
	g_autofree char *row = NULL;
	htmlDocPtr doc;

	(void)state;
	assert_true(json_object_object_get_ex(report, "run", &run));
	json_object_array_add(sets, json_object_new_string("axes.qemu.patched.build.rev=v9.0.0"));
	json_object_object_add(run, "sets", sets);
	doc = html_doc(report, NULL, NULL);
	row = xpath_string(doc, "//table[@id='run-info']//tr[th='sets']/td");
	assert_string_equal(row, "[\"axes.qemu.patched.build.rev=v9.0.0\"]");
	xmlFreeDoc(doc);
}

static void test_html_escapes_everything(void **state)
{
	static const char nasty_id[] = "topology=<b>,smi=a&amp;b,firmware=\"x\",qemu='y'";
	g_autoptr(json_object) report = load_fixture("full/report.json");
	json_object *cell = cell_by_id(report, C1);
	const char *error = hpci_json_get_string(cell, "error");
	g_autofree char *html = NULL, *parsed_error = NULL, *parsed_id = NULL;
	g_autofree char *expected_error = g_strdup(error);
	htmlDocPtr doc;

	(void)state;
	set_string(cell, "id", nasty_id);
	set_string(cell, "dir", "cells/a&b c#d:e");
	doc = html_doc(report, NULL, &html);
	assert_int_equal(xpath_count(doc, "//td[@id='cell-1']//a[@href='cells/a%26b%20c%23d%3Ae/"
				     "serial.log']"), 1);
	assert_null(strstr(html, "<no response>"));
	assert_contains(html, "&lt;no response&gt; &amp; the serial");
	assert_null(strstr(html, "<b>"));
	parsed_error = xpath_string(doc, "//table[@id='failures']//td[@class='error']");
	assert_string_equal(parsed_error, expected_error);
	parsed_id = xpath_string(doc, "//table[@id='grid']//td[@id='cell-1']/@data-cell");
	assert_string_equal(parsed_id, nasty_id);
	g_free(g_steal_pointer(&parsed_id));
	parsed_id = xpath_string(doc, "//table[@id='failures']//td[@class='cell']");
	assert_string_equal(parsed_id, nasty_id);
	xmlFreeDoc(doc);
}

/* Breaches come before everything else on the page, in their own style,
 * with their evidence; the positive control's expected breach is not one. */
static void test_html_breaches_first(void **state)
{
	g_autoptr(json_object) report = load_breach_report();
	g_autoptr(json_object) plain = load_fixture("full/report.json");
	g_autofree char *html = NULL, *first = NULL, *title = NULL, *evidence = NULL;
	htmlDocPtr doc = html_doc(report, NULL, &html);
	const char *rows = "//div[@id='breaches']/table[@id='breach-cells']/tbody/tr[@class='problem']";

	(void)state;
	assert_contains(html, ".breach-banner{");
	assert_contains(html, "td.breach,li.breach{");
	first = xpath_string(doc, "name(/html/body/*[1])");
	assert_string_equal(first, "div");
	assert_int_equal(xpath_count(doc, "/html/body/*[1][@id='breaches' and "
				     "@class='breach-banner']"), 1);
	assert_int_equal(xpath_count(doc, "//div[@id='breaches']/following::h1"), 1);
	title = xpath_string(doc, "//div[@id='breaches']/h2");
	assert_string_equal(title, "BREACH: 2 cell(s) ran guest code in SMM or exposed SMRAM");
	assert_int_equal(xpath_count(doc, rows), 2);
	assert_int_equal(xpath_count(doc, "//div[@id='breaches']//td[@class='cell']/a[.='" C1
				     "' and @href='#cell-1']"), 1);
	assert_int_equal(xpath_count(doc, "//div[@id='breaches']//td[@class='cell']/a[.='" C2
				     "']"), 1);
	assert_int_equal(xpath_count(doc, "//div[@id='breaches']//td[@class='cell']/a[.='" C3
				     "']"), 0);
	evidence = xpath_string(doc, "//div[@id='breaches']//tr[1]/td[@class='evidence']");
	assert_string_equal(evidence, BREACH_EVIDENCE "\nsecond line");
	/* the grid marks them too; the expected breach is a plain pass */
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@data-cell='" C1 "' and "
				     "@class='verdict verdict-fail breach']"), 1);
	assert_int_equal(xpath_count(doc, "//table[@id='grid']//td[@data-cell='" C3 "' and "
				     "@class='verdict verdict-pass']"), 1);
	/* C1 is still among the failures below */
	assert_int_equal(xpath_count(doc, "//table[@id='failures']//td[@class='cell']/a[.='" C1
				     "']"), 1);
	xmlFreeDoc(doc);

	/* no breach, no banner: the page starts with its title */
	doc = html_doc(plain, NULL, NULL);
	assert_int_equal(xpath_count(doc, "//div[@id='breaches']"), 0);
	assert_int_equal(xpath_count(doc, "/html/body/*[1][self::h1]"), 1);
	xmlFreeDoc(doc);
}

/* ---- known issues ------------------------------------------------------ */

/* C2 (guest-timeout, verdict known-issue) as a report written since a rule
 * may name several known issues: expected.known_issues, no known_issue. */
static json_object *load_known_issues_report(void)
{
	json_object *report = load_fixture("full/report.json");
	json_object *expected = NULL;
	json_object *issues = json_object_new_array();
	const char *const pairs[][2] = {
		{ "qemu-crash", "heap corruption after unplug" },
		{ "guest-timeout", "the unplug ACK is lost under TCG" },
		{ "hang-smm", "deadlock in SMM" },
	};

	assert_true(json_object_object_get_ex(cell_by_id(report, C2), "expected", &expected));
	json_object_object_del(expected, "known_issue");
	for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
		json_object *k = json_object_new_object();

		set_string(k, "outcome", pairs[i][0]);
		set_string(k, "note", pairs[i][1]);
		json_object_array_add(issues, k);
	}
	json_object_object_add(expected, "known_issues", issues);
	return report;
}

static void test_known_issue_note_both_forms(void **state)
{
	g_autoptr(json_object) old = load_fixture("full/report.json");
	g_autoptr(json_object) report = load_known_issues_report();
	json_object *cell = cell_by_id(report, C2);

	(void)state;
	/* the single form of older reports */
	assert_string_equal(hpci_report_known_issue(cell_by_id(old, C2), "guest-timeout"),
			    "known-issues/tcg-unplug-timeout.md: the unplug ACK is lost under TCG");
	assert_null(hpci_report_known_issue(cell_by_id(old, C2), "hang-smm"));
	assert_null(hpci_report_known_issue(cell_by_id(old, C1), "guest-timeout"));
	/* the array form */
	assert_string_equal(hpci_report_known_issue(cell, "qemu-crash"),
			    "heap corruption after unplug");
	assert_string_equal(hpci_report_known_issue(cell, "guest-timeout"),
			    "the unplug ACK is lost under TCG");
	assert_string_equal(hpci_report_known_issue(cell, "hang-smm"), "deadlock in SMM");
	assert_null(hpci_report_known_issue(cell, "guest-crash"));
	assert_null(hpci_report_known_issue(cell, NULL));
}

/* junit and html name the known issue the cell's outcome matched. */
static void test_known_issues_in_junit_and_html(void **state)
{
	g_autoptr(json_object) report = load_known_issues_report();
	g_autofree char *report_dir = fixture("full");
	g_autofree char *skipped = NULL, *expected = NULL;
	xmlDocPtr doc = junit_doc(report, report_dir, NULL);
	htmlDocPtr html;

	(void)state;
	skipped = xpath_string(doc, "//testcase[@name='" C2 "']/skipped/@message");
	assert_string_equal(skipped, "known issue: the unplug ACK is lost under TCG "
			    "(outcome guest-timeout)");
	xmlFreeDoc(doc);
	html = html_doc(report, report_dir, NULL);
	expected = xpath_string(html, "//table[@id='known-issues']/tbody/tr[@class='problem']"
				"/td[@class='expected']");
	assert_string_equal(expected, "pass; known issue: the unplug ACK is lost under TCG");
	xmlFreeDoc(html);
}

/* ---- diff ------------------------------------------------------------------- */

static const struct hpci_diff_thresholds default_thresholds = {
	HPCI_DIFF_DEFAULT_PCT, HPCI_DIFF_DEFAULT_MS,
};

/* The findings of one kind for one cell. */
static guint count_findings(json_object *findings, const char *kind, const char *cell)
{
	guint n = 0;

	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		json_object *f = json_object_array_get_idx(findings, i);

		n += strcmp(hpci_json_get_string(f, "kind"), kind) == 0 &&
		     strcmp(hpci_json_get_string(f, "cell"), cell) == 0;
	}
	return n;
}

static void test_diff_noise_rule(void **state)
{
	const struct hpci_diff_thresholds strict = { 0, 0 };

	(void)state;
	assert_true(hpci_diff_moved(15000, 25000, &default_thresholds));
	assert_false(hpci_diff_moved(15000, 15500, &default_thresholds));
	assert_false(hpci_diff_moved(15000, 18750, &default_thresholds)); /* exactly 25 % */
	assert_true(hpci_diff_moved(15000, 11000, &default_thresholds));  /* faster counts */
	assert_false(hpci_diff_moved(400, 2300, &default_thresholds));    /* under the floor */
	assert_true(hpci_diff_moved(400, 2500, &default_thresholds));
	assert_true(hpci_diff_moved(400, 401, &strict));
	assert_false(hpci_diff_moved(400, 400, &strict));
}

static void test_diff_identical(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("full/report.json");
	g_autoptr(json_object) new_report = load_fixture("full/report.json");
	g_autoptr(json_object) findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	g_autofree char *text = hpci_diff_text(findings);

	(void)state;
	assert_int_equal(json_object_array_length(findings), 0);
	assert_int_equal(hpci_diff_regressions(findings), 0);
	assert_string_equal(text, "no changes\n");
}

static void test_diff_finds_regression_and_timing(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("full/report.json");
	g_autoptr(json_object) new_report = load_fixture("full/report.json");
	g_autoptr(json_object) findings = NULL;
	g_autofree char *text = NULL;

	(void)state;
	set_string(cell_by_id(new_report, C3), "verdict", "fail");
	set_string(cell_by_id(new_report, C3), "outcome", "guest-crash");
	set_boot_ms(cell_by_id(new_report, C4), 25000);   /* 14.8 s -> 25 s */
	set_boot_ms(cell_by_id(old_report, C5), 15000);
	set_boot_ms(cell_by_id(new_report, C5), 15500);   /* noise */
	set_string(cell_by_id(new_report, C1), "verdict", "pass");
	set_string(cell_by_id(new_report, C1), "outcome", "pass");
	findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	text = hpci_diff_text(findings);
	assert_int_equal(hpci_diff_regressions(findings), 1);
	assert_int_equal(count_findings(findings, "regressed", C3), 1);
	assert_int_equal(count_findings(findings, "recovered", C1), 1);
	assert_int_equal(count_findings(findings, "boot-time", C4), 1);
	assert_int_equal(count_findings(findings, "boot-time", C5), 0);
	assert_int_equal(json_object_array_length(findings), 3);
	assert_contains(text, "regressed    " C3 ": verdict pass -> fail, outcome pass -> "
			"guest-crash\n");
	assert_contains(text, "boot-time    " C4 ": boot 14.8 s -> 25.0 s (+10.2 s, +68%)\n");
	assert_contains(text, "3 findings, 1 regression\n");
}

static void test_diff_boot_15s_to_25s_not_15_5s(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("full/report.json");
	g_autoptr(json_object) new_report = load_fixture("full/report.json");
	g_autoptr(json_object) findings = NULL;

	(void)state;
	/* C3 and C5 both boot in 15.0 s in the fixture */
	set_boot_ms(cell_by_id(new_report, C3), 25000);
	set_boot_ms(cell_by_id(new_report, C5), 15500);
	findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	assert_int_equal(count_findings(findings, "boot-time", C3), 1);
	assert_int_equal(count_findings(findings, "boot-time", C5), 0);
	assert_int_equal(json_object_array_length(findings), 1);
	assert_int_equal(hpci_report_ms(json_object_array_get_idx(findings, 0), "old_ms"), 15000);
	assert_int_equal(hpci_report_ms(json_object_array_get_idx(findings, 0), "new_ms"), 25000);
	assert_int_equal(hpci_diff_regressions(findings), 0);
}

static void test_diff_outcomes_presence_and_plugs(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("full/report.json");
	g_autoptr(json_object) new_report = load_fixture("shard-2/report.json");
	json_object *plug, *timings = NULL, *plugs = NULL;
	g_autoptr(json_object) findings = NULL;

	(void)state;
	/* shard-2 holds C2, C4 and C6 (ran); full holds all six, C6 not run */
	set_string(cell_by_id(new_report, C2), "outcome", "hang-smm");
	assert_true(json_object_object_get_ex(cell_by_id(new_report, C4), "timings", &timings));
	assert_true(json_object_object_get_ex(timings, "plugs", &plugs));
	plug = json_object_array_get_idx(plugs, 1);   /* vCPU 2: 307 ms -> 3.5 s */
	json_object_object_add(plug, "online_ms", json_object_new_int64(15795 + 3500));
	findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	assert_int_equal(count_findings(findings, "changed", C2), 1);
	assert_int_equal(count_findings(findings, "changed", C6), 1);
	assert_int_equal(count_findings(findings, "plug-latency", C4), 1);
	assert_int_equal(count_findings(findings, "disappeared", C1), 1);
	assert_int_equal(count_findings(findings, "disappeared", C3), 1);
	assert_int_equal(count_findings(findings, "disappeared", C5), 1);
	assert_int_equal(json_object_array_length(findings), 6);
	assert_int_equal(hpci_diff_regressions(findings), 0);
}

/* pass -> flaky is a regression; flaky -> pass a recovery. */
static void test_diff_became_flaky(void **state)
{
	g_autoptr(json_object) steady = load_fixture("attempts-1/report.json");
	g_autoptr(json_object) flaky = load_fixture("attempts-1/report.json");
	g_autoptr(json_object) findings = NULL;
	g_autoptr(json_object) back = NULL;
	g_autofree char *text = NULL;

	(void)state;
	set_string(cell_by_id(steady, C1), "verdict", "pass");
	set_string(cell_by_id(steady, C1), "outcome", "pass");
	findings = hpci_report_diff(steady, flaky, &default_thresholds);
	text = hpci_diff_text(findings);
	assert_int_equal(count_findings(findings, "became-flaky", C1), 1);
	assert_int_equal(json_object_array_length(findings), 1);
	assert_int_equal(hpci_diff_regressions(findings), 1);
	assert_contains(text, "became-flaky " C1 ": verdict pass -> flaky, outcome pass -> "
			"hang-smm\n");
	assert_contains(text, "1 finding, 1 regression\n");

	back = hpci_report_diff(flaky, steady, &default_thresholds);
	assert_int_equal(count_findings(back, "recovered", C1), 1);
	assert_int_equal(hpci_diff_regressions(back), 0);
}

/* A cell that went to breach is a regression whatever it was before; the
 * positive control that comes to its expected breach recovers. */
static void test_diff_breached(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("full/report.json");
	g_autoptr(json_object) new_report = load_breach_report();
	g_autoptr(json_object) findings = NULL;
	g_autoptr(json_object) back = NULL;
	json_object *expected = NULL;
	g_autofree char *text = NULL;

	(void)state;
	/* C3 becomes the positive control that used to miss the attack */
	set_string(cell_by_id(old_report, C3), "outcome", "guest-timeout");
	set_string(cell_by_id(old_report, C3), "verdict", "fail");
	assert_true(json_object_object_get_ex(cell_by_id(old_report, C3), "expected", &expected));
	set_string(expected, "outcome", "breach");
	/* C4 breaches after an infra error, C6 the first time it runs */
	set_string(cell_by_id(old_report, C4), "outcome", "infra-error");
	set_string(cell_by_id(old_report, C4), "verdict", "infra-error");
	set_string(cell_by_id(new_report, C4), "outcome", "breach");
	set_string(cell_by_id(new_report, C4), "verdict", "fail");
	set_string(cell_by_id(new_report, C6), "outcome", "breach");
	set_string(cell_by_id(new_report, C6), "verdict", "fail");
	findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	text = hpci_diff_text(findings);
	assert_int_equal(count_findings(findings, "breached", C1), 1);   /* from fail */
	assert_int_equal(count_findings(findings, "breached", C2), 1);   /* from known-issue */
	assert_int_equal(count_findings(findings, "breached", C4), 1);   /* from infra-error */
	assert_int_equal(count_findings(findings, "breached", C6), 1);   /* from not-run */
	assert_int_equal(count_findings(findings, "recovered", C3), 1);
	assert_int_equal(json_object_array_length(findings), 5);
	assert_int_equal(hpci_diff_regressions(findings), 4);
	assert_contains(text, "breached     " C1 ": verdict fail -> fail, outcome hang-smm -> "
			"breach\n");
	assert_contains(text, "5 findings, 4 regressions\n");

	/* still breaching is no news; leaving it is not a regression */
	back = hpci_report_diff(new_report, old_report, &default_thresholds);
	assert_int_equal(count_findings(back, "breached", C1), 0);
	assert_int_equal(count_findings(back, "regressed", C3), 1);   /* the control missed */
	assert_int_equal(hpci_diff_regressions(back), 1);
	json_object_put(g_steal_pointer(&findings));
	findings = hpci_report_diff(new_report, new_report, &default_thresholds);
	assert_int_equal(json_object_array_length(findings), 0);
}

/* pass <-> infra-error says nothing about the product: kind infra, no
 * regression, and the infra-error cell's times are not compared. */
static void test_diff_infra_is_not_a_regression(void **state)
{
	g_autoptr(json_object) old_report = load_fixture("shard-1/report.json");
	g_autoptr(json_object) new_report = load_fixture("attempts-1/report.json");
	g_autoptr(json_object) findings = NULL;
	g_autoptr(json_object) back = NULL;

	(void)state;
	/* shard-1: C1 fail, C3 pass, C5 pass (refused), all booting in 15 s */
	set_boot_ms(cell_by_id(new_report, C5), 40000);
	set_boot_ms(cell_by_id(old_report, C3), 15000);
	set_string(cell_by_id(old_report, C3), "verdict", "not-run");
	set_boot_ms(cell_by_id(new_report, C3), 40000);
	findings = hpci_report_diff(old_report, new_report, &default_thresholds);
	assert_int_equal(count_findings(findings, "infra", C5), 1);
	assert_int_equal(count_findings(findings, "boot-time", C5), 0);
	assert_int_equal(count_findings(findings, "boot-time", C3), 0);
	assert_int_equal(count_findings(findings, "changed", C3), 1);  /* not-run -> pass */
	assert_int_equal(count_findings(findings, "changed", C1), 1);  /* fail -> flaky */
	assert_int_equal(json_object_array_length(findings), 3);
	assert_int_equal(hpci_diff_regressions(findings), 0);

	/* and back: infra-error -> pass is no recovery either */
	back = hpci_report_diff(new_report, old_report, &default_thresholds);
	assert_int_equal(count_findings(back, "infra", C5), 1);
	assert_int_equal(count_findings(back, "recovered", C5), 0);
	assert_int_equal(hpci_diff_regressions(back), 0);
}

/* ---- the binary --------------------------------------------------------------- */

struct result {
	int status;
	GString *out;
	GString *err;
};

/* env: NAME, VALUE pairs, NULL-terminated, or NULL. */
static struct result run_env(const char *const *args, const char *const *env)
{
	struct result r = { 0, g_string_new(NULL), g_string_new(NULL) };
	struct hpci_cmd cmd;

	hpci_cmd_init(&cmd, g_getenv("HOTPLUG_CI"));
	hpci_cmd_add(&cmd, "report");
	for (; *args; args++)
		hpci_cmd_add(&cmd, *args);
	for (; env && env[0]; env += 2)
		hpci_cmd_setenv(&cmd, env[0], env[1]);
	cmd.timeout_ms = 60000;
	(void)hpci_cmd_run(&cmd, r.out, r.err);
	r.status = cmd.exit_status;
	hpci_cmd_release(&cmd);
	return r;
}

static struct result run(const char *const *args)
{
	return run_env(args, NULL);
}

static void result_free(struct result *r)
{
	g_string_free(r->out, TRUE);
	g_string_free(r->err, TRUE);
}

/* The binary comes from meson (HOTPLUG_CI); run by hand, these skip. */
static void require_binary(void)
{
	if (!g_getenv("HOTPLUG_CI"))
		skip();
}

static void test_cli_help(void **state)
{
	static const char *const verbs[] = { "merge", "junit", "html", "diff", "fetch-gitlab" };
	const char *top[] = { "--help", NULL };
	struct result r;

	(void)state;
	require_binary();
	r = run(top);
	assert_int_equal(r.status, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		assert_contains(r.out->str, verbs[i]);
	result_free(&r);
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
		const char *args[] = { verbs[i], "--help", NULL };

		r = run(args);
		assert_int_equal(r.status, 0);
		assert_contains(r.out->str, "Usage:");
		assert_contains(r.out->str, "Exit status");
		result_free(&r);
	}
}

/* What the binary does before any transfer; the transfers themselves are
 * test-gitlab-fetch's, against a server the binary may not use (http). */
static void test_cli_fetch_gitlab_usage(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *out = g_build_filename(dir, "last", "report.json", NULL);
	const char *help[] = { "fetch-gitlab", "--help", NULL };
	const char *no_job[] = { "fetch-gitlab", "--path", "report.json", "-o", out, NULL };
	const char *args[] = { "fetch-gitlab", "--job", "nightly", "--path", "report.json",
			       "-o", out, "--ref", "main", NULL };
	/* Set in the child whatever the environment running the test holds. */
	const char *no_token[] = { "CI_API_V4_URL", "https://gitlab.invalid/api/v4",
				   "CI_PROJECT_ID", "7", "CI_JOB_TOKEN", "", NULL };
	struct result r;

	(void)state;
	require_binary();
	r = run(help);
	assert_int_equal(r.status, 0);
	assert_contains(r.out->str, "--job=NAME");
	assert_contains(r.out->str, "Exit status: 0 fetched, 2 usage error");
	assert_contains(r.out->str, "5 no earlier artifact (HTTP 404");
	result_free(&r);

	r = run_env(no_job, no_token);
	assert_int_equal(r.status, 2);
	assert_contains(r.err->str, "hotplug-ci: error: fetch-gitlab needs --job; usage: ");
	result_free(&r);

	r = run_env(args, no_token);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err->str,
			    "hotplug-ci: error: CI_JOB_TOKEN is empty: 'report fetch-gitlab' "
			    "runs inside a GitLab CI job, which sets CI_API_V4_URL, "
			    "CI_PROJECT_ID, CI_JOB_TOKEN and CI_COMMIT_REF_NAME (give --ref "
			    "outside a branch or tag pipeline) (see 'hotplug-ci report "
			    "fetch-gitlab --help')\n");
	assert_string_equal(r.out->str, "");
	assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	result_free(&r);
	assert_int_equal(hpci_rm_rf(dir), 0);
}

static void test_cli_bad_inputs_exit_2(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *missing = g_build_filename(dir, "missing.json", NULL);
	g_autofree char *not_json = g_build_filename(dir, "not.json", NULL);
	g_autofree char *not_report = g_build_filename(dir, "other.json", NULL);
	g_autofree char *out = g_build_filename(dir, "out.json", NULL);
	g_autofree char *full = fixture("full/report.json");
	const char *cases[][5] = {
		{ "junit", missing, NULL },
		{ "html", not_json, NULL },
		{ "diff", full, not_report, NULL },
		{ "merge", out, full, missing, NULL },
		{ "frobnicate", NULL },
		{ "diff", full, NULL },
	};
	const char *expect[] = { missing, "is not JSON", "is not a hotplug-ci report", missing,
				 "unknown report verb", "diff takes two reports" };

	(void)state;
	require_binary();
	assert_int_equal(hpci_write_file(not_json, "<html>", -1), 0);
	assert_int_equal(hpci_write_file(not_report, "{ \"schema\": 1, \"cells\": {} }", -1), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct result r = run(cases[i]);

		if (r.status != 2 || !strstr(r.err->str, expect[i]))
			fail_msg("report %s: exit %d, stderr:\n%s", cases[i][0], r.status,
				 r.err->str);
		assert_false(hpci_is_file(out));
		result_free(&r);
	}
	hpci_rm_rf(dir);
}

static void test_cli_diff_exit_status(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *full = fixture("full/report.json");
	g_autoptr(json_object) worse = load_fixture("full/report.json");
	g_autoptr(json_object) breached = load_fixture("full/report.json");
	g_autofree char *worse_path = NULL, *breached_path = NULL;
	const char *same[] = { "diff", full, full, NULL };
	const char *regressed[] = { "diff", full, NULL, NULL };
	const char *as_json[] = { "diff", "--json", full, NULL, NULL };
	g_autoptr(json_object) parsed = NULL;
	struct result r;

	(void)state;
	require_binary();
	set_string(cell_by_id(worse, C4), "verdict", "fail");
	set_string(cell_by_id(worse, C4), "outcome", "hang-smm");
	worse_path = write_json(dir, "worse.json", worse);
	regressed[2] = as_json[3] = worse_path;
	r = run(same);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out->str, "no changes\n");
	result_free(&r);
	r = run(regressed);
	assert_int_equal(r.status, 1);
	assert_contains(r.out->str, "regressed    " C4);
	result_free(&r);
	r = run(as_json);
	assert_int_equal(r.status, 1);
	parsed = json_tokener_parse(r.out->str);
	assert_non_null(parsed);
	assert_int_equal(hpci_report_ms(parsed, "regressions"), 1);
	assert_int_equal(hpci_report_ms(parsed, "threshold_ms"), HPCI_DIFF_DEFAULT_MS);
	result_free(&r);
	/* C1 failed before; now it breaches: exit 1 all the same */
	set_string(cell_by_id(breached, C1), "outcome", "breach");
	regressed[2] = breached_path = write_json(dir, "breached.json", breached);
	r = run(regressed);
	assert_int_equal(r.status, 1);
	assert_contains(r.out->str, "breached     " C1 ": verdict fail -> fail, outcome hang-smm "
			"-> breach\n");
	result_free(&r);
	hpci_rm_rf(dir);
}

static void test_cli_writes_files(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = fixture("shard-1/report.json");
	g_autofree char *s2 = fixture("shard-2/report.json");
	g_autofree char *merged = g_build_filename(dir, "nightly", "report.json", NULL);
	g_autofree char *xml = g_build_filename(dir, "junit", "report.xml", NULL);
	g_autofree char *html = g_build_filename(dir, "nightly", "index.html", NULL);
	const char *merge[] = { "merge", merged, s1, s2, NULL };
	const char *junit[] = { "junit", merged, "-o", xml, NULL };
	const char *page[] = { "html", merged, "-o", html, NULL };
	g_autoptr(json_object) report = NULL;
	struct result r;

	(void)state;
	require_binary();
	r = run(merge);
	assert_int_equal(r.status, 0);
	assert_contains(r.out->str, "6 cells, 4 pass, 1 fail, 0 flaky, 1 known issue, "
			"0 infra error, 0 not run\n");
	result_free(&r);
	assert_int_equal(hpci_report_load(merged, &report), 0);
	r = run(junit);
	assert_int_equal(r.status, 0);
	assert_true(hpci_is_file(xml));
	result_free(&r);
	r = run(page);
	assert_int_equal(r.status, 0);
	assert_true(hpci_is_file(html));
	result_free(&r);
	hpci_rm_rf(dir);
}

/* The verdicts through the binary: merge's counts, merge refusing other
 * filters, diff's exit status for became-flaky (1) and infra (0). */
static void test_cli_flaky_and_infra(void **state)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *s1 = fixture("attempts-1/report.json");
	g_autofree char *s2 = fixture("attempts-2/report.json");
	g_autofree char *shard1 = fixture("shard-1/report.json");
	g_autofree char *merged = g_build_filename(dir, "merged.json", NULL);
	g_autoptr(json_object) steady = load_fixture("attempts-1/report.json");
	g_autofree char *other = NULL, *steady_path = NULL;
	const char *merge[] = { "merge", merged, s1, s2, NULL };
	const char *refused[] = { "merge", merged, s1, NULL, NULL };
	const char *became_flaky[] = { "diff", NULL, s1, NULL };
	const char *infra[] = { "diff", shard1, s1, NULL };
	struct result r;

	(void)state;
	require_binary();
	r = run(merge);
	assert_int_equal(r.status, 0);
	assert_contains(r.out->str, "6 cells, 1 pass, 1 fail, 2 flaky, 1 known issue, "
			"1 infra error, 0 not run\n");
	result_free(&r);
	assert_true(hpci_rm_rf(merged) == 0);

	refused[3] = other = with_run_key(dir, "attempts-2/report.json", "filters",
					  strings("qemu=patched", NULL));
	r = run(refused);
	assert_int_equal(r.status, 2);
	assert_contains(r.err->str, "ran different filters");
	assert_false(hpci_is_file(merged));
	result_free(&r);

	set_string(cell_by_id(steady, C1), "verdict", "pass");
	set_string(cell_by_id(steady, C1), "outcome", "pass");
	became_flaky[1] = steady_path = write_json(dir, "steady.json", steady);
	r = run(became_flaky);
	assert_int_equal(r.status, 1);
	assert_contains(r.out->str, "became-flaky " C1);
	result_free(&r);

	/* C5 pass -> infra-error, C1 fail -> flaky: no regression */
	r = run(infra);
	assert_int_equal(r.status, 0);
	assert_contains(r.out->str, "infra        " C5 ": verdict pass -> infra-error");
	assert_contains(r.out->str, "0 regressions\n");
	result_free(&r);
	hpci_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_rejects_what_is_not_a_report),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_merge_disjoint_shards),
		cmocka_unit_test(test_merge_keeps_breach),
		cmocka_unit_test(test_merge_rewrites_dirs_so_links_work),
		cmocka_unit_test(test_merge_ran_beats_not_run),
		cmocka_unit_test(test_merge_refuses_a_cell_that_ran_twice),
		cmocka_unit_test(test_merge_refuses_different_matrices),
		cmocka_unit_test(test_merge_follows_the_recorded_axes),
		cmocka_unit_test(test_merge_without_axes),
		cmocka_unit_test(test_merge_shards_with_attempts),
		cmocka_unit_test(test_merge_refuses_different_filters),
		cmocka_unit_test(test_merge_refuses_different_sets),
		cmocka_unit_test(test_merge_filters_are_a_set),
		cmocka_unit_test(test_merge_refuses_other_shards),
		cmocka_unit_test(test_junit_validates_and_counts),
		cmocka_unit_test(test_known_issue_note_both_forms),
		cmocka_unit_test(test_known_issues_in_junit_and_html),
		cmocka_unit_test(test_junit_infra_error_is_an_error),
		cmocka_unit_test(test_junit_flaky_fails_infra_errs),
		cmocka_unit_test(test_junit_schema_rejects_bad_xml),
		cmocka_unit_test(test_junit_breach_type),
		cmocka_unit_test(test_html_grid_has_one_box_per_cell),
		cmocka_unit_test(test_html_without_axes),
		cmocka_unit_test(test_html_charts_have_one_bar_each),
		cmocka_unit_test(test_html_escapes_everything),
		cmocka_unit_test(test_html_flaky_infra_and_attempts),
		cmocka_unit_test(test_html_run_sets),
		cmocka_unit_test(test_html_breaches_first),
		cmocka_unit_test(test_diff_noise_rule),
		cmocka_unit_test(test_diff_identical),
		cmocka_unit_test(test_diff_finds_regression_and_timing),
		cmocka_unit_test(test_diff_boot_15s_to_25s_not_15_5s),
		cmocka_unit_test(test_diff_outcomes_presence_and_plugs),
		cmocka_unit_test(test_diff_became_flaky),
		cmocka_unit_test(test_diff_infra_is_not_a_regression),
		cmocka_unit_test(test_diff_breached),
		cmocka_unit_test(test_cli_help),
		cmocka_unit_test(test_cli_bad_inputs_exit_2),
		cmocka_unit_test(test_cli_fetch_gitlab_usage),
		cmocka_unit_test(test_cli_diff_exit_status),
		cmocka_unit_test(test_cli_writes_files),
		cmocka_unit_test(test_cli_flaky_and_infra),
	};
	int failed;

	xmlInitParser();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return failed;
}
