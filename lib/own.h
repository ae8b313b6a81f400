/* SPDX-License-Identifier: MIT */
#ifndef HPCI_OWN_H
#define HPCI_OWN_H

#include <string.h>

/*
 * Moves a struct out of a g_auto() local, as g_steal_pointer() does for a
 * pointer (systemd's TAKE_STRUCT): evaluates to the struct's value and
 * leaves the local zeroed, so its cleanup frees nothing.
 *
 *	g_auto(hpci_source) src = { 0 };
 *	...
 *	*ret = HPCI_STEAL_STRUCT(src);
 */
#define HPCI_STEAL_STRUCT(s)                                    \
	({                                                      \
		__typeof__(s) hpci_stolen_ = (s);               \
		memset(&(s), 0, sizeof(s));                     \
		hpci_stolen_;                                   \
	})

#endif
