/* SPDX-License-Identifier: MIT */
/*
 * Real QEMU builds through the real binary: the Debian source package with
 * our patch queue (cold the first time, then a cache hit), a local git
 * repository at two revisions (two keys, two emulators that say so), one
 * patch byte changing the key; then matrix/patched-qemu.json as real VMs on
 * the patched build: three CPUs one at a time, three in one call, and an
 * unplug, each followed by SMIs on the hot-added CPUs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "vm-common.h"

#include <stdio.h>
#include <string.h>

#define PATCHES HPCI_SOURCE_ROOT "/qemu-build/patches"

static char *version_of(const char *emulator)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct hpci_cmd cmd;

	hpci_cmd_init(&cmd, emulator);
	hpci_cmd_add(&cmd, "--version");
	assert_int_equal(hpci_cmd_run(&cmd, out, NULL), 0);
	hpci_cmd_release(&cmd);
	return g_strndup(out->str, strcspn(out->str, "\n"));
}

static char *manifest_of(const char *emulator)
{
	g_autofree char *bin = g_path_get_dirname(emulator);
	g_autofree char *entry = g_path_get_dirname(bin);
	g_autofree char *path = g_build_filename(entry, "manifest.json", NULL);
	char *text = NULL;

	assert_int_equal(hpci_read_file(path, &text, NULL), 0);
	return text;
}

static void test_debian_source_cold_then_hit(void **state)
{
	struct vm_result cold = { 0 }, hit = { 0 };
	g_autofree char *version = NULL;
	g_autofree char *manifest = NULL;

	(void)state;
	vm_hotplug_ci(&cold, "build", "qemu", "--source", "debian:qemu", "--patches", PATCHES, NULL);
	assert_int_equal(cold.status, 0);
	assert_true(g_str_has_suffix(cold.out, "/bin/qemu-system-x86_64"));
	version = version_of(cold.out);
	assert_true(g_str_has_prefix(version, "QEMU emulator version 7.2."));
	manifest = manifest_of(cold.out);
	assert_non_null(strstr(manifest, "\"kind\":\"debian\""));
	assert_non_null(strstr(manifest, "0001-target-i386-tcg-model-SMI-and-INIT-for-CPU-hotplug.patch"));
	assert_non_null(strstr(manifest, "0002-hw-intc-apic-do-not-stop-at-the-first-absent-APIC-ID.patch"));

	vm_hotplug_ci(&hit, "build", "qemu", "--source", "debian:qemu", "--patches", PATCHES, NULL);
	assert_int_equal(hit.status, 0);
	assert_string_equal(hit.out, cold.out);
	assert_non_null(strstr(hit.err, "(cache hit)"));
	fprintf(stderr, "cache hit answered in %" G_GINT64_FORMAT " ms\n", hit.ms);
	assert_true(hit.ms < 1000);
	vm_result_release(&cold);
	vm_result_release(&hit);
}

/* A git history made from the Debian source: revision one is the source as
 * packaged, revision two touches one file (so ccache keeps the second build
 * short); each build's manifest names its own commit. */
static void test_git_two_revisions(void **state)
{
	g_autofree char *tmp = vm_tmpdir("qemu-git");
	g_autofree char *repo = g_build_filename(tmp, "qemu", NULL);
	g_autofree char *make = g_strdup_printf(
		"apt-get source -qq qemu >/dev/null 2>&1 && mv qemu-*/ qemu && cd qemu && "
		"git init -q && git add -A && git commit -qm 'Debian source' && git tag one && "
		"echo '/* revision two */' >> hw/i386/pc_q35.c && git commit -qam two && git tag two");
	struct vm_result one = { 0 }, two = { 0 }, again = { 0 };
	g_autofree char *commit_one = NULL, *commit_two = NULL;
	g_autofree char *m1 = NULL, *m2 = NULL;
	g_autofree char *v1 = NULL;

	(void)state;
	vm_sh(tmp, make);
	vm_hotplug_ci(&one, "build", "qemu", "--source", repo, "--rev", "one", "--patches", PATCHES,
		   NULL);
	assert_int_equal(one.status, 0);
	vm_hotplug_ci(&two, "build", "qemu", "--source", repo, "--rev", "two", "--patches", PATCHES,
		   NULL);
	assert_int_equal(two.status, 0);
	assert_string_not_equal(one.out, two.out);
	v1 = version_of(one.out);
	assert_true(g_str_has_prefix(v1, "QEMU emulator version 7.2."));
	m1 = manifest_of(one.out);
	m2 = manifest_of(two.out);
	{
		g_autoptr(GString) out = g_string_new(NULL);
		struct hpci_cmd cmd;

		hpci_cmd_init(&cmd, "git");
		hpci_cmd_add(&cmd, "-C");
		hpci_cmd_add(&cmd, repo);
		hpci_cmd_add(&cmd, "rev-parse");
		hpci_cmd_add(&cmd, "one^{commit}");
		hpci_cmd_add(&cmd, "two^{commit}");
		assert_int_equal(hpci_cmd_run(&cmd, out, NULL), 0);
		hpci_cmd_release(&cmd);
		commit_one = g_strndup(out->str, 40);
		commit_two = g_strndup(out->str + 41, 40);
	}
	assert_non_null(strstr(m1, commit_one));
	assert_null(strstr(m1, commit_two));
	assert_non_null(strstr(m2, commit_two));
	/* The user's checkout is untouched by the builds. */
	vm_sh(repo, "test -z \"$(git status --porcelain)\" && test \"$(git rev-parse HEAD)\" = "
		 "\"$(git rev-parse two)\" && test $(git worktree list | wc -l) = 1");
	/* The same revision by commit id is the same key: a hit. */
	vm_hotplug_ci(&again, "build", "qemu", "--source", repo, "--rev", commit_one, "--patches",
		   PATCHES, NULL);
	assert_int_equal(again.status, 0);
	assert_string_equal(again.out, one.out);
	assert_non_null(strstr(again.err, "(cache hit)"));
	vm_result_release(&one);
	vm_result_release(&two);
	vm_result_release(&again);
	(void)hpci_rm_rf(tmp);
}

/* Whether the cell's expectation names a known issue with this outcome. */
static bool has_known_issue(json_object *cell, const char *outcome)
{
	json_object *issues = vm_get(cell, "expected.known_issues");

	for (size_t i = 0; issues && i < json_object_array_length(issues); i++) {
		if (g_strcmp0(vm_get_str(json_object_array_get_idx(issues, i), "outcome"),
			      outcome) == 0)
			return true;
	}
	return false;
}

/* A cell that plugs into an SMM guest on the patched build. */
static void assert_cell_passes(json_object *report, const char *ops, const char *count,
			       unsigned plugs)
{
	json_object *cell = vm_find_cell(report, "ops", ops, "count", count);

	if (!cell)
		fail_msg("no cell with ops=%s count=%s", ops, count);
	/* A product bug the matrix names, with its evidence, is reported as a
	 * known issue (matrix/known-issues/): the harness did its job. */
	if (strcmp(vm_get_str(cell, "verdict"), "known-issue") == 0) {
		assert_true(has_known_issue(cell, vm_get_str(cell, "outcome")));
		assert_non_null(vm_get_str(cell, "evidence"));
		fprintf(stderr, "cell ops=%s: known issue %s: %s\n", ops,
			vm_get_str(cell, "outcome"), vm_get_str(cell, "evidence"));
		return;
	}
	if (strcmp(vm_get_str(cell, "outcome"), "pass") != 0)
		fail_msg("cell ops=%s: outcome %s: %s", ops, vm_get_str(cell, "outcome"),
			 vm_get_str(cell, "error") ? vm_get_str(cell, "error") : "");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	assert_int_equal(json_object_array_length(vm_get(cell, "timings.plugs")), plugs);
	for (unsigned i = 0; i < plugs; i++) {
		g_autofree char *online = g_strdup_printf("timings.plugs.%u.online_ms", i);
		g_autofree char *seen = g_strdup_printf("timings.plugs.%u.seen_ms", i);

		assert_true(json_object_get_int64(vm_get(cell, online)) >=
			    json_object_get_int64(vm_get(cell, seen)));
		assert_true(json_object_get_int64(vm_get(cell, seen)) > 0);
	}
	/* SMIs were raised on each hot-added CPU afterwards, and survived. */
	assert_true(json_object_get_int(vm_get(cell, "smi.runs_survived")) >= 1);
	assert_int_equal(json_object_get_int(vm_get(cell, "smi.runs_survived")),
			 json_object_get_int(vm_get(cell, "smi.runs")));
}

static void test_patched_build_runs_the_hotplug_cells(void **state)
{
	g_autofree char *tmp = vm_tmpdir("patched");
	g_autofree char *out = g_build_filename(tmp, "run", NULL);
	struct vm_result run = { 0 };
	json_object *report, *unplug;

	(void)state;
	vm_hotplug_ci(&run, "run", "--matrix", HPCI_SOURCE_ROOT "/matrix/patched-qemu.json", "--out",
		   out, NULL);
	report = vm_load_report(out);
	assert_cell_passes(report, "each", "3", 3);
	assert_cell_passes(report, "burst", "3", 3);
	assert_cell_passes(report, "unplug", "1", 1);
	unplug = vm_find_cell(report, "ops", "unplug", NULL, NULL);
	assert_true(json_object_get_int64(vm_get(unplug, "timings.plugs.0.removed_ms")) >
		    json_object_get_int64(vm_get(unplug, "timings.plugs.0.unplug_request_ms")));
	/* The report names the build each cell ran on. */
	assert_non_null(strstr(vm_get_str(report, "identities.0.version"), "patches: 0001-"));
	assert_string_equal(vm_get_str(unplug, "emulator"), vm_get_str(report, "identities.0.path"));
	assert_int_equal(run.status, 0);
	json_object_put(report);
	assert_int_equal(vm_count_domains("hpci-"), 0);
	vm_result_release(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_source_cold_then_hit),
		cmocka_unit_test(test_git_two_revisions),
		cmocka_unit_test(test_patched_build_runs_the_hotplug_cells),
	};

	return cmocka_run_group_tests_name("builds", tests, NULL, NULL);
}
