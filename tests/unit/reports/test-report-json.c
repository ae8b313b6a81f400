/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json-reader.h"
#include "matrix.h"
#include "report-json.h"

#include <json-c/json.h>
#include <string.h>

static struct hpci_cell *make_cell(void)
{
	struct hpci_cell *cell = g_new0(struct hpci_cell, 1);
	struct hpci_axis_value av[] = {
		{ g_strdup("topology"), g_strdup("1s2c") },
		{ g_strdup("smi"), g_strdup("full") },
	};

	cell->id = g_strdup("topology=1s2c,smi=full");
	cell->axes = g_array_new(FALSE, TRUE, sizeof(struct hpci_axis_value));
	g_array_append_vals(cell->axes, av, 2);
	cell->steps = g_array_new(FALSE, TRUE, sizeof(struct hpci_step));
	cell->expect.outcome = HPCI_OUTCOME_HANG_SMM;
	cell->expect.reason = g_strdup("stock QEMU under TCG");
	cell->image = g_strdup("minimal");
	return cell;
}

static json_object *get(json_object *o, const char *path)
{
	g_auto(GStrv) keys = g_strsplit(path, ".", -1);

	for (char **k = keys; *k && o; k++) {
		if (g_ascii_isdigit(**k))
			o = json_object_array_get_idx(o, atoi(*k));
		else if (!json_object_object_get_ex(o, *k, &o))
			return NULL;
	}
	return o;
}

static const char *get_str(json_object *o, const char *path)
{
	json_object *v = get(o, path);

	return v ? json_object_get_string(v) : NULL;
}

static void test_report_round_trip(void **state)
{
	struct hpci_run_report report;
	struct hpci_cell *cell = make_cell();
	struct hpci_cell_result *res = hpci_cell_result_new(cell);
	struct hpci_cell_result *not_run = hpci_cell_result_new(cell);
	struct hpci_plug_timing plug = { .vcpu = 1, .guest_cpu = 1, .request_ms = 15000,
					 .returned_ms = 15060, .seen_ms = 15900, .online_ms = -1,
					 .unplug_request_ms = -1, .unplug_returned_ms = -1, .removed_ms = -1 };
	g_autofree char *text = NULL;
	g_autoptr(json_object) root = NULL;

	(void)state;
	hpci_run_report_init(&report);
	report.tool_version = g_strdup("0.1.0");
	report.accel = g_strdup("tcg");
	report.matrix_name = g_strdup("smoke");
	report.matrix_sha256 = g_strdup("abc");
	res->ran = true;
	res->outcome = HPCI_OUTCOME_HANG_SMM;
	res->verdict_pass = true;
	res->boot_ms = 14000;
	res->evidence = g_strdup("CPU#0 stayed in SMM");
	g_array_append_val(res->plugs, plug);
	g_ptr_array_add(report.results, res);
	g_ptr_array_add(report.results, not_run);
	g_ptr_array_add(report.run.sets, g_strdup("axes.qemu.patched.build.rev=v9.0.0"));

	text = hpci_report_json(&report);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_int_equal(json_object_get_int(get(root, "schema")), HPCI_REPORT_SCHEMA);
	assert_int_equal(json_object_array_length(get(root, "run.sets")), 1);
	assert_string_equal(get_str(root, "run.sets.0"), "axes.qemu.patched.build.rev=v9.0.0");
	assert_int_equal(json_object_array_length(get(root, "run.filters")), 0);
	assert_string_equal(get_str(root, "host.accel"), "tcg");
	assert_string_equal(get_str(root, "matrix.name"), "smoke");
	assert_string_equal(get_str(root, "cells.0.id"), "topology=1s2c,smi=full");
	assert_string_equal(get_str(root, "cells.0.axes.smi"), "full");
	assert_string_equal(get_str(root, "cells.0.expected.outcome"), "hang-smm");
	assert_string_equal(get_str(root, "cells.0.outcome"), "hang-smm");
	assert_string_equal(get_str(root, "cells.0.verdict"), "pass");
	assert_int_equal(json_object_get_int(get(root, "cells.0.timings.boot_ms")), 14000);
	assert_int_equal(json_object_get_int(get(root, "cells.0.timings.plugs.0.seen_ms")), 15900);
	/* Points never reached are null, not zero. */
	assert_true(json_object_is_type(get(root, "cells.0.timings.plugs.0.online_ms"), json_type_null));
	assert_string_equal(get_str(root, "cells.1.verdict"), "not-run");
	assert_true(json_object_is_type(get(root, "cells.1.outcome"), json_type_null));
	assert_int_equal(json_object_get_int(get(root, "summary.pass")), 1);
	assert_int_equal(json_object_get_int(get(root, "summary.not_run")), 1);

	hpci_run_report_release(&report);
	hpci_cell_free(cell);
}

static void test_report_known_issues(void **state)
{
	struct hpci_run_report report;
	struct hpci_cell *cell = make_cell();
	struct hpci_cell *plain = make_cell();
	struct hpci_known_issue issues[] = {
		{ HPCI_OUTCOME_QEMU_CRASH, HPCI_COMPONENT_SYSTEM_QEMU, g_strdup("heap corruption (evidence: /k/heap)") },
		{ HPCI_OUTCOME_GUEST_CRASH, HPCI_COMPONENT_GUEST_KERNEL, g_strdup("panic (evidence: /k/panic)") },
	};
	g_autofree char *text = NULL;
	g_autoptr(json_object) root = NULL;

	(void)state;
	cell->expect.known_issues = hpci_known_issues_new();
	g_array_append_vals(cell->expect.known_issues, issues, G_N_ELEMENTS(issues));
	hpci_run_report_init(&report);
	g_ptr_array_add(report.results, hpci_cell_result_new(cell));
	g_ptr_array_add(report.results, hpci_cell_result_new(plain));

	text = hpci_report_json(&report);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_int_equal(json_object_array_length(get(root, "cells.0.expected.known_issues")), 2);
	assert_string_equal(get_str(root, "cells.0.expected.known_issues.0.outcome"), "qemu-crash");
	assert_string_equal(get_str(root, "cells.0.expected.known_issues.0.note"),
			    "heap corruption (evidence: /k/heap)");
	assert_string_equal(get_str(root, "cells.0.expected.known_issues.1.outcome"),
			    "guest-crash");
	assert_string_equal(get_str(root, "cells.0.expected.known_issues.1.note"),
			    "panic (evidence: /k/panic)");
	/* only the array form is written */
	assert_null(get(root, "cells.0.expected.known_issue"));
	assert_null(get(root, "cells.0.expected.known_outcome"));
	assert_null(get(root, "cells.1.expected.known_issues"));

	hpci_run_report_release(&report);
	hpci_cell_free(cell);
	hpci_cell_free(plain);
}

/* A breach fails whatever flags say otherwise, unless it was expected (the
 * positive control); it is written and read back by its name. */
static void test_breach_verdict(void **state)
{
	struct hpci_run_report report;
	struct hpci_cell *cell = make_cell();
	struct hpci_cell_result *res = hpci_cell_result_new(cell);
	struct hpci_cell_result *control = hpci_cell_result_new(cell);
	g_autofree char *text = NULL;
	g_autoptr(json_object) root = NULL;
	enum hpci_outcome o;

	(void)state;
	assert_int_equal(hpci_outcome_parse("breach", &o), 0);
	assert_int_equal(o, HPCI_OUTCOME_BREACH);
	assert_false(hpci_cell_breached(res));             /* not run */
	res->ran = true;
	res->outcome = HPCI_OUTCOME_BREACH;
	res->known_issue = true;
	res->flaky = true;
	assert_true(hpci_cell_breached(res));
	assert_int_equal(hpci_cell_verdict(res), HPCI_VERDICT_FAIL);
	control->ran = true;
	control->outcome = HPCI_OUTCOME_BREACH;
	control->verdict_pass = true;
	assert_false(hpci_cell_breached(control));
	assert_int_equal(hpci_cell_verdict(control), HPCI_VERDICT_PASS);

	hpci_run_report_init(&report);
	g_ptr_array_add(report.results, res);
	g_ptr_array_add(report.results, control);
	text = hpci_report_json(&report);
	root = json_tokener_parse(text);
	assert_string_equal(get_str(root, "cells.0.outcome"), "breach");
	assert_string_equal(get_str(root, "cells.0.verdict"), "fail");
	assert_string_equal(get_str(root, "cells.1.outcome"), "breach");
	assert_string_equal(get_str(root, "cells.1.verdict"), "pass");
	assert_int_equal(json_object_get_int(get(root, "summary.fail")), 1);
	assert_int_equal(json_object_get_int(get(root, "summary.pass")), 1);
	assert_int_equal(json_object_get_int(get(root, "summary.known_issue")), 0);
	assert_int_equal(json_object_get_int(get(root, "summary.flaky")), 0);
	hpci_run_report_release(&report);
	hpci_cell_free(cell);
}

/* "axes" records the matrix's axis order: canonical axes, each with its
 * values as the file lists them; absent when the writer does not know. */
static void test_report_records_axes(void **state)
{
	static const char matrix_text[] =
		"{ \"name\": \"m\", \"axes\": { \"ops\": { \"z\": [\"smi\"], "
		"\"a\": [\"plug-each\"] }, \"count\": [2, 1], \"topology\": "
		"{ \"big\": { \"sockets\": 1, \"cores\": 4, \"boot\": 1 } } } }";
	static const char want[] =
		"[{\"name\":\"topology\",\"values\":[\"big\"]},"
		"{\"name\":\"smi\",\"values\":[\"default\"]},"
		"{\"name\":\"firmware\",\"values\":[\"default\"]},"
		"{\"name\":\"qemu\",\"values\":[\"default\"]},"
		"{\"name\":\"count\",\"values\":[\"2\",\"1\"]},"
		"{\"name\":\"ops\",\"values\":[\"z\",\"a\"]}]";
	struct hpci_matrix_host host = { "tcg" };
	g_autoptr(hpci_matrix) m = NULL;
	struct hpci_run_report report;
	g_autofree char *text = NULL, *without = NULL;
	g_autoptr(json_object) bare = NULL;
	g_autoptr(json_object) root = NULL;

	(void)state;
	assert_int_equal(hpci_matrix_parse("m.json", matrix_text, &host, &m), 0);
	hpci_run_report_init(&report);
	for (guint i = 0; i < m->cells->len; i++)
		g_ptr_array_add(report.results, hpci_cell_result_new(m->cells->pdata[i]));
	without = hpci_report_json(&report);
	bare = json_tokener_parse(without);
	assert_null(get(bare, "axes"));

	report.axis_values = m->axis_values;
	text = hpci_report_json(&report);
	root = json_tokener_parse(text);
	assert_string_equal(json_object_to_json_string_ext(get(root, "axes"),
							   JSON_C_TO_STRING_PLAIN), want);
	hpci_run_report_release(&report);
}

/* One table: each verdict's name parses back to it, with its summary key,
 * words and progress tag; the counter counts unknown words as cells only. */
static void test_verdict_table_and_counts(void **state)
{
	static const struct {
		enum hpci_verdict verdict;
		const char *name, *key, *words, *tag;
	} want[] = {
		{ HPCI_VERDICT_PASS, "pass", "pass", "pass", "ok" },
		{ HPCI_VERDICT_FAIL, "fail", "fail", "fail", "FAIL" },
		{ HPCI_VERDICT_FLAKY, "flaky", "flaky", "flaky", "FLAKY" },
		{ HPCI_VERDICT_KNOWN_ISSUE, "known-issue", "known_issue", "known issue", "KNOWN" },
		{ HPCI_VERDICT_INFRA_ERROR, "infra-error", "infra_error", "infra error", "INFRA" },
		{ HPCI_VERDICT_NOT_RUN, "not-run", "not_run", "not run", "-" },
	};
	struct hpci_verdict_counts counts = { 0 };
	g_autofree char *text = NULL;

	(void)state;
	assert_int_equal(G_N_ELEMENTS(want), HPCI_VERDICT__COUNT);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		assert_int_equal(want[i].verdict, i);   /* the summaries' order */
		assert_string_equal(hpci_verdict_name(want[i].verdict), want[i].name);
		assert_int_equal(hpci_verdict_parse(want[i].name), want[i].verdict);
		assert_string_equal(hpci_verdict_summary_key(want[i].verdict), want[i].key);
		assert_string_equal(hpci_verdict_words(want[i].verdict), want[i].words);
		assert_string_equal(hpci_verdict_tag(want[i].verdict), want[i].tag);
	}
	assert_int_equal(hpci_verdict_parse("known_issue"), HPCI_VERDICT__COUNT);
	assert_int_equal(hpci_verdict_parse(NULL), HPCI_VERDICT__COUNT);
	assert_string_equal(hpci_verdict_name(HPCI_VERDICT__COUNT), "invalid");

	hpci_verdict_counts_add(&counts, HPCI_VERDICT_PASS);
	hpci_verdict_counts_add(&counts, HPCI_VERDICT_PASS);
	hpci_verdict_counts_add(&counts, HPCI_VERDICT_KNOWN_ISSUE);
	hpci_verdict_counts_add(&counts, hpci_verdict_parse("someday"));
	text = hpci_verdict_counts_text(&counts);
	assert_string_equal(text, "4 cells, 2 pass, 0 fail, 0 flaky, 1 known issue, "
				  "0 infra error, 0 not run");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_round_trip),
		cmocka_unit_test(test_report_known_issues),
		cmocka_unit_test(test_breach_verdict),
		cmocka_unit_test(test_report_records_axes),
		cmocka_unit_test(test_verdict_table_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
