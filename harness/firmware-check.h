/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FIRMWARE_CHECK_H
#define HPCI_FIRMWARE_CHECK_H

#include "cell.h"
#include "firmware-log.h"
#include "result.h"

#include <glib.h>

/*
 * The firmware's account of a cell (its parsed DEBUG log) held against the
 * other witnesses: the topology (which APIC IDs the plugged vCPUs must
 * have), the guest (which APIC IDs it booted), the cell's SMI mode and the
 * matrix's firmware expectations.  Pure functions over recorded data, so
 * they are unit-tested without a VM.  Each problem is one sentence that
 * names both sides.
 */

/* The APIC ID QEMU gives vCPU `index` of the topology (x86_apicid_from_cpu_idx:
 * thread, core, die and socket fields, each as wide as its count needs). */
guint32 hpci_topology_apic_id(const struct hpci_topology *topology, unsigned index);

struct hpci_fw_check_input {
	const struct hpci_cell *cell;
	const GArray *plugs;      /* struct hpci_plug_timing, as the cell run filled them */
	GPtrArray *events;        /* struct hpci_event *: the guest's serial lines among them */
	const struct hpci_fw_log *log;
};

/* Appends the disagreements between the log and the topology, the guest
 * and the SMI mode to `problems` (char *). */
void hpci_fw_cross_check(const struct hpci_fw_check_input *in, GPtrArray *problems);

/* Appends every firmware expectation the log does not meet, as
 * "firmware.negotiated.cpu_hotunplug: expected false, observed true". */
void hpci_fw_expect_check(const struct hpci_firmware_expect *expect,
			  const struct hpci_fw_log *log, GPtrArray *problems);

#endif
