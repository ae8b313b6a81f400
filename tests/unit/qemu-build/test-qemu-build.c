/* SPDX-License-Identifier: MIT */
/*
 * qemu-build/ and the source and patch-queue modules it stands on: source
 * parsing, key computation, patch-queue errors, and the whole build path
 * (export, patch, configure, compile, cache, manifest) on a small fake
 * QEMU source tree whose `configure` writes a one-rule build.ninja, so the
 * real pipeline runs in seconds.  Real QEMU builds are in tests/vm/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "patch-queue.h"
#include "qemu-build.h"
#include "source.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The fake source: configure writes build.ninja, which "compiles" the
 * emulator as a script that prints a version made of VERSION's contents. */
static const char fake_configure[] =
	"#!/bin/sh\n"
	"src=$(cd \"$(dirname \"$0\")\" && pwd)\n"
	"for a in \"$@\"; do case \"$a\" in --fail-configure) echo 'ERROR: asked to fail' >&2; exit 1;;\n"
	"  --slow-configure) sleep 60;; esac; done\n"
	"echo \"$@\" > configure.args\n"
	"printf 'rule gen\\n  command = sh %s/make-emulator.sh $out\\n"
	"build qemu-system-x86_64: gen %s/VERSION\\n' \"$src\" \"$src\" > build.ninja\n";

static const char fake_make_emulator[] =
	"#!/bin/sh\n"
	"v=$(cat \"$(dirname \"$0\")/VERSION\")\n"
	"printf '#!/bin/sh\\necho \"QEMU emulator version %s\"\\n' \"$v\" > \"$1\"\n"
	"chmod +x \"$1\"\n";

struct fixture {
	char *tmp;
	char *repo;
	char *patches;
	char *first_commit;
	char *second_commit;
};

static void sh(const char *cwd, const char *script)
{
	struct hpci_cmd cmd;
	int rc;

	hpci_cmd_init(&cmd, "sh");
	hpci_cmd_add(&cmd, "-ec");
	hpci_cmd_add(&cmd, script);
	cmd.cwd = g_strdup(cwd);
	hpci_cmd_setenv(&cmd, "GIT_AUTHOR_NAME", "t");
	hpci_cmd_setenv(&cmd, "GIT_AUTHOR_EMAIL", "t@invalid");
	hpci_cmd_setenv(&cmd, "GIT_COMMITTER_NAME", "t");
	hpci_cmd_setenv(&cmd, "GIT_COMMITTER_EMAIL", "t@invalid");
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		fail_msg("%s", hpci_error_message());
	hpci_cmd_release(&cmd);
}

static char *sh_out(const char *cwd, const char *script)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct hpci_cmd cmd;

	hpci_cmd_init(&cmd, "sh");
	hpci_cmd_add(&cmd, "-ec");
	hpci_cmd_add(&cmd, script);
	cmd.cwd = g_strdup(cwd);
	assert_int_equal(hpci_cmd_run(&cmd, out, NULL), 0);
	hpci_cmd_release(&cmd);
	return g_strstrip(g_strdup(out->str));
}

static void write_text(const char *dir, const char *name, const char *text, int mode)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	assert_int_equal(hpci_write_file(path, text, -1), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A patch as git format-patch writes it, changing VERSION from 1.0 to 1.0+ours. */
static const char good_patch[] =
	"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
	"From: t <t@invalid>\n"
	"Subject: [PATCH] version: mark our build\n"
	"\n"
	"---\n"
	" VERSION | 2 +-\n"
	"\n"
	"diff --git a/VERSION b/VERSION\n"
	"--- a/VERSION\n"
	"+++ b/VERSION\n"
	"@@ -1 +1 @@\n"
	"-1.0\n"
	"+1.0+ours\n";

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	g_autofree char *cache = NULL;

	f->tmp = g_dir_make_tmp("hpci-qemu-build-XXXXXX", NULL);
	f->repo = g_build_filename(f->tmp, "qemu.git", NULL);
	f->patches = g_build_filename(f->tmp, "patches", NULL);
	cache = g_build_filename(f->tmp, "cache", NULL);
	g_setenv("HPCI_CACHE_DIR", cache, TRUE);
	assert_int_equal(hpci_mkdir_p(f->repo, 0755), 0);
	assert_int_equal(hpci_mkdir_p(f->patches, 0755), 0);
	write_text(f->repo, "configure", fake_configure, 0755);
	write_text(f->repo, "make-emulator.sh", fake_make_emulator, 0755);
	write_text(f->repo, "VERSION", "1.0\n", 0644);
	sh(f->repo, "git init -q && git add . && git commit -qm one && git tag v1.0");
	f->first_commit = sh_out(f->repo, "git rev-parse HEAD");
	write_text(f->repo, "README", "two\n", 0644);
	sh(f->repo, "git add README && git commit -qm two");
	f->second_commit = sh_out(f->repo, "git rev-parse HEAD");
	write_text(f->patches, "0001-version-mark-our-build.patch", good_patch, 0644);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)hpci_rm_rf(f->tmp);
	g_free(f->tmp);
	g_free(f->repo);
	g_free(f->patches);
	g_free(f->first_commit);
	g_free(f->second_commit);
	g_free(f);
	return 0;
}

/* ---- source parsing ---------------------------------------------------- */

static void expect_parse_error(const char *spec, const char *rev, const char *sha,
			       const char *needle)
{
	struct hpci_source src = { 0 };

	assert_int_equal(hpci_source_parse(spec, rev, sha, "qemu", &src), -EINVAL);
	if (!strstr(hpci_error_message(), needle))
		fail_msg("'%s': message '%s' lacks '%s'", spec, hpci_error_message(), needle);
}

static void test_source_parse_kinds(void **state)
{
	struct hpci_source src = { 0 };
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *abs = g_build_filename(cwd, "some/qemu", NULL);
	const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	assert_int_equal(hpci_source_parse("debian:qemu", NULL, NULL, "qemu", &src), 0);
	assert_int_equal(src.kind, HPCI_SOURCE_DEBIAN);
	assert_string_equal(src.location, "qemu");
	assert_null(src.rev);
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse("debian:qemu=1:7.2+dfsg-7+deb12u18", NULL, NULL, "qemu",
					   &src), 0);
	assert_string_equal(src.rev, "1:7.2+dfsg-7+deb12u18");
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse("https://example.org/qemu-8.2.0.tar.xz", NULL, sha,
					   "qemu", &src), 0);
	assert_int_equal(src.kind, HPCI_SOURCE_TARBALL);
	assert_string_equal(src.sha256, sha);
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse("some/qemu", "v7.2.0", NULL, "qemu", &src), 0);
	assert_int_equal(src.kind, HPCI_SOURCE_GIT);
	assert_string_equal(src.location, abs);
	assert_string_equal(src.rev, "v7.2.0");
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse("/src/qemu", NULL, NULL, "qemu", &src), 0);
	assert_string_equal(src.rev, "HEAD");
	hpci_source_release(&src);

	/* The form alone, as `--set` uses it to tell a checkout's path. */
	assert_int_equal(hpci_source_kind_of("debian:qemu=1:7.2"), HPCI_SOURCE_DEBIAN);
	assert_int_equal(hpci_source_kind_of("file:///srv/qemu.tar.xz"), HPCI_SOURCE_TARBALL);
	assert_int_equal(hpci_source_kind_of("../qemu"), HPCI_SOURCE_GIT);
	assert_int_equal(hpci_source_kind_of("debian"), HPCI_SOURCE_GIT);
}

static void test_source_parse_errors(void **state)
{
	const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	expect_parse_error("", NULL, NULL, "no source given");
	expect_parse_error("debian:edk2", NULL, NULL, "takes the Debian package 'qemu'");
	expect_parse_error("debian:Qemu!", NULL, NULL, "not a Debian package name");
	expect_parse_error("debian:qemu", "v7.2.0", NULL, "debian:qemu=VERSION");
	expect_parse_error("debian:qemu", NULL, sha, "tarball URLs only");
	expect_parse_error("debian:qemu=7 2", NULL, NULL, "not a Debian version");
	expect_parse_error("https://example.org/qemu.tar.xz", "v8.0.0", NULL,
			   "git sources only");
	expect_parse_error("/src/qemu", NULL, sha, "tarball URLs only");
	expect_parse_error("/src/qemu", "", NULL, "revision is empty");
	expect_parse_error("/src/qemu", "v7.2.0..v8.0.0", NULL, "not a single revision");
	expect_parse_error("/src/qemu", "--all", NULL, "not a single revision");
	expect_parse_error("ftp://example.org/qemu.tar.xz", NULL, NULL, "ftp://example.org");
	expect_parse_error("https://example.org/qemu.tar.xz", NULL, "abc", "abc");
}

static void test_source_git_resolve_and_export(void **state)
{
	struct fixture *f = *state;
	struct hpci_source src = { 0 };
	g_autofree char *dest = g_build_filename(f->tmp, "export", NULL);
	g_autofree char *log = g_build_filename(f->tmp, "export.log", NULL);
	g_autofree char *readme = g_build_filename(dest, "README", NULL);
	g_autofree char *version = g_build_filename(dest, "VERSION", NULL);
	g_autofree char *status = NULL, *worktrees = NULL;

	assert_int_equal(hpci_source_parse(f->repo, "v1.0", NULL, "qemu", &src), 0);
	assert_int_equal(hpci_source_resolve(&src), 0);
	assert_string_equal(src.identity, f->first_commit);
	assert_non_null(strstr(src.describe, "v1.0"));
	assert_int_equal(hpci_source_export(&src, dest, log), 0);
	assert_true(hpci_is_file(version));
	assert_false(hpci_is_file(readme)); /* README came in the second commit */
	/* Exporting into an existing directory is refused. */
	assert_int_equal(hpci_source_export(&src, dest, log), -EEXIST);
	hpci_source_release(&src);
	/* The user's checkout is untouched. */
	status = sh_out(f->repo, "git status --porcelain");
	worktrees = sh_out(f->repo, "git worktree list | wc -l");
	assert_string_equal(status, "");
	assert_string_equal(worktrees, "1");
}

static void test_source_git_errors(void **state)
{
	struct fixture *f = *state;
	struct hpci_source src = { 0 };

	assert_int_equal(hpci_source_parse(f->repo, "no-such-tag", NULL, "qemu", &src), 0);
	assert_int_equal(hpci_source_resolve(&src), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "revision 'no-such-tag' is not a commit"));
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse(f->patches, NULL, NULL, "qemu", &src), 0);
	assert_int_equal(hpci_source_resolve(&src), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "is not a git checkout"));
	hpci_source_release(&src);

	assert_int_equal(hpci_source_parse("/nonexistent/qemu", NULL, NULL, "qemu", &src), 0);
	assert_int_equal(hpci_source_resolve(&src), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "is not a directory"));
	hpci_source_release(&src);
}

/* ---- patch queues --------------------------------------------------------- */

static void test_patch_queue_load_errors(void **state)
{
	struct fixture *f = *state;
	struct hpci_patch_queue q = { 0 };
	g_autofree char *empty = g_build_filename(f->tmp, "empty-queue", NULL);
	g_autofree char *junk = g_build_filename(f->tmp, "junk-queue", NULL);
	g_autofree char *first = g_build_filename(f->patches, "0000-first.patch", NULL);

	assert_int_equal(hpci_patch_queue_load("/nonexistent/patches", &q), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "'/nonexistent/patches' cannot be read"));

	assert_int_equal(hpci_mkdir_p(empty, 0755), 0);
	assert_int_equal(hpci_patch_queue_load(empty, &q), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "holds no *.patch file"));

	assert_int_equal(hpci_mkdir_p(junk, 0755), 0);
	write_text(junk, "0001-notes.patch", "just some words\n", 0644);
	assert_int_equal(hpci_patch_queue_load(junk, &q), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "0001-notes.patch' holds no diff"));

	/* NULL is the empty queue; the real one loads with its subjects in order. */
	assert_int_equal(hpci_patch_queue_load(NULL, &q), 0);
	assert_int_equal(q.patches->len, 0);
	hpci_patch_queue_release(&q);
	write_text(f->patches, "0000-first.patch", good_patch, 0644);
	assert_int_equal(hpci_patch_queue_load(f->patches, &q), 0);
	assert_int_equal(q.patches->len, 2);
	assert_string_equal(((struct hpci_patch *)q.patches->pdata[0])->name, "0000-first.patch");
	assert_string_equal(((struct hpci_patch *)q.patches->pdata[1])->subject,
			    "version: mark our build");
	hpci_patch_queue_release(&q);
	assert_int_equal(unlink(first), 0);
}

static void test_patch_queue_apply_failure_names_patch(void **state)
{
	struct fixture *f = *state;
	struct hpci_patch_queue q = { 0 };
	g_autofree char *tree = g_build_filename(f->tmp, "tree", NULL);
	g_autofree char *log = g_build_filename(f->tmp, "apply.log", NULL);
	g_autofree char *version = NULL;
	g_autofree char *path = g_build_filename(tree, "VERSION", NULL);
	g_autofree char *reject = g_build_filename(tree, "VERSION.rej", NULL);

	assert_int_equal(hpci_mkdir_p(tree, 0755), 0);
	write_text(tree, "VERSION", "2.0\n", 0644); /* not what the patch expects */
	assert_int_equal(hpci_patch_queue_load(f->patches, &q), 0);
	assert_int_equal(hpci_patch_queue_apply(&q, tree, log), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "0001-version-mark-our-build.patch' (1 of 1) "
				"does not apply"));
	assert_non_null(strstr(hpci_error_message(), "FAILED"));
	/* The dry run left the tree as it was: no .rej, no half-applied file. */
	assert_int_equal(hpci_read_file(path, &version, NULL), 0);
	assert_string_equal(version, "2.0\n");
	assert_int_equal(access(reject, F_OK), -1);

	/* A patch for a file the tree lacks names the file. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(hpci_patch_queue_apply(&q, tree, log), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "can't find file"));
	hpci_patch_queue_release(&q);
}

/* ---- keys ------------------------------------------------------------------ */

static char *key_of(const char *source, const char *rev, const char *patches,
		    const char *extra_configure)
{
	g_autoptr(GPtrArray) configure = g_ptr_array_new();
	struct hpci_qemu_request req = {
		.src = { .source = (char *)source, .rev = (char *)rev, .patches = (char *)patches },
		.configure = configure,
	};
	char *key = NULL;

	if (extra_configure)
		g_ptr_array_add(configure, (char *)extra_configure);
	if (hpci_qemu_key(&req, &key) < 0)
		fail_msg("%s", hpci_error_message());
	return key;
}

static void test_key_covers_every_input(void **state)
{
	struct fixture *f = *state;
	g_autofree char *base = key_of(f->repo, "v1.0", f->patches, NULL);
	g_autofree char *again = key_of(f->repo, f->first_commit, f->patches, NULL);
	g_autofree char *other_rev = key_of(f->repo, "HEAD", f->patches, NULL);
	g_autofree char *no_patches = key_of(f->repo, "v1.0", NULL, NULL);
	g_autofree char *configured = key_of(f->repo, "v1.0", f->patches, "--enable-debug");
	g_autofree char *edited = g_strdup(good_patch);
	g_autofree char *one_byte = NULL;

	assert_int_equal(strlen(base), 64);
	/* A tag and its commit id are one source identity. */
	assert_string_equal(base, again);
	assert_string_not_equal(base, other_rev);
	assert_string_not_equal(base, no_patches);
	assert_string_not_equal(base, configured);
	/* One byte of one patch (in its commit message) changes the key. */
	*strstr(edited, "mark") = 'M';
	write_text(f->patches, "0001-version-mark-our-build.patch", edited, 0644);
	one_byte = key_of(f->repo, "v1.0", f->patches, NULL);
	assert_string_not_equal(base, one_byte);
	write_text(f->patches, "0001-version-mark-our-build.patch", good_patch, 0644);
	g_free(one_byte);
	one_byte = key_of(f->repo, "v1.0", f->patches, NULL);
	assert_string_equal(base, one_byte);
}

static void test_check_rejects_bad_configure(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) configure = g_ptr_array_new();
	struct hpci_qemu_request req = { .src = { .source = f->repo }, .configure = configure };
	const char *field = NULL;
	guint index = 99;

	g_ptr_array_add(configure, "--target-list=aarch64-softmmu");
	assert_int_equal(hpci_qemu_check(&req), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "sets the target list itself"));
	g_ptr_array_set_size(configure, 0);
	g_ptr_array_add(configure, "enable-debug");
	assert_int_equal(hpci_qemu_check(&req), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "'enable-debug' does not start with '--'"));
	/* The member rejected and its element, for the matrix's JSON path. */
	g_ptr_array_insert(configure, 0, "--enable-lto");
	assert_int_equal(hpci_qemu_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "configure");
	assert_int_equal(index, 1);
	g_ptr_array_set_size(configure, 0);
	req.src.patches = "/nonexistent/queue";
	assert_int_equal(hpci_qemu_check(&req), -ENOENT);
	assert_true(hpci_qemu_check_field(&req, &field, &index) < 0);
	assert_string_equal(field, "patches");
	assert_int_equal(index, 0);
	req.src.source = "debian:edk2";
	assert_int_equal(hpci_qemu_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "source");
	req.src.source = f->repo;
	req.src.patches = NULL;
	assert_int_equal(hpci_qemu_check(&req), 0);
}

/* ---- builds ------------------------------------------------------------------ */

static void test_build_then_cache_hit(void **state)
{
	struct fixture *f = *state;
	struct hpci_qemu_request req = {
		.src = { .source = f->repo, .rev = "v1.0", .patches = f->patches },
	};
	struct hpci_qemu_build first = { 0 }, second = { 0 };
	g_autofree char *manifest = NULL;
	g_autofree char *src_dir = NULL;
	struct stat built, hit;

	if (hpci_qemu_build(&req, &first) < 0)
		fail_msg("%s", hpci_error_message());
	assert_false(first.cache_hit);
	assert_true(g_file_test(first.emulator, G_FILE_TEST_IS_EXECUTABLE));
	/* The patch was applied before the build: the version says so. */
	assert_string_equal(first.version, "QEMU emulator version 1.0+ours");
	assert_int_equal(first.patches->len, 1);
	assert_string_equal(first.patches->pdata[0], "0001-version-mark-our-build.patch");
	assert_int_equal(hpci_read_file(first.manifest, &manifest, NULL), 0);
	assert_non_null(strstr(manifest, f->first_commit));
	assert_non_null(strstr(manifest, "\"--target-list=x86_64-softmmu\""));
	assert_non_null(strstr(manifest, "\"duration_ms\""));
	assert_non_null(strstr(manifest, "\"compiler\""));
	/* The trees are gone; only the outputs stay. */
	src_dir = g_build_filename(first.dir, "src", NULL);
	assert_false(hpci_is_dir(src_dir));

	/* A hit hands back the entry as it is (same emulator file), without a
	 * time bound a loaded host breaks; bench/ measures speed. */
	assert_int_equal(stat(first.emulator, &built), 0);
	assert_int_equal(hpci_qemu_build(&req, &second), 0);
	assert_true(second.cache_hit);
	assert_int_equal(stat(second.emulator, &hit), 0);
	assert_true(built.st_ino == hit.st_ino && built.st_mtime == hit.st_mtime);
	assert_string_equal(first.key, second.key);
	assert_string_equal(first.emulator, second.emulator);
	assert_string_equal(second.version, first.version);
	hpci_qemu_build_release(&first);
	hpci_qemu_build_release(&second);
}

static void test_two_revisions_two_entries(void **state)
{
	struct fixture *f = *state;
	struct hpci_qemu_request one = { .src = { .source = f->repo, .rev = "v1.0" } };
	struct hpci_qemu_request two = { .src = { .source = f->repo, .rev = "HEAD" } };
	struct hpci_qemu_build a = { 0 }, b = { 0 };
	g_autoptr(GPtrArray) entries = NULL;

	assert_int_equal(hpci_qemu_build(&one, &a), 0);
	assert_int_equal(hpci_qemu_build(&two, &b), 0);
	assert_string_not_equal(a.key, b.key);
	assert_string_not_equal(a.dir, b.dir);
	assert_int_equal(hpci_cache_list("qemu", &entries), 0);
	assert_true(entries->len >= 2);
	hpci_qemu_build_release(&a);
	hpci_qemu_build_release(&b);
}

static void test_failed_build_keeps_log_and_no_entry(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) configure = g_ptr_array_new();
	struct hpci_qemu_request req = { .src = { .source = f->repo }, .configure = configure };
	struct hpci_qemu_build b = { 0 };
	g_autofree char *key = NULL;
	g_autofree char *root = hpci_cache_root();
	g_autofree char *entry = NULL;
	g_autofree char *log = NULL;
	g_autofree char *log_text = NULL;
	g_autofree char *leftovers = NULL;
	g_autofree char *count_tmp = g_strdup_printf("ls -a %s/qemu | grep -c '^.tmp-' || true", root);

	g_ptr_array_add(configure, "--fail-configure");
	assert_int_equal(hpci_qemu_key(&req, &key), 0);
	assert_int_equal(hpci_qemu_build(&req, &b), -EIO);
	assert_non_null(strstr(hpci_error_message(), "configure failed"));
	assert_non_null(strstr(hpci_error_message(), "asked to fail"));
	log = g_strdup_printf("%s/qemu/failed/%s.log", root, key);
	assert_non_null(strstr(hpci_error_message(), log));
	assert_int_equal(hpci_read_file(log, &log_text, NULL), 0);
	assert_non_null(strstr(log_text, "asked to fail"));
	entry = g_build_filename(root, "qemu", key, NULL);
	assert_false(hpci_is_dir(entry));
	leftovers = sh_out(f->tmp, count_tmp);
	assert_string_equal(leftovers, "0");
}

/* A file:// tarball goes through lib/download.c into the download cache; its
 * sha256 is the source identity, and a wrong pin stops the build. */
static void test_tarball_source(void **state)
{
	struct fixture *f = *state;
	g_autofree char *tarball = g_build_filename(f->tmp, "qemu-1.0.tar.gz", NULL);
	g_autofree char *script = g_strdup_printf("git archive --prefix=qemu-1.0/ -o %s v1.0",
						  tarball);
	g_autofree char *url = g_strdup_printf("file://%s", tarball);
	g_autofree char *sha = NULL;
	char wrong[] = "0000000000000000000000000000000000000000000000000000000000000000";
	struct hpci_qemu_request req = { .src = { .source = url, .patches = f->patches } };
	struct hpci_qemu_build b = { 0 };
	g_autofree char *manifest = NULL;

	sh(f->repo, script);
	assert_int_equal(hpci_sha256_file(tarball, &sha), 0);
	req.src.sha256 = wrong;
	assert_int_equal(hpci_qemu_build(&req, &b), -EBADMSG);
	assert_non_null(strstr(hpci_error_message(), sha));
	req.src.sha256 = NULL;
	if (hpci_qemu_build(&req, &b) < 0)
		fail_msg("%s", hpci_error_message());
	assert_string_equal(b.version, "QEMU emulator version 1.0+ours");
	assert_int_equal(hpci_read_file(b.manifest, &manifest, NULL), 0);
	assert_non_null(strstr(manifest, sha));
	assert_non_null(strstr(manifest, "\"kind\":\"tarball\""));
	hpci_qemu_build_release(&b);
}

struct racer {
	const struct hpci_qemu_request *req;
	struct hpci_qemu_build build;
	int rc;
};

static gpointer race(gpointer data)
{
	struct racer *r = data;

	r->rc = hpci_qemu_build(r->req, &r->build);
	return NULL;
}

/* Two builders of one key: one builds, the other waits on the lock and then
 * finds the finished entry; neither sees a half-written one. */
static void test_concurrent_builds_of_one_key(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) configure = g_ptr_array_new();
	struct hpci_qemu_request req = { .src = { .source = f->repo }, .configure = configure };
	struct racer a = { .req = &req }, b = { .req = &req };
	GThread *ta, *tb;

	g_ptr_array_add(configure, "--enable-race-test");
	ta = g_thread_new("a", race, &a);
	tb = g_thread_new("b", race, &b);
	g_thread_join(ta);
	g_thread_join(tb);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(a.build.cache_hit + b.build.cache_hit, 1);
	assert_string_equal(a.build.emulator, b.build.emulator);
	assert_true(g_file_test(a.build.emulator, G_FILE_TEST_IS_EXECUTABLE));
	hpci_qemu_build_release(&a.build);
	hpci_qemu_build_release(&b.build);
}

static void test_gc_removes_unused_and_dead_work_dirs(void **state)
{
	struct fixture *f = *state;
	struct hpci_qemu_request req = { .src = { .source = f->repo, .rev = "v1.0" } };
	struct hpci_qemu_build b = { 0 };
	g_autofree char *root = hpci_cache_root();
	g_autofree char *dead = NULL;
	unsigned stale = 0;

	assert_int_equal(hpci_qemu_build(&req, &b), 0);
	dead = g_strdup_printf("%s/qemu/.tmp-%s-99999", root, b.key);
	assert_int_equal(hpci_mkdir_p(dead, 0755), 0);
	assert_int_equal(hpci_cache_remove_stale("qemu", &stale), 0);
	assert_int_equal(stale, 1);
	assert_false(hpci_is_dir(dead));
	assert_int_equal(hpci_cache_remove("qemu", b.key), 1);
	assert_false(hpci_is_dir(b.dir));
	hpci_qemu_build_release(&b);
}

static gpointer interrupt_soon(gpointer data)
{
	(void)data;
	g_usleep(G_USEC_PER_SEC);
	hpci_interrupt_raise();
	return NULL;
}

/* Ctrl-C in the middle of a build stops the build's child processes at
 * once and leaves neither an entry nor a work directory.  Runs last: the
 * interrupt flag cannot be lowered again. */
static void test_interrupt_stops_the_build(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) configure = g_ptr_array_new();
	struct hpci_qemu_request req = { .src = { .source = f->repo }, .configure = configure };
	struct hpci_qemu_build b = { 0 };
	g_autofree char *root = hpci_cache_root();
	g_autofree char *kind_dir = g_build_filename(root, "qemu", NULL);
	g_autoptr(GDir) dir = NULL;
	g_autofree char *key = NULL;
	g_autofree char *entry = NULL;
	const char *name;
	GThread *t;
	gint64 t0;

	g_ptr_array_add(configure, "--slow-configure");
	assert_int_equal(hpci_qemu_key(&req, &key), 0);
	t = g_thread_new("interrupt", interrupt_soon, NULL);
	t0 = g_get_monotonic_time();
	assert_int_equal(hpci_qemu_build(&req, &b), -EINTR);
	g_thread_join(t);
	/* The configure script would have slept 60 s. */
	assert_true(g_get_monotonic_time() - t0 < 10 * G_USEC_PER_SEC);
	assert_non_null(strstr(hpci_error_message(), "interrupted"));
	entry = g_build_filename(root, "qemu", key, NULL);
	assert_false(hpci_is_dir(entry));
	/* (No child process can be started from here on: read the directory.) */
	dir = g_dir_open(kind_dir, 0, NULL);
	while (dir && (name = g_dir_read_name(dir)))
		assert_false(g_str_has_prefix(name, ".tmp-"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_parse_kinds),
		cmocka_unit_test(test_source_parse_errors),
		cmocka_unit_test(test_source_git_resolve_and_export),
		cmocka_unit_test(test_source_git_errors),
		cmocka_unit_test(test_patch_queue_load_errors),
		cmocka_unit_test(test_patch_queue_apply_failure_names_patch),
		cmocka_unit_test(test_key_covers_every_input),
		cmocka_unit_test(test_check_rejects_bad_configure),
		cmocka_unit_test(test_build_then_cache_hit),
		cmocka_unit_test(test_two_revisions_two_entries),
		cmocka_unit_test(test_failed_build_keeps_log_and_no_entry),
		cmocka_unit_test(test_tarball_source),
		cmocka_unit_test(test_concurrent_builds_of_one_key),
		cmocka_unit_test(test_gc_removes_unused_and_dead_work_dirs),
		cmocka_unit_test(test_interrupt_stops_the_build),
	};

	return cmocka_run_group_tests_name("qemu-build", tests, setup, teardown);
}
