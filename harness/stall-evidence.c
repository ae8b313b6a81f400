/* SPDX-License-Identifier: MIT */
#include "stall-evidence.h"

bool hpci_stall_keep(GArray *kept, unsigned number, guint samples, gint64 span_ms,
		     struct hpci_stall_kept *ret_dropped)
{
	struct hpci_stall_kept fresh = { number, samples, span_ms };
	guint shortest = 0;

	*ret_dropped = (struct hpci_stall_kept){ 0 };
	if (kept->len < HPCI_STALLS_KEPT) {
		g_array_append_val(kept, fresh);
		return true;
	}
	/* The shortest kept one, the later of two equal ones. */
	for (guint i = 1; i < kept->len; i++) {
		const struct hpci_stall_kept *k = &g_array_index(kept, struct hpci_stall_kept, i);
		const struct hpci_stall_kept *s = &g_array_index(kept, struct hpci_stall_kept,
								 shortest);

		if (k->span_ms < s->span_ms || (k->span_ms == s->span_ms && k->number > s->number))
			shortest = i;
	}
	if (span_ms <= g_array_index(kept, struct hpci_stall_kept, shortest).span_ms)
		return false;
	*ret_dropped = g_array_index(kept, struct hpci_stall_kept, shortest);
	g_array_index(kept, struct hpci_stall_kept, shortest) = fresh;
	return true;
}

char *hpci_stall_regdump_name(unsigned number, guint sample)
{
	return g_strdup_printf("stall-%02u-regdump-%02u.txt", number, sample);
}
