/* SPDX-License-Identifier: MIT */
#include "domain-xml.h"
#include "error.h"
#include "xml.h"

#include <errno.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

static void add_os(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_cell *cell = spec->cell;
	xmlNodePtr os = hpci_xml_child(domain, "os", NULL);
	xmlNodePtr type = hpci_xml_child(os, "type", "hvm");
	xmlNodePtr loader = hpci_xml_child(os, "loader", spec->firmware_code);
	xmlNodePtr nvram = hpci_xml_child(os, "nvram", spec->nvram);

	hpci_xml_attr(type, "arch", "x86_64");
	hpci_xml_attr(type, "machine", cell->smi.machine);
	hpci_xml_attr(loader, "readonly", "yes");
	hpci_xml_attr(loader, "secure", cell->firmware.smm ? "yes" : "no");
	hpci_xml_attr(loader, "type", "pflash");
	hpci_xml_attr(nvram, "template", spec->firmware_vars);
	hpci_xml_attr(hpci_xml_child(os, "boot", NULL), "dev", "hd");
}

static void add_cpus(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_topology *topo = &spec->cell->topology;
	xmlNodePtr vcpu = hpci_xml_childf(domain, "vcpu", "%u", topo->max);
	xmlNodePtr vcpus = hpci_xml_child(domain, "vcpus", NULL);

	hpci_xml_attr(vcpu, "placement", "static");
	hpci_xml_attrf(vcpu, "current", "%u", topo->boot);
	/* vCPU 0 can never be unplugged; the others booted are fixed too, so
	 * the hotpluggable ones are exactly the free slots.  Only the booted
	 * ones get an order: libvirt drops it from the others once the domain
	 * runs, and a restore's XML must match the running one's (libvirt
	 * refuses "vcpu enable order of vCPU '1' differs"). */
	for (unsigned i = 0; i < topo->max; i++) {
		xmlNodePtr v = hpci_xml_child(vcpus, "vcpu", NULL);

		hpci_xml_attrf(v, "id", "%u", i);
		hpci_xml_attr(v, "enabled", i < topo->boot ? "yes" : "no");
		hpci_xml_attr(v, "hotpluggable", i < topo->boot ? "no" : "yes");
		if (i < topo->boot)
			hpci_xml_attrf(v, "order", "%u", i + 1);
	}
}

static void add_cpu_model(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_topology *topo = &spec->cell->topology;
	xmlNodePtr cpu = hpci_xml_child(domain, "cpu", NULL);
	xmlNodePtr model = hpci_xml_child(cpu, "model", "qemu64");
	xmlNodePtr topology = hpci_xml_child(cpu, "topology", NULL);

	hpci_xml_attr(cpu, "mode", "custom");
	hpci_xml_attr(cpu, "match", "exact");
	hpci_xml_attr(cpu, "check", "none");
	hpci_xml_attr(model, "fallback", "forbid");
	hpci_xml_attrf(topology, "sockets", "%u", topo->sockets);
	hpci_xml_attrf(topology, "dies", "%u", topo->dies);
	hpci_xml_attrf(topology, "cores", "%u", topo->cores);
	hpci_xml_attrf(topology, "threads", "%u", topo->threads);
}

static void add_devices(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	xmlNodePtr devices = hpci_xml_child(domain, "devices", NULL);
	xmlNodePtr disk, node, serial, channel;

	hpci_xml_child(devices, "emulator", spec->emulator);

	disk = hpci_xml_child(devices, "disk", NULL);
	hpci_xml_attr(disk, "type", "file");
	hpci_xml_attr(disk, "device", "disk");
	node = hpci_xml_child(disk, "driver", NULL);
	hpci_xml_attr(node, "name", "qemu");
	hpci_xml_attr(node, "type", "qcow2");
	hpci_xml_attr(hpci_xml_child(disk, "source", NULL), "file", spec->disk);
	node = hpci_xml_child(disk, "target", NULL);
	hpci_xml_attr(node, "dev", "vda");
	hpci_xml_attr(node, "bus", "virtio");

	serial = hpci_xml_child(devices, "serial", NULL);
	hpci_xml_attr(serial, "type", "file");
	node = hpci_xml_child(serial, "source", NULL);
	hpci_xml_attr(node, "path", spec->serial_log);
	hpci_xml_attr(node, "append", spec->append_logs ? "on" : "off");
	hpci_xml_attrf(hpci_xml_child(serial, "target", NULL), "port", "%u", 0);

	channel = hpci_xml_child(devices, "channel", NULL);
	hpci_xml_attr(channel, "type", "unix");
	node = hpci_xml_child(channel, "target", NULL);
	hpci_xml_attr(node, "type", "virtio");
	hpci_xml_attr(node, "name", "org.qemu.guest_agent.0");

	/* Nothing the test does not need: fewer devices, faster TCG boot. */
	node = hpci_xml_child(devices, "controller", NULL);
	hpci_xml_attr(node, "type", "usb");
	hpci_xml_attr(node, "model", "none");
	hpci_xml_attr(hpci_xml_child(devices, "memballoon", NULL), "model", "none");
	node = hpci_xml_child(devices, "video", NULL);
	hpci_xml_attr(hpci_xml_child(node, "model", NULL), "type", "none");
}

static void qemu_arg(xmlNodePtr cmdline, xmlNsPtr ns, const char *value)
{
	hpci_xml_attr(hpci_xml_child(cmdline, "arg", NULL), "value", value);
}

static void qemu_global(xmlNodePtr cmdline, xmlNsPtr ns, const char *prop, bool on)
{
	g_autofree char *value = g_strdup_printf("%s=%s", prop, on ? "on" : "off");

	qemu_arg(cmdline, ns, "-global");
	qemu_arg(cmdline, ns, value);
}

/* Only a switch the matrix gave becomes a -global; the others are left to
 * QEMU, so the cell runs with what its machine type implies. */
static void smi_global(xmlNodePtr cmdline, xmlNsPtr ns, const struct hpci_smi_mode *smi,
		       enum hpci_smi_switch bit, const char *prop, bool on)
{
	if (smi->given & bit)
		qemu_global(cmdline, ns, prop, on);
}

/* QEMU's option syntax escapes a comma inside a value by doubling it; cell
 * directories are named after cell ids, which contain commas. */
static char *escape_commas(const char *value)
{
	g_auto(GStrv) parts = g_strsplit(value, ",", -1);

	return g_strjoinv(",,", parts);
}

/* libvirt has no elements for the SMI feature toggles or isa-debugcon. */
static void add_qemu_commandline(xmlNodePtr domain, xmlNsPtr ns,
				 const struct hpci_domain_spec *spec)
{
	const struct hpci_smi_mode *smi = &spec->cell->smi;
	xmlNodePtr cmdline = hpci_xml_child(domain, "commandline", NULL);
	g_autofree char *path = escape_commas(spec->firmware_log);
	g_autofree char *chardev = g_strdup_printf("file,id=hpci-fwlog,path=%s%s", path,
						   spec->append_logs ? ",append=on" : "");

	xmlSetNs(cmdline, ns);    /* the arguments inherit it */
	smi_global(cmdline, ns, smi, HPCI_SMI_BROADCAST, "ICH9-LPC.x-smi-broadcast",
		   smi->broadcast);
	smi_global(cmdline, ns, smi, HPCI_SMI_CPU_HOTPLUG, "ICH9-LPC.x-smi-cpu-hotplug",
		   smi->cpu_hotplug);
	smi_global(cmdline, ns, smi, HPCI_SMI_CPU_HOTUNPLUG, "ICH9-LPC.x-smi-cpu-hotunplug",
		   smi->cpu_hotunplug);
	smi_global(cmdline, ns, smi, HPCI_SMI_SMBASE_SMRAM, "mch.smbase-smram",
		   smi->smbase_smram);
	qemu_arg(cmdline, ns, "-chardev");
	qemu_arg(cmdline, ns, chardev);
	qemu_arg(cmdline, ns, "-device");
	qemu_arg(cmdline, ns, "isa-debugcon,iobase=0x402,chardev=hpci-fwlog");
}

int hpci_domain_xml(const struct hpci_domain_spec *spec, char **ret_xml)
{
	const struct hpci_cell *cell = spec->cell;
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr domain = hpci_xml_root(doc, "domain");
	xmlNsPtr qemu_ns;
	xmlNodePtr features, seclabel;

	qemu_ns = xmlNewNs(domain, BAD_CAST QEMU_NS, BAD_CAST "qemu");
	hpci_xml_attr(domain, "type", g_strcmp0(spec->accel, "kvm") == 0 ? "kvm" : "qemu");
	hpci_xml_child(domain, "name", spec->name);
	hpci_xml_attr(hpci_xml_childf(domain, "memory", "%u", spec->memory_mib), "unit", "MiB");
	add_cpus(domain, spec);
	add_os(domain, spec);

	features = hpci_xml_child(domain, "features", NULL);
	hpci_xml_child(features, "acpi", NULL);
	hpci_xml_child(features, "apic", NULL);
	hpci_xml_attr(hpci_xml_child(features, "smm", NULL), "state", cell->firmware.smm ? "on" : "off");

	add_cpu_model(domain, spec);
	hpci_xml_attr(hpci_xml_child(domain, "clock", NULL), "offset", "utc");
	/* Any stop the harness did not ask for ends the domain, so the event
	 * tells the classifier what happened and nothing reboots behind it. */
	hpci_xml_child(domain, "on_poweroff", "destroy");
	/* OVMF resets once on its own during a boot that changes its memory
	 * type information (first boots with many vCPUs do): the domain
	 * restarts and the harness decides what a reset means (cell-run.c). */
	hpci_xml_child(domain, "on_reboot", "restart");
	hpci_xml_child(domain, "on_crash", "destroy");
	add_devices(domain, spec);

	/* QEMU runs as the harness's user: every cell file stays the user's own
	 * and lives in the report directory, with no relabelling by libvirt. */
	seclabel = hpci_xml_child(domain, "seclabel", NULL);
	hpci_xml_attr(seclabel, "type", "static");
	hpci_xml_attr(seclabel, "model", "dac");
	hpci_xml_attr(seclabel, "relabel", "no");
	hpci_xml_childf(seclabel, "label", "+%u:+%u", spec->uid, spec->gid);

	add_qemu_commandline(domain, qemu_ns, spec);

	if (!(*ret_xml = hpci_xml_to_string(doc, NULL)))
		return hpci_error(ENOMEM, "cannot serialise the domain XML of '%s'", spec->name);
	return 0;
}
