/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FIRMWARE_DESCRIPTOR_H
#define HPCI_FIRMWARE_DESCRIPTOR_H

#include <glib.h>
#include <stdbool.h>

/*
 * Firmware descriptors in the format of QEMU's docs/interop/firmware.json,
 * both ways: the one a firmware build writes beside its images, and the
 * ones a matrix names (ours, or the distribution's in /usr/share/qemu/firmware).
 * hotplug-ci takes only UEFI split-flash descriptors of raw images for an
 * x86_64 q35 machine.
 */
struct hpci_firmware_descriptor {
	char *path;     /* the descriptor file (reader only) */
	char *code;     /* mapping.executable.filename */
	char *vars;     /* mapping.nvram-template.filename */
	bool smm;       /* feature requires-smm */
	bool verbose;   /* feature verbose-static: writes a debug log */
};

void hpci_firmware_descriptor_release(struct hpci_firmware_descriptor *d);

/* Writes `d` (its path unused) as a split-flash q35 descriptor to `path`. */
int hpci_firmware_descriptor_write(const char *path, const struct hpci_firmware_descriptor *d,
				   const char *description, bool secure_boot);

/*
 * Resolves `name` and reads the descriptor: a path (absolute, or relative
 * to the directory `relative_to`, which is absolute) when it has a '/',
 * else a file name looked up QEMU's way in /etc/qemu/firmware, then
 * /usr/share/qemu/firmware.  Errors (-EINVAL, -ENOENT, -EIO) are recorded
 * as "firmware descriptor '<file>' <problem>; <fix>" without saying who
 * named it: the caller adds that with hpci_error_prefix().
 */
int hpci_firmware_descriptor_read(const char *name, const char *relative_to,
				  struct hpci_firmware_descriptor *ret);

#endif
