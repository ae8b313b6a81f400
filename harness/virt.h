/* SPDX-License-Identifier: MIT */
#ifndef HPCI_VIRT_H
#define HPCI_VIRT_H

#include <glib.h>
#include <stdbool.h>

/*
 * The libvirt adapter: the only file that includes libvirt headers.  The rest
 * of the harness sees these opaque handles.  Every function returns 0 (or a
 * count) or a negative errno with the libvirt message recorded through
 * hpci_error; libvirt's own detail follows a colon.
 */
struct hpci_virt;        /* a connection plus its event loop thread */
struct hpci_domain;      /* one running transient domain */

enum hpci_domain_stop {
	HPCI_STOP_SHUTDOWN,   /* the guest powered off or reset (on_reboot=destroy) */
	HPCI_STOP_DESTROYED,  /* we (or someone) destroyed it */
	HPCI_STOP_CRASHED,    /* QEMU crashed */
	HPCI_STOP_FAILED,     /* QEMU failed to start or died */
	HPCI_STOP_RESET,      /* the guest reset (on_reboot=restart): it still runs */
	HPCI_STOP_SAVED,      /* hpci_domain_save() wrote its state and stopped it */
	HPCI_STOP_OTHER,
};
const char *hpci_domain_stop_name(enum hpci_domain_stop stop);

/* Called from the event loop thread when the domain stops, or resets. */
typedef void (*hpci_domain_stop_cb)(enum hpci_domain_stop stop, void *opaque);

int hpci_virt_open(const char *uri, struct hpci_virt **ret);
void hpci_virt_close(struct hpci_virt *virt);
typedef struct hpci_virt hpci_virt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_virt, hpci_virt_close)

const char *hpci_virt_uri(struct hpci_virt *virt);

/* Where libvirt keeps QEMU's own log of domain `name` when this host can
 * read it (a local system connection), else NULL. */
char *hpci_virt_domain_log(struct hpci_virt *virt, const char *name);

/* "libvirt 9.0.0, QEMU driver 7.2.0 at qemu:///system" and the like. */
char *hpci_virt_describe(struct hpci_virt *virt);

/*
 * Asks libvirt to probe an emulator (virConnectGetDomainCapabilities for
 * q35 under TCG), as it does before starting a domain on it.  libvirt
 * probes as the user it runs QEMU as, so this fails, with a message naming
 * that user and the fix, when that user cannot reach the binary.
 */
int hpci_virt_check_emulator(struct hpci_virt *virt, const char *emulator);

/*
 * Creates a transient domain from XML, paused, with auto-destroy (libvirtd
 * destroys it when this connection closes, so a killed harness leaves no
 * domain), registers `on_stop`, then lets the caller resume it.
 */
int hpci_domain_create(struct hpci_virt *virt, const char *xml, hpci_domain_stop_cb on_stop,
		       void *opaque, struct hpci_domain **ret);
int hpci_domain_resume(struct hpci_domain *dom);
/* Destroys the domain when still running and frees the handle; NULL-safe. */
void hpci_domain_free(struct hpci_domain *dom);
typedef struct hpci_domain hpci_domain;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_domain, hpci_domain_free)

bool hpci_domain_is_active(struct hpci_domain *dom);
const char *hpci_domain_name(struct hpci_domain *dom);
/* The XML libvirt actually runs (after defaults), for the report. */
char *hpci_domain_live_xml(struct hpci_domain *dom);

/* virDomainSetVcpu for one vCPU id. */
int hpci_domain_set_vcpu(struct hpci_domain *dom, unsigned vcpu, bool enable);
/* virDomainSetVcpusFlags: several device_adds/dels in one call. */
int hpci_domain_set_vcpu_count(struct hpci_domain *dom, unsigned count);
/* The vCPUs libvirt counts as present now (it drops one on DEVICE_DELETED). */
int hpci_domain_live_vcpus(struct hpci_domain *dom);
/* The CPUs QEMU itself has now (QMP query-cpus-fast). */
int hpci_domain_qemu_cpus(struct hpci_domain *dom);
/* virDomainSetGuestVcpus: onlines/offlines CPUs inside the guest via the agent. */
int hpci_domain_set_guest_cpu(struct hpci_domain *dom, unsigned cpu, bool online);
/* virDomainQemuAgentCommand; *ret_reply is the agent's JSON reply. */
int hpci_domain_agent_command(struct hpci_domain *dom, const char *json, int timeout_s,
			      char **ret_reply);
/* virDomainQemuMonitorCommand in HMP mode, e.g. "info registers -a". */
int hpci_domain_hmp(struct hpci_domain *dom, const char *command, char **ret_reply);

/*
 * Saved states (virDomainSaveFlags / virDomainRestoreFlags): the guest's RAM,
 * device state and flash contents in one file, for booting a configuration
 * once and restoring it per cell.  An image restores only on the same QEMU
 * build, firmware, machine type, vCPU layout and memory.
 *
 * hpci_domain_save() writes the image at path (libvirt writes it; no file is
 * left when it fails) and stops the domain: the handle stays valid, inactive.
 * The image restores paused.
 */
int hpci_domain_save(struct hpci_domain *dom, const char *path);

/* The domain XML a saved image holds (virDomainSaveImageGetXMLDesc). */
int hpci_saved_state_xml(struct hpci_virt *virt, const char *path, char **ret_xml);

/*
 * Restores a saved image into a new transient domain described by xml, paused
 * (resume it with hpci_domain_resume()), and registers on_stop as
 * hpci_domain_create() does.  xml is checked by libvirt against the image's
 * own: the guest ABI must not change, but the disk sources, the NVRAM path,
 * the serial file and the QEMU command-line passthrough may.
 *
 * libvirt 9.0 refuses any other name or UUID (virDomainDefCheckABIStability:
 * "Target domain name ... does not match source ..."), so one image cannot
 * give two domains at once by itself.  With scratch set, the image is first
 * copied to scratch with its header naming the new domain (xml's name and
 * UUID; a UUID is made when xml has none), restored from there, and scratch
 * is removed once QEMU has read it, on every path.  Only an uncompressed
 * image (libvirt's default save_image_format "raw") can be renamed.  With
 * scratch NULL, xml must carry the image's name and UUID.
 *
 * Unlike a created domain, a restored one is not auto-destroyed when the
 * connection closes (virDomainRestoreFlags has no such flag): the handle's
 * free destroys it, and a harness killed outright leaves it running for
 * `hotplug-ci doctor` to find (prefix hpci-).
 */
int hpci_domain_restore(struct hpci_virt *virt, const char *saved, const char *xml,
			const char *scratch, hpci_domain_stop_cb on_stop, void *opaque,
			struct hpci_domain **ret);

/* Names of the domains on the connection whose name starts with prefix. */
int hpci_virt_list_domains(struct hpci_virt *virt, const char *prefix, GPtrArray **ret_names);
int hpci_virt_destroy_by_name(struct hpci_virt *virt, const char *name);

#endif
