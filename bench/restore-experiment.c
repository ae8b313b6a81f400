/* SPDX-License-Identifier: MIT */
/*
 * Issue 13 prototype: boot one configuration once, save it, restore it into
 * two domains at once, and check each is alive and as closed as a cold boot.
 *
 *   restore-experiment --emulator QEMU --firmware DIR --image BASE.qcow2 --out DIR
 *                      [--rounds N] [--width 1|2] [--label TEXT] [--no-probe]
 *                      [--no-cold] [--plant] [--no-plug]
 *
 * DIR of --firmware holds OVMF_CODE.fd and OVMF_VARS.fd (a hotplug-ci cache
 * entry).  The cell is matrix/quick.json's: pc-q35-7.2, all SMI features,
 * 1 socket x 4 cores booting 1, 512 MiB, the minimal image.  Steps:
 *
 *  1. cold-boot "base" to HPCI-READY and save it (hpci_domain_save);
 *  2. probe what virDomainRestoreFlags' dxml may change (other name; other
 *     UUID; same name and UUID with other NVRAM, disk, serial and firmware
 *     log paths), unless --no-probe;
 *  3. per round, restore the image into domains A and B at once (two
 *     threads, hpci_domain_restore with a scratch copy each; --width 1: A
 *     only), resume them, and in each: guest-ping, the NVRAM against the
 *     saved domain's, the SMRAM window check (/bin/hpci-attack check), with
 *     --plant the attack cell's plant at the default SMBASE, then (unless
 *     --no-plug) plug vCPU 1, online it, check again, one SMI sweep on it;
 *  4. the same checks on --width cold boots of the same configuration at
 *     once, unless --no-cold.
 *
 * Every figure goes to stdout as "name: value" and to OUT/results.txt.
 * Runs as root on a host where `hotplug-ci run` works.  Every domain is
 * destroyed on the way out (restored domains are not auto-destroyed:
 * Ctrl-C leaves them for `virsh destroy`).
 */
#include "agent.h"
#include "domain-xml.h"
#include "error.h"
#include "fsutil.h"
#include "image.h"
#include "virt.h"
#include "xml.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 180000
#define LINE_TIMEOUT_MS 60000
#define AGENT_TIMEOUT_S 10
#define PLANT_TOKEN "13a5e57a1c0ffee0"  /* any 16 hex digits: no harness judges it here */

static char *opt_emulator, *opt_firmware, *opt_image, *opt_out, *opt_label;
static int opt_rounds = 1, opt_width = 2;
static gboolean opt_no_probe, opt_no_cold, opt_no_plug, opt_plant;
static FILE *results;
static GMutex results_lock;

static void result(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void result(const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_mutex_lock(&results_lock);
	printf("%s\n", line);
	fflush(stdout);
	if (results) {
		fprintf(results, "%s\n", line);
		fflush(results);
	}
	g_mutex_unlock(&results_lock);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* One domain of the experiment and its files. */
struct vm {
	char *label;      /* "base", "r1-A", "cold", ... */
	char *dir;
	char *name;
	char *xml;
	struct hpci_domain *dom;
};

static void vm_release(struct vm *vm)
{
	g_clear_pointer(&vm->dom, hpci_domain_free);
	g_clear_pointer(&vm->label, g_free);
	g_clear_pointer(&vm->dir, g_free);
	g_clear_pointer(&vm->name, g_free);
	g_clear_pointer(&vm->xml, g_free);
}
typedef struct vm exp_vm;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(exp_vm, vm_release)

static char *vm_path(const struct vm *vm, const char *file)
{
	return g_build_filename(vm->dir, file, NULL);
}

static void on_stop(enum hpci_domain_stop stop, void *opaque)
{
	const struct vm *vm = opaque;

	result("%s: domain event: %s", vm->label, hpci_domain_stop_name(stop));
}

/* quick.json's cell, with this vm's files. */
static int vm_prepare(struct vm *vm, const char *label, const char *name)
{
	struct hpci_cell cell = {
		.id = (char *)label,
		.topology = { .sockets = 1, .dies = 1, .cores = 4, .threads = 1, .boot = 1, .max = 4 },
		.smi = { .machine = (char *)"pc-q35-7.2", .broadcast = true, .cpu_hotplug = true,
			 .cpu_hotunplug = true, .smbase_smram = true,
			 .given = HPCI_SMI_BROADCAST | HPCI_SMI_CPU_HOTPLUG | HPCI_SMI_CPU_HOTUNPLUG },
		.firmware = { .smm = true, .verbose = true },
	};
	g_autofree char *code = g_build_filename(opt_firmware, "OVMF_CODE.fd", NULL);
	g_autofree char *vars = g_build_filename(opt_firmware, "OVMF_VARS.fd", NULL);
	g_autofree char *disk = NULL, *nvram = NULL, *serial = NULL, *fwlog = NULL;
	g_autofree char *xml_path = NULL;
	struct hpci_image image = { .path = opt_image };
	struct hpci_domain_spec spec = { 0 };
	int rc;

	vm->label = g_strdup(label);
	vm->name = g_strdup(name);
	vm->dir = g_build_filename(opt_out, label, NULL);
	disk = vm_path(vm, "disk.qcow2");
	nvram = vm_path(vm, "nvram.fd");
	serial = vm_path(vm, "serial.log");
	fwlog = vm_path(vm, "firmware.log");
	xml_path = vm_path(vm, "domain.xml");
	spec = (struct hpci_domain_spec){
		.cell = &cell, .emulator = opt_emulator, .firmware_code = code,
		.firmware_vars = vars, .name = name, .accel = "tcg", .disk = disk, .nvram = nvram,
		.serial_log = serial, .firmware_log = fwlog, .memory_mib = 512,
		.uid = getuid(), .gid = getgid(),
	};
	if ((rc = hpci_mkdir_p(vm->dir, 0755)) < 0 ||
	    (rc = hpci_image_overlay(&image, disk)) < 0 ||
	    (rc = hpci_domain_xml(&spec, &vm->xml)) < 0 ||
	    (rc = hpci_write_file(xml_path, vm->xml, -1)) < 0 ||
	    (rc = hpci_write_file(serial, "", 0)) < 0)
		return rc;
	return 0;
}

static gsize file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (gsize)st.st_size : 0;
}

/*
 * Waits until the file holds, after offset, a complete line containing
 * needle (or one of needle's '|'-separated parts); *ret_line gets it.  The serial log is polled: this is a bench
 * tool, the harness itself tails it (observe.h).
 */
static int wait_line(const char *path, gsize offset, const char *needle, int timeout_ms,
		     char **ret_line)
{
	gint64 deadline = now_ms() + timeout_ms;
	g_auto(GStrv) needles = g_strsplit(needle, "|", -1);

	for (;;) {
		g_autofree char *data = NULL;
		gsize len = 0;

		if (g_file_get_contents(path, &data, &len, NULL) && len > offset) {
			g_auto(GStrv) lines = g_strsplit(data + offset, "\n", -1);

			/* The last piece has no newline yet: not a whole line. */
			for (guint i = 0; lines[i] && lines[i + 1]; i++) {
				for (guint k = 0; needles[k]; k++) {
					if (strstr(lines[i], needles[k])) {
						*ret_line = g_strdup(g_strchomp(lines[i]));
						return 0;
					}
				}
			}
		}
		if (now_ms() >= deadline)
			return hpci_error(ETIMEDOUT, "no '%s' in '%s' within %d s", needle, path,
					  timeout_ms / 1000);
		g_usleep(50 * 1000);
	}
}

/* Runs /bin/hpci-attack or /bin/hpci-smi in the guest, waits for its line. */
static int guest_tool(struct vm *vm, const char *tool, const char *const *args,
		      const char *needle, char **ret_line)
{
	g_autofree char *serial = vm_path(vm, "serial.log");
	gsize offset = file_size(serial);
	long pid;
	int rc;

	if ((rc = hpci_agent_exec(vm->dom, tool, args, AGENT_TIMEOUT_S, &pid)) < 0)
		return rc;
	return wait_line(serial, offset, needle, LINE_TIMEOUT_MS, ret_line);
}

static int smram_check(struct vm *vm, const char *when)
{
	static const char *const args[] = { "check", NULL };
	g_autofree char *line = NULL;
	int rc = guest_tool(vm, "/bin/hpci-attack", args, "HPCI-SMRAM-CHECK", &line);

	if (rc < 0)
		return rc;
	result("%s: smram window %s: %s", vm->label, when, line);
	return 0;
}

/* guest-ping until it answers: when the restored guest is usable. */
static int wait_agent(struct vm *vm, gint64 *ret_ms)
{
	gint64 start = now_ms();

	while (hpci_agent_ping(vm->dom, 2) < 0) {
		if (now_ms() - start > LINE_TIMEOUT_MS)
			return hpci_error(ETIMEDOUT, "the guest agent of '%s' did not answer within "
					  "%d s: %s", vm->name, LINE_TIMEOUT_MS / 1000,
					  hpci_error_message());
		g_usleep(100 * 1000);
	}
	*ret_ms = now_ms() - start;
	return 0;
}

/* The firmware facts the judge reads, and how much of the log there is:
 * a restored domain's log starts at the restore. */
static void fwlog_summary(struct vm *vm)
{
	static const char *const facts[] = {
		"SMRAM at default SMBASE", "BootCpuCount=", "negotiated", "hot-added APIC ID",
	};
	g_autofree char *path = vm_path(vm, "firmware.log");
	g_autofree char *data = NULL;
	g_auto(GStrv) lines = NULL;
	guint n = 0, found[G_N_ELEMENTS(facts)] = { 0 };

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return;
	lines = g_strsplit(data, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		n += lines[i][0] != '\0';
		for (guint f = 0; f < G_N_ELEMENTS(facts); f++)
			found[f] += strstr(lines[i], facts[f]) != NULL;
	}
	result("%s: firmware.log %u lines; 'SMRAM at default SMBASE' %u, 'BootCpuCount=' %u, "
	       "'negotiated' %u, 'hot-added APIC ID' %u", vm->label, n, found[0], found[1],
	       found[2], found[3]);
}

/* What the harness does to a cell after its ready line, cut short: check
 * the window, plug vCPU 1, online it, check again, SMIs on it. */
static int cell_checks(struct vm *vm)
{
	static const char *const smi_args[] = { "1", "1", NULL };
	g_autofree char *serial = vm_path(vm, "serial.log");
	g_autofree char *line = NULL;
	g_autofree char *nvram = vm_path(vm, "nvram.fd");
	g_autofree char *nvram_sum = NULL;
	gint64 t;
	gsize offset;
	int rc;

	if ((rc = smram_check(vm, "before the plug")) < 0)
		return rc;
	if (opt_plant) {
		/* The attack cell's step (images/README.md, "Attack module"). */
		static const char *const plant_args[] = { "plant", PLANT_TOKEN, NULL };

		if ((rc = guest_tool(vm, "/bin/hpci-attack", plant_args, "HPCI-ATTACK-PLANT",
				     &line)) < 0)
			return rc;
		result("%s: plant at the default SMBASE: %s", vm->label, line);
		g_clear_pointer(&line, g_free);
	}
	if (opt_no_plug) {
		fwlog_summary(vm);
		return 0;
	}
	offset = file_size(serial);
	t = now_ms();
	/* The payload, when it ran, says so and parks the CPU in SMM. */
	if ((rc = hpci_domain_set_vcpu(vm->dom, 1, true)) < 0 ||
	    (rc = wait_line(serial, offset, "HPCI-CPU-ADDED 1|HPCI-ATTACK ", LINE_TIMEOUT_MS,
			    &line)) < 0)
		return rc;
	if (strstr(line, "HPCI-ATTACK ")) {
		result("%s: plug: the planted payload ran: %s", vm->label, line);
		fwlog_summary(vm);
		return 0;
	}
	result("%s: plug: vCPU 1 seen by the guest after %" G_GINT64_FORMAT " ms", vm->label,
	       now_ms() - t);
	g_clear_pointer(&line, g_free);
	offset = file_size(serial);
	if ((rc = hpci_domain_set_guest_cpu(vm->dom, 1, true)) < 0 ||
	    (rc = wait_line(serial, offset, "HPCI-CPU-ONLINE 1", LINE_TIMEOUT_MS, &line)) < 0)
		return rc;
	result("%s: plug: CPU 1 online after %" G_GINT64_FORMAT " ms", vm->label, now_ms() - t);
	g_clear_pointer(&line, g_free);
	if ((rc = smram_check(vm, "after the plug")) < 0)
		return rc;
	t = now_ms();
	if ((rc = guest_tool(vm, "/bin/hpci-smi", smi_args, "HPCI-SMI", &line)) < 0)
		return rc;
	result("%s: smi on the new CPU: %s (host: %" G_GINT64_FORMAT " ms)", vm->label, line,
	       now_ms() - t);
	if (hpci_sha256_file(nvram, &nvram_sum) == 0)
		result("%s: nvram.fd sha256 %.16s at the end", vm->label, nvram_sum);
	fwlog_summary(vm);
	return 0;
}

static int cold_boot(struct hpci_virt *virt, struct vm *vm)
{
	g_autofree char *serial = vm_path(vm, "serial.log");
	g_autofree char *line = NULL;
	gint64 t;
	int rc;

	t = now_ms();
	if ((rc = hpci_domain_create(virt, vm->xml, on_stop, vm, &vm->dom)) < 0 ||
	    (rc = hpci_domain_resume(vm->dom)) < 0)
		return rc;
	if ((rc = wait_line(serial, 0, "HPCI-READY", READY_TIMEOUT_MS, &line)) < 0)
		return rc;
	result("%s: cold boot, create to HPCI-READY: %" G_GINT64_FORMAT " ms", vm->label,
	       now_ms() - t);
	return 0;
}

/* The XML of vm with another <name> or <uuid> (NULL: unchanged). */
static char *xml_with(const char *xml, const char *name, const char *uuid)
{
	g_autoptr(xmlDoc) doc = NULL;

	if (hpci_xml_parse(xml, "the domain XML", &doc) < 0)
		return NULL;
	if (name)
		hpci_xml_set_root_child_text(doc, "name", name);
	if (uuid)
		hpci_xml_set_root_child_text(doc, "uuid", uuid);
	return hpci_xml_to_string(doc, NULL);
}

/* What dxml may change on libvirt 9.0 (no scratch copy: libvirt's own check). */
static void probe_dxml(struct hpci_virt *virt, const char *saved, const char *saved_name,
		       const char *saved_uuid)
{
	struct {
		const char *what;
		const char *name;   /* NULL: the saved one */
		bool saved_uuid;    /* the saved UUID, else a fresh one */
	} probes[] = {
		{ "other name, saved UUID", "hpci-rx-probe-name", true },
		{ "saved name, other UUID", NULL, false },
		{ "saved name and UUID, other NVRAM, disk, serial and firmware log paths", NULL, true },
	};

	for (guint i = 0; i < G_N_ELEMENTS(probes); i++) {
		g_auto(exp_vm) vm = { 0 };
		g_autofree char *label = g_strdup_printf("probe%u", i + 1);
		g_autofree char *uuid = probes[i].saved_uuid ? g_strdup(saved_uuid)
							     : g_uuid_string_random();
		g_autofree char *xml = NULL;
		gint64 t, ping_ms;
		int rc;

		if (vm_prepare(&vm, label, probes[i].name ? probes[i].name : saved_name) < 0 ||
		    !(xml = xml_with(vm.xml, NULL, uuid))) {
			result("%s: cannot prepare: %s", label, hpci_error_message());
			continue;
		}
		t = now_ms();
		rc = hpci_domain_restore(virt, saved, xml, NULL, on_stop, &vm, &vm.dom);
		if (rc < 0) {
			result("%s: dxml with %s: refused after %" G_GINT64_FORMAT " ms: %s", label,
			       probes[i].what, now_ms() - t, hpci_error_message());
			continue;
		}
		result("%s: dxml with %s: restored in %" G_GINT64_FORMAT " ms", label,
		       probes[i].what, now_ms() - t);
		if (hpci_domain_resume(vm.dom) == 0 && wait_agent(&vm, &ping_ms) == 0)
			result("%s: guest agent answers %" G_GINT64_FORMAT " ms after resume", label,
			       ping_ms);
		else
			result("%s: not alive after resume: %s", label, hpci_error_message());
	}
}

struct restore_job {
	struct hpci_virt *virt;
	const char *saved;
	const char *base_nvram_sum;  /* the saved domain's NVRAM at save */
	struct vm *vm;
	gint64 ms;
	int rc;
	char *error;
};

static gpointer restore_thread(gpointer data)
{
	struct restore_job *job = data;
	g_autofree char *scratch = vm_path(job->vm, "restore.img");
	gint64 t = now_ms();

	job->rc = hpci_domain_restore(job->virt, job->saved, job->vm->xml, scratch, on_stop,
				      job->vm, &job->vm->dom);
	job->ms = now_ms() - t;
	if (job->rc < 0)
		job->error = g_strdup(hpci_error_message());
	return NULL;
}

static gpointer checks_thread(gpointer data)
{
	struct restore_job *job = data;
	gint64 ping_ms;

	job->rc = wait_agent(job->vm, &ping_ms);
	if (job->rc == 0) {
		g_autofree char *nvram = vm_path(job->vm, "nvram.fd");
		g_autofree char *sum = NULL;

		result("%s: guest agent answers %" G_GINT64_FORMAT " ms after resume",
		       job->vm->label, ping_ms);
		/* QEMU writes the flash contents of the image to the file once
		 * the restored guest runs (pflash_post_load). */
		if (hpci_sha256_file(nvram, &sum) == 0)
			result("%s: nvram.fd sha256 %.16s after resume (%s the saved domain's)",
			       job->vm->label, sum,
			       g_strcmp0(sum, job->base_nvram_sum) == 0 ? "same as" : "NOT");
		job->rc = cell_checks(job->vm);
	}
	if (job->rc < 0)
		job->error = g_strdup(hpci_error_message());
	return NULL;
}

/* One round: opt_width domains from one image at once. */
static int twin_round(struct hpci_virt *virt, const char *saved, const char *base_nvram_sum,
		      unsigned round)
{
	g_auto(exp_vm) a = { 0 };
	g_auto(exp_vm) b = { 0 };
	struct vm *vms[2] = { &a, &b };
	struct restore_job jobs[2] = { 0 };
	GThread *threads[2];
	const int n = opt_width;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		g_autofree char *label = g_strdup_printf("r%u-%c", round, 'A' + i);
		g_autofree char *name = g_strdup_printf("hpci-rx-%d-r%u-%c", (int)getpid(), round,
							'a' + i);

		if ((rc = vm_prepare(vms[i], label, name)) < 0)
			return rc;
		jobs[i] = (struct restore_job){ .virt = virt, .saved = saved,
						.base_nvram_sum = base_nvram_sum, .vm = vms[i] };
	}
	for (int i = 0; i < n; i++)
		threads[i] = g_thread_new("restore", restore_thread, &jobs[i]);
	for (int i = 0; i < n; i++) {
		g_thread_join(threads[i]);
		if (jobs[i].rc < 0) {
			result("%s: restore failed after %" G_GINT64_FORMAT " ms: %s",
			       vms[i]->label, jobs[i].ms, jobs[i].error);
			rc = jobs[i].rc;
		} else {
			result("%s: restored (concurrently) in %" G_GINT64_FORMAT " ms",
			       vms[i]->label, jobs[i].ms);
		}
		g_clear_pointer(&jobs[i].error, g_free);
	}
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if ((rc = hpci_domain_resume(vms[i]->dom)) < 0)
			return rc;
	}
	for (int i = 0; i < n; i++)
		threads[i] = g_thread_new("checks", checks_thread, &jobs[i]);
	for (int i = 0; i < n; i++) {
		g_thread_join(threads[i]);
		if (jobs[i].rc < 0) {
			result("%s: checks failed: %s", vms[i]->label, jobs[i].error);
			rc = jobs[i].rc;
		}
		g_clear_pointer(&jobs[i].error, g_free);
	}
	return rc;
}

struct cold_job {
	struct hpci_virt *virt;
	struct vm *vm;
	int rc;
	char *error;
};

static gpointer cold_thread(gpointer data)
{
	struct cold_job *job = data;

	job->rc = cold_boot(job->virt, job->vm);
	if (job->rc == 0)
		job->rc = cell_checks(job->vm);
	if (job->rc < 0)
		job->error = g_strdup(hpci_error_message());
	return NULL;
}

/* The control: opt_width cold boots of the same configuration at once. */
static int cold_round(struct hpci_virt *virt)
{
	g_auto(exp_vm) a = { 0 };
	g_auto(exp_vm) b = { 0 };
	struct vm *vms[2] = { &a, &b };
	struct cold_job jobs[2] = { 0 };
	GThread *threads[2];
	int rc = 0;

	for (int i = 0; i < opt_width; i++) {
		g_autofree char *label = g_strdup_printf("cold-%c", 'A' + i);
		g_autofree char *name = g_strdup_printf("hpci-rx-%d-cold-%c", (int)getpid(), 'a' + i);

		if ((rc = vm_prepare(vms[i], label, name)) < 0)
			return rc;
		jobs[i] = (struct cold_job){ .virt = virt, .vm = vms[i] };
	}
	for (int i = 0; i < opt_width; i++)
		threads[i] = g_thread_new("cold", cold_thread, &jobs[i]);
	for (int i = 0; i < opt_width; i++) {
		g_thread_join(threads[i]);
		if (jobs[i].rc < 0) {
			result("%s: failed: %s", vms[i]->label, jobs[i].error);
			rc = jobs[i].rc;
		}
		g_clear_pointer(&jobs[i].error, g_free);
	}
	return rc;
}

static int run(void)
{
	g_autoptr(hpci_virt) virt = NULL;
	g_auto(exp_vm) base = { 0 };
	g_autofree char *saved = g_build_filename(opt_out, "saved.img", NULL);
	g_autofree char *saved_xml = NULL;
	g_autofree char *saved_name = NULL, *saved_uuid = NULL;
	g_autofree char *base_name = g_strdup_printf("hpci-rx-%d-base", (int)getpid());
	g_autofree char *base_nvram = NULL;
	g_autofree char *sum = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	gint64 t;
	int rc, failures = 0;

	if ((rc = hpci_virt_open("qemu:///system", &virt)) < 0)
		return rc;
	result("label: %s", opt_label ? opt_label : "");
	result("emulator: %s", opt_emulator);
	result("firmware: %s", opt_firmware);
	result("image: %s", opt_image);
	if ((rc = vm_prepare(&base, "base", base_name)) < 0 || (rc = cold_boot(virt, &base)) < 0)
		return rc;
	t = now_ms();
	if ((rc = hpci_domain_save(base.dom, saved)) < 0)
		return rc;
	result("save: %" G_GINT64_FORMAT " ms, image %.1f MiB", now_ms() - t,
	       file_size(saved) / 1048576.0);
	/* The saved domain's handle goes: libvirt refuses a second event
	 * registration for a domain of the same name and UUID ("event callback
	 * already tracked"), which a restore under the saved name is. */
	g_clear_pointer(&base.dom, hpci_domain_free);
	base_nvram = vm_path(&base, "nvram.fd");
	if (hpci_sha256_file(base_nvram, &sum) == 0)
		result("base: nvram.fd sha256 %.16s (at save)", sum);
	if ((rc = hpci_saved_state_xml(virt, saved, &saved_xml)) < 0 ||
	    (rc = hpci_xml_parse(saved_xml, "the saved domain XML", &doc)) < 0)
		return rc;
	saved_name = hpci_xml_root_child_text(doc, "name");
	saved_uuid = hpci_xml_root_child_text(doc, "uuid");
	if (!opt_no_probe)
		probe_dxml(virt, saved, saved_name, saved_uuid);
	for (int r = 1; r <= opt_rounds; r++) {
		if (twin_round(virt, saved, sum, (unsigned)r) < 0) {
			result("round %d: failed: %s", r, hpci_error_message());
			failures++;
		}
	}
	if (!opt_no_cold && cold_round(virt) < 0)
		failures++;
	return failures ? -EIO : 0;
}

int main(int argc, char **argv)
{
	GOptionEntry entries[] = {
		{ "emulator", 0, 0, G_OPTION_ARG_FILENAME, &opt_emulator, "qemu-system-x86_64", "PATH" },
		{ "firmware", 0, 0, G_OPTION_ARG_FILENAME, &opt_firmware,
		  "directory with OVMF_CODE.fd and OVMF_VARS.fd", "DIR" },
		{ "image", 0, 0, G_OPTION_ARG_FILENAME, &opt_image, "base qcow2 of the minimal image",
		  "PATH" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &opt_out, "directory for every file (new)", "DIR" },
		{ "rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds, "twin restores (default 1)", "N" },
		{ "label", 0, 0, G_OPTION_ARG_STRING, &opt_label, "free text for results.txt", "TEXT" },
		{ "no-probe", 0, 0, G_OPTION_ARG_NONE, &opt_no_probe, "skip the dxml probes", NULL },
		{ "no-cold", 0, 0, G_OPTION_ARG_NONE, &opt_no_cold, "skip the cold control", NULL },
		{ "width", 0, 0, G_OPTION_ARG_INT, &opt_width,
		  "domains restored (and cold-booted) at once, 1 or 2 (default 2)", "N" },
		{ "plant", 0, 0, G_OPTION_ARG_NONE, &opt_plant,
		  "plant the attack payload at the default SMBASE before the plug", NULL },
		{ "no-plug", 0, 0, G_OPTION_ARG_NONE, &opt_no_plug,
		  "only the window check (a QEMU whose plug hangs)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- issue 13 save/restore prototype");
	g_autoptr(GError) err = NULL;
	g_autofree char *results_path = NULL;
	int rc;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "restore-experiment: %s\n", err->message);
		return 2;
	}
	if (!opt_emulator || !opt_firmware || !opt_image || !opt_out || opt_rounds < 1 ||
	    opt_width < 1 || opt_width > 2) {
		fprintf(stderr, "restore-experiment: --emulator, --firmware, --image and --out are "
			"required (see --help)\n");
		return 2;
	}
	if (hpci_mkdir_p(opt_out, 0755) < 0) {
		hpci_error_print();
		return 1;
	}
	results_path = g_build_filename(opt_out, "results.txt", NULL);
	results = fopen(results_path, "we");
	rc = run();
	if (rc < 0)
		hpci_error_print();
	if (results)
		fclose(results);
	return rc < 0 ? 1 : 0;
}
