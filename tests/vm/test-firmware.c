/* SPDX-License-Identifier: MIT */
/*
 * Real OVMF builds through the real binary, then real VMs on them:
 *   - debian:edk2 builds a DEBUG SMM OVMF (cold the first time), and the
 *     second request is a cache hit;
 *   - a local git repository of edk2 at two revisions gives two keys, the
 *     second reusing the first's BaseTools;
 *   - matrix/firmware-debug.json on the patched QEMU: three CPUs plugged in
 *     one call on a 3-threads-per-core topology (APIC IDs 1, 2, 4) and an
 *     unplug, each checked against the firmware's own log;
 *   - a deliberately wrong firmware expectation fails as a mismatch that
 *     names the field, the expected and the observed value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fsutil.h"
#include "vm-common.h"

#include <stdio.h>
#include <string.h>

static json_object *load_json(const char *path)
{
	json_object *o = json_object_from_file(path);

	if (!o)
		fail_msg("'%s' is missing or not JSON", path);
	return o;
}

static bool array_has(json_object *array, const char *value)
{
	for (size_t i = 0; array && i < json_object_array_length(array); i++)
		if (!g_strcmp0(json_object_get_string(json_object_array_get_idx(array, i)), value))
			return true;
	return false;
}

static void test_debian_edk2_cold_then_hit(void **state)
{
	struct vm_result cold = { 0 }, hit = { 0 };
	g_autofree char *dir = NULL, *manifest_path = NULL;
	json_object *descriptor, *manifest;

	(void)state;
	vm_hotplug_ci(&cold, "build", "firmware", "--source", "debian:edk2", NULL);
	assert_int_equal(cold.status, 0);
	fprintf(stderr, "firmware build answered in %" G_GINT64_FORMAT " s\n", cold.ms / 1000);
	assert_true(g_str_has_suffix(cold.out, "/firmware.json"));

	/* The descriptor is QEMU's firmware interop format and names the images. */
	descriptor = load_json(cold.out);
	assert_true(array_has(vm_get(descriptor, "interface-types"), "uefi"));
	assert_string_equal(vm_get_str(descriptor, "mapping.device"), "flash");
	assert_true(hpci_is_file(vm_get_str(descriptor, "mapping.executable.filename")));
	assert_true(hpci_is_file(vm_get_str(descriptor, "mapping.nvram-template.filename")));
	assert_string_equal(vm_get_str(descriptor, "targets.0.architecture"), "x86_64");
	assert_true(array_has(vm_get(descriptor, "targets.0.machines"), "pc-q35-*"));
	assert_true(array_has(vm_get(descriptor, "features"), "requires-smm"));
	assert_true(array_has(vm_get(descriptor, "features"), "verbose-static"));

	dir = g_path_get_dirname(cold.out);
	manifest_path = g_build_filename(dir, "manifest.json", NULL);
	manifest = load_json(manifest_path);
	assert_string_equal(vm_get_str(manifest, "build_type"), "DEBUG");
	assert_string_equal(vm_get_str(manifest, "toolchain"), "GCC5");
	assert_string_equal(vm_get_str(manifest, "source.kind"), "debian");
	assert_true(array_has(vm_get(manifest, "defines"), "SMM_REQUIRE=TRUE"));
	assert_true(array_has(vm_get(manifest, "pcds"),
			      "gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel=0x8040004F"));
	assert_true(json_object_get_int64(vm_get(manifest, "duration_ms")) > 0);

	vm_hotplug_ci(&hit, "build", "firmware", "--source", "debian:edk2", NULL);
	assert_int_equal(hit.status, 0);
	assert_string_equal(hit.out, cold.out);
	assert_non_null(strstr(hit.err, "(cache hit)"));
	/* How fast is for the benchmarks; a loaded CI host took 1.03 s once. */
	fprintf(stderr, "cache hit answered in %" G_GINT64_FORMAT " ms\n", hit.ms);
	json_object_put(descriptor);
	json_object_put(manifest);
	vm_result_release(&cold);
	vm_result_release(&hit);
}

static char *manifest_next_to(const char *descriptor)
{
	g_autofree char *dir = g_path_get_dirname(descriptor);
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	char *text = NULL;

	assert_int_equal(hpci_read_file(path, &text, NULL), 0);
	return text;
}

/* Revision two changes a comment in OvmfPkg, not BaseTools. */
static void test_git_two_revisions(void **state)
{
	g_autofree char *tmp = vm_tmpdir("edk2-git");
	g_autofree char *repo = g_build_filename(tmp, "edk2", NULL);
	const char *make =
		"apt-get source -qq edk2 >/dev/null 2>&1 && mv edk2-*/ edk2 && cd edk2 && "
		"git init -q && git add -A && git commit -qm 'Debian source' && git tag one && "
		"echo '# revision two' >> OvmfPkg/OvmfPkgIa32X64.fdf && git commit -qam two && "
		"git tag two";
	struct vm_result one = { 0 }, two = { 0 };
	g_autofree char *m1 = NULL, *m2 = NULL;

	(void)state;
	vm_sh(tmp, make);
	vm_hotplug_ci(&one, "build", "firmware", "--source", repo, "--rev", "one", NULL);
	assert_int_equal(one.status, 0);
	vm_hotplug_ci(&two, "build", "firmware", "--source", repo, "--rev", "two", NULL);
	assert_int_equal(two.status, 0);
	assert_string_not_equal(one.out, two.out);
	m1 = manifest_next_to(one.out);
	m2 = manifest_next_to(two.out);
	assert_non_null(strstr(m1, "\"edk2_commit\":"));
	assert_string_not_equal(strstr(m1, "\"edk2_commit\":"), strstr(m2, "\"edk2_commit\":"));
	/* One BaseTools build serves both: revision two left BaseTools/ alone. */
	assert_non_null(strstr(m1, "\"basetools_key\":"));
	assert_memory_equal(strstr(m1, "\"basetools_key\":"), strstr(m2, "\"basetools_key\":"),
			    strlen("\"basetools_key\":\"") + 64);
	if (!strstr(two.err, "(cache hit)"))
		assert_non_null(strstr(two.err, "BaseTools from the cache"));
	vm_sh(repo, "test -z \"$(git status --porcelain)\" && test \"$(git rev-parse HEAD)\" = "
		    "\"$(git rev-parse two)\"");
	vm_result_release(&one);
	vm_result_release(&two);
	(void)hpci_rm_rf(tmp);
}

static void assert_apic_ids(json_object *list, const char *field, const guint32 *want,
			    size_t n)
{
	g_autofree char *got = NULL;
	GString *s = g_string_new(NULL);

	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i ? "," : "",
				       json_object_get_int64(vm_get(json_object_array_get_idx(list,
											i),
								   field)));
	got = g_string_free(s, FALSE);
	s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%u", i ? "," : "", want[i]);
	assert_string_equal(got, s->str);
	g_string_free(s, TRUE);
}

/* True when the cell passed; false when it ended in a declared known issue
 * (printed); any other outcome fails the test with the cell's evidence. */
static bool passed_unless_known_issue(const char *out, json_object *cell, const char *what)
{
	if (vm_declared_known_issue(cell)) {
		fprintf(stderr, "%s cell: known issue %s: %s\n", what, vm_get_str(cell, "outcome"),
			vm_get_str(cell, "evidence"));
		return false;
	}
	if (strcmp(vm_get_str(cell, "outcome"), "pass") != 0) {
		vm_print_cell_evidence(out, cell);
		fail_msg("%s cell: %s: %s", what, vm_get_str(cell, "outcome"),
			 vm_get_str(cell, "evidence"));
	}
	return true;
}

static void test_debug_firmware_cells(void **state)
{
	g_autofree char *tmp = vm_tmpdir("fw-debug");
	g_autofree char *out = g_build_filename(tmp, "run", NULL);
	static const guint32 burst_ids[] = { 1, 2, 4 };
	struct vm_result run = { 0 };
	json_object *report, *burst, *unplug, *refused, *hot_added;

	(void)state;
	vm_hotplug_ci(&run, "run", "--matrix", HPCI_SOURCE_ROOT "/matrix/firmware-debug.json",
		      "--out", out, NULL);
	report = vm_load_report(out);
	burst = vm_find_cell(report, "ops", "burst", NULL, NULL);
	unplug = vm_find_cell(report, "ops", "unplug", NULL, NULL);
	assert_non_null(burst);
	assert_non_null(unplug);

	/* Whatever else happened, the firmware told us about the three CPUs. */
	hot_added = vm_get(burst, "firmware.hot_added");
	assert_apic_ids(hot_added, "apic_id", burst_ids, 3);
	assert_string_not_equal(vm_get_str(burst, "firmware.hot_added.0.smbase"),
				vm_get_str(burst, "firmware.hot_added.1.smbase"));
	assert_string_not_equal(vm_get_str(burst, "firmware.hot_added.1.smbase"),
				vm_get_str(burst, "firmware.hot_added.2.smbase"));
	assert_string_not_equal(vm_get_str(burst, "firmware.hot_added.0.smbase"),
				vm_get_str(burst, "firmware.hot_added.2.smbase"));
	assert_true(json_object_get_boolean(vm_get(burst, "firmware.negotiated.cpu_hotplug")));
	/* The guest booted them with the same APIC IDs (the check would have
	 * made the cell a mismatch otherwise). */
	if (passed_unless_known_issue(out, burst, "burst"))
		assert_int_equal(json_object_array_length(vm_get(burst, "firmware_problems")), 0);

	/* The unplug: the firmware relocated the CPU, and, unless a declared
	 * known issue stopped the cell before the unplug, ejected it again. */
	assert_int_equal(json_object_get_int64(vm_get(unplug, "firmware.hot_added.0.apic_id")), 1);
	assert_true(json_object_get_boolean(vm_get(unplug,
						   "firmware.smram_at_default_smbase")));
	assert_int_equal(json_object_array_length(vm_get(unplug, "firmware.asserts")), 0);
	if (passed_unless_known_issue(out, unplug, "unplug")) {
		assert_int_equal(json_object_get_int64(vm_get(unplug, "firmware.unplugs.0.apic_id")),
				 1);
		assert_true(json_object_get_boolean(vm_get(unplug, "firmware.unplugs.0.completed")));
	}

	/* CPU hotplug with SMI off: refused, and the firmware agrees it has none. */
	refused = vm_find_cell(report, "smi", "hotplug-off", NULL, NULL);
	assert_string_equal(vm_get_str(refused, "outcome"), "refused");
	assert_string_equal(vm_get_str(refused, "verdict"), "pass");
	assert_false(json_object_get_boolean(vm_get(refused, "firmware.negotiated.cpu_hotplug")));
	assert_int_equal(json_object_array_length(vm_get(refused, "firmware.hot_added")), 0);
	assert_int_equal(run.status, 0);
	assert_int_equal(vm_count_domains("hpci-"), 0);
	json_object_put(report);
	vm_result_release(&run);
	(void)hpci_rm_rf(tmp);
}

/* A matrix that claims hot-unplug is not negotiated, where it is. */
static void test_wrong_expectation_is_a_mismatch(void **state)
{
	g_autofree char *tmp = vm_tmpdir("fw-wrong");
	g_autofree char *matrix = g_build_filename(tmp, "wrong.json", NULL);
	g_autofree char *out = g_build_filename(tmp, "run", NULL);
	g_autofree char *text = g_strdup_printf(
		"{ \"name\": \"wrong-expectation\", \"axes\": {"
		"\"topology\": { \"1s2c\": { \"sockets\": 1, \"cores\": 2, \"boot\": 1 } },"
		"\"firmware\": { \"debug\": { \"build\": { \"source\": \"debian:edk2\" } } },"
		"\"qemu\": { \"patched\": { \"build\": { \"source\": \"debian:qemu\","
		" \"patches\": \"%s/qemu-build/patches\" } } },"
		"\"ops\": { \"plug\": [\"plug-each\"] } },"
		"\"expect\": [ { \"when\": {}, \"outcome\": \"pass\", \"firmware\": {"
		" \"negotiated\": { \"cpu_hotunplug\": false } } } ] }", HPCI_SOURCE_ROOT);
	struct vm_result run = { 0 };
	json_object *report, *cell;

	(void)state;
	assert_int_equal(hpci_write_file(matrix, text, -1), 0);
	vm_hotplug_ci(&run, "run", "--matrix", matrix, "--out", out, NULL);
	report = vm_load_report(out);
	cell = vm_get(report, "cells.0");
	assert_string_equal(vm_get_str(cell, "outcome"), "mismatch");
	assert_string_equal(vm_get_str(cell, "verdict"), "fail");
	assert_non_null(strstr(vm_get_str(cell, "error"), "firmware.negotiated.cpu_hotunplug: "
							  "expected false, observed true"));
	assert_non_null(strstr(run.out, "firmware.negotiated.cpu_hotunplug: expected false, "
					"observed true"));
	assert_int_not_equal(run.status, 0);
	assert_int_equal(vm_count_domains("hpci-"), 0);
	json_object_put(report);
	vm_result_release(&run);
	(void)hpci_rm_rf(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_edk2_cold_then_hit),
		cmocka_unit_test(test_debug_firmware_cells),
		cmocka_unit_test(test_wrong_expectation_is_a_mismatch),
		cmocka_unit_test(test_git_two_revisions),
	};

	return cmocka_run_group_tests_name("firmware", tests, NULL, NULL);
}
