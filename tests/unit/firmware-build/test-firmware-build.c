/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cmd.h"
#include "descriptor.h"
#include "error.h"
#include "firmware-build.h"
#include "fsutil.h"
#include "ld-cache.h"
#include "toolchain.h"

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

static const char *env_value(const struct hpci_cmd *cmd, const char *name)
{
	size_t len = strlen(name);

	for (guint i = 0; i < cmd->env->len; i++) {
		const char *kv = cmd->env->pdata[i];

		if (!strncmp(kv, name, len) && kv[len] == '=')
			return kv + len + 1;
	}
	return NULL;
}

/* A directory for PATH with the real gcc and ld, and a fake ccache when asked. */
static char *path_dir(const char *tmp, const char *name, bool with_ccache)
{
	char *dir = g_build_filename(tmp, name, NULL);
	const char *programs[] = { "gcc", "ld" };

	assert_int_equal(hpci_mkdir_p(dir, 0755), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(programs); i++) {
		g_autofree char *real = g_find_program_in_path(programs[i]);
		g_autofree char *link = g_build_filename(dir, programs[i], NULL);

		assert_non_null(real);
		assert_int_equal(symlink(real, link), 0);
	}
	if (with_ccache) {
		g_autofree char *fake = g_build_filename(dir, "ccache", NULL);

		write_exec(fake, "#!/bin/sh\nexit 0\n");
	}
	return dir;
}

/* IA32's CC_PATH is missing on purpose: a template without a tool keeps it so. */
static const char fake_template[] =
	"IDENTIFIER = test\n"
	"*_GCC5_X64_CC_PATH               = DEF(GCC5_X64_PREFIX)gcc\n"
	"*_GCC5_IA32_DLINK_PATH           = DEF(GCC5_IA32_PREFIX)gcc\n"
	"  *_GCC5_X64_DLINK_PATH  = DEF(GCC5_X64_PREFIX)gcc\n"
	"*_GCC5_X64_RC_PATH               = DEF(GCC5_X64_PREFIX)objcopy\n"
	"*_*_*_NASM_PATH                = ENV(NASM_PREFIX)nasm";

struct toolchain_case {
	char *tmp, *work, *tree, *cache, *tools_def;
};

static void toolchain_case_init(struct toolchain_case *t)
{
	g_autofree char *conf = NULL;
	g_autofree char *template = NULL;

	t->tmp = g_dir_make_tmp("hpci-fw-tools-XXXXXX", NULL);
	t->work = g_build_filename(t->tmp, "work", NULL);
	t->tree = g_build_filename(t->work, "src", NULL);
	t->cache = g_build_filename(t->tmp, "cache", NULL);
	t->tools_def = g_build_filename(t->tree, "Conf", "tools_def.txt", NULL);
	conf = g_build_filename(t->tree, "BaseTools", "Conf", NULL);
	template = g_build_filename(conf, "tools_def.template", NULL);
	assert_int_equal(hpci_mkdir_p(conf, 0755), 0);
	assert_int_equal(hpci_write_file(template, fake_template, -1), 0);
	g_setenv("HPCI_CACHE_DIR", t->cache, TRUE);
}

static void toolchain_case_release(struct toolchain_case *t)
{
	g_unsetenv("HPCI_CACHE_DIR");
	assert_int_equal(hpci_rm_rf(t->tmp), 0);
	g_free(t->tmp);
	g_free(t->work);
	g_free(t->tree);
	g_free(t->cache);
	g_free(t->tools_def);
}

/* With ccache on PATH, the build's compiles go through it (CC_PATH names a
 * `gcc` that is ccache, with the shared ccache settings in the environment)
 * and its links through hpci-ld-cache; nasm and RC's objcopy get relative
 * names. */
static void test_toolchain_with_ccache(void **state)
{
	struct toolchain_case t;
	g_autofree char *saved_path = g_strdup(g_getenv("PATH"));
	g_autofree char *bin = NULL;
	g_autofree char *fake_ccache = NULL;
	g_autofree char *gcc = NULL;
	g_autofree char *wrapped = NULL;
	g_autofree char *nasm = NULL;
	g_autofree char *text = NULL;
	g_autofree char *want = NULL;
	g_autofree char *target = NULL;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	(void)state;
	toolchain_case_init(&t);
	bin = path_dir(t.tmp, "bin", true);
	fake_ccache = g_build_filename(bin, "ccache", NULL);
	gcc = g_build_filename(bin, "gcc", NULL);
	wrapped = g_build_filename(t.work, "tools", "gcc", NULL);
	nasm = g_build_filename(t.work, "tools", "nasm", NULL);
	g_setenv("PATH", bin, TRUE);
	hpci_cmd_init(&cmd, "build");
	rc = hpci_firmware_toolchain_setup(&cmd, t.work, t.tree, "gcc (test) 1");
	g_setenv("PATH", saved_path, TRUE);
	if (rc < 0)
		fail_msg("%s", hpci_error_message());
	assert_int_equal(rc, 1);

	want = g_build_filename(t.cache, "ccache", NULL);
	assert_string_equal(env_value(&cmd, "CCACHE_DIR"), want);
	assert_string_equal(env_value(&cmd, "CCACHE_BASEDIR"), t.work);
	assert_string_equal(env_value(&cmd, "CCACHE_NOHASHDIR"), "1");
	target = g_file_read_link(wrapped, NULL);
	assert_string_equal(target, fake_ccache);
	g_free(want);
	want = g_build_filename(t.cache, "ld-cache", NULL);
	assert_string_equal(env_value(&cmd, HPCI_LD_CACHE_ENV_DIR), want);
	assert_string_equal(env_value(&cmd, HPCI_LD_CACHE_ENV_BASEDIR), t.work);
	assert_string_equal(env_value(&cmd, HPCI_LD_CACHE_ENV_LINKER), gcc);
	assert_true(g_str_has_prefix(env_value(&cmd, HPCI_LD_CACHE_ENV_TOOLS),
				     "gcc (test) 1 | GNU ld"));
	g_free(want);
	want = g_strconcat(t.work, "/tools/", NULL);
	assert_string_equal(env_value(&cmd, "NASM_PREFIX"), want);
	assert_true(g_file_test(nasm, G_FILE_TEST_IS_EXECUTABLE));

	assert_int_equal(hpci_read_file(t.tools_def, &text, NULL), 0);
	/* The template first, then the replacements, which edk2 takes as the last word. */
	assert_true(g_str_has_prefix(text, fake_template));
	g_free(want);
	want = g_strdup_printf("\n*_GCC5_X64_CC_PATH = %s\n", wrapped);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "*_GCC5_IA32_CC_PATH"));
	assert_non_null(strstr(text, "\n*_GCC5_IA32_DLINK_PATH = /"));
	assert_non_null(strstr(text, "/hpci-ld-cache\n*_GCC5_X64_DLINK_PATH = /"));
	g_free(want);
	want = g_strdup_printf("\n*_GCC5_X64_RC_PATH = %s/tools/objcopy\n", t.work);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "*_GCC5_IA32_RC_PATH"));
	toolchain_case_release(&t);
}

/* Without ccache the compiles stay as edk2 has them; the links are still
 * cached (that needs nothing but gcc). */
static void test_toolchain_without_ccache(void **state)
{
	struct toolchain_case t;
	g_autofree char *saved_path = g_strdup(g_getenv("PATH"));
	g_autofree char *bin = NULL;
	g_autofree char *text = NULL;
	g_autofree char *wrapped = NULL;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	(void)state;
	toolchain_case_init(&t);
	bin = path_dir(t.tmp, "bin", false);
	wrapped = g_build_filename(t.work, "tools", "gcc", NULL);
	g_setenv("PATH", bin, TRUE);
	hpci_cmd_init(&cmd, "build");
	rc = hpci_firmware_toolchain_setup(&cmd, t.work, t.tree, "gcc (test) 1");
	g_setenv("PATH", saved_path, TRUE);
	if (rc < 0)
		fail_msg("%s", hpci_error_message());
	assert_int_equal(rc, 0);

	assert_null(env_value(&cmd, "CCACHE_DIR"));
	assert_null(env_value(&cmd, "CCACHE_BASEDIR"));
	assert_false(g_file_test(wrapped, G_FILE_TEST_EXISTS));
	assert_non_null(env_value(&cmd, HPCI_LD_CACHE_ENV_DIR));
	assert_int_equal(hpci_read_file(t.tools_def, &text, NULL), 0);
	assert_null(strstr(text, "_CC_PATH = "));
	assert_non_null(strstr(text, "\n*_GCC5_X64_DLINK_PATH = /"));
	toolchain_case_release(&t);
}

/* The nasm wrapper runs the nasm on PATH with every argument, an existing
 * file's absolute name made relative to the current directory. */
static void test_nasm_wrapper(void **state)
{
	struct toolchain_case t;
	g_autofree char *saved_path = g_strdup(g_getenv("PATH"));
	g_autofree char *bin = NULL;
	g_autofree char *fake_nasm = NULL;
	g_autofree char *module = NULL;
	g_autofree char *source_dir = NULL;
	g_autofree char *source = NULL;
	g_autofree char *script = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(hpci_cmd) cmd = { 0 };
	g_auto(hpci_cmd) run = { 0 };

	(void)state;
	toolchain_case_init(&t);
	bin = path_dir(t.tmp, "bin", false);
	fake_nasm = g_build_filename(bin, "nasm", NULL);
	write_exec(fake_nasm, "#!/bin/sh\nprintf '%s|' \"$@\"\n");
	g_setenv("PATH", bin, TRUE);
	hpci_cmd_init(&cmd, "build");
	assert_int_equal(hpci_firmware_toolchain_setup(&cmd, t.work, t.tree, "gcc (test) 1"), 0);
	g_setenv("PATH", saved_path, TRUE);

	module = g_build_filename(t.tree, "Build", "M", NULL);
	source_dir = g_build_filename(module, "OUTPUT", "X64", NULL);
	source = g_build_filename(source_dir, "A.iii", NULL);
	assert_int_equal(hpci_mkdir_p(source_dir, 0755), 0);
	assert_int_equal(hpci_write_file(source, "nop\n", -1), 0);
	script = g_strconcat(env_value(&cmd, "NASM_PREFIX"), "nasm", NULL);
	path = g_strconcat(bin, ":", saved_path, NULL);
	hpci_cmd_init(&run, script);
	hpci_cmd_addl(&run, "-I/x/", "-f", "elf64", "-o", "/abs/A.obj", source, NULL);
	hpci_cmd_setenv(&run, "PATH", path);
	run.cwd = g_strdup(module);
	assert_int_equal(hpci_cmd_run(&run, out, NULL), 0);
	assert_string_equal(out->str, "-I/x/|-f|elf64|-o|/abs/A.obj|OUTPUT/X64/A.iii|");
	toolchain_case_release(&t);
}

/* edk2 gets the interpreter a python3 shim would start, and plain
 * "python3" when the answer is no usable path. */
static void test_python(void **state)
{
	g_autofree char *tmp = g_dir_make_tmp("hpci-fw-python-XXXXXX", NULL);
	g_autofree char *shim = g_build_filename(tmp, "python3", NULL);
	g_autofree char *real = g_find_program_in_path("python3");
	g_autofree char *saved_path = g_strdup(g_getenv("PATH"));
	g_autofree char *path = NULL;
	g_autofree char *script = NULL;
	g_autofree char *found = NULL;
	g_autofree char *fallback = NULL;

	(void)state;
	assert_non_null(real);
	script = g_strdup_printf("#!/bin/sh\nexec '%s' \"$@\"\n", real);
	write_exec(shim, script);
	path = g_strconcat(tmp, ":", saved_path, NULL);
	g_setenv("PATH", path, TRUE);
	found = hpci_firmware_python();
	write_exec(shim, "#!/bin/sh\necho not-a-path\n");
	fallback = hpci_firmware_python();
	g_setenv("PATH", saved_path, TRUE);
	assert_true(g_path_is_absolute(found));
	assert_string_not_equal(found, shim);
	assert_true(g_file_test(found, G_FILE_TEST_IS_EXECUTABLE));
	assert_string_equal(fallback, "python3");
	assert_int_equal(hpci_rm_rf(tmp), 0);
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

/* Links the build in `work` the way edk2's GCC5 rule does; the cache knows
 * the work directory as `base` (NULL: as `work`). */
static int link_as(const struct link_case *c, const char *work, const char *base,
		   const char *extra, enum hpci_ld_cache_result *result)
{
	struct hpci_ld_cache_config config = {
		.dir = c->cache, .base_dir = base ? base : work, .linker = c->linker,
		.tools = "gcc 1 | ld 1",
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

static int link_in(const struct link_case *c, const char *work, const char *extra,
		   enum hpci_ld_cache_result *result)
{
	return link_as(c, work, NULL, extra, result);
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
	g_autofree char *out = NULL, *map = NULL, *want = NULL, *alias = NULL;
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
	/* The cache is told the work directory by a name with a symlink in it,
	 * and the link names the directory it resolves to: still a hit. */
	alias = g_build_filename(c.tmp, "alias", NULL);
	assert_int_equal(symlink(w2, alias), 0);
	assert_int_equal(link_as(&c, w2, alias, NULL, &result), 0);
	assert_int_equal(result, HPCI_LD_CACHE_HIT);
	assert_int_equal(runs(&c), 1);
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
		cmocka_unit_test(test_toolchain_with_ccache),
		cmocka_unit_test(test_toolchain_without_ccache),
		cmocka_unit_test(test_nasm_wrapper),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_ld_cache),
		cmocka_unit_test(test_ld_cache_failed_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
