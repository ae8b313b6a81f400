/* SPDX-License-Identifier: MIT */
/*
 * A slice of the nightly matrix (15 cells touching every value kind of every
 * axis: 3 topologies, 4 SMI modes and machine types, the 3 firmwares, both
 * QEMUs, counts 1, 2 and all, the 4 kinds of ops) run with the default
 * --jobs: every verdict must hold.  Then the same slice as two shards, merged:
 * the same cells with the same verdicts.  A verdict "holds" when it is pass,
 * or known-issue with the declared outcome and its evidence kept (a product
 * bug this matrix found); the comparison treats those two as one, since a
 * known intermittent bug may show in one run and not in the other.  The
 * first shard spreads its cells over two connections to the local daemon,
 * the way --connect spreads a run over several libvirt hosts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vm-common.h"

#include <string.h>

#define FULL HPCI_SOURCE_ROOT "/matrix/full.json"
#define SLICE_CELLS 15

static const char *const slice[] = {
	"--filter", "topology=1s4c,smi=full,count=1,ops=each",
	"--filter", "topology=1s4c,firmware=smm-debug,count=1,smi=hotplug-off|machine-5.2|unplug-off",
	"--filter", "topology=1s4c,firmware=smm-debug,smi=full,ops=cycles",
	"--filter", "topology=1s2d3c,ops=burst",
	"--filter", "topology=2s2c,count=all,ops=unplug",
};

/* Two URIs for the one local daemon: the default socket, and the same
 * socket named explicitly. */
static const char *const two_connections[] = {
	"--connect", "qemu:///system", "--connect", "qemu+unix:///system", NULL,
};

static void run_slice(const char *out, const char *shard, const char *const *extra,
		      struct vm_result *r)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();

	g_ptr_array_add(args, (gpointer) "run");
	g_ptr_array_add(args, (gpointer) "--matrix");
	g_ptr_array_add(args, (gpointer)FULL);
	g_ptr_array_add(args, (gpointer) "--out");
	g_ptr_array_add(args, (gpointer)out);
	for (size_t i = 0; i < G_N_ELEMENTS(slice); i++)
		g_ptr_array_add(args, (gpointer)slice[i]);
	if (shard) {
		g_ptr_array_add(args, (gpointer) "--shard");
		g_ptr_array_add(args, (gpointer)shard);
	}
	for (; extra && *extra; extra++)
		g_ptr_array_add(args, (gpointer)*extra);
	g_ptr_array_add(args, NULL);
	vm_hotplug_ci_argv(r, (const char *const *)args->pdata);
}

/* "pass" for a verdict that holds, else the verdict itself. */
static const char *holds(json_object *cell)
{
	const char *verdict = vm_get_str(cell, "verdict");

	if (strcmp(verdict, "known-issue") == 0)
		return vm_declared_known_issue(cell) ? "pass" : "known-issue without its declaration";
	return verdict;
}

static GHashTable *verdicts_of(json_object *report)
{
	GHashTable *v = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	json_object *cells = vm_get(report, "cells");

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		g_hash_table_insert(v, g_strdup(vm_get_str(cell, "id")),
				    g_strdup(holds(cell)));
	}
	return v;
}

static void check_axes_covered(json_object *report)
{
	static const struct { const char *axis; unsigned min_values; } want[] = {
		{ "topology", 3 }, { "smi", 4 }, { "firmware", 3 }, { "qemu", 2 },
		{ "count", 3 }, { "ops", 4 },
	};
	json_object *cells = vm_get(report, "cells");

	for (size_t a = 0; a < G_N_ELEMENTS(want); a++) {
		g_autoptr(GHashTable) values = g_hash_table_new(g_str_hash, g_str_equal);

		for (size_t i = 0; i < json_object_array_length(cells); i++) {
			json_object *axes = vm_get(json_object_array_get_idx(cells, i), "axes");

			g_hash_table_add(values, (gpointer)vm_get_str(axes, want[a].axis));
		}
		if (g_hash_table_size(values) < want[a].min_values)
			fail_msg("the slice has %u %s value(s), wants %u", g_hash_table_size(values),
				 want[a].axis, want[a].min_values);
	}
}

/* Both connections ran cells, and the report names them. */
static void check_both_connections_used(json_object *report)
{
	json_object *uris = vm_get(report, "run.connections");
	json_object *cells = vm_get(report, "cells");
	unsigned used[2] = { 0, 0 };

	assert_int_equal(json_object_array_length(uris), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(uris, 0)),
			    two_connections[1]);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(uris, 1)),
			    two_connections[3]);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		const char *uri = vm_get_str(json_object_array_get_idx(cells, i), "connection");

		if (strcmp(uri, two_connections[1]) == 0)
			used[0]++;
		else if (strcmp(uri, two_connections[3]) == 0)
			used[1]++;
		else
			fail_msg("cell %zu ran on %s, not one of the two connections", i, uri);
	}
	if (!used[0] || !used[1])
		fail_msg("cells per connection: %u and %u; both should have run some",
			 used[0], used[1]);
}

static void check_every_verdict_holds(const char *dir, json_object *report, GHashTable *verdicts)
{
	json_object *cells = vm_get(report, "cells");
	unsigned bad = 0;

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (strcmp(g_hash_table_lookup(verdicts, vm_get_str(cell, "id")), "pass") != 0) {
			vm_print_cell_evidence(dir, cell);
			bad++;
		}
	}
	if (bad)
		fail_msg("%u cell(s) of %s did not hold their verdict (above)", bad, dir);
}

static void check_shard(const char *dir, json_object *report, struct vm_result *r)
{
	g_autoptr(GHashTable) verdicts = verdicts_of(report);

	check_every_verdict_holds(dir, report, verdicts);
	assert_int_equal(r->status, 0);
	vm_result_release(r);
}

static void test_slice_default_jobs_then_two_shards(void **state)
{
	g_autofree char *tmp = vm_tmpdir("full-slice");
	g_autofree char *whole = g_build_filename(tmp, "whole", NULL);
	g_autofree char *shard1 = g_build_filename(tmp, "shard1", NULL);
	g_autofree char *shard2 = g_build_filename(tmp, "shard2", NULL);
	g_autofree char *merged = g_build_filename(tmp, "merged", NULL);
	g_autofree char *merged_json = g_build_filename(merged, "report.json", NULL);
	g_autofree char *s1 = g_build_filename(shard1, "report.json", NULL);
	g_autofree char *s2 = g_build_filename(shard2, "report.json", NULL);
	g_autoptr(GHashTable) first = NULL;
	g_autoptr(GHashTable) second = NULL;
	struct vm_result r = { 0 };
	json_object *report, *a, *b;
	GHashTableIter iter;
	gpointer id, verdict;

	(void)state;
	run_slice(whole, NULL, NULL, &r);
	report = vm_load_report(whole);
	assert_int_equal(json_object_array_length(vm_get(report, "cells")), SLICE_CELLS);
	/* default --jobs on this host: one per core, within memory */
	assert_int_equal(json_object_get_int(vm_get(report, "run.jobs")), g_get_num_processors());
	assert_int_equal(json_object_array_length(vm_get(report, "run.filters")), 5);
	check_axes_covered(report);
	first = verdicts_of(report);
	check_every_verdict_holds(whole, report, first);
	/* Every verdict holds: exit status 0, whatever known issues showed. */
	assert_int_equal(r.status, 0);
	json_object_put(report);
	vm_result_release(&r);

	run_slice(shard1, "1/2", two_connections, &r);
	a = vm_load_report(shard1);
	check_shard(shard1, a, &r);
	run_slice(shard2, "2/2", NULL, &r);
	b = vm_load_report(shard2);
	check_shard(shard2, b, &r);
	/* deterministic split: 8 + 7 */
	assert_int_equal(json_object_array_length(vm_get(a, "cells")), 8);
	check_both_connections_used(a);
	assert_int_equal(json_object_array_length(vm_get(b, "cells")), 7);
	json_object_put(a);
	json_object_put(b);

	g_assert(g_mkdir_with_parents(merged, 0755) == 0);
	vm_hotplug_ci(&r, "report", "merge", merged_json, s1, s2, NULL);
	assert_int_equal(r.status, 0);
	vm_result_release(&r);
	report = vm_load_report(merged);
	second = verdicts_of(report);
	json_object_put(report);
	assert_int_equal(g_hash_table_size(second), g_hash_table_size(first));
	g_hash_table_iter_init(&iter, first);
	while (g_hash_table_iter_next(&iter, &id, &verdict)) {
		const char *other = g_hash_table_lookup(second, id);

		if (!other || strcmp(other, verdict) != 0)
			fail_msg("cell %s: %s in the whole run, %s in the merged shards", (char *)id,
				 (char *)verdict, other ? other : "missing");
	}
	assert_int_equal(vm_count_domains("hpci-"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slice_default_jobs_then_two_shards),
	};

	return cmocka_run_group_tests_name("full-slice", tests, NULL, NULL);
}
