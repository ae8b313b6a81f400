/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "build-source.h"
#include "cache.h"
#include "ccache.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "own.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_sh(const char *script, int timeout_ms, GString *out, GString *err, int *status)
{
	struct hpci_cmd cmd;
	int rc;

	hpci_cmd_init(&cmd, "sh");
	hpci_cmd_add(&cmd, "-c");
	hpci_cmd_add(&cmd, script);
	cmd.timeout_ms = timeout_ms;
	rc = hpci_cmd_run(&cmd, out, err);
	*status = cmd.exit_status;
	hpci_cmd_release(&cmd);
	return rc;
}

static void test_cmd_output_and_status(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	int status;

	(void)state;
	assert_int_equal(run_sh("echo hello; echo oops >&2; echo $LC_ALL", 0, out, err, &status), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out->str, "hello\nC\n");
	assert_string_equal(err->str, "oops\n");
	/* stdin is /dev/null-like: reading gives EOF at once. */
	g_string_truncate(out, 0);
	assert_int_equal(run_sh("cat; echo done", 0, out, NULL, &status), 0);
	assert_string_equal(out->str, "done\n");
}

static void test_cmd_failure_names_command_and_stderr(void **state)
{
	int status;

	(void)state;
	assert_int_equal(run_sh("echo first; echo 'the real reason' >&2; exit 3", 0, NULL, NULL, &status),
			 -EIO);
	assert_int_equal(status, 3);
	assert_non_null(strstr(hpci_error_message(), "failed with status 3"));
	assert_non_null(strstr(hpci_error_message(), "the real reason"));
}

static void test_cmd_timeout_kills_the_group(void **state)
{
	gint64 t0 = g_get_monotonic_time();
	int status;

	(void)state;
	/* The grandchild sleeps too: the whole process group must go. */
	assert_int_equal(run_sh("sleep 30 & sleep 30", 300, NULL, NULL, &status), -ETIMEDOUT);
	assert_true(g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC);
	assert_int_equal(status, 128 + SIGTERM);
	assert_non_null(strstr(hpci_error_message(), "did not finish within"));
}

static void test_cmd_missing_program(void **state)
{
	struct hpci_cmd cmd;

	(void)state;
	hpci_cmd_init(&cmd, "/nonexistent/hpci-tool");
	assert_int_equal(hpci_cmd_run(&cmd, NULL, NULL), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "'/nonexistent/hpci-tool'"));
	hpci_cmd_release(&cmd);
}

static void test_cmd_stdin_data(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct hpci_cmd cmd;

	(void)state;
	hpci_cmd_init(&cmd, "tr");
	hpci_cmd_add(&cmd, "a-z");
	hpci_cmd_add(&cmd, "A-Z");
	cmd.stdin_data = g_strdup("qmp\n");
	assert_int_equal(hpci_cmd_run(&cmd, out, NULL), 0);
	assert_string_equal(out->str, "QMP\n");
	hpci_cmd_release(&cmd);
}

static void test_cache_txn(void **state)
{
	g_autofree char *root = g_dir_make_tmp("hpci-cache-XXXXXX", NULL);
	struct hpci_cache_txn txn;
	g_autofree char *dir = NULL;
	g_autofree char *file = NULL;

	(void)state;
	g_setenv("HPCI_CACHE_DIR", root, TRUE);
	assert_int_equal(hpci_cache_lookup("kind", "k1", &dir), 0);
	/* A build that does not commit leaves nothing behind. */
	assert_int_equal(hpci_cache_begin("kind", "k1", &txn), 0);
	assert_true(hpci_is_dir(txn.work_dir));
	hpci_cache_end(&txn);
	assert_int_equal(hpci_cache_lookup("kind", "k1", &dir), 0);
	/* A committed build is a hit afterwards, for lookup and begin alike. */
	assert_int_equal(hpci_cache_begin("kind", "k1", &txn), 0);
	file = g_build_filename(txn.work_dir, "out", NULL);
	assert_int_equal(hpci_write_file(file, "x", 1), 0);
	assert_int_equal(hpci_cache_commit(&txn), 0);
	hpci_cache_end(&txn);
	assert_int_equal(hpci_cache_lookup("kind", "k1", &dir), 1);
	assert_int_equal(hpci_cache_begin("kind", "k1", &txn), 1);
	assert_null(txn.work_dir);
	hpci_cache_end(&txn);
	assert_int_equal(hpci_rm_rf(root), 0);
	g_unsetenv("HPCI_CACHE_DIR");
}

static bool env_has(const struct hpci_cmd *cmd, const char *name, const char *value)
{
	g_autofree char *want = g_strdup_printf("%s=%s", name, value);

	for (guint i = 0; i < cmd->env->len; i++)
		if (!strcmp(cmd->env->pdata[i], want))
			return true;
	return false;
}

/* The ccache settings go in only when ccache is on PATH, and every builder
 * gets the same ones: one directory under the cache root, paths relative to
 * the build's work directory. */
static void test_ccache_env(void **state)
{
	g_autofree char *tmp = g_dir_make_tmp("hpci-ccache-XXXXXX", NULL);
	g_autofree char *with = g_build_filename(tmp, "with", NULL);
	g_autofree char *without = g_build_filename(tmp, "without", NULL);
	g_autofree char *fake = g_build_filename(with, "ccache", NULL);
	g_autofree char *root = g_build_filename(tmp, "cache", NULL);
	g_autofree char *ccache_dir = g_build_filename(root, "ccache", NULL);
	g_autofree char *found = NULL;
	g_autofree char *saved_path = g_strdup(g_getenv("PATH"));
	g_auto(hpci_cmd) cmd = { 0 };

	(void)state;
	assert_int_equal(hpci_mkdir_p(with, 0755), 0);
	assert_int_equal(hpci_mkdir_p(without, 0755), 0);
	assert_int_equal(hpci_write_file(fake, "#!/bin/sh\nexit 0\n", -1), 0);
	assert_int_equal(chmod(fake, 0755), 0);
	g_setenv("HPCI_CACHE_DIR", root, TRUE);

	g_setenv("PATH", with, TRUE);
	found = hpci_ccache_find();
	assert_string_equal(found, fake);
	hpci_cmd_init(&cmd, "make");
	assert_true(hpci_cmd_add_ccache_env(&cmd, "/work/dir"));
	assert_true(env_has(&cmd, "CCACHE_DIR", ccache_dir));
	assert_true(env_has(&cmd, "CCACHE_BASEDIR", "/work/dir"));
	assert_true(env_has(&cmd, "CCACHE_NOHASHDIR", "1"));
	hpci_cmd_release(&cmd);

	g_setenv("PATH", without, TRUE);
	assert_null(hpci_ccache_find());
	hpci_cmd_init(&cmd, "make");
	assert_false(hpci_cmd_add_ccache_env(&cmd, "/work/dir"));
	assert_int_equal(cmd.env->len, 0);

	g_setenv("PATH", saved_path, TRUE);
	g_unsetenv("HPCI_CACHE_DIR");
	assert_int_equal(hpci_rm_rf(tmp), 0);
}

static void test_hash_is_unambiguous(void **state)
{
	struct hpci_hash a, b;
	g_autofree char *ka = NULL;
	g_autofree char *kb = NULL;

	(void)state;
	/* "ab"+"c" and "a"+"bc" must not collide. */
	hpci_hash_init(&a);
	hpci_hash_str(&a, "x", "ab");
	hpci_hash_str(&a, "y", "c");
	hpci_hash_init(&b);
	hpci_hash_str(&b, "x", "a");
	hpci_hash_str(&b, "y", "bc");
	ka = hpci_hash_finish(&a);
	kb = hpci_hash_finish(&b);
	assert_int_equal(strlen(ka), 64);
	assert_string_not_equal(ka, kb);
}

/* The cleanup helpers of lib/fsutil.h and lib/own.h: what goes out of scope
 * is released, what was moved out is not. */
static void test_owned_locals(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("hpci-own-XXXXXX", NULL);
	g_autofree char *dropped = g_build_filename(dir, "dropped", NULL);
	g_autofree char *kept = g_build_filename(dir, "kept", NULL);
	g_auto(hpci_cmd) moved = { 0 };
	int fd_seen;

	(void)state;
	{
		hpci_autofd int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		assert_true(fd >= 0);
		fd_seen = fd;
	}
	assert_int_equal(fcntl(fd_seen, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	{
		hpci_autounlink char *a = g_strdup(dropped);
		hpci_autounlink char *b = g_strdup(kept);

		assert_int_equal(hpci_write_file(a, "x", 1), 0);
		assert_int_equal(hpci_write_file(b, "x", 1), 0);
		g_free(g_steal_pointer(&b));
	}
	assert_false(hpci_is_file(dropped));
	assert_true(hpci_is_file(kept));
	{
		g_auto(hpci_cmd) cmd = { 0 };

		hpci_cmd_init(&cmd, "true");
		moved = HPCI_STEAL_STRUCT(cmd);
		assert_null(cmd.argv);
	}
	assert_int_equal(moved.argv->len, 1);
	{
		g_auto(hpci_hash) h = { 0 };

		hpci_hash_init(&h);
		hpci_hash_str(&h, "x", "unfinished"); /* released without a digest */
	}
	assert_int_equal(hpci_rm_rf(dir), 0);
}

/* lib/build-source.h: a copy owns its strings; the check names the member
 * it rejected, "source" for the source and its options, else "patches". */
static void test_build_source(void **state)
{
	struct hpci_build_source given = { .source = "debian:qemu", .patches = "/nonexistent/q" };
	g_auto(hpci_build_source) copy = hpci_build_source_copy(&given);
	const char *field = NULL;

	(void)state;
	assert_ptr_not_equal(copy.source, given.source);
	assert_string_equal(copy.source, "debian:qemu");
	assert_null(copy.rev);
	assert_null(copy.sha256);
	assert_string_equal(copy.patches, "/nonexistent/q");
	assert_int_equal(hpci_build_source_check(&given, "edk2", &field), -EINVAL);
	assert_string_equal(field, "source");
	assert_true(hpci_build_source_check(&given, "qemu", &field) < 0);
	assert_string_equal(field, "patches");
	given.patches = NULL;
	field = NULL;
	assert_int_equal(hpci_build_source_check(&given, "qemu", &field), 0);
	assert_null(field);
	hpci_build_source_clear(&copy);
	assert_null(copy.source);
	assert_null(copy.patches);
	hpci_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_output_and_status),
		cmocka_unit_test(test_cmd_failure_names_command_and_stderr),
		cmocka_unit_test(test_cmd_timeout_kills_the_group),
		cmocka_unit_test(test_cmd_missing_program),
		cmocka_unit_test(test_cmd_stdin_data),
		cmocka_unit_test(test_cache_txn),
		cmocka_unit_test(test_ccache_env),
		cmocka_unit_test(test_hash_is_unambiguous),
		cmocka_unit_test(test_owned_locals),
		cmocka_unit_test(test_build_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
