/* SPDX-License-Identifier: MIT */
/*
 * Ctrl-C in the middle of a run: the harness must destroy the running
 * domain, remove the cell's disks, write a valid partial report and exit 130.
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
			       "--out", out, NULL };
	GPid pid;
	int status = 0;
	json_object *report;
	gint64 deadline;

	(void)state;
	assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				  &pid, NULL));
	/* Wait until the first cell's guest is running: that is mid-run. */
	deadline = g_get_monotonic_time() + 180 * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GDir) cells = NULL;
		g_autofree char *cells_dir = g_build_filename(out, "cells", NULL);
		const char *first;

		cells = g_dir_open(cells_dir, 0, NULL);
		first = cells ? g_dir_read_name(cells) : NULL;
		if (first) {
			g_free(events);
			events = g_build_filename(cells_dir, first, "events.log", NULL);
			if (file_contains(events, "domain resumed"))
				break;
		}
		if (g_get_monotonic_time() > deadline)
			fail_msg("the first cell never started its domain");
		g_usleep(200 * 1000);
	}
	g_usleep(3 * G_USEC_PER_SEC);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_spawn_close_pid(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);

	report = vm_load_report(out);
	assert_true(json_object_get_boolean(vm_get(report, "interrupted")));
	assert_string_equal(vm_get_str(report, "cells.0.verdict"), "not-run");
	assert_int_equal(json_object_get_int(vm_get(report, "summary.not_run")), 4);
	json_object_put(report);

	assert_int_equal(vm_count_domains("hpci-"), 0);
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
