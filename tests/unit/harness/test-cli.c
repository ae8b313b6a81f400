/* SPDX-License-Identifier: MIT */
/* The command line as a user meets it: every subcommand answers --help, and
 * bad input is one clear error with exit status 2 before anything starts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../fixture.h"
#include "cmd.h"

#include <string.h>

struct result {
	int status;
	GString *out;
	GString *err;
};

static struct result run(const char *const *args)
{
	struct result r = { 0, g_string_new(NULL), g_string_new(NULL) };
	struct hpci_cmd cmd;

	hpci_cmd_init(&cmd, g_getenv("HOTPLUG_CI"));
	for (; *args; args++)
		hpci_cmd_add(&cmd, *args);
	cmd.timeout_ms = 60000;
	(void)hpci_cmd_run(&cmd, r.out, r.err);
	r.status = cmd.exit_status;
	hpci_cmd_release(&cmd);
	return r;
}

static void result_free(struct result *r)
{
	g_string_free(r->out, TRUE);
	g_string_free(r->err, TRUE);
}

static void test_every_command_has_help(void **state)
{
	static const char *const commands[] = { "run", "list", "image", "doctor", "build", "gc" };

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		const char *args[] = { commands[i], "--help", NULL };
		struct result r = run(args);

		if (r.status != 0 || !strstr(r.out->str, "Usage:") ||
		    !strstr(r.out->str, "Exit status"))
			fail_msg("'%s --help' exited %d:\n%s%s", commands[i], r.status, r.out->str,
				 r.err->str);
		result_free(&r);
	}
	{
		const char *args[] = { "--help", NULL };
		struct result r = run(args);

		assert_int_equal(r.status, 0);
		for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
			assert_non_null(strstr(r.out->str, commands[i]));
		result_free(&r);
	}
}

static void test_usage_errors(void **state)
{
	const char *no_matrix[] = { "run", NULL };
	const char *unknown_cmd[] = { "frobnicate", NULL };
	const char *unknown_opt[] = { "list", "--matrixx", "x", NULL };
	const char *bad_accel[] = { "list", "--accel", "hvf", "--matrix", "x", NULL };
	struct result r;

	(void)state;
	r = run(no_matrix);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "--matrix FILE is required"));
	result_free(&r);
	r = run(unknown_cmd);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "unknown command 'frobnicate'"));
	result_free(&r);
	r = run(unknown_opt);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "--matrixx"));
	result_free(&r);
	r = run(bad_accel);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "unknown accelerator 'hvf'"));
	result_free(&r);
}

static void test_bad_matrix_is_refused_before_any_vm(void **state)
{
	g_autofree char *path = g_build_filename(g_getenv("HPCI_FIXTURES"), "cli",
						 "bad-topology.json", NULL);
	const char *list[] = { "list", "--accel", "tcg", "--matrix", path, NULL };
	const char *missing[] = { "run", "--accel", "tcg", "--matrix", "/nonexistent/m.json", NULL };
	struct result r;

	(void)state;
	r = run(list);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "bad-topology.json"));
	assert_non_null(strstr(r.err->str, "$.axes.topology.odd"));
	result_free(&r);
	r = run(missing);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err->str, "/nonexistent/m.json"));
	result_free(&r);
}

static void test_list_smoke(void **state)
{
	const char *args[] = { "list", "--accel", "tcg", "--matrix",
			       HPCI_SOURCE_ROOT "/matrix/smoke.json", NULL };
	struct result r = run(args);

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out->str, "4 cells"));
	assert_non_null(strstr(r.out->str, "refused"));
	assert_non_null(strstr(r.out->str, "hang-smm"));
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_has_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_bad_matrix_is_refused_before_any_vm),
		cmocka_unit_test(test_list_smoke),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
