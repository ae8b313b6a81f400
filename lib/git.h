/* SPDX-License-Identifier: MIT */
#ifndef HPCI_GIT_H
#define HPCI_GIT_H

#include <glib.h>

/*
 * `git -C REPO ARGS...` through lib/cmd.h, for the sources (lib/source.c) and
 * for bisect (bisect/git.c).  The argument list ends with NULL.
 */

/* Runs git; 0 when it exited 0, else the error lib/cmd.h records.  stdout
 * into `out` and both streams appended to `log`, each when non-NULL. */
int hpci_git(const char *repo, GString *out, const char *log, const char *first, ...)
	G_GNUC_NULL_TERMINATED;

/* Runs git and returns its exit status (>= 0) without recording an error for
 * a non-zero one, for the commands whose status is an answer (`merge-base
 * --is-ancestor`, `bisect next`); negative when git could not run or ran out
 * of time.  stdout and stderr into out and err, each when non-NULL. */
int hpci_git_status(const char *repo, GString *out, GString *err, const char *first, ...)
	G_GNUC_NULL_TERMINATED;

#endif
