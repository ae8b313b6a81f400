/* SPDX-License-Identifier: MIT */
/*
 * bisect/answers.c (a run's report as runs of a commit) and bisect/record.c
 * (bisect.json written, read back, replayed into a search's tallies).
 */
#include "answers.h"
#include "record.h"
#include "bisect-html.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static json_object *report(const char *json)
{
	json_object *o = json_tokener_parse(json);

	assert_non_null(o);
	return o;
}

#define ATT(n, v) "{\"attempt\":" #n ",\"verdict\":\"" v "\",\"outcome\":\"x\"}"

/* Two cells, three runs asked: run 1 both pass; run 2 one fails; run 3 one
 * had only infrastructure errors left; the infra attempt does not count. */
static void test_answers_rounds(void **state)
{
	g_autoptr(json_object) r = report(
		"{\"schema\":1,\"cells\":["
		"{\"id\":\"a\",\"verdict\":\"flaky\",\"attempts\":[" ATT(1, "pass") "," ATT(2, "infra-error") ","
		ATT(3, "fail") "," ATT(4, "pass") "]},"
		"{\"id\":\"b\",\"verdict\":\"pass\",\"attempts\":[" ATT(1, "known-issue") "," ATT(2, "pass") "]}]}");
	struct hpci_bisect_tally t = { 0 };

	assert_int_equal(hpci_bisect_answers_add("r.json", r, 3, &t), 0);
	assert_int_equal(t.holds, 1);
	assert_int_equal(t.fails, 1);
	assert_int_equal(t.silent, 1);
	assert_false(t.unbuildable);
}

static void test_answers_no_cells(void **state)
{
	g_autoptr(json_object) r = report("{\"schema\":1,\"cells\":[]}");
	struct hpci_bisect_tally t = { 0 };

	assert_true(hpci_bisect_answers_add("r.json", r, 1, &t) < 0);
	assert_string_equal(hpci_error_message(), "r.json: the run has no cells");
}

static void fill_settings(struct hpci_bisect_settings *s)
{
	s->component = g_strdup("edk2");
	s->repository = g_strdup("/src/edk2");
	s->term_old = g_strdup("good");
	s->term_new = g_strdup("bad");
	s->old_rev = g_strdup("v1");
	s->old_commit = g_strdup("c0");
	s->new_rev = g_strdup("HEAD");
	s->new_commit = g_strdup("c9");
	s->matrix = g_strdup("m.json");
	s->filters = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(s->filters, g_strdup("count=1"));
	s->cells = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(s->cells, g_strdup("topology=1s4c"));
	s->commits = 9;
}

static struct hpci_bisect_run *run(const char *commit, enum hpci_bisect_purpose p, unsigned n,
				   unsigned holds, unsigned fails, bool unbuildable)
{
	struct hpci_bisect_run *r = g_new0(struct hpci_bisect_run, 1);

	r->commit = g_strdup(commit);
	r->purpose = p;
	r->runs = n;
	r->said = (struct hpci_bisect_tally){ holds, fails, 0, unbuildable };
	r->dir = unbuildable ? NULL : g_strdup_printf("runs/%s", commit);
	r->build_error = unbuildable ? g_strdup("building OVMF failed (log 'x')") : NULL;
	r->build_ms = 61000;
	r->run_ms = 20500;
	return r;
}

/* Written, read back, replayed: the same settings and the same tallies,
 * the verification's runs apart. */
static void test_record_round_trip(void **state)
{
	g_auto(hpci_bisect_settings) s = { 0 };
	g_auto(hpci_bisect_settings) back = { 0 };
	g_auto(hpci_bisect_search) search = { 0 };
	g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_bisect_run_free);
	g_autoptr(GPtrArray) loaded = NULL;
	g_autoptr(json_object) root = NULL;
	g_autofree char *tmp = g_dir_make_tmp("hpci-record-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp, "bisect.json", NULL);
	struct hpci_bisect_policy p;
	struct hpci_bisect_commit *c;

	fill_settings(&s);
	g_ptr_array_add(runs, run("c0", HPCI_BISECT_ENDPOINT, 3, 3, 0, false));
	g_ptr_array_add(runs, run("c9", HPCI_BISECT_ENDPOINT, 3, 0, 3, false));
	g_ptr_array_add(runs, run("c4", HPCI_BISECT_STEP, 1, 0, 0, true));
	g_ptr_array_add(runs, run("c5", HPCI_BISECT_STEP, 1, 1, 0, false));
	g_ptr_array_add(runs, run("c5", HPCI_BISECT_VERIFY, 3, 2, 1, false));
	hpci_bisect_policy_init(&p);
	hpci_bisect_search_init(&search, &p, "c0", "c9", true, false);
	root = hpci_bisect_record_json(&s, &search, runs, NULL, "running", 1234, 4);
	assert_int_equal(hpci_json_write_file(path, root), 0);

	if (hpci_bisect_record_load(path, &back, &loaded) < 0)
		fail_msg("%s", hpci_error_message());
	assert_string_equal(back.repository, "/src/edk2");
	assert_string_equal(back.new_commit, "c9");
	assert_string_equal(back.filters->pdata[0], "count=1");
	assert_string_equal(back.cells->pdata[0], "topology=1s4c");
	assert_int_equal(loaded->len, 5);
	assert_int_equal(((struct hpci_bisect_run *)loaded->pdata[3])->build_ms, 61000);
	assert_int_equal(((struct hpci_bisect_run *)loaded->pdata[3])->run_ms, 20500);

	hpci_bisect_search_clear(&search);
	hpci_bisect_search_init(&search, &p, "c0", "c9", true, false);
	hpci_bisect_record_replay(loaded, &search);
	c = hpci_bisect_search_commit(&search, "c5");
	assert_int_equal(c->tally.holds, 1);
	assert_int_equal(c->verify_tally.holds, 2);
	assert_int_equal(c->verify_tally.fails, 1);
	assert_true(hpci_bisect_search_commit(&search, "c4")->tally.unbuildable);
	assert_int_equal(hpci_bisect_search_commit(&search, "c9")->tally.fails, 3);
	assert_int_equal(json_object_get_int(json_object_object_get(root, "cell_runs")), 10);
	(void)hpci_rm_rf(tmp);
}

static void test_record_refuses_other_schema(void **state)
{
	g_auto(hpci_bisect_settings) back = { 0 };
	g_autoptr(GPtrArray) loaded = NULL;
	g_autofree char *tmp = g_dir_make_tmp("hpci-record-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp, "bisect.json", NULL);

	assert_int_equal(hpci_write_file(path, "{\"schema\": 7}", -1), 0);
	assert_true(hpci_bisect_record_load(path, &back, &loaded) < 0);
	assert_non_null(strstr(hpci_error_message(), "$.schema: schema 7 is not 1"));
	(void)hpci_rm_rf(tmp);
}

/* The page of a found bisect: the answer first, with the commit's subject
 * and files, then the steps linking their reports. */
static void test_html_found(void **state)
{
	g_auto(hpci_bisect_settings) s = { 0 };
	g_auto(hpci_bisect_search) search = { 0 };
	g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_bisect_run_free);
	g_autoptr(GHashTable) info = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(json_object) root = NULL;
	g_autofree char *html = NULL;
	struct hpci_bisect_policy p;
	g_autoptr(json_object) c5 = json_tokener_parse("{\"commit\":\"c5\",\"subject\":\"OvmfPkg/"
					     "SmmControl2Dxe: drop hotplug\",\"files\":[\"OvmfPkg/"
					     "SmmControl2Dxe/SmiFeatures.c\"],\"last_run\":\"runs/004\"}");

	fill_settings(&s);
	g_ptr_array_add(runs, run("c5", HPCI_BISECT_STEP, 1, 0, 1, false));
	hpci_bisect_policy_init(&p);
	hpci_bisect_search_init(&search, &p, "c0", "c9", true, false);
	hpci_bisect_record_replay(runs, &search);
	hpci_bisect_search_commit(&search, "c5")->class = HPCI_BISECT_FAILS;
	hpci_bisect_search_commit(&search, "c5")->order = 1;
	search.result = HPCI_BISECT_FOUND;
	search.first_new = g_strdup("c5");
	search.parents = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(search.parents, g_strdup("c4"));
	search.confidence = 0.9991;
	g_hash_table_insert(info, "c5", c5);
	root = hpci_bisect_record_json(&s, &search, runs, info, "done", 60000, 3);
	assert_true(hpci_bisect_html_is_record(root));
	assert_int_equal(hpci_bisect_html(root, "..", &html), 0);
	assert_non_null(strstr(html, "<div class=\"found\" id=\"bisect-answer\">"));
	assert_non_null(strstr(html, "OvmfPkg/SmmControl2Dxe: drop hotplug"));
	assert_non_null(strstr(html, "<li>OvmfPkg/SmmControl2Dxe/SmiFeatures.c</li>"));
	assert_non_null(strstr(html, "confidence 0.9991"));
	assert_non_null(strstr(html, "id=\"bisect-steps\""));
	assert_non_null(strstr(html, "href=\"../runs/004/report.json\""));
	assert_true(strstr(html, "bisect-answer") < strstr(html, "bisect-steps"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_rounds),
		cmocka_unit_test(test_answers_no_cells),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_record_refuses_other_schema),
		cmocka_unit_test(test_html_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
