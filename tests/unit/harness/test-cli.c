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

/* Every command-line error is one line that says where to look. */
static void test_usage_errors_point_at_help(void **state)
{
	static const struct {
		const char *args[5];
		const char *expected;
	} cases[] = {
		{ { "frobnicate" }, "unknown command 'frobnicate' (see 'hotplug-ci --help')" },
		{ { "build" }, "(see 'hotplug-ci build --help')" },
		{ { "build", "qemu" }, "needs --source SRC" },
		{ { "build", "list", "--kind", "nope" }, "--kind 'nope' is not a cache kind" },
		{ { "gc", "extra" }, "gc takes no arguments (see 'hotplug-ci gc --help')" },
		{ { "image" }, "(see 'hotplug-ci image --help')" },
		{ { "list" }, "--matrix FILE is required" },
		{ { "report" }, "(see 'hotplug-ci report --help')" },
		{ { "report", "diff", "--nope" }, "(see 'hotplug-ci report diff --help')" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct result r = run(cases[i].args);

		if (r.status != 2 || !strstr(r.err->str, cases[i].expected) ||
		    !g_str_has_prefix(r.err->str, "hotplug-ci: error: ") ||
		    strchr(r.err->str, '\n') != r.err->str + r.err->len - 1)
			fail_msg("case %zu: status %d, stderr:\n%s\nexpected: %s", i, r.status,
				 r.err->str, cases[i].expected);
		result_free(&r);
	}
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
	assert_non_null(strstr(r.out->str, "6 cells"));
	assert_non_null(strstr(r.out->str, "breach"));
	assert_non_null(strstr(r.out->str, "refused"));
	assert_non_null(strstr(r.out->str, "hang-smm"));
	result_free(&r);
}

#define SMOKE HPCI_SOURCE_ROOT "/matrix/smoke.json"

/* Bad run settings stop the run before libvirt is even opened: the error
 * names the option (or the environment variable) and the fix. */
static void test_bad_run_settings(void **state)
{
	static const struct {
		const char *args[12];
		const char *env;
		const char *expected;
	} cases[] = {
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--jobs", "65" }, NULL,
		  "--jobs 65 is out of range; use 0 to 64" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--repeat", "0" }, NULL,
		  "--repeat 0 is out of range; use 1 to 100" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--retries", "-1" }, NULL,
		  "--retries -1 is out of range" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--shard", "3/2" }, NULL,
		  "--shard '3/2' is not K/N with 1 <= K <= N" },
		{ { "run", "--accel", "tcg", "-m", SMOKE }, "CI_NODE_INDEX=0",
		  "CI_NODE_INDEX/CI_NODE_TOTAL '0/2' is not K/N" },
		/* Far past smoke's cells, so that a bigger smoke.json never makes this
		 * shard non-empty and the test start a VM. */
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--shard", "1000/1000" }, NULL,
		  "shard 1000/1000 of '" SMOKE "' is empty: the selection has only 6 cell(s)" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--filter", "qemu=patched,topo=x" }, NULL,
		  "--filter 'qemu=patched,topo=x': unknown axis 'topo'" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--filter", "smi=ful" }, NULL,
		  "no smi value of '" SMOKE "' matches 'ful'; its values are: full, hotplug-off, "
		  "smbase-smram-off" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "-q", "-v" }, NULL,
		  "--quiet and --verbose contradict each other" },
		/* --set: a typo names what is there; the load fails before any VM.
		 * The empty shard stops a run that ignored --set all the same. */
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--shard", "1000/1000", "--set",
		    "axes.qemu.patched.build.rev=v9.0.0", "--set", "axes.firmware.smm-dbg.smm:=true" },
		  NULL, "hotplug-ci: error: --set 'axes.firmware.smm-dbg.smm:=true': " SMOKE ": "
		  "$.axes.firmware has no key 'smm-dbg' (it has: smm, nosmm)\n" },
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--shard", "1000/1000", "--set",
		    "axes.qemu.patched.build.rev" },
		  NULL, "--set 'axes.qemu.patched.build.rev': no '=' in it; give PATH=VALUE" },
		/* a value --set gives is checked as the file's, at its JSON path */
		{ { "run", "--accel", "tcg", "-m", SMOKE, "--shard", "1000/1000", "--set",
		    "axes.qemu.patched.build.configure=--enable-debug-tcg" }, NULL,
		  SMOKE " (with --set): $.axes.qemu.patched.build.configure: expected an array of "
		  "strings, got string" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct result r;

		g_unsetenv("CI_NODE_INDEX");
		g_unsetenv("CI_NODE_TOTAL");
		if (cases[i].env) {
			g_auto(GStrv) kv = g_strsplit(cases[i].env, "=", 2);

			g_setenv(kv[0], kv[1], TRUE);
			g_setenv("CI_NODE_TOTAL", "2", TRUE);
		}
		r = run(cases[i].args);
		if (r.status != 2 || !strstr(r.err->str, cases[i].expected))
			fail_msg("case %zu: status %d, stderr:\n%s\nexpected: %s", i, r.status,
				 r.err->str, cases[i].expected);
		result_free(&r);
	}
	g_unsetenv("CI_NODE_INDEX");
	g_unsetenv("CI_NODE_TOTAL");
}

/* list --set shows the cells the changed matrix has, and the options. */
static void test_list_set(void **state)
{
	const char *args[] = { "list", "--accel", "tcg", "--matrix", SMOKE,
			       "--set", "axes.count:=[1, \"all\"]",
			       "--set", "axes.qemu.patched.build.source=/src/qemu",
			       "--set", "axes.qemu.patched.build.rev=v9.0.0", NULL };
	const char *help[] = { "run", "--help", NULL };
	struct result r = run(args);

	(void)state;
	if (r.status != 0)
		fail_msg("status %d, stderr:\n%s", r.status, r.err->str);
	assert_non_null(strstr(r.out->str, "12 cells"));    /* smoke has 6, count 1 only */
	assert_non_null(strstr(r.out->str, ",count=all,"));
	assert_non_null(strstr(r.out->str, "# --set axes.count:=[1,\"all\"]\n"
				       "# --set axes.qemu.patched.build.source=/src/qemu\n"
				       "# --set axes.qemu.patched.build.rev=v9.0.0\n"));
	result_free(&r);
	r = run(help);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out->str, "--set=PATH=VALUE"));
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_has_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_usage_errors_point_at_help),
		cmocka_unit_test(test_bad_matrix_is_refused_before_any_vm),
		cmocka_unit_test(test_list_smoke),
		cmocka_unit_test(test_bad_run_settings),
		cmocka_unit_test(test_list_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
