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
	bool real_mode;     /* CR0.PE=0; false when the dump has no CR0 */
};

/* Parses a dump into an array of struct hpci_cpu_regs.  Returns 0, or
 * -EINVAL with an error recorded when no CPU block is recognised. */
int hpci_regdump_parse(const char *text, GArray **ret_cpus);

/* CPU#index of one parsed sample, or NULL. */
const struct hpci_cpu_regs *hpci_regdump_find_cpu(GArray *cpus, int index);

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

/*
 * Whether `cpu` is parked outside SMM in every one of the samples: halted,
 * in real mode, at one CS base and instruction pointer.  A running OS never
 * leaves a CPU it started in real mode, so this is a CPU the OS has not
 * started: one waiting for SIPI (CS base 0xffff0000, IP 0xfff0) or one halted
 * in OVMF's post-SMM pen (CS base 0x9f000) after a hot-add.  Needs at least
 * two samples.
 */
bool hpci_regdump_parked(GPtrArray *samples, int cpu);

/*
 * A machine where nothing moves: at least one CPU is outside SMM and every
 * one of those is parked (hpci_regdump_parked()), and every CPU in SMM spins
 * in one loop (hpci_regdump_smm_spin()).  That is the stock-QEMU hang
 * (docs/facts.md §6): the firmware waits in SMM for a hot-added CPU that sits
 * in the pen without ever entering SMM.  Returns the first parked CPU, or -1;
 * the first spinning CPU goes to *ret_spinning (may be NULL).
 */
int hpci_regdump_frozen(GPtrArray *samples, int *ret_spinning);

/*
 * How long the register samples of a silent guest must show a hang in SMM
 * before it is called one.  A healthy SMI lasts milliseconds even under TCG
 * (docs/facts.md §10), but with cells sharing the host's cores SMI bursts
 * were seen with a CPU in one SMM loop in every sample for up to 25 s, every
 * CPU in SMM, and then complete (firmware-debug.json burst, 2026-11-23; 373
 * stalls in the run reports of 2026-11/12, all during SMI bursts).  So one
 * spinning CPU needs HPCI_HANG_WINDOW_MS.  A frozen machine
 * (hpci_regdump_frozen()) with a firmware debug log that did not grow is
 * decided after HPCI_HANG_FROZEN_WINDOW_MS: none of those stalls had a CPU
 * outside SMM in real mode, and no hot-add took longer than 1.6 s from the
 * request to the guest's report in 1950 of them.
 */
#define HPCI_HANG_WINDOW_MS 60000
#define HPCI_HANG_FROZEN_WINDOW_MS 10000
/* The frozen window needs this many samples, so that three looks agree. */
#define HPCI_HANG_FROZEN_SAMPLES 3

/*
 * Whether the consecutive samples of a silent guest (oldest first, each an
 * array from hpci_regdump_parse()), taken at times_ms (gint64 each) when the
 * firmware's debug log had fw_log_bytes (gint64 each; 0 without a log), show
 * a hang in SMM: the latest samples that span HPCI_HANG_FROZEN_WINDOW_MS show
 * a frozen machine and the log kept its size, or the latest samples that span
 * HPCI_HANG_WINDOW_MS show one CPU spinning in SMM.  Without fw_log_bytes
 * (NULL, or not one per sample) only the second holds.  Returns the index of
 * the first sample of that window, or -1.
 */
int hpci_regdump_smm_hang(GPtrArray *samples, const GArray *times_ms, const GArray *fw_log_bytes);

/*
 * A firmware dead loop during boot, before the guest printed anything: every
 * running CPU outside SMM in a loop of fewer than HPCI_DEAD_LOOP_BYTES at one
 * CS base in each of the latest samples, which span HPCI_DEAD_LOOP_WINDOW_MS,
 * while the firmware's debug log kept its size; halted CPUs (APs the
 * firmware parked) aside, and no CPU in SMM.  That is a RELEASE OVMF in
 * CpuDeadLoop() after a failed SMI negotiation (its ASSERT is compiled out):
 * 13 of 13 samples over 60 s at one RIP, 2026-12-05, full.json's
 * broadcast-off cell.  A firmware at work moves: OVMF's silent first 10-15 s
 * of a RELEASE boot, its delay loops and its waits for APs last a few
 * seconds at most.  Returns the first looping CPU, or -1.
 */
#define HPCI_DEAD_LOOP_BYTES 16
#define HPCI_DEAD_LOOP_WINDOW_MS 20000
#define HPCI_DEAD_LOOP_SAMPLES 4
int hpci_regdump_dead_loop(GPtrArray *samples, const GArray *times_ms,
			   const GArray *fw_log_bytes);

#endif
