/* SPDX-License-Identifier: MIT */
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_LIMIT (16u << 20)
#define KILL_GRACE_MS 2000
#define INTERRUPT_POLL_MS 500

extern char **environ;

void hpci_cmd_init(struct hpci_cmd *cmd, const char *program)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->argv = g_ptr_array_new_with_free_func(g_free);
	cmd->env = g_ptr_array_new_with_free_func(g_free);
	hpci_cmd_add(cmd, program);
}

void hpci_cmd_add(struct hpci_cmd *cmd, const char *arg)
{
	g_ptr_array_add(cmd->argv, g_strdup(arg));
}

void hpci_cmd_addf(struct hpci_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(cmd->argv, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

void hpci_cmd_addl(struct hpci_cmd *cmd, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	for (const char *arg = first; arg; arg = va_arg(ap, const char *))
		hpci_cmd_add(cmd, arg);
	va_end(ap);
}

void hpci_cmd_setenv(struct hpci_cmd *cmd, const char *name, const char *value)
{
	g_ptr_array_add(cmd->env, g_strdup_printf("%s=%s", name, value));
}

void hpci_cmd_release(struct hpci_cmd *cmd)
{
	if (cmd->argv)
		g_ptr_array_unref(cmd->argv);
	if (cmd->env)
		g_ptr_array_unref(cmd->env);
	g_free(cmd->cwd);
	g_free(cmd->log_path);
	g_free(cmd->stdin_data);
	memset(cmd, 0, sizeof(*cmd));
}

char *hpci_cmd_to_string(const struct hpci_cmd *cmd)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < cmd->argv->len; i++) {
		const char *arg = g_ptr_array_index(cmd->argv, i);

		if (!arg)
			break;
		if (i)
			g_string_append_c(s, ' ');
		if (strpbrk(arg, " \t'\"$") || !*arg) {
			g_autofree char *quoted = g_shell_quote(arg);
			g_string_append(s, quoted);
		} else {
			g_string_append(s, arg);
		}
	}
	return g_string_free(s, FALSE);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* Builds the child's environment: the parent's, LC_ALL=C, then cmd->env. */
static char **child_environment(const struct hpci_cmd *cmd)
{
	char **envp = g_get_environ();

	envp = g_environ_setenv(envp, "LC_ALL", "C", TRUE);
	for (guint i = 0; i < cmd->env->len; i++) {
		const char *kv = g_ptr_array_index(cmd->env, i);
		const char *eq = strchr(kv, '=');
		g_autofree char *name = g_strndup(kv, eq - kv);

		envp = g_environ_setenv(envp, name, eq + 1, TRUE);
	}
	return envp;
}

static void child_exec(const struct hpci_cmd *cmd, char **envp, int in_fd,
		       int out_fd, int err_fd)
{
	setpgid(0, 0);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (cmd->cwd && chdir(cmd->cwd) < 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execvpe(g_ptr_array_index(cmd->argv, 0),
		(char **)cmd->argv->pdata, envp);
	_exit(errno == ENOENT ? 127 : 126);
}

struct sink {
	int fd;          /* read end of the pipe, -1 once closed */
	GString *buf;    /* capture, may be NULL */
	GString *tail;   /* last bytes, for error messages */
	int log_fd;
	const struct hpci_cmd *cmd;  /* for on_stdout_line, on the stdout sink only */
	GString *line;               /* the stdout line being received */
};

#define LINE_LIMIT (64 * 1024)

/* Hands each complete stdout line to the command's callback; a line longer
 * than LINE_LIMIT is handed over in pieces. */
static void sink_split_lines(struct sink *s, const char *data, ssize_t n)
{
	const char *end = data + n;

	while (data < end) {
		const char *nl = memchr(data, '\n', end - data);
		const char *stop = nl ? nl : end;

		g_string_append_len(s->line, data, stop - data);
		if (nl || s->line->len >= LINE_LIMIT) {
			s->cmd->on_stdout_line(s->line->str, s->cmd->opaque);
			g_string_truncate(s->line, 0);
		}
		data = nl ? nl + 1 : end;
	}
}

static void sink_take(struct sink *s, const char *data, ssize_t n)
{
	if (s->buf && s->buf->len < CAPTURE_LIMIT)
		g_string_append_len(s->buf, data, MIN((gsize)n, CAPTURE_LIMIT - s->buf->len));
	g_string_append_len(s->tail, data, n);
	if (s->tail->len > 4096)
		g_string_erase(s->tail, 0, s->tail->len - 2048);
	if (s->log_fd >= 0 && write(s->log_fd, data, n) < 0)
		(void)0; /* a log write failure must not fail the build it records */
	if (s->cmd && s->cmd->on_stdout_line)
		sink_split_lines(s, data, n);
}

static char *last_lines(const GString *tail, int lines)
{
	const char *end = tail->str + tail->len;
	const char *p = end;

	while (p > tail->str && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	end = p;
	while (p > tail->str && lines > 0) {
		p--;
		if (*p == '\n')
			lines--;
	}
	if (*p == '\n')
		p++;
	return g_strndup(p, end - p);
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Ends the child's process group as a timeout does: SIGTERM, a grace period
 * to exit, then SIGKILL.  Reaps the child. */
static void stop(pid_t pid, int grace_ms, int *status)
{
	kill(-pid, SIGTERM);
	for (int waited = 0; waited < (grace_ms > 0 ? grace_ms : KILL_GRACE_MS); waited += 50) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return;
		g_usleep(50 * 1000);
	}
	kill(-pid, SIGKILL);
	reap(pid, status);
}

/* Both ends of a pipe, each closed unless negative. */
static void close_pipe(int (*p)[2])
{
	hpci_close_fd(&(*p)[0]);
	hpci_close_fd(&(*p)[1]);
}
#define autopipe __attribute__((cleanup(close_pipe)))

int hpci_cmd_run(struct hpci_cmd *cmd, GString *out, GString *err)
{
	g_auto(GStrv) envp = NULL;
	g_autofree char *cmdline = hpci_cmd_to_string(cmd);
	g_autoptr(GString) out_tail = g_string_new(NULL);
	g_autoptr(GString) err_tail = g_string_new(NULL);
	g_autoptr(GString) out_line = g_string_new(NULL);
	struct sink sinks[2];
	autopipe int out_pipe[2] = { -1, -1 };
	autopipe int err_pipe[2] = { -1, -1 };
	autopipe int in_pipe[2] = { -1, -1 };
	hpci_autofd int log_fd = -1;
	int status = 0, ret = 0;
	bool timed_out = false, interrupted = false;
	gint64 deadline = cmd->timeout_ms ? now_ms() + cmd->timeout_ms : 0;
	pid_t pid;

	if (cmd->argv->len == 0 || g_ptr_array_index(cmd->argv, cmd->argv->len - 1) != NULL)
		g_ptr_array_add(cmd->argv, NULL);
	envp = child_environment(cmd);
	cmd->exit_status = -1;

	if (cmd->log_path) {
		log_fd = open(cmd->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0)
			return hpci_error_errno(errno, "cannot open log '%s'", cmd->log_path);
	}
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
	    pipe2(in_pipe, O_CLOEXEC) < 0)
		return hpci_error_errno(errno, "cannot create pipes for '%s'", cmdline);

	pid = fork();
	if (pid < 0)
		return hpci_error_errno(errno, "cannot start '%s'", cmdline);
	if (pid == 0)
		child_exec(cmd, envp, in_pipe[0], out_pipe[1], err_pipe[1]);

	close(out_pipe[1]);
	close(err_pipe[1]);
	close(in_pipe[0]);
	out_pipe[1] = err_pipe[1] = in_pipe[0] = -1;
	if (cmd->stdin_data) {
		/* Inputs are small (QMP scripts); a full pipe would mean a bug.
		 * main() ignores SIGPIPE, so a child that exits early gives EPIPE. */
		if (write(in_pipe[1], cmd->stdin_data, strlen(cmd->stdin_data)) < 0)
			(void)0; /* the child may exit without reading; its status says why */
	}
	close(in_pipe[1]);
	in_pipe[1] = -1;

	sinks[0] = (struct sink){ out_pipe[0], out, out_tail, log_fd, cmd, out_line };
	sinks[1] = (struct sink){ err_pipe[0], err, err_tail, log_fd, NULL, NULL };
	while (sinks[0].fd >= 0 || sinks[1].fd >= 0) {
		struct pollfd pfd[2];
		int wait_ms = -1;
		char chunk[8192];

		for (int i = 0; i < 2; i++)
			pfd[i] = (struct pollfd){ .fd = sinks[i].fd, .events = POLLIN };
		if (deadline) {
			wait_ms = (int)MAX(0, deadline - now_ms());
			if (wait_ms == 0) {
				timed_out = true;
				break;
			}
		}
		/* SIGINT reaches only the harness (the child has its own process
		 * group): stop the child the way a timeout does.  The signal may
		 * land outside poll(), hence the bounded wait. */
		if (hpci_interrupted()) {
			interrupted = true;
			break;
		}
		if (wait_ms < 0 || wait_ms > INTERRUPT_POLL_MS)
			wait_ms = INTERRUPT_POLL_MS;
		if (poll(pfd, 2, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (sinks[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(sinks[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				sink_take(&sinks[i], chunk, n);
			} else if (n == 0 || errno != EINTR) {
				if (sinks[i].line && sinks[i].line->len)
					cmd->on_stdout_line(sinks[i].line->str, cmd->opaque);
				close(sinks[i].fd);
				sinks[i].fd = -1;
			}
		}
	}
	out_pipe[0] = sinks[0].fd;
	err_pipe[0] = sinks[1].fd;

	if (timed_out || interrupted)
		stop(pid, cmd->stop_grace_ms, &status);
	else
		reap(pid, &status);
	cmd->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (interrupted) {
		ret = hpci_error(EINTR, "'%s' was stopped: interrupted", cmdline);
	} else if (timed_out) {
		ret = hpci_error(ETIMEDOUT, "'%s' did not finish within %d s and was killed",
				 cmdline, cmd->timeout_ms / 1000);
	} else if (cmd->exit_status == 127) {
		ret = hpci_error(ENOENT, "cannot run '%s': program not found", cmdline);
	} else if (cmd->exit_status != 0) {
		GString *tail = err_tail->len ? err_tail : out_tail;
		g_autofree char *lines = last_lines(tail, 6);

		ret = hpci_error(EIO, "'%s' failed with status %d%s%s%s%s%s", cmdline,
				 cmd->exit_status, *lines ? ":\n" : "", lines,
				 cmd->log_path ? "\n(full output in '" : "",
				 cmd->log_path ? cmd->log_path : "",
				 cmd->log_path ? "')" : "");
	}
	return ret;
}

int hpci_cmd_version(const char *program, int timeout_ms, char **ret_first_line)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	hpci_cmd_init(&cmd, program);
	hpci_cmd_add(&cmd, "--version");
	cmd.timeout_ms = timeout_ms;
	if ((rc = hpci_cmd_run(&cmd, out, NULL)) < 0)
		return rc;
	*ret_first_line = g_strndup(out->str, strcspn(out->str, "\n"));
	return 0;
}
