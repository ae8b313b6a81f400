/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CELL_RUN_H
#define HPCI_CELL_RUN_H

#include "cell.h"
#include "prepare.h"
#include "result.h"
#include "virt.h"

/* What every cell of a run shares. */
struct hpci_run_ctx {
	struct hpci_virt *virt;
	const char *accel;          /* "tcg" or "kvm" */
	const char *run_dir;        /* the report directory */
	const char *run_id;         /* part of every domain name */
	bool keep_disks;            /* keep overlay and NVRAM copy in the cell dir */
	unsigned memory_mib;
};

/* Domain names start with this, so leftovers are recognisable. */
#define HPCI_DOMAIN_PREFIX "hpci-"

/*
 * Runs one attempt (1-based; the first one's files go in cells/<id>/, the
 * next ones' in cells/<id>/attempt-N/) of a plan as a real VM, records what
 * it observes (timings, events, register samples, the firmware's log) and
 * has the judge (judge.h) decide res's outcome, evidence and verdict.
 * Product failures are outcomes, not errors: this returns negative only
 * when interrupted (-EINTR), after tearing everything down.
 */
int hpci_cell_run(const struct hpci_run_ctx *ctx, const struct hpci_plan *plan,
		  unsigned index, unsigned attempt, struct hpci_cell_result *res);

/*
 * A boot job of boot reuse (boot-state.h): boots the plan's configuration
 * cold as domain `name` with its files in dir, waits for the guest's ready
 * line and saves it to dir/HPCI_BOOT_STATE_IMAGE, keeping the disk overlay,
 * NVRAM and logs that belong to it.  Returns 0 with the boot's and the
 * save's times, or a negative errno (-EINTR when interrupted) with the
 * error recorded; the domain is gone either way.
 */
int hpci_cell_boot_save(const struct hpci_run_ctx *ctx, const struct hpci_plan *plan,
			const char *dir, const char *name, gint64 *ret_boot_ms,
			gint64 *ret_save_ms);

/* An unrunnable plan (its build failed) is judged without a VM: res is
 * decided as an infra-error of its first attempt. */
void hpci_cell_judge_unrunnable(const struct hpci_plan *plan, struct hpci_cell_result *res);

#endif
