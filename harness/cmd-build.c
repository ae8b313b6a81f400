/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "build-source.h"
#include "cache.h"
#include "error.h"
#include "firmware-build.h"
#include "interrupt.h"
#include "qemu-build.h"
#include "strlist.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#define BUILD_SUMMARY \
	"Build QEMU and OVMF revisions into the content-addressed cache\n" \
	"(${XDG_CACHE_HOME:-~/.cache}/hotplug-ci/), or find them there.\n\n" \
	"  build qemu --source SRC [--rev REV] [--sha256 HEX] [--patches DIR]\n" \
	"             [--configure ARGS]...   print the built qemu-system-x86_64\n" \
	"  build firmware --source SRC [--rev REV] [--sha256 HEX] [--patches DIR]\n" \
	"             [--build-type DEBUG|RELEASE|NOOPT] [-D NAME=VALUE]...\n" \
	"             [--pcd GUID.PCD=VALUE]...  print the firmware descriptor\n" \
	"  build list [--kind KIND]           list the cache's entries\n\n" \
	"SRC is a local git checkout (REV defaults to HEAD; the checkout is never\n" \
	"touched; populated submodules come along), an https:// or file:// tarball\n" \
	"URL (sha256 pinned with --sha256, else recorded on the first fetch and\n" \
	"checked after), or debian:qemu[=VERSION] / debian:edk2[=VERSION] (apt-get\n" \
	"source, with Debian's patch series applied).  --patches DIR applies\n" \
	"DIR/*.patch in name order; our TCG fixes are in qemu-build/patches.\n\n" \
	"Firmware is OvmfPkg/OvmfPkgIa32X64.dsc built with GCC5, by default DEBUG\n" \
	"with -D SMM_REQUIRE=TRUE -D SECURE_BOOT_ENABLE=TRUE and --pcd\n" \
	"gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel=0x8040004F (the per-CPU\n" \
	"hotplug lines); -D and --pcd add to or replace those.  BaseTools are built\n" \
	"once per source and reused; compiles go through ccache when it is\n" \
	"installed and links through hpci-ld-cache, so a revision next to one built\n" \
	"before rebuilds in under a minute.  The entry holds OVMF_CODE.fd,\n" \
	"OVMF_VARS.fd, firmware.json (QEMU's firmware descriptor format) and\n" \
	"manifest.json.\n\n" \
	"A second build of the same inputs is a cache hit."

struct build_options {
	struct hpci_build_source src;
	char **configure;
	char *build_type;
	char **defines;
	char **pcds;
	char *kind;
};

static void build_options_release(struct build_options *o)
{
	hpci_build_source_clear(&o->src);
	g_strfreev(o->configure);
	g_free(o->build_type);
	g_strfreev(o->defines);
	g_strfreev(o->pcds);
	g_free(o->kind);
}
typedef struct build_options build_options;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(build_options, build_options_release)

/* Each --configure is split like a shell would, so "--enable-debug --enable-lto" works. */
static int split_configure(char **given, GPtrArray *args)
{
	for (char **c = given; c && *c; c++) {
		g_auto(GStrv) words = NULL;
		g_autoptr(GError) gerr = NULL;

		if (!g_shell_parse_argv(*c, NULL, &words, &gerr))
			return hpci_usage_error("build", "--configure '%s': %s", *c, gerr->message);
		for (char **w = words; *w; w++)
			g_ptr_array_add(args, g_strdup(*w));
	}
	return 0;
}

static int build_qemu(const struct build_options *o)
{
	g_autoptr(GPtrArray) configure = g_ptr_array_new_with_free_func(g_free);
	struct hpci_qemu_request req = { .src = o->src, .configure = configure };
	g_auto(hpci_qemu_build_result) build = { 0 };
	int rc;

	if (!o->src.source)
		return hpci_usage_error("build", "'build qemu' needs --source SRC: a git checkout, "
					"an https:// or file:// tarball URL, or debian:qemu");
	if ((rc = split_configure(o->configure, configure)))
		return rc;
	if (hpci_qemu_check(&req) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	hpci_interrupt_install();
	if ((rc = hpci_qemu_build(&req, &build)) < 0)
		return hpci_error_exit(hpci_interrupted() ? HPCI_EXIT_INTERRUPTED
							  : HPCI_EXIT_INFRA);
	printf("%s\n", build.emulator);
	hpci_info("qemu: %s, key %s (%s)", build.version, build.key,
		  build.cache_hit ? "cache hit" : "built");
	hpci_info("qemu: manifest %s", build.manifest);
	return HPCI_EXIT_OK;
}

static int build_firmware(const struct build_options *o)
{
	g_autoptr(GPtrArray) defines = hpci_strings_from_strv(o->defines);
	g_autoptr(GPtrArray) pcds = hpci_strings_from_strv(o->pcds);
	struct hpci_firmware_request req = {
		.src = o->src, .build_type = o->build_type, .defines = defines, .pcds = pcds,
	};
	g_auto(hpci_firmware_build_result) build = { 0 };

	if (!o->src.source)
		return hpci_usage_error("build", "'build firmware' needs --source SRC: an edk2 git "
					"checkout, an https:// or file:// tarball URL, or "
					"debian:edk2");
	if (o->configure)
		return hpci_usage_error("build", "--configure is for 'build qemu'; firmware takes "
					"-D NAME=VALUE and --pcd");
	if (hpci_firmware_check(&req) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	hpci_interrupt_install();
	if (hpci_firmware_build(&req, &build) < 0)
		return hpci_error_exit(hpci_interrupted() ? HPCI_EXIT_INTERRUPTED
							  : HPCI_EXIT_INFRA);
	printf("%s\n", build.descriptor);
	hpci_info("firmware: %s, key %s (%s)", build.version, build.key,
		  build.cache_hit ? "cache hit" : "built");
	hpci_info("firmware: code %s", build.code);
	hpci_info("firmware: vars %s", build.vars);
	hpci_info("firmware: manifest %s", build.manifest);
	return HPCI_EXIT_OK;
}

static int build_list(const struct build_options *o)
{
	g_autoptr(GPtrArray) entries = NULL;
	bool known = !o->kind;

	for (const char *const *k = hpci_cache_kinds; *k && !known; k++)
		known = strcmp(*k, o->kind) == 0;
	if (!known) {
		g_autofree char *kinds = g_strjoinv(", ", (char **)hpci_cache_kinds);

		return hpci_usage_error("build", "--kind '%s' is not a cache kind; use one of %s",
					o->kind, kinds);
	}
	if (hpci_cache_list(o->kind, &entries) < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	printf("%-9s %-12s %-16s %9s  %s\n", "KIND", "KEY", "LAST USED", "SIZE", "DIRECTORY");
	for (guint i = 0; i < entries->len; i++) {
		const struct hpci_cache_entry *e = entries->pdata[i];
		g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(e->used_s);
		g_autofree char *when = g_date_time_format(t, "%Y-%m-%d %H:%M");
		g_autofree char *size = g_format_size(e->bytes);

		printf("%-9s %.12s %-16s %9s  %s\n", e->kind, e->key, when, size, e->dir);
	}
	return HPCI_EXIT_OK;
}

int cmd_build(int argc, char **argv)
{
	g_auto(build_options) o = { 0 };
	GOptionEntry entries[] = {
		{ "source", 's', 0, G_OPTION_ARG_STRING, &o.src.source,
		  "git checkout, https:// or file:// tarball URL, or debian:PKG[=VERSION]", "SRC" },
		{ "rev", 'r', 0, G_OPTION_ARG_STRING, &o.src.rev,
		  "git revision to build (default: HEAD)", "REV" },
		{ "sha256", 0, 0, G_OPTION_ARG_STRING, &o.src.sha256,
		  "expected sha256 of the tarball", "HEX" },
		{ "patches", 'p', 0, G_OPTION_ARG_FILENAME, &o.src.patches,
		  "patch queue to apply, e.g. qemu-build/patches (default: none)", "DIR" },
		{ "build-type", 0, 0, G_OPTION_ARG_STRING, &o.build_type,
		  "firmware: DEBUG (default), RELEASE or NOOPT", "TYPE" },
		{ "define", 'D', 0, G_OPTION_ARG_STRING_ARRAY, &o.defines,
		  "firmware: edk2 build define (repeatable; default SMM_REQUIRE=TRUE, "
		  "SECURE_BOOT_ENABLE=TRUE)",
		  "NAME=VALUE" },
		{ "pcd", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.pcds,
		  "firmware: PCD setting (repeatable)", "GUID.PCD=VALUE" },
		{ "configure", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.configure,
		  "extra configure arguments (repeatable)", "ARGS" },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &o.kind,
		  "with list: only this kind (images, qemu, firmware, basetools)", "KIND" },
		{ NULL }
	};
	int status;

	if ((status = hpci_parse_options(&argc, &argv, "qemu|firmware|list", BUILD_SUMMARY, entries)))
		return status;
	if (argc == 2 && !strcmp(argv[1], "qemu"))
		return build_qemu(&o);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return build_list(&o);
	if (argc == 2 && !strcmp(argv[1], "firmware"))
		return build_firmware(&o);
	return hpci_usage_error("build", "'build' takes the verb 'qemu', 'firmware' or 'list'");
}
