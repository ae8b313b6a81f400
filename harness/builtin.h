/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BUILTIN_H
#define HPCI_BUILTIN_H

/*
 * One file per subcommand (harness/cmd-<name>.c), as git's builtin/: each
 * parses its own options and returns the process exit status.  Only main()
 * exits.
 */
enum hpci_exit {
	HPCI_EXIT_OK = 0,           /* every verdict holds / the command did its job */
	HPCI_EXIT_FAILURES = 1,     /* product failures: some verdict does not hold */
	HPCI_EXIT_USAGE = 2,        /* bad command line or bad input file */
	HPCI_EXIT_INFRA = 3,        /* only harness/host errors (infra-error, setup) */
	HPCI_EXIT_AMBIGUOUS = 4,    /* bisect: only untestable commits left, or too flaky */
	HPCI_EXIT_NO_RANGE = 5,     /* bisect: the endpoints do not differ */
	/* report fetch-gitlab: no earlier artifact (the first night); bisect's
	 * number, since both mean "nothing to compare with" */
	HPCI_EXIT_NO_EARLIER = HPCI_EXIT_NO_RANGE,
	HPCI_EXIT_INTERRUPTED = 130,
};

#define HPCI_EXIT_STATUS_HELP \
	"Exit status: 0 all verdicts hold, 1 some verdict fails or is flaky (product\n" \
	"failure), 2 usage or input error, 3 only infrastructure errors, 130 interrupted."

#define HPCI_DEFAULT_URI "qemu:///system"

int cmd_bisect(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Shared by the commands: parses argv with the entries, prints one specific
 * error on a bad option.  Returns 0, or HPCI_EXIT_USAGE. */
struct _GOptionEntry;
int hpci_parse_options(int *argc, char ***argv, const char *params, const char *summary,
		       const struct _GOptionEntry *entries);

/*
 * The one way a command line is refused, as git's usage_with_options():
 * prints "hotplug-ci: error: MESSAGE (see 'hotplug-ci CMD --help')" and
 * returns HPCI_EXIT_USAGE, so a command writes
 *	return hpci_usage_error("build", "--kind '%s' is not a cache kind", kind);
 * `cmd` is what follows "hotplug-ci" ("build", "report diff"), NULL for the
 * top level.  Errors in input files go through lib/error.h instead.
 */
int hpci_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the error a failed step recorded (lib/error.h) and returns `status`,
 * so the step's failure is one statement:
 *	if (hpci_cache_list(NULL, &cached) < 0)
 *		return hpci_error_exit(HPCI_EXIT_INFRA); */
int hpci_error_exit(int status);

#endif
