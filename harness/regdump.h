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
 * A spin loop is this short: QEMU reads a running vCPU's registers without
 * stopping it, so samples of a CPU spinning in SMM land on different
 * instructions of its loop (seen on the stock-QEMU hang: 298 of 300 samples
 * at the instruction after PAUSE, one at PAUSE, one at the loop head 13
 * bytes before).
 */
#define HPCI_SPIN_LOOP_BYTES 256

/*
 * Whether `cpu` is in SMM in every one of the samples (each an array from
 * hpci_regdump_parse), with one CS base and every instruction pointer within
 * HPCI_SPIN_LOOP_BYTES: a CPU spinning in one place.  The lowest and highest
 * pointers go to *ret_lo and *ret_hi (either may be NULL).  Needs at least two
 * samples.
 */
bool hpci_regdump_smm_spin(GPtrArray *samples, int cpu, guint64 *ret_lo, guint64 *ret_hi);

/* The hang-smm signature: the index of the first CPU for which
 * hpci_regdump_smm_spin() holds, or -1. */
int hpci_regdump_smm_stuck(GPtrArray *samples);

#endif
