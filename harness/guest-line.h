/* SPDX-License-Identifier: MIT */
#ifndef HPCI_GUEST_LINE_H
#define HPCI_GUEST_LINE_H

#include <glib.h>

/*
 * What one line of the guest's serial console means.  The image's init
 * prints the HPCI-* lines (images/README.md, "guest contract"); the kernel's
 * own lines are recognised as evidence for crashes and as a cross-check.
 */
enum hpci_guest_line_kind {
	HPCI_LINE_OTHER,
	HPCI_LINE_READY,          /* HPCI-READY */
	HPCI_LINE_CPU_ADDED,      /* HPCI-CPU-ADDED <n> */
	HPCI_LINE_CPU_ONLINE,     /* HPCI-CPU-ONLINE <n> */
	HPCI_LINE_CPU_OFFLINE,    /* HPCI-CPU-OFFLINE <n> */
	HPCI_LINE_CPU_REMOVED,    /* HPCI-CPU-REMOVED <n> */
	HPCI_LINE_SMI_DONE,       /* HPCI-SMI sweeps=... */
	HPCI_LINE_GUEST_ERROR,    /* HPCI-ERROR ..., HPCI-SMI-ERROR ... */
	HPCI_LINE_KERNEL_HOTADDED,/* CPU<n> has been hot-added */
	HPCI_LINE_KERNEL_PANIC,   /* Kernel panic - not syncing ... */
	HPCI_LINE_KERNEL_OOPS,    /* BUG:, Oops:, general protection fault */
	HPCI_LINE_KERNEL_BOOT,    /* Linux version ... (a second one means a reset) */
	HPCI_LINE_KERNEL_CPU_APIC,/* smpboot: Booting Node <n> Processor <cpu> APIC 0x<id> */
	HPCI_LINE_ATTACK,         /* HPCI-ATTACK <token> smm=... (the payload; harness/attack.h) */
	HPCI_LINE_ATTACK_PLANT,   /* HPCI-ATTACK-PLANT token=... stuck=... */
	HPCI_LINE_ATTACK_SIPI,    /* HPCI-ATTACK-SIPI armed ... / apic=... rounds=... stop=... */
	HPCI_LINE_SMRAM_CHECK,    /* HPCI-SMRAM-CHECK open=<n> first=... */
};

struct hpci_guest_line {
	enum hpci_guest_line_kind kind;
	int cpu;    /* the CPU number for the CPU kinds, else -1 */
	long apic;  /* HPCI_LINE_KERNEL_CPU_APIC: the CPU's APIC ID, else -1 */
};

/*
 * The image's HPCI-* lines and the kernel share the serial console, and a
 * kernel record can land inside a line the guest's userspace is writing:
 * "HPCI-CPU-ADDED 1[    3.945778] CPU2 has been hot-added", then the rest
 * of the userspace line ("" here) after the record's newline.  Reassembles
 * the console's logical lines from one raw line (without its newline):
 * appends to `out` (a GPtrArray of g_free'd strings) the kernel record cut
 * out of the middle of `raw`, or the whole line joined with the fragment
 * `held` kept from the line before.  `held` carries a cut fragment to the
 * next raw line.
 */
void hpci_guest_lines_splice(GString *held, const char *raw, GPtrArray *out);

/* Classifies one line (without its newline); never fails. */
struct hpci_guest_line hpci_guest_line_parse(const char *line);
const char *hpci_guest_line_kind_name(enum hpci_guest_line_kind kind);

#endif
