/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CMD_H
#define HPCI_CMD_H

#include <glib.h>
#include <stdbool.h>

/*
 * Child processes, as git's run-command: build the argv, run, read the result.
 * The child gets LC_ALL=C on top of the parent's environment, stdin from
 * /dev/null, no inherited descriptors beyond 0-2, and a hard timeout that ends
 * in SIGKILL for its whole process group.  No system() or popen() anywhere.
 */
struct hpci_cmd {
	GPtrArray *argv;       /* owned strings, NULL-terminated on run */
	GPtrArray *env;        /* owned "KEY=VALUE" strings added to the environment */
	char *cwd;             /* NULL: the caller's */
	int timeout_ms;        /* 0: no limit */
	/* How long a stopped child (timeout, interrupt) gets between SIGTERM
	 * and SIGKILL; 0: 2 s.  A child that cleans up after itself (a `run`
	 * destroying its domains) needs longer. */
	int stop_grace_ms;
	char *log_path;        /* when set, stdout and stderr are appended here */
	char *stdin_data;      /* when set, written to the child's stdin */
	int exit_status;       /* after run: exit code, or 128+signal */
	/* When set, sees each line of stdout, without its newline, as it
	 * arrives (progress reports). */
	void (*on_stdout_line)(const char *line, void *opaque);
	void *opaque;
};

void hpci_cmd_init(struct hpci_cmd *cmd, const char *program);
void hpci_cmd_add(struct hpci_cmd *cmd, const char *arg);
void hpci_cmd_addf(struct hpci_cmd *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Adds each argument up to the terminating NULL. */
void hpci_cmd_addl(struct hpci_cmd *cmd, const char *first, ...) G_GNUC_NULL_TERMINATED;
void hpci_cmd_setenv(struct hpci_cmd *cmd, const char *name, const char *value);
void hpci_cmd_release(struct hpci_cmd *cmd);
typedef struct hpci_cmd hpci_cmd;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_cmd, hpci_cmd_release)

/* Runs `program --version` and returns the first line it printed. */
int hpci_cmd_version(const char *program, int timeout_ms, char **ret_first_line);

/* The command line as one string, for messages and logs. */
char *hpci_cmd_to_string(const struct hpci_cmd *cmd);

/*
 * Runs the command to completion.  stdout/stderr, when non-NULL, receive what
 * the child printed (captured output is capped at 16 MiB each).  Returns 0
 * when the child exited 0; otherwise records an error naming the command, its
 * status and the tail of its stderr (or of the log) and returns -EIO, or
 * -ETIMEDOUT when the timeout ended it, -EINTR when an interrupt (lib/interrupt.h)
 * stopped it, or -ENOENT when the program is missing.
 * exit_status is set in every case where the child ran.
 */
int hpci_cmd_run(struct hpci_cmd *cmd, GString *out, GString *err);

#endif
