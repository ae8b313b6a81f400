/* SPDX-License-Identifier: MIT */
/*
 * Ctrl-C in the middle of a parallel run (default --jobs: 2 on the CI host):
 * the harness must destroy every running domain, end their QEMUs, remove
 * the cells' disks, write a valid partial report that says which cells did
 * not run, and exit 130.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vm-common.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool file_contains(const char *path, const char *needle)
{
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, needle);
}

static void test_sigint_mid_run(void **state)
{
	g_autofree char *tmp = vm_tmpdir("interrupt");
	g_autofree char *out = g_build_filename(tmp, "run", NULL);
	g_autofree char *events = NULL;
	const char *argv[] = { vm_binary(), "run", "--matrix", HPCI_SOURCE_ROOT "/matrix/smoke.json",
			       "--out", out, "--jobs", "2", NULL };
	GPid pid;
	int status = 0;
	json_object *report;
	gint64 deadline;
	int total;
	/* Domain names are hpci-<report dir name>-<n>; QEMU gets -name guest=<it>. */
	const char *prefix = "hpci-run-";
	const char *guest_arg = "guest=hpci-run-";

	(void)state;
	assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				  &pid, NULL));
	/* Wait until two cells' guests run at once: that is mid-run, in parallel. */
	deadline = g_get_monotonic_time() + 180 * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GDir) cells = NULL;
		g_autofree char *cells_dir = g_build_filename(out, "cells", NULL);
		unsigned running = 0;

		cells = g_dir_open(cells_dir, 0, NULL);
		for (const char *c; cells && (c = g_dir_read_name(cells));) {
			g_free(events);
			events = g_build_filename(cells_dir, c, "events.log", NULL);
			running += file_contains(events, "domain resumed");
		}
		if (running >= 2)
			break;
		if (g_get_monotonic_time() > deadline)
			fail_msg("two cells never ran at once");
		g_usleep(200 * 1000);
	}
	assert_int_equal(vm_count_domains(prefix), 2);
	assert_int_equal(vm_count_processes(guest_arg), 2);
	g_usleep(3 * G_USEC_PER_SEC);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_spawn_close_pid(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);

	report = vm_load_report(out);
	assert_true(json_object_get_boolean(vm_get(report, "interrupted")));
	/* Both running cells were cut short, the others never started: none
	 * has a verdict. */
	total = json_object_get_int(vm_get(report, "summary.cells"));
	assert_int_equal(total, 6);
	assert_int_equal(json_object_get_int(vm_get(report, "summary.not_run")), total);
	for (int i = 0; i < total; i++) {
		g_autofree char *key = g_strdup_printf("cells.%d.verdict", i);

		assert_string_equal(vm_get_str(report, key), "not-run");
	}
	json_object_put(report);

	assert_int_equal(vm_count_domains(prefix), 0);
	assert_int_equal(vm_count_processes(guest_arg), 0);
	assert_int_equal(vm_count_files(out, "disk.qcow2"), 0);
	assert_int_equal(vm_count_files(out, "nvram.fd"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigint_mid_run),
	};

	return cmocka_run_group_tests_name("interrupt", tests, NULL, NULL);
}
