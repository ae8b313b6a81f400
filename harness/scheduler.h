/* SPDX-License-Identifier: MIT */
#ifndef HPCI_SCHEDULER_H
#define HPCI_SCHEDULER_H

#include "attempts.h"
#include "boot-state.h"
#include "cell-run.h"

/*
 * Runs cells in parallel: `jobs` worker threads take attempts from one
 * queue, longest expected first, each worker bound to one libvirt
 * connection (worker w to ctxs[w % n_ctxs]).  An attempt that restores a
 * saved boot state (boot-state.h) waits for it: the first worker to reach
 * one whose state is still needed makes it (a boot job) while the others
 * take attempts that do not wait; a state that could not be made leaves
 * its cells to boot cold.  The retry policy adds
 * attempts as earlier ones finish.  The caller's thread is told what happens
 * through events and is the only one that prints or writes the report.
 * An interrupt (lib/interrupt.h) stops the workers from taking new
 * attempts; the running ones tear their domains down and are dropped, and
 * a cell with finished attempts is still reported from them.
 */
struct hpci_scheduler;

enum hpci_sched_event_kind {
	HPCI_SCHED_STARTED,     /* an attempt started */
	HPCI_SCHED_FINISHED,    /* a cell is decided; `result` is the caller's */
	HPCI_SCHED_STATE_STARTED, /* a boot job started making `state` */
	HPCI_SCHED_STATE_DONE,    /* ... and ended: READY or FAILED */
};

struct hpci_sched_event {
	enum hpci_sched_event_kind kind;
	guint slot;                       /* the cell's position in the `cells` given */
	unsigned attempt;                 /* STARTED */
	struct hpci_cell_result *result;  /* FINISHED */
	const struct hpci_boot_state *state;  /* STATE_* */
};

struct hpci_sched_cell {
	const struct hpci_plan *plan;
	unsigned index;                   /* 1-based number in the run, for domain names */
};

/* cells: struct hpci_sched_cell, copied. */
int hpci_scheduler_start(const struct hpci_run_ctx *ctxs, guint n_ctxs, unsigned jobs,
			 const struct hpci_retry_policy *policy, const GArray *cells,
			 struct hpci_scheduler **ret);

/* Waits up to timeout_ms for the next event.  Returns 1 with *ev filled, 0 on
 * timeout, -1 once every worker has stopped and every event was taken. */
int hpci_scheduler_next(struct hpci_scheduler *s, unsigned timeout_ms, struct hpci_sched_event *ev);

/* Attempts running now. */
unsigned hpci_scheduler_running(struct hpci_scheduler *s);

/* Joins the workers (they stop at once after an interrupt) and frees. */
void hpci_scheduler_free(struct hpci_scheduler *s);
typedef struct hpci_scheduler hpci_scheduler;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_scheduler, hpci_scheduler_free)

/* A rough cost of one attempt in seconds, for ordering (longest first). */
unsigned hpci_cell_cost_estimate(const struct hpci_cell *cell);

#endif
