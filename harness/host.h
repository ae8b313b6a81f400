/* SPDX-License-Identifier: MIT */
#ifndef HPCI_HOST_H
#define HPCI_HOST_H

#include "result.h"

/*
 * Facts about the host the report records and the expectations depend on.
 * The accelerator probe starts the emulator once with KVM and SMM: /dev/kvm
 * can exist and still refuse SMM ("System Management Mode not supported by
 * this hypervisor"), in which case everything runs under TCG.
 */
struct hpci_accel_probe {
	char *accel;     /* "kvm" when KVM with SMM works, else "tcg" */
	char *reason;    /* why KVM was not chosen, or NULL */
};

#define HPCI_SYSTEM_QEMU "/usr/bin/qemu-system-x86_64"

/* The accelerator expectations are evaluated for: `given` (from --accel)
 * when set, else the probe's answer for the system QEMU. */
int hpci_resolve_accel(const char *given, char **ret_accel, char **ret_reason);

int hpci_host_probe_accel(const char *emulator, struct hpci_accel_probe *ret);
void hpci_accel_probe_release(struct hpci_accel_probe *probe);
typedef struct hpci_accel_probe hpci_accel_probe;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_accel_probe, hpci_accel_probe_release)

/*
 * Cells to run at once by default: one per core (a TCG guest keeps a core
 * busy while it boots; two cells on two cores finish together,
 * docs/facts.md §10), fewer when the available memory cannot hold that many guests
 * of memory_mib plus QEMU's own overhead next to a reserve for the host.
 */
#define HPCI_VM_OVERHEAD_MIB 384
#define HPCI_HOST_RESERVE_MIB 1024
unsigned hpci_host_default_jobs(unsigned memory_mib, char **ret_why);

char *hpci_host_kernel(void);
char *hpci_host_cpu_model(void);

/* "QEMU emulator version 7.2.22 (Debian ...)": the first line of --version. */
int hpci_host_qemu_version(const char *emulator, char **ret_version);

/* Path, sha256 and (for QEMU) version of a file the run used. */
int hpci_identity_new(const char *role, const char *path, const char *version,
		      struct hpci_identity **ret);

#endif
