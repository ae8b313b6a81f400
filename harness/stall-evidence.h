/* SPDX-License-Identifier: MIT */
#ifndef HPCI_STALL_EVIDENCE_H
#define HPCI_STALL_EVIDENCE_H

#include <glib.h>
#include <stdbool.h>

/*
 * Which SMM stalls of a cell attempt keep their register samples.  A stall
 * (a CPU in one SMM loop in every sample, then the guest went on) is what a
 * hang must not be mistaken for, so its samples are the evidence that sets
 * the hang windows (regdump.h).  A loaded SMI burst can stall dozens of
 * times, so only the HPCI_STALLS_KEPT longest are kept, the earlier of two
 * equally long ones.  Their files do not clash with a hang's regdump-NN.txt:
 * stall-NN-regdump-MM.txt, NN the stall's number in the attempt.
 */
#define HPCI_STALLS_KEPT 3

struct hpci_stall_kept {
	unsigned number;    /* 1 for the attempt's first stall */
	guint samples;      /* how many files it has */
	gint64 span_ms;     /* from its first sample to its last */
};

/*
 * Offers stall `number` to `kept` (a GArray of struct hpci_stall_kept).
 * Returns false when it is not kept (HPCI_STALLS_KEPT longer ones are);
 * else true, and when it displaces a kept stall, that one (whose files go)
 * in *ret_dropped, else a zero number there.
 */
bool hpci_stall_keep(GArray *kept, unsigned number, guint samples, gint64 span_ms,
		     struct hpci_stall_kept *ret_dropped);

/* The file name of sample `sample` (1-based) of stall `number`. */
char *hpci_stall_regdump_name(unsigned number, guint sample);

#endif
