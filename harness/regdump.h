/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REGDUMP_H
#define HPCI_REGDUMP_H

#include <glib.h>
#include <stdbool.h>

/* One CPU's state as QEMU's HMP "info registers -a" prints it. */
struct hpci_cpu_regs {
	int index;          /* CPU#n */
	guint64 ip;         /* RIP, or EIP outside long mode */
	guint64 cs_base;
	bool smm;           /* SMM=1 */
	bool halted;        /* HLT=1 */
};

/* Parses a dump into an array of struct hpci_cpu_regs.  Returns 0, or
 * -EINVAL with an error recorded when no CPU block is recognised. */
int hpci_regdump_parse(const char *text, GArray **ret_cpus);

/*
 * The hang-smm signature over consecutive samples (each an array from
 * hpci_regdump_parse): a CPU that is in SMM in every sample with the same
 * instruction pointer each time.  Returns that CPU's index, or -1.  Needs at
 * least two samples.
 */
int hpci_regdump_smm_stuck(GPtrArray *samples);

#endif
