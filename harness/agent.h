/* SPDX-License-Identifier: MIT */
#ifndef HPCI_AGENT_H
#define HPCI_AGENT_H

#include "virt.h"

/* qemu-guest-agent requests the harness needs, built and read with json-c. */

/* Starts `path args...` in the guest (guest-exec); returns the guest pid. */
int hpci_agent_exec(struct hpci_domain *dom, const char *path, const char *const *args,
		    int timeout_s, long *ret_pid);

/* guest-ping with a short timeout: 0 when the agent answers. */
int hpci_agent_ping(struct hpci_domain *dom, int timeout_s);

#endif
