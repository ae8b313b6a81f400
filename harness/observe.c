/* SPDX-License-Identifier: MIT */
#include "observe.h"
#include "error.h"
#include "firmware-log.h"
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MAX_LINE 4096
#define WAIT_SLICE_MS 100
/* QEMU's debug console writes the firmware's log a byte at a time (half a
 * MiB for a DEBUG boot); the firmware tail lets a change settle this long
 * before reading, so it wakes a few times a second rather than per byte.
 * It bounds how late a fatal line becomes an event, well under 5 s. */
#define FIRMWARE_SETTLE_MS 200

static void event_free(gpointer p)
{
	struct hpci_event *ev = p;

	g_free(ev->text);
	g_free(ev);
}

int hpci_obs_init(struct hpci_obs *obs, const char *log_path)
{
	memset(obs, 0, sizeof(*obs));
	g_mutex_init(&obs->lock);
	g_cond_init(&obs->changed);
	obs->events = g_ptr_array_new_with_free_func(event_free);
	obs->t0_us = g_get_monotonic_time();
	if (log_path) {
		obs->log = fopen(log_path, "we");
		if (!obs->log)
			return hpci_error_errno(errno, "cannot create '%s'", log_path);
	}
	return 0;
}

void hpci_obs_release(struct hpci_obs *obs)
{
	if (obs->log)
		fclose(obs->log);
	if (obs->events)
		g_ptr_array_unref(obs->events);
	g_mutex_clear(&obs->lock);
	g_cond_clear(&obs->changed);
	memset(obs, 0, sizeof(*obs));
}

gint64 hpci_obs_now(struct hpci_obs *obs)
{
	return (g_get_monotonic_time() - obs->t0_us) / 1000;
}

static bool event_fatal(const struct hpci_event *ev)
{
	return ev->kind == HPCI_EV_FIRMWARE ||
	       (ev->kind == HPCI_EV_SERIAL && (ev->line.kind == HPCI_LINE_KERNEL_PANIC ||
					       ev->line.kind == HPCI_LINE_KERNEL_OOPS));
}

static void append(struct hpci_obs *obs, enum hpci_event_kind kind, struct hpci_guest_line line,
		   char *text)
{
	static const char *const tags[] = {
		[HPCI_EV_SERIAL] = "serial", [HPCI_EV_STOPPED] = "stopped",
		[HPCI_EV_NOTE] = "note", [HPCI_EV_FIRMWARE] = "firmware",
	};
	struct hpci_event *ev = g_new0(struct hpci_event, 1);

	ev->t_ms = hpci_obs_now(obs);
	ev->kind = kind;
	ev->line = line;
	ev->text = text;
	g_mutex_lock(&obs->lock);
	g_ptr_array_add(obs->events, ev);
	if (kind == HPCI_EV_STOPPED)
		obs->stopped = true;
	if (!obs->fatal && event_fatal(ev))
		obs->fatal = ev;
	if (obs->log) {
		fprintf(obs->log, "%8" G_GINT64_FORMAT " %-7s %s\n", ev->t_ms, tags[kind], text);
		fflush(obs->log);
	}
	g_cond_broadcast(&obs->changed);
	g_mutex_unlock(&obs->lock);
}

void hpci_obs_serial(struct hpci_obs *obs, const char *line)
{
	append(obs, HPCI_EV_SERIAL, hpci_guest_line_parse(line), g_strdup(line));
}

void hpci_obs_stopped(struct hpci_obs *obs, const char *reason)
{
	struct hpci_guest_line none = { HPCI_LINE_OTHER, -1, -1 };

	append(obs, HPCI_EV_STOPPED, none, g_strdup(reason));
}

void hpci_obs_firmware(struct hpci_obs *obs, const char *line)
{
	struct hpci_guest_line none = { HPCI_LINE_OTHER, -1, -1 };
	char *text = g_strdup(line);

	/* The log is untrusted bytes; events.log and the evidence are text. */
	for (char *c = text; *c; c++) {
		if (!g_ascii_isprint(*c))
			*c = '?';
	}
	append(obs, HPCI_EV_FIRMWARE, none, text);
}

void hpci_obs_note(struct hpci_obs *obs, const char *fmt, ...)
{
	struct hpci_guest_line none = { HPCI_LINE_OTHER, -1, -1 };
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	append(obs, HPCI_EV_NOTE, none, text);
}

guint hpci_obs_count(struct hpci_obs *obs)
{
	guint n;

	g_mutex_lock(&obs->lock);
	n = obs->events->len;
	g_mutex_unlock(&obs->lock);
	return n;
}

bool hpci_obs_match_line(const struct hpci_event *ev, void *kind)
{
	return ev->kind == HPCI_EV_SERIAL && ev->line.kind == (enum hpci_guest_line_kind)GPOINTER_TO_INT(kind);
}

int hpci_obs_wait(struct hpci_obs *obs, guint *cursor, hpci_obs_match match, void *data,
		  gint64 deadline_ms, const struct hpci_event **ret)
{
	int result = -ETIMEDOUT;

	g_mutex_lock(&obs->lock);
	for (;;) {
		gint64 now, slice;

		for (; *cursor < obs->events->len; (*cursor)++) {
			const struct hpci_event *ev = g_ptr_array_index(obs->events, *cursor);

			if (match(ev, data)) {
				(*cursor)++;
				if (ret)
					*ret = ev;
				result = 0;
				goto out;
			}
		}
		if (obs->fatal) {
			result = obs->fatal->kind == HPCI_EV_FIRMWARE ? -EPROTO : -EOWNERDEAD;
			break;
		}
		if (obs->stopped) {
			result = -ESHUTDOWN;
			break;
		}
		if (hpci_interrupted()) {
			result = -EINTR;
			break;
		}
		now = hpci_obs_now(obs);
		if (now >= deadline_ms)
			break;
		/* Bounded slices only so the interrupt flag is seen promptly;
		 * events themselves wake the wait through the condition. */
		slice = MIN(deadline_ms - now, WAIT_SLICE_MS);
		g_cond_wait_until(&obs->changed, &obs->lock,
				  g_get_monotonic_time() + slice * 1000);
	}
out:
	g_mutex_unlock(&obs->lock);
	return result;
}

/* What each kind of tail does with its file's lines. */
struct tail_kind {
	const char *thread_name;
	void (*line)(struct hpci_tail *tail, const char *line);
	size_t max_line;
	/* A line longer than max_line goes on as the next line; else the rest
	 * of it is skipped (the firmware log parser's rule). */
	bool split_long;
	/* Control bytes are dropped; else the line stays as written, for a
	 * predicate that must read it as the parser does. */
	bool text_only;
	unsigned settle_ms;   /* after a change, how long to let more arrive */
};

struct hpci_tail {
	const struct tail_kind *kind;
	struct hpci_obs *obs;
	int file_fd;
	int inotify_fd;
	int stop_fd;      /* eventfd: tells the thread to drain and leave */
	GThread *thread;
	GString *partial;
	GString *held;    /* a userspace fragment a kernel record cut short */
};

static void serial_line(struct hpci_tail *tail, const char *raw)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

	hpci_guest_lines_splice(tail->held, raw, lines);
	for (guint i = 0; i < lines->len; i++)
		hpci_obs_serial(tail->obs, g_ptr_array_index(lines, i));
}

/* A DEBUG firmware logs thousands of lines: only those that end the run
 * are events, so events.log stays readable. */
static void firmware_line(struct hpci_tail *tail, const char *line)
{
	if (hpci_fw_line_fatal(line))
		hpci_obs_firmware(tail->obs, line);
}

static const struct tail_kind tail_kinds[] = {
	[HPCI_TAIL_SERIAL] = {
		.thread_name = "serial-tail", .line = serial_line, .max_line = MAX_LINE,
		.split_long = true,
		/* Firmware and early boot can print control bytes; keep text. */
		.text_only = true,
	},
	[HPCI_TAIL_FIRMWARE] = {
		.thread_name = "firmware-tail", .line = firmware_line,
		.max_line = HPCI_FW_LOG_LINE_MAX, .settle_ms = FIRMWARE_SETTLE_MS,
	},
};

static void feed(struct hpci_tail *tail, const char *buf, ssize_t n)
{
	const struct tail_kind *kind = tail->kind;

	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n' || (kind->split_long && tail->partial->len >= kind->max_line)) {
			if (tail->partial->len && tail->partial->str[tail->partial->len - 1] == '\r')
				g_string_truncate(tail->partial, tail->partial->len - 1);
			kind->line(tail, tail->partial->str);
			g_string_truncate(tail->partial, 0);
			if (c == '\n')
				continue;
		}
		if (tail->partial->len >= kind->max_line)
			continue;
		if (!kind->text_only || (unsigned char)c >= 0x20 || c == '\t' || c == '\r')
			g_string_append_c(tail->partial, c);
	}
}

static void drain(struct hpci_tail *tail)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(tail->file_fd, buf, sizeof(buf))) > 0)
		feed(tail, buf, n);
}

static gpointer tail_thread(gpointer data)
{
	struct hpci_tail *tail = data;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = tail->inotify_fd, .events = POLLIN },
			{ .fd = tail->stop_fd, .events = POLLIN },
		};
		char ev_buf[4096];

		drain(tail);
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			/* A stop during the settling shows in pfd[1] and is
			 * acted on below, after one last drain. */
			if (tail->kind->settle_ms)
				(void)poll(&pfd[1], 1, tail->kind->settle_ms);
			while (read(tail->inotify_fd, ev_buf, sizeof(ev_buf)) > 0)
				;
		}
		if (pfd[1].revents & POLLIN)
			break;
	}
	drain(tail);
	if (tail->partial->len || tail->held->len)
		tail->kind->line(tail, tail->partial->str);
	return NULL;
}

int hpci_tail_start(const char *path, enum hpci_tail_kind kind, struct hpci_obs *obs,
		    struct hpci_tail **ret)
{
	struct hpci_tail *tail = g_new0(struct hpci_tail, 1);
	int ret_code;

	tail->kind = &tail_kinds[kind];
	tail->obs = obs;
	tail->file_fd = tail->inotify_fd = tail->stop_fd = -1;
	tail->partial = g_string_new(NULL);
	tail->held = g_string_new(NULL);
	tail->file_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (tail->file_fd < 0) {
		ret_code = hpci_error_errno(errno, "cannot open '%s'", path);
		goto error;
	}
	tail->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	tail->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (tail->inotify_fd < 0 || tail->stop_fd < 0 ||
	    inotify_add_watch(tail->inotify_fd, path, IN_MODIFY) < 0) {
		ret_code = hpci_error_errno(errno, "cannot watch '%s'", path);
		goto error;
	}
	tail->thread = g_thread_new(tail->kind->thread_name, tail_thread, tail);
	*ret = tail;
	return 0;

error:
	hpci_tail_stop(tail);
	return ret_code;
}

void hpci_tail_stop(struct hpci_tail *tail)
{
	if (!tail)
		return;
	if (tail->thread) {
		guint64 one = 1;

		if (write(tail->stop_fd, &one, sizeof(one)) < 0)
			(void)0; /* an eventfd write cannot fail short of a bug */
		g_thread_join(tail->thread);
	}
	if (tail->file_fd >= 0)
		close(tail->file_fd);
	if (tail->inotify_fd >= 0)
		close(tail->inotify_fd);
	if (tail->stop_fd >= 0)
		close(tail->stop_fd);
	g_string_free(tail->partial, TRUE);
	g_string_free(tail->held, TRUE);
	g_free(tail);
}
