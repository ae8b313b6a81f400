/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "cache.h"
#include "cell-run.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "image.h"
#include "strlist.h"
#include "virt.h"

#include <glib.h>
#include <stdio.h>
#include <unistd.h>

struct doctor {
	unsigned problems;
};

static void report(struct doctor *d, bool ok, const char *what, const char *detail,
		   const char *fix)
{
	printf("%-4s %-22s %s\n", ok ? "ok" : "FAIL", what, detail);
	if (!ok) {
		d->problems++;
		if (fix)
			printf("     %-22s fix: %s\n", "", fix);
	}
}

/* Every QEMU built into the cache must be usable by libvirt, which probes
 * it as the user it runs QEMU as. */
static void check_built_emulators(struct doctor *d, struct hpci_virt *virt)
{
	g_autoptr(GPtrArray) entries = NULL;

	if (hpci_cache_list("qemu", &entries) < 0) {
		report(d, false, "QEMU builds", hpci_error_message(), NULL);
		return;
	}
	for (guint i = 0; i < entries->len; i++) {
		const struct hpci_cache_entry *e = entries->pdata[i];
		g_autofree char *emulator = g_build_filename(e->dir, "bin", "qemu-system-x86_64",
							     NULL);

		if (hpci_virt_check_emulator(virt, emulator) < 0)
			report(d, false, "QEMU build", hpci_error_message(),
			       "run ci/grant-qemu-access.sh as root");
		else
			report(d, true, "QEMU build", emulator, NULL);
	}
}

static void check_libvirt(struct doctor *d, const char *uri)
{
	g_autoptr(hpci_virt) virt = NULL;
	g_autoptr(GPtrArray) leftovers = NULL;
	g_autofree char *desc = NULL;

	if (hpci_virt_open(uri, &virt) < 0) {
		report(d, false, "libvirt", hpci_error_message(),
		       "run ci/start-services.sh (starts virtlogd and libvirtd) as root");
		return;
	}
	desc = hpci_virt_describe(virt);
	report(d, true, "libvirt", desc, NULL);
	if (hpci_virt_list_domains(virt, HPCI_DOMAIN_PREFIX, &leftovers) >= 0) {
		g_autofree char *names = hpci_strings_join(leftovers, " ");

		report(d, leftovers->len == 0, "leftover domains",
		       leftovers->len == 0 ? "none" : names,
		       "virsh destroy each (a created domain is auto-destroyed when its run's "
		       "connection closes; a restored one is not, so a run killed with SIGKILL "
		       "leaves its restored domains running)");
	}
	check_built_emulators(d, virt);
}

static void check_emulator(struct doctor *d)
{
	g_autofree char *version = NULL;
	g_autofree char *detail = NULL;
	g_auto(hpci_accel_probe) probe = { 0 };

	if (hpci_host_qemu_version(HPCI_SYSTEM_QEMU, &version) < 0) {
		report(d, false, "system QEMU", hpci_error_message(),
		       "apt-get install qemu-system-x86 (ci/install-deps.sh)");
		return;
	}
	report(d, true, "system QEMU", version, NULL);
	if (hpci_host_probe_accel(HPCI_SYSTEM_QEMU, &probe) < 0) {
		report(d, false, "accelerator with SMM", hpci_error_message(), NULL);
		return;
	}
	detail = g_strdup_printf("%s%s%s%s", probe.accel, probe.reason ? " (" : "",
				 probe.reason ? probe.reason : "", probe.reason ? ")" : "");
	report(d, true, "accelerator with SMM", detail, NULL);
}

static void check_firmware(struct doctor *d)
{
	static const char *const files[] = {
		"/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",   /* SMM build */
		"/usr/share/OVMF/OVMF_CODE_4M.fd",           /* non-SMM build */
		"/usr/share/OVMF/OVMF_VARS_4M.fd",
	};
	g_autoptr(GDir) dir = NULL;
	unsigned descriptors = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		report(d, access(files[i], R_OK) == 0, "firmware", files[i],
		       "apt-get install ovmf (ci/install-deps.sh)");
	dir = g_dir_open("/usr/share/qemu/firmware", 0, NULL);
	for (const char *n; dir && (n = g_dir_read_name(dir));)
		descriptors += g_str_has_suffix(n, ".json");
	{
		g_autofree char *detail = g_strdup_printf("%u descriptors in /usr/share/qemu/firmware",
							  descriptors);

		report(d, descriptors > 0, "firmware descriptors", detail,
		       "apt-get install ovmf");
	}
}

static void check_guestfs(struct doctor *d, bool quick)
{
	g_autofree char *version = NULL;

	if (quick) {
		printf("%-4s %-22s %s\n", "skip", "libguestfs", "skipped (--quick)");
		return;
	}
	hpci_info("doctor: starting the libguestfs appliance under TCG (about 20-30 s)...");
	if (hpci_image_selftest(&version) < 0)
		report(d, false, "libguestfs", hpci_error_message(),
		       "apt-get install libguestfs-tools linux-image-amd64; "
		       "LIBGUESTFS_DEBUG=1 libguestfs-test-tool shows the appliance log");
	else
		report(d, true, "libguestfs", version, NULL);
}

static void check_cache(struct doctor *d)
{
	g_autofree char *root = hpci_cache_root();

	report(d, hpci_mkdir_p(root, 0755) == 0 && access(root, W_OK) == 0, "cache", root,
	       "make the directory writable or set XDG_CACHE_HOME");
}

int cmd_doctor(int argc, char **argv)
{
	g_autofree char *uri = NULL;
	gboolean quick = FALSE;
	GOptionEntry entries[] = {
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
		  "libvirt URI (default: " HPCI_DEFAULT_URI ")", "URI" },
		{ "quick", 'q', 0, G_OPTION_ARG_NONE, &quick,
		  "skip the libguestfs appliance launch (the slow check)", NULL },
		{ NULL }
	};
	struct doctor d = { 0 };
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "",
				     "Check that this host can run the harness: libvirt reachable, "
				     "which accelerator works with SMM, firmware present, libguestfs "
				     "works, cache writable.  Exits 3 when something is wrong.",
				     entries)))
		return rc;
	check_libvirt(&d, uri ? uri : HPCI_DEFAULT_URI);
	check_emulator(&d);
	check_firmware(&d);
	check_cache(&d);
	check_guestfs(&d, quick);
	printf("%s\n", d.problems ? "doctor: problems found" : "doctor: all checks passed");
	return d.problems ? HPCI_EXIT_INFRA : HPCI_EXIT_OK;
}
