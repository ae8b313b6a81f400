/* SPDX-License-Identifier: MIT */
#include "host.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 30000

static const char probe_qmp[] =
	"{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";

int hpci_host_probe_accel(const char *emulator, struct hpci_accel_probe *ret)
{
	g_auto(hpci_cmd) cmd = { 0 };
	g_autoptr(GString) err = g_string_new(NULL);
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		ret->accel = g_strdup("tcg");
		ret->reason = g_strdup_printf("/dev/kvm is not usable: %s", g_strerror(errno));
		return 0;
	}
	hpci_cmd_init(&cmd, emulator);
	hpci_cmd_add(&cmd, "-machine");
	hpci_cmd_add(&cmd, "q35,smm=on");
	hpci_cmd_add(&cmd, "-accel");
	hpci_cmd_add(&cmd, "kvm");
	hpci_cmd_add(&cmd, "-nodefaults");
	hpci_cmd_add(&cmd, "-no-user-config");
	hpci_cmd_add(&cmd, "-display");
	hpci_cmd_add(&cmd, "none");
	hpci_cmd_add(&cmd, "-qmp");
	hpci_cmd_add(&cmd, "stdio");
	cmd.stdin_data = g_strdup(probe_qmp);
	cmd.timeout_ms = PROBE_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, NULL, err);
	if (rc == -ENOENT)
		return rc;
	if (rc == 0) {
		ret->accel = g_strdup("kvm");
	} else {
		const char *last;

		/* QEMU prints CPUID warnings first; its last line is the refusal. */
		g_strstrip(err->str);
		last = strrchr(err->str, '\n');
		last = last ? last + 1 : err->str;
		ret->accel = g_strdup("tcg");
		ret->reason = g_strdup_printf("KVM with SMM refused: %s",
					      *last ? last : hpci_error_message());
		hpci_error_clear();
	}
	return 0;
}

void hpci_accel_probe_release(struct hpci_accel_probe *probe)
{
	g_free(probe->accel);
	g_free(probe->reason);
	memset(probe, 0, sizeof(*probe));
}

char *hpci_host_kernel(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return g_strdup("unknown");
	return g_strdup_printf("%s %s %s", u.sysname, u.release, u.machine);
}

char *hpci_host_cpu_model(void)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	unsigned count = 0;
	char *model = NULL;

	if (hpci_read_file("/proc/cpuinfo", &text, NULL) < 0) {
		hpci_error_clear();
		return g_strdup("unknown");
	}
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "processor"))
			count++;
		if (!model && g_str_has_prefix(*l, "model name")) {
			const char *colon = strchr(*l, ':');

			model = g_strstrip(g_strdup(colon ? colon + 1 : *l));
		}
	}
	{
		g_autofree char *owned = model;

		return g_strdup_printf("%s x %u", owned ? owned : "unknown", count);
	}
}

int hpci_host_qemu_version(const char *emulator, char **ret_version)
{
	return hpci_cmd_version(emulator, 10000, ret_version);
}

int hpci_identity_new(const char *role, const char *path, const char *version,
		      struct hpci_identity **ret)
{
	struct hpci_identity *id = g_new0(struct hpci_identity, 1);
	int rc;

	id->role = g_strdup(role);
	id->path = g_strdup(path);
	id->version = g_strdup(version);
	if ((rc = hpci_sha256_file(path, &id->sha256)) < 0) {
		hpci_identity_free(id);
		return rc;
	}
	*ret = id;
	return 0;
}

int hpci_resolve_accel(const char *given, char **ret_accel, char **ret_reason)
{
	g_auto(hpci_accel_probe) probe = { 0 };
	int rc;

	if (given) {
		if (strcmp(given, "tcg") != 0 && strcmp(given, "kvm") != 0)
			return hpci_error(EINVAL, "--accel: unknown accelerator '%s'; use tcg or kvm",
					  given);
		*ret_accel = g_strdup(given);
		*ret_reason = g_strdup("given with --accel");
		return 0;
	}
	if ((rc = hpci_host_probe_accel(HPCI_SYSTEM_QEMU, &probe)) < 0)
		return rc;
	*ret_accel = g_steal_pointer(&probe.accel);
	*ret_reason = g_steal_pointer(&probe.reason);
	return 0;
}


/* MemAvailable from /proc/meminfo in MiB, or 0 when unknown. */
static guint64 mem_available_mib(void)
{
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
	    !(p = strstr(text, "MemAvailable:")))
		return 0;
	return g_ascii_strtoull(p + strlen("MemAvailable:"), NULL, 10) / 1024;
}

unsigned hpci_host_default_jobs(unsigned memory_mib, char **ret_why)
{
	unsigned cores = g_get_num_processors();
	guint64 avail = mem_available_mib();
	guint64 per_vm = memory_mib + HPCI_VM_OVERHEAD_MIB;
	guint64 by_memory = avail > HPCI_HOST_RESERVE_MIB ? (avail - HPCI_HOST_RESERVE_MIB) / per_vm
							  : 1;
	unsigned jobs = (unsigned)MAX(1, MIN((guint64)cores, by_memory));

	if (ret_why)
		*ret_why = g_strdup_printf("%u core(s); %" G_GUINT64_FORMAT " MiB available fits %"
					   G_GUINT64_FORMAT " guest(s) of %u MiB", cores, avail,
					   by_memory, memory_mib);
	return jobs;
}
