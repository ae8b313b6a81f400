/* SPDX-License-Identifier: MIT */
#include "git.h"
#include "cmd.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>

#define GIT_TIMEOUT_MS (10 * 60 * 1000)

static void git_cmd(struct hpci_cmd *cmd, const char *repo, const char *first, va_list ap)
{
	hpci_cmd_init(cmd, "git");
	hpci_cmd_addl(cmd, "-C", repo, NULL);
	for (const char *arg = first; arg; arg = va_arg(ap, const char *))
		hpci_cmd_add(cmd, arg);
	cmd->timeout_ms = GIT_TIMEOUT_MS;
}

int hpci_git(const char *repo, GString *out, const char *log, const char *first, ...)
{
	g_auto(hpci_cmd) cmd = { 0 };
	va_list ap;

	va_start(ap, first);
	git_cmd(&cmd, repo, first, ap);
	va_end(ap);
	cmd.log_path = g_strdup(log);
	return hpci_cmd_run(&cmd, out, NULL);
}

int hpci_git_status(const char *repo, GString *out, GString *err, const char *first, ...)
{
	g_auto(hpci_cmd) cmd = { 0 };
	va_list ap;
	int rc;

	va_start(ap, first);
	git_cmd(&cmd, repo, first, ap);
	va_end(ap);
	rc = hpci_cmd_run(&cmd, out, err);
	if (rc == -EIO && cmd.exit_status > 0 && cmd.exit_status < 128) {
		hpci_error_clear();
		return cmd.exit_status;
	}
	return rc;
}
