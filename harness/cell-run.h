/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CELL_RUN_H
#define HPCI_CELL_RUN_H

#include "cell.h"
#include "image.h"
#include "result.h"
#include "virt.h"

/* What every cell of a run shares. */
struct hpci_run_ctx {
	struct hpci_virt *virt;
	const char *accel;          /* "tcg" or "kvm" */
	const char *run_dir;        /* the report directory */
	const char *run_id;         /* part of every domain name */
	GHashTable *images;         /* recipe name -> struct hpci_image * */
	bool keep_disks;            /* keep overlay and NVRAM copy in the cell dir */
	unsigned memory_mib;
};

/* Domain names start with this, so leftovers are recognisable. */
#define HPCI_DOMAIN_PREFIX "hpci-"

/*
 * Runs one attempt (1-based; the first one's files go in cells/<id>/, the
 * next ones' in cells/<id>/attempt-N/) of a cell as a real VM and fills res (outcome, verdict, timings,
 * evidence).  Product failures are outcomes, not errors: this returns
 * negative only when interrupted (-EINTR), after tearing everything down.
 */
int hpci_cell_run(const struct hpci_run_ctx *ctx, const struct hpci_cell *cell,
		  unsigned index, unsigned attempt, struct hpci_cell_result *res);

#endif
