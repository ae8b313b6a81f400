/* SPDX-License-Identifier: MIT */
#ifndef HPCI_PREPARE_H
#define HPCI_PREPARE_H

#include "cell.h"
#include "image.h"
#include "result.h"
#include "virt.h"

/*
 * The prepare stage: between a loaded matrix (immutable cells) and the
 * runner.  It builds what the cells' recipes name (QEMU, OVMF, guest
 * images: once per distinct recipe, cached), checks that every connection
 * can start every emulator, and turns each cell into a plan: the cell plus
 * everything resolved for this run on this host.  The runner executes
 * plans and never looks anything up; bisect and boot reuse make plans too.
 */

struct hpci_boot_state;

/* What one cell runs on.  The cell and the image are borrowed. */
struct hpci_plan {
	const struct hpci_cell *cell;
	char *emulator;            /* qemu-system-x86_64 */
	char *firmware_code;       /* pflash CODE image */
	char *firmware_vars;       /* VARS template, copied per attempt */
	const struct hpci_image *image;
	struct hpci_timeouts timeouts;   /* the cell's, scaled once for this host */
	/* Why the cell cannot run (its build failed), else NULL; with what the
	 * harness was doing, for the judge's evidence. */
	char *unrunnable;
	char *unrunnable_context;
	/* The emulator migrates the lock of the SMRAM at the default SMBASE
	 * (our patch 0010): a restored guest is as closed as a cold one. */
	bool emulator_keeps_smram_lock;
	/* Boot reuse (boot-state.h): the saved state the cell restores
	 * (borrowed from hpci_prepared.states), or NULL to boot cold; and
	 * whether it is its configuration's cold control. */
	struct hpci_boot_state *boot_state;
	bool boot_control;
};

void hpci_plan_free(struct hpci_plan *plan);

/* Records in res what the cell runs on: the plan's emulator and firmware. */
void hpci_plan_record(const struct hpci_plan *plan, struct hpci_cell_result *res);
typedef struct hpci_plan hpci_plan;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_plan, hpci_plan_free)

/* What the whole run shares; the prepare stage fills it. */
struct hpci_prepared {
	GPtrArray *plans;          /* struct hpci_plan *, one per cell, in cell order */
	GHashTable *images;        /* recipe name -> struct hpci_image * */
	GPtrArray *states;         /* struct hpci_boot_state *, NULL when every cell boots cold */
};

void hpci_prepared_free(struct hpci_prepared *p);
typedef struct hpci_prepared hpci_prepared;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_prepared, hpci_prepared_free)

struct hpci_prepare_host {
	const char *accel;         /* "tcg" or "kvm" */
	unsigned jobs;             /* cells at once */
	unsigned cores;            /* host cores */
};

/*
 * The time limits a cell gets on this host: the matrix writes them for one
 * TCG guest per core.  KVM runs the guest several times faster (a quarter,
 * never below 5 s or the given value); more jobs than cores give each guest
 * a share of a core (times jobs/cores).
 */
struct hpci_timeouts hpci_plan_timeouts(const struct hpci_timeouts *matrix,
					const struct hpci_prepare_host *host);

/*
 * Builds every recipe of `cells` (struct hpci_cell *) and makes their plans;
 * what was built or given goes into `identities` (struct hpci_identity *,
 * the report's).
 * A failed QEMU or OVMF build makes only its cells unrunnable (the message
 * names the build log) and is printed; the others still run.  Returns 0, or
 * a negative errno for what stops the whole run (no image, an emulator a
 * connection cannot start, an interrupt).
 */
int hpci_prepare(GPtrArray *cells, GPtrArray *virts, const struct hpci_prepare_host *host,
		 GPtrArray *identities, struct hpci_prepared **ret);

/* Every file a given (not built) cell needs must exist before any VM starts. */
int hpci_prepare_preflight(const char *matrix_path, GPtrArray *cells);

#endif
