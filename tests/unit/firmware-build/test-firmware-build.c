/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "descriptor.h"
#include "error.h"
#include "firmware-build.h"
#include "fsutil.h"
#include "ld-cache.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a build writes is what the matrix accepts: the reader gets back the
 * images and features the writer was given. */
static void test_descriptor_round_trip(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("hpci-fw-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "firmware.json", NULL);
	struct hpci_firmware_descriptor in = {
		.code = "/cache/OVMF_CODE.fd", .vars = "/cache/OVMF_VARS.fd", .smm = true,
		.verbose = true,
	};
	struct hpci_firmware_descriptor out = { 0 };

	(void)state;
	assert_int_equal(hpci_firmware_descriptor_write(path, &in, "OVMF DEBUG", false), 0);
	/* A name with a '/' is a path, relative to the directory given. */
	if (hpci_firmware_descriptor_read("./firmware.json", dir, &out) < 0)
		fail_msg("%s", hpci_error_message());
	assert_string_equal(out.path, path);
	assert_string_equal(out.code, in.code);
	assert_string_equal(out.vars, in.vars);
	assert_true(out.smm);
	assert_true(out.verbose);
	hpci_firmware_descriptor_release(&out);

	in.smm = in.verbose = false;
	assert_int_equal(hpci_firmware_descriptor_write(path, &in, "OVMF RELEASE", true), 0);
	assert_int_equal(hpci_firmware_descriptor_read(path, "/", &out), 0);
	assert_false(out.smm);
	assert_false(out.verbose);
	hpci_firmware_descriptor_release(&out);
	hpci_firmware_descriptor_release(&out);   /* twice is harmless */
	assert_int_equal(hpci_rm_rf(dir), 0);
}

/* The reader names the file and leaves saying who named it to the caller. */
static void test_descriptor_errors(void **state)
{
	struct hpci_firmware_descriptor out = { 0 };

	(void)state;
	assert_int_equal(hpci_firmware_descriptor_read("", "/", &out), -EINVAL);
	assert_string_equal(hpci_error_message(), "empty descriptor name; give a file name "
			    "from /usr/share/qemu/firmware or a path");
	assert_int_equal(hpci_firmware_descriptor_read("/dev/zero", "/", &out), -EINVAL);
	assert_string_equal(hpci_error_message(), "/dev/zero: is a character device, not a "
			    "regular file; give the path of a JSON file; give the name or path "
			    "of a firmware descriptor");
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_INPUT);
	assert_null(out.path);
}

/* The check names the request member it rejects. */
static void test_check_field(void **state)
{
	g_autoptr(GPtrArray) defines = g_ptr_array_new();
	g_autoptr(GPtrArray) pcds = g_ptr_array_new();
	struct hpci_firmware_request req = {
		.src = { .source = "debian:edk2" }, .defines = defines, .pcds = pcds,
	};
	const char *field = NULL;
	guint index = 99;

	(void)state;
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), 0);
	assert_null(field);
	req.src.source = "debian:qemu";
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "source");
	req.src.source = "debian:edk2";
	req.src.patches = "/nonexistent/queue";
	assert_true(hpci_firmware_check_field(&req, &field, &index) < 0);
	assert_string_equal(field, "patches");
	req.src.patches = NULL;
	req.build_type = "debug";
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "build_type");
	req.build_type = NULL;
	g_ptr_array_add(defines, "SMM_REQUIRE=TRUE");
	g_ptr_array_add(defines, "-D X=1");
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "defines");
	assert_int_equal(index, 1);
	g_ptr_array_set_size(defines, 1);
	g_ptr_array_add(pcds, "PcdNoGuid=1");
	assert_int_equal(hpci_firmware_check_field(&req, &field, &index), -EINVAL);
	assert_string_equal(field, "pcds");
	assert_int_equal(index, 0);
	assert_int_equal(hpci_firmware_check(&req), -EINVAL);
}

static void test_request_copy(void **state)
{
	g_autoptr(GPtrArray) defines = g_ptr_array_new();
	struct hpci_firmware_request req = {
		.src = { .source = "debian:edk2" }, .build_type = "NOOPT", .defines = defines,
	};
	g_autoptr(hpci_firmware_request) copy = NULL;

	(void)state;
	g_ptr_array_add(defines, "SMM_REQUIRE=TRUE");
	copy = hpci_firmware_request_copy(&req);
	assert_ptr_not_equal(copy->src.source, req.src.source);
	assert_string_equal(copy->src.source, "debian:edk2");
	assert_string_equal(copy->build_type, "NOOPT");
	assert_int_equal(copy->defines->len, 1);
	assert_ptr_not_equal(copy->defines, defines);
	assert_int_equal(copy->pcds->len, 0);
	assert_true(hpci_firmware_request_smm(copy));
}

static void write_exec(const char *path, const char *text)
{
	assert_int_equal(hpci_write_file(path, text, -1), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* ---- the link cache ---- */

/* A linker that reads its response file, writes the output and the map,
 * warns on stderr, and counts its runs. */
static const char fake_linker[] =
	"#!/bin/sh\n"
	"echo run >> \"$FAKE_LD_COUNT\"\n"
	"if [ -n \"$FAKE_LD_FAIL\" ]; then echo 'ld: cannot link' >&2; exit 1; fi\n"
	"out= map= resp=\n"
	"while [ $# -gt 0 ]; do\n"
	"\tcase $1 in -o) out=$2; shift ;; -Wl,-Map,*) map=${1#-Wl,-Map,}; map=${map%%,*} ;;\n"
	"\t-Wl,--start-group,@*) resp=${1#-Wl,--start-group,@}; resp=${resp%,--end-group} ;;\n"
	"\t-c) exit 0 ;; esac\n"
	"\tshift\n"
	"done\n"
	"cat $(cat \"$resp\") > \"$out\" || exit 1\n"
	"echo \"map of $out\" > \"$map\"\n"
	"echo \"ld: warning: $out is fake\" >&2\n";

struct link_case {
	char *tmp, *cache, *count, *linker;
};

static char *make_build(const struct link_case *c, const char *name, const char *b_lib)
{
	char *work = g_build_filename(c->tmp, name, NULL);
	g_autofree char *a = g_build_filename(work, "a.lib", NULL);
	g_autofree char *b = g_build_filename(work, "b.lib", NULL);
	g_autofree char *list = g_build_filename(work, "libs.lst", NULL);
	g_autofree char *list_text = g_strdup_printf("%s\n%s\n", a, b);

	assert_int_equal(hpci_mkdir_p(work, 0755), 0);
	assert_int_equal(hpci_write_file(a, "!<arch>\nA", -1), 0);
	assert_int_equal(hpci_write_file(b, b_lib, -1), 0);
	assert_int_equal(hpci_write_file(list, list_text, -1), 0);
	return work;
}

static int runs(const struct link_case *c)
{
	g_autofree char *text = NULL;
	int n = 0;

	if (!g_file_get_contents(c->count, &text, NULL, NULL))
		return 0;
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

/* Links the build in `work` the way edk2's GCC5 rule does. */
static int link_in(const struct link_case *c, const char *work, const char *extra,
		   enum hpci_ld_cache_result *result)
{
	struct hpci_ld_cache_config config = {
		.dir = c->cache, .base_dir = work, .linker = c->linker, .tools = "gcc 1 | ld 1",
	};
	g_autofree char *out = g_build_filename(work, "M.dll", NULL);
	g_autofree char *map = g_strdup_printf("-Wl,-Map,%s/M.map,--whole-archive", work);
	g_autofree char *group = g_strdup_printf("-Wl,--start-group,@%s/libs.lst,--end-group",
						 work);
	char *argv[] = { "gcc", "-o", out, "-nostdlib", map, "-u", "_ModuleEntryPoint",
			 "-include", "AutoGen.h", "-D", "X", group, (char *)extra, NULL };
	int argc = extra ? 13 : 12;

	return hpci_ld_cache_link(&config, argc, argv, result);
}

static char *read_text(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	assert_int_equal(hpci_read_file(path, &text, NULL), 0);
	return text;
}

static void test_ld_cache(void **state)
{
	struct link_case c;
	enum hpci_ld_cache_result result;
	g_autofree char *w1 = NULL, *w2 = NULL, *w3 = NULL;
	g_autofree char *out = NULL, *map = NULL, *want = NULL;
	unsigned removed = 0;

	(void)state;
	c.tmp = g_dir_make_tmp("hpci-ld-cache-XXXXXX", NULL);
	c.cache = g_build_filename(c.tmp, "cache", NULL);
	c.count = g_build_filename(c.tmp, "count", NULL);
	c.linker = g_build_filename(c.tmp, "fake-ld", NULL);
	write_exec(c.linker, fake_linker);
	g_setenv("FAKE_LD_COUNT", c.count, TRUE);
	w1 = make_build(&c, "work-1", "!<arch>\nB");
	w2 = make_build(&c, "work-two", "!<arch>\nB");
	w3 = make_build(&c, "work-3", "!<arch>\nB changed");

	/* The first link runs and is kept. */
	assert_int_equal(link_in(&c, w1, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);
	assert_int_equal(runs(&c), 1);
	/* The same inputs in another work directory (of another length): the
	 * outputs come from the cache, the map naming this directory. */
	assert_int_equal(link_in(&c, w2, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_HIT);
	assert_int_equal(runs(&c), 1);
	out = read_text(w2, "M.dll");
	assert_string_equal(out, "!<arch>\nA!<arch>\nB");
	map = read_text(w2, "M.map");
	want = g_strdup_printf("map of %s/M.dll\n", w2);
	assert_string_equal(map, want);
	/* One input's bytes differ: the link runs. */
	assert_int_equal(link_in(&c, w3, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);
	assert_int_equal(runs(&c), 2);
	/* So does a link with one argument more. */
	assert_int_equal(link_in(&c, w2, "-Os", &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);
	assert_int_equal(runs(&c), 3);
	/* Libraries found by search and compiles are not cached, only run. */
	assert_int_equal(link_in(&c, w2, "-lfoo", &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_UNCACHED);
	assert_int_equal(link_in(&c, w2, "-c", &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_UNCACHED);
	assert_int_equal(runs(&c), 5);

	/* A thin archive only points at its members. */
	g_free(w3);
	w3 = make_build(&c, "work-thin", "!<thin>\nB");
	assert_int_equal(link_in(&c, w3, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_UNCACHED);

	/* Trimming to nothing removes the three entries kept. */
	assert_int_equal(hpci_ld_cache_trim(c.cache, 0, &removed), 0);
	assert_int_equal(removed, 3);
	assert_int_equal(link_in(&c, w1, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);

	g_unsetenv("FAKE_LD_COUNT");
	assert_int_equal(hpci_rm_rf(c.tmp), 0);
	g_free(c.tmp);
	g_free(c.cache);
	g_free(c.count);
	g_free(c.linker);
}

/* A failed link leaves nothing in the cache, and its status is the program's. */
static void test_ld_cache_failed_link(void **state)
{
	struct link_case c;
	enum hpci_ld_cache_result result;
	g_autofree char *w1 = NULL;
	unsigned removed = 0;

	(void)state;
	c.tmp = g_dir_make_tmp("hpci-ld-cache-XXXXXX", NULL);
	c.cache = g_build_filename(c.tmp, "cache", NULL);
	c.count = g_build_filename(c.tmp, "count", NULL);
	c.linker = g_build_filename(c.tmp, "fake-ld", NULL);
	write_exec(c.linker, fake_linker);
	g_setenv("FAKE_LD_COUNT", c.count, TRUE);
	w1 = make_build(&c, "work-1", "!<arch>\nB");
	g_setenv("FAKE_LD_FAIL", "1", TRUE);
	assert_int_equal(link_in(&c, w1, NULL, &result), 1);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);
	g_unsetenv("FAKE_LD_FAIL");
	assert_int_equal(hpci_ld_cache_trim(c.cache, 0, &removed), 0);
	assert_int_equal(removed, 0);
	/* The next link of the same inputs runs, and is kept. */
	assert_int_equal(link_in(&c, w1, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_MISS);
	assert_int_equal(runs(&c), 2);
	g_unsetenv("FAKE_LD_COUNT");
	assert_int_equal(hpci_rm_rf(c.tmp), 0);
	g_free(c.tmp);
	g_free(c.cache);
	g_free(c.count);
	g_free(c.linker);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_round_trip),
		cmocka_unit_test(test_descriptor_errors),
		cmocka_unit_test(test_check_field),
		cmocka_unit_test(test_request_copy),
		cmocka_unit_test(test_ld_cache),
		cmocka_unit_test(test_ld_cache_failed_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
