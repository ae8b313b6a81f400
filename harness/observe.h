/* SPDX-License-Identifier: MIT */
#ifndef HPCI_OBSERVE_H
#define HPCI_OBSERVE_H

#include "guest-line.h"

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * A cell's observation log: append-only, timestamped events from every
 * source (serial lines, libvirt lifecycle, the harness's own actions).
 * Producers are other threads; the cell runner waits on it.  It is also
 * written to <cell>/events.log so a run can be re-read later.
 */
enum hpci_event_kind {
	HPCI_EV_SERIAL,    /* a guest serial line; `line` tells what it means */
	HPCI_EV_STOPPED,   /* the domain stopped; text is the reason */
	HPCI_EV_NOTE,      /* something the harness did or saw */
	HPCI_EV_FIRMWARE,  /* a fatal line of the firmware's debug log (hpci_fw_line_fatal()) */
};

struct hpci_event {
	gint64 t_ms;                  /* since the observation log started */
	enum hpci_event_kind kind;
	struct hpci_guest_line line;  /* HPCI_EV_SERIAL only */
	char *text;
};

struct hpci_obs {
	GMutex lock;
	GCond changed;
	GPtrArray *events;   /* struct hpci_event *, never reordered or freed early */
	gint64 t0_us;
	FILE *log;
	bool stopped;
	/* The first event after which the guest cannot go on: a fatal firmware
	 * line, or a kernel panic or oops on the serial console; or NULL. */
	const struct hpci_event *fatal;
};

int hpci_obs_init(struct hpci_obs *obs, const char *log_path);
void hpci_obs_release(struct hpci_obs *obs);

gint64 hpci_obs_now(struct hpci_obs *obs);
void hpci_obs_serial(struct hpci_obs *obs, const char *line);
void hpci_obs_stopped(struct hpci_obs *obs, const char *reason);
/* A fatal line of the firmware's log; non-printable bytes become '?'. */
void hpci_obs_firmware(struct hpci_obs *obs, const char *line);
void hpci_obs_note(struct hpci_obs *obs, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

typedef bool (*hpci_obs_match)(const struct hpci_event *ev, void *data);

/*
 * Waits until an event at index >= *cursor satisfies match, then sets
 * *cursor just past it and returns it through *ret.  Returns 0, -ETIMEDOUT at
 * the deadline (ms on the log's clock), -EPROTO when the firmware logged a
 * fatal line, -EOWNERDEAD when the guest kernel panicked or oopsed,
 * -ESHUTDOWN when the domain stopped, -EINTR when the run is interrupted.  A
 * fatal line or a stop ends every wait at once, whether it came before or
 * after *cursor.  The first fatal line decides the code, and it wins over a
 * stop it usually causes.  No error is recorded: the caller knows what it
 * was waiting for.
 */
int hpci_obs_wait(struct hpci_obs *obs, guint *cursor, hpci_obs_match match, void *data,
		  gint64 deadline_ms, const struct hpci_event **ret);

/* Matches a serial line of the kind given as data (GINT_TO_POINTER). */
bool hpci_obs_match_line(const struct hpci_event *ev, void *kind);

/* Number of events so far (a cursor for "from now on"). */
guint hpci_obs_count(struct hpci_obs *obs);

/* What a tail follows, and what it makes of the lines. */
enum hpci_tail_kind {
	HPCI_TAIL_SERIAL,    /* the serial console: every line, as HPCI_EV_SERIAL */
	HPCI_TAIL_FIRMWARE,  /* the firmware's debug log: only its fatal lines, as
			      * HPCI_EV_FIRMWARE, within FIRMWARE_SETTLE_MS (observe.c)
			      * of being written */
};

/* Follows a growing file as it is written (inotify) and feeds its lines. */
struct hpci_tail;
int hpci_tail_start(const char *path, enum hpci_tail_kind kind, struct hpci_obs *obs,
		    struct hpci_tail **ret);
/* Reads what is left, stops the thread and frees; NULL-safe. */
void hpci_tail_stop(struct hpci_tail *tail);

#endif
