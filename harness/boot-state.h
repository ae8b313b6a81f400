/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BOOT_STATE_H
#define HPCI_BOOT_STATE_H

#include "cell-run.h"
#include "prepare.h"

/*
 * Saved boot states: boot each configuration once, restore it per cell.
 *
 * Cells that share everything up to their first step (emulator, firmware,
 * image, SMI settings, machine type, topology, memory, accelerator: what
 * the domain XML says, with the per-cell names and paths blanked) share one
 * boot.  A boot job cold-boots the configuration to the guest's ready line
 * and saves it through libvirt into the cache (kind "states", keyed by all
 * of the above): the RAM and device image, the disk overlay and NVRAM that
 * belong to it, and the boot's serial and firmware logs.  Each cell then
 * restores it into its own domain with its own NVRAM and disk overlay,
 * its logs starting with the boot's part (cell-run.c).
 *
 * One cell per configuration still boots cold, as the control; so do the
 * configurations of one cell, and every cell under --cold.  A restore needs
 * a QEMU that migrates the lock of the SMRAM at the default SMBASE
 * (qemu-build/patches/0010, docs/facts.md §12): on any other, a restored
 * guest would find that window open, so SMM configurations on such a QEMU
 * always boot cold.
 */
enum hpci_boot_state_status {
	HPCI_BOOT_STATE_NEEDED,    /* nobody is making it yet */
	HPCI_BOOT_STATE_MAKING,    /* a boot job is making it */
	HPCI_BOOT_STATE_READY,     /* dir holds it */
	HPCI_BOOT_STATE_FAILED,    /* error says why; its cells boot cold */
};

struct hpci_boot_state {
	char *key;                       /* sha256 hex */
	const struct hpci_plan *model;   /* a plan of the configuration, to boot it */
	unsigned restored_cells;         /* cells that restore it */
	/* Changed only under the scheduler's lock; immutable once READY or
	 * FAILED. */
	enum hpci_boot_state_status status;
	char *dir;                       /* the cache entry, once READY */
	char *error;                     /* once FAILED */
	bool made;                       /* made by this run, not found in the cache */
	gint64 boot_ms;                  /* its boot's domain start to ready line, when made */
	gint64 save_ms;                  /* and the save */
};

void hpci_boot_state_free(struct hpci_boot_state *st);

/* What the key depends on besides the plan. */
struct hpci_boot_key_inputs {
	const char *accel;
	unsigned memory_mib;
	const char *libvirt;     /* hpci_virt_describe() of the connection */
	/* Restore SMM guests also on an emulator that loses the SMRAM lock
	 * (run --restore-any-qemu): their window is then open, a breach. */
	bool any_emulator;
};

/* The configuration's key (sha256 hex) in *ret; fails when a file it rests
 * on cannot be read. */
int hpci_boot_key(const struct hpci_plan *plan, const struct hpci_boot_key_inputs *in,
		  char **ret);

/* Whether a plan's guest may be restored at all: it can run, and its
 * emulator keeps the SMRAM lock across a restore (or it has no SMM, or
 * any_emulator says to restore anyway). */
bool hpci_boot_restorable(const struct hpci_plan *plan, bool any_emulator);

/*
 * Groups the plans by configuration: in each group of two or more
 * restorable plans, the first (in cell order) stays cold as the control
 * (plan->boot_control) and the others get the group's state
 * (plan->boot_state).  A state already in the cache is READY at once.
 * Returns the states (struct hpci_boot_state *, owned) in *ret, or a
 * negative errno.
 */
int hpci_boot_states_assign(GPtrArray *plans, const struct hpci_boot_key_inputs *in,
			    GPtrArray **ret);

/*
 * Makes st in the cache: boots st->model on ctx, saves it, commits the
 * entry.  The entry is written in the cache transaction's work directory
 * and renamed into place only once complete, so an interrupt or a failure
 * leaves nothing half written.  Another process making the same key is
 * waited for, and its entry used.  Returns 0 (st->dir set) or a negative
 * errno with the error recorded (-EINTR when interrupted).
 */
int hpci_boot_state_make(const struct hpci_run_ctx *ctx, unsigned index,
			 struct hpci_boot_state *st);

/* The files of an entry. */
#define HPCI_BOOT_STATE_IMAGE "saved.img"
#define HPCI_BOOT_STATE_DISK "disk.qcow2"

#endif
