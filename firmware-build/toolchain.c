/* SPDX-License-Identifier: MIT */
#include "toolchain.h"
#include "cache.h"
#include "ccache.h"
#include "error.h"
#include "fsutil.h"
#include "ld-cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HPCI_LD_CACHE_PROGRAM
#error "HPCI_LD_CACHE_PROGRAM must name the hpci-ld-cache program (set by meson.build)"
#endif

#define TEMPLATE "BaseTools/Conf/tools_def.template"
#define TOOLS_DEF "Conf/tools_def.txt"
#define PROBE_TIMEOUT_MS (30 * 1000)

static const char *const archs[] = { "IA32", "X64", NULL };

char *hpci_firmware_ld_cache_dir(void)
{
	g_autofree char *root = hpci_cache_root();

	return g_build_filename(root, "ld-cache", NULL);
}

/* Whether the template assigns `name`, which a later line of the same
 * name then replaces (edk2's tools_def parser keeps the last). */
static bool template_assigns(const char *template, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = template; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = line + strspn(line, " \t");

		if (!strncmp(p, name, len) && p[len + strspn(p + len, " \t")] == '=')
			return true;
	}
	return false;
}

/* Returns how many architectures' tool it replaced. */
static unsigned replace_tool(GString *extra, const char *template, const char *tool,
			     const char *path)
{
	unsigned n = 0;

	for (const char *const *a = archs; *a; a++) {
		g_autofree char *name = g_strdup_printf("*_GCC5_%s_%s_PATH", *a, tool);

		/* Another edk2 may name its tools otherwise: then leave them. */
		if (template_assigns(template, name)) {
			g_string_append_printf(extra, "%s = %s\n", name, path);
			n++;
		}
	}
	return n;
}

/* ccache answers to the name it is called by: a `gcc` that is ccache
 * compiles with the gcc further down PATH.  1 when compiles go through it. */
static int wrap_gcc(struct hpci_cmd *cmd, const char *work_dir, const char *template,
		    GString *extra)
{
	g_autofree char *ccache = hpci_ccache_find();
	g_autofree char *tools = g_build_filename(work_dir, "tools", NULL);
	g_autofree char *gcc = g_build_filename(tools, "gcc", NULL);
	int rc;

	if (!ccache || !hpci_cmd_add_ccache_env(cmd, work_dir))
		return 0;
	if ((rc = hpci_mkdir_p(tools, 0755)) < 0)
		return rc;
	if (symlink(ccache, gcc) < 0 && errno != EEXIST)
		return hpci_error_errno(errno, "cannot link '%s' to '%s'", gcc, ccache);
	return replace_tool(extra, template, "CC", gcc) > 0;
}

/* " NAME SIZE MTIME" of the file a program on PATH resolves to. */
static void describe_program(GString *s, const char *program)
{
	g_autofree char *found = g_find_program_in_path(program);
	g_autofree char *real = found ? realpath(found, NULL) : NULL;
	struct stat st;

	if (real && stat(real, &st) == 0)
		g_string_append_printf(s, " | %s %lld %lld", real, (long long)st.st_size,
				       (long long)st.st_mtime);
	else
		g_string_append_printf(s, " | %s missing", program);
}

/*
 * What the links' outputs depend on besides their arguments and inputs:
 * gcc's version (its Debian revision covers lto1 and the LTO plugin), ld's,
 * and the two programs' sizes and times, which a rebuilt package changes.
 */
static char *tools_identity(const char *compiler)
{
	g_autofree char *ld = NULL;
	GString *s = g_string_new(compiler);

	if (hpci_cmd_version("ld", PROBE_TIMEOUT_MS, &ld) < 0) {
		hpci_error_clear();
		ld = g_strdup("ld unknown");
	}
	g_string_append_printf(s, " | %s", ld);
	describe_program(s, "gcc");
	describe_program(s, "ld");
	return g_string_free(s, FALSE);
}

/*
 * Two tools write the names they are given into what they make: nasm names
 * its source in the object's symbol table, and objcopy -I binary (GCC5's
 * RC, which wraps a module's HII resources) makes _binary_<path>_start
 * symbols of its input's.  edk2 gives them paths under the work directory,
 * so every build's objects would differ, and so would the archives the
 * links read.  Given relative to the current directory, the objects are the
 * same in every work directory.  Only symbol names change, and nothing
 * loaded: a link's symbols are stripped before GenFw makes the image.
 * The script runs the program it is named as, from PATH.
 */
static const char relative_args_wrapper[] =
	"#!/bin/sh\n"
	"# hotplug-ci: run the program this is named as with its existing files named\n"
	"# relative to the current directory; see relative_args_wrapper in\n"
	"# firmware-build/toolchain.c for why.\n"
	"for a; do\n"
	"\tshift\n"
	"\tcase $a in /*) if [ -f \"$a\" ]; then\n"
	"\t\ta=$(realpath --relative-to=. -- \"$a\" 2>/dev/null || printf '%s' \"$a\")\n"
	"\tfi ;; esac\n"
	"\tset -- \"$@\" \"$a\"\n"
	"done\n"
	"exec \"${0##*/}\" \"$@\"\n";

static int write_relative_wrappers(struct hpci_cmd *cmd, const char *tools, const char *template,
				   GString *extra)
{
	static const char *const names[] = { "nasm", "objcopy", NULL };
	g_autofree char *script = g_build_filename(tools, "relative-args", NULL);
	g_autofree char *objcopy = g_build_filename(tools, "objcopy", NULL);
	g_autofree char *prefix = g_strconcat(tools, "/", NULL);
	int rc;

	if ((rc = hpci_mkdir_p(tools, 0755)) < 0 ||
	    (rc = hpci_write_file(script, relative_args_wrapper, -1)) < 0)
		return rc;
	if (chmod(script, 0755) < 0)
		return hpci_error_errno(errno, "cannot make '%s' executable", script);
	for (const char *const *n = names; *n; n++) {
		g_autofree char *link = g_build_filename(tools, *n, NULL);

		if (symlink("relative-args", link) < 0 && errno != EEXIST)
			return hpci_error_errno(errno, "cannot make '%s'", link);
	}
	/* tools_def.txt: *_*_*_NASM_PATH = ENV(NASM_PREFIX)nasm */
	hpci_cmd_setenv(cmd, "NASM_PREFIX", prefix);
	replace_tool(extra, template, "RC", objcopy);
	return 0;
}

static int cache_links(struct hpci_cmd *cmd, const char *work_dir, const char *template,
		       const char *compiler, GString *extra)
{
	g_autofree char *gcc = g_find_program_in_path("gcc");
	g_autofree char *dir = hpci_firmware_ld_cache_dir();
	g_autofree char *tools_dir = g_build_filename(work_dir, "tools", NULL);
	g_autofree char *tools = NULL;
	int rc;

	/* Only speed is at stake: build without it rather than fail. */
	if (!hpci_is_file(HPCI_LD_CACHE_PROGRAM) || !gcc) {
		hpci_warn("firmware: '%s' is missing; links are not cached",
			  gcc ? HPCI_LD_CACHE_PROGRAM : "gcc");
		return 0;
	}
	if ((rc = write_relative_wrappers(cmd, tools_dir, template, extra)) < 0)
		return rc;
	tools = tools_identity(compiler);
	hpci_cmd_setenv(cmd, HPCI_LD_CACHE_ENV_DIR, dir);
	hpci_cmd_setenv(cmd, HPCI_LD_CACHE_ENV_BASEDIR, work_dir);
	hpci_cmd_setenv(cmd, HPCI_LD_CACHE_ENV_LINKER, gcc);
	hpci_cmd_setenv(cmd, HPCI_LD_CACHE_ENV_TOOLS, tools);
	replace_tool(extra, template, "DLINK", HPCI_LD_CACHE_PROGRAM);
	return 0;
}

int hpci_firmware_toolchain_setup(struct hpci_cmd *cmd, const char *work_dir, const char *tree,
				  const char *compiler)
{
	g_autofree char *template_path = g_build_filename(tree, TEMPLATE, NULL);
	g_autofree char *tools_def = g_build_filename(tree, TOOLS_DEF, NULL);
	g_autofree char *conf = g_path_get_dirname(tools_def);
	g_autofree char *template = NULL;
	g_autoptr(GString) text = NULL;
	g_autoptr(GString) extra = g_string_new(NULL);
	int ccache, rc;

	if ((rc = hpci_read_file(template_path, &template, NULL)) < 0) {
		hpci_error_prefix("the edk2 tree has no GCC5 toolchain template");
		return rc;
	}
	if ((ccache = wrap_gcc(cmd, work_dir, template, extra)) < 0)
		return ccache;
	if ((rc = cache_links(cmd, work_dir, template, compiler, extra)) < 0)
		return rc;
	text = g_string_new(template);
	if (extra->len) {
		if (text->len && text->str[text->len - 1] != '\n')
			g_string_append_c(text, '\n');
		g_string_append(text, "\n# hotplug-ci: the same gcc and ld, behind ccache and "
				"hpci-ld-cache (firmware-build/toolchain.h)\n");
		g_string_append(text, extra->str);
	}
	/* edksetup.sh copies the template only when Conf/ has no tools_def.txt. */
	if ((rc = hpci_mkdir_p(conf, 0755)) < 0 ||
	    (rc = hpci_write_file(tools_def, text->str, text->len)) < 0)
		return rc;
	return ccache;
}

char *hpci_firmware_python(void)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(hpci_cmd) cmd = { 0 };

	hpci_cmd_init(&cmd, "python3");
	hpci_cmd_addl(&cmd, "-c", "import sys; print(sys.executable)", NULL);
	cmd.timeout_ms = PROBE_TIMEOUT_MS;
	if (hpci_cmd_run(&cmd, out, NULL) < 0) {
		/* edk2 will say what is wrong with python3 in its own words. */
		hpci_error_clear();
		return g_strdup("python3");
	}
	g_strstrip(out->str);
	if (!g_path_is_absolute(out->str) || !g_file_test(out->str, G_FILE_TEST_IS_EXECUTABLE))
		return g_strdup("python3");
	return g_strdup(out->str);
}
