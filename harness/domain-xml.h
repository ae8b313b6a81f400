/* SPDX-License-Identifier: MIT */
#ifndef HPCI_DOMAIN_XML_H
#define HPCI_DOMAIN_XML_H

#include "cell.h"

/* Everything that goes into one cell's libvirt domain besides the cell. */
struct hpci_domain_spec {
	const struct hpci_cell *cell;
	const char *emulator;       /* qemu-system-x86_64 (the plan's, built or given) */
	const char *firmware_code;  /* pflash CODE image */
	const char *firmware_vars;  /* VARS template */
	const char *name;           /* domain name, unique per run */
	const char *accel;          /* "tcg" -> type='qemu', "kvm" -> type='kvm' */
	const char *disk;           /* the cell's qcow2 overlay */
	const char *nvram;          /* the cell's VARS copy (libvirt makes it from the template) */
	const char *serial_log;     /* guest serial console, written by QEMU */
	const char *firmware_log;   /* isa-debugcon at 0x402 */
	/* QEMU appends to the serial and firmware logs instead of truncating
	 * them: a restored cell's logs start with the saved boot's part. */
	bool append_logs;
	unsigned memory_mib;
	unsigned uid, gid;          /* the user QEMU runs as (static DAC label) */
};

/* Builds the domain XML with libxml2.  Returns 0 and a newly allocated
 * string, or a negative errno with the error recorded. */
int hpci_domain_xml(const struct hpci_domain_spec *spec, char **ret_xml);

#endif
