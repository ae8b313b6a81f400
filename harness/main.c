/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "download.h"
#include "error.h"

#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Alphabetical, as git.c's commands[]. */
static const struct command commands[] = {
	{ "bisect", cmd_bisect, "name the edk2 or QEMU commit that broke the selected cells" },
	{ "build", cmd_build, "build QEMU and OVMF revisions into the cache (build qemu|firmware|list)" },
	{ "doctor", cmd_doctor, "check this host: libvirt, accelerator with SMM, libguestfs, firmware" },
	{ "gc", cmd_gc, "remove cache entries not used for a while" },
	{ "image", cmd_image, "build guest images (image build [--recipe NAME])" },
	{ "list", cmd_list, "validate a matrix and print its cells with expected outcomes" },
	{ "report", cmd_report, "merge, convert (junit, html) and diff report.json files" },
	{ "run", cmd_run, "run a matrix as real VMs and write a JSON report" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: hotplug-ci <command> [options]\n\n"
		     "CPU hotplug with SMM regression harness for QEMU + OVMF.\n\ncommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'hotplug-ci <command> --help' describes each command.\n%s\n",
		HPCI_EXIT_STATUS_HELP);
}

int hpci_parse_options(int *argc, char ***argv, const char *params, const char *summary,
		       const GOptionEntry *entries)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(params);
	g_autoptr(GError) gerr = NULL;
	g_autofree char *description = g_strdup(HPCI_EXIT_STATUS_HELP);

	g_option_context_set_summary(ctx, summary);
	/* A command whose exit codes are not run's says them in its summary. */
	if (!strstr(summary, "Exit status:"))
		g_option_context_set_description(ctx, description);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &gerr)) {
		const char *cmd = (*argv)[0];

		/* main() and cmd_report() name the program "hotplug-ci CMD". */
		if (g_str_has_prefix(cmd, "hotplug-ci "))
			cmd += strlen("hotplug-ci ");
		return hpci_usage_error(cmd, "%s", gerr->message);
	}
	return 0;
}

int hpci_usage_error(const char *cmd, const char *fmt, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "hotplug-ci: error: %s (see 'hotplug-ci%s%s --help')\n", message,
		cmd ? " " : "", cmd ? cmd : "");
	return HPCI_EXIT_USAGE;
}

int hpci_error_exit(int status)
{
	hpci_error_print();
	return status;
}

int main(int argc, char **argv)
{
	g_autofree char *prog = NULL;

	/* Writes to a child that exited (a QMP probe, a build tool) must fail
	 * with EPIPE, not kill the harness. */
	signal(SIGPIPE, SIG_IGN);
	/* libcurl's global state, once for the process (curl's rule). */
	if (hpci_download_global_init() < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	atexit(hpci_download_global_cleanup);
	if (argc < 2) {
		usage(stderr);
		return HPCI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HPCI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("hotplug-ci %s\n", HPCI_VERSION);
		return HPCI_EXIT_OK;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* The command sees "hotplug-ci <name>" as its program name. */
			prog = g_strdup_printf("hotplug-ci %s", commands[i].name);
			argv[1] = prog;
			g_set_prgname(prog);
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	return hpci_usage_error(NULL, "unknown command '%s'", argv[1]);
}
