/* SPDX-License-Identifier: MIT */
#ifndef HPCI_PROGRESS_H
#define HPCI_PROGRESS_H

#include "result.h"

/*
 * What a run prints while it goes.  One line per finished cell on stdout;
 * on a terminal, also a live status line on stderr (cells done, running,
 * total, failures so far, elapsed, ETA) redrawn under them.  Quiet prints
 * only the cells that did not go as expected; verbose adds a line when an
 * attempt starts and the evidence of every cell.
 */
enum hpci_verbosity {
	HPCI_QUIET,
	HPCI_NORMAL,
	HPCI_VERBOSE,
};

struct hpci_progress;

struct hpci_progress *hpci_progress_new(unsigned total, enum hpci_verbosity verbosity,
					bool live);
void hpci_progress_free(struct hpci_progress *p);
typedef struct hpci_progress hpci_progress;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_progress, hpci_progress_free)

void hpci_progress_started(struct hpci_progress *p, const struct hpci_cell *cell,
			   unsigned attempt);
/* A cell is decided (also one decided before booting, e.g. its build failed). */
void hpci_progress_cell(struct hpci_progress *p, const struct hpci_cell_result *res);
/* Redraws the live line (no-op when not live); call about once a second. */
void hpci_progress_tick(struct hpci_progress *p, unsigned running);

/*
 * What `run` says last: "N of M cells as expected" and a count of every
 * other verdict, and the report's path.  Breaches come first: when cells
 * breached unexpectedly (hpci_cell_breached()), a line "BREACH: N cell(s)
 * ran guest code in SMM or exposed SMRAM: ID, ..." and "N breach, " ahead
 * of the counts (their cells are also counted in fail).
 */
char *hpci_progress_summary(const struct hpci_run_report *report, const char *report_path);

/* The live line's text, for tests: "[12/48] 2 running, 1 failed, 3m05s, ETA 9m40s". */
char *hpci_progress_status(unsigned done, unsigned running, unsigned total, unsigned failed,
			   gint64 elapsed_ms);

#endif
