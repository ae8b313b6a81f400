/* SPDX-License-Identifier: MIT */
#include "domain-xml.h"
#include "error.h"

#include <errno.h>
#include <libxml/tree.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void attr(xmlNodePtr node, const char *name, const char *value)
{
	xmlNewProp(node, BAD_CAST name, BAD_CAST value);
}

static void attr_uint(xmlNodePtr node, const char *name, unsigned value)
{
	char buf[16];

	g_snprintf(buf, sizeof(buf), "%u", value);
	attr(node, name, buf);
}

static void add_os(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_cell *cell = spec->cell;
	xmlNodePtr os = child(domain, "os", NULL);
	xmlNodePtr type = child(os, "type", "hvm");
	xmlNodePtr loader = child(os, "loader", spec->firmware_code);
	xmlNodePtr nvram = child(os, "nvram", spec->nvram);

	attr(type, "arch", "x86_64");
	attr(type, "machine", cell->smi.machine);
	attr(loader, "readonly", "yes");
	attr(loader, "secure", cell->firmware.smm ? "yes" : "no");
	attr(loader, "type", "pflash");
	attr(nvram, "template", spec->firmware_vars);
	attr(child(os, "boot", NULL), "dev", "hd");
}

static void add_cpus(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_topology *topo = &spec->cell->topology;
	xmlNodePtr vcpu = child(domain, "vcpu", NULL);
	xmlNodePtr vcpus = child(domain, "vcpus", NULL);
	char max[16];

	g_snprintf(max, sizeof(max), "%u", topo->max);
	xmlNodeSetContent(vcpu, BAD_CAST max);
	attr(vcpu, "placement", "static");
	attr_uint(vcpu, "current", topo->boot);
	/* vCPU 0 can never be unplugged; the others booted are fixed too, so
	 * the hotpluggable ones are exactly the free slots. */
	for (unsigned i = 0; i < topo->max; i++) {
		xmlNodePtr v = child(vcpus, "vcpu", NULL);

		attr_uint(v, "id", i);
		attr(v, "enabled", i < topo->boot ? "yes" : "no");
		attr(v, "hotpluggable", i < topo->boot ? "no" : "yes");
		attr_uint(v, "order", i + 1);
	}
}

static void add_cpu_model(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	const struct hpci_topology *topo = &spec->cell->topology;
	xmlNodePtr cpu = child(domain, "cpu", NULL);
	xmlNodePtr model = child(cpu, "model", "qemu64");
	xmlNodePtr topology = child(cpu, "topology", NULL);

	attr(cpu, "mode", "custom");
	attr(cpu, "match", "exact");
	attr(cpu, "check", "none");
	attr(model, "fallback", "forbid");
	attr_uint(topology, "sockets", topo->sockets);
	attr_uint(topology, "dies", topo->dies);
	attr_uint(topology, "cores", topo->cores);
	attr_uint(topology, "threads", topo->threads);
}

static void add_devices(xmlNodePtr domain, const struct hpci_domain_spec *spec)
{
	xmlNodePtr devices = child(domain, "devices", NULL);
	xmlNodePtr disk, node, serial, channel;

	child(devices, "emulator", spec->emulator);

	disk = child(devices, "disk", NULL);
	attr(disk, "type", "file");
	attr(disk, "device", "disk");
	node = child(disk, "driver", NULL);
	attr(node, "name", "qemu");
	attr(node, "type", "qcow2");
	attr(child(disk, "source", NULL), "file", spec->disk);
	node = child(disk, "target", NULL);
	attr(node, "dev", "vda");
	attr(node, "bus", "virtio");

	serial = child(devices, "serial", NULL);
	attr(serial, "type", "file");
	node = child(serial, "source", NULL);
	attr(node, "path", spec->serial_log);
	attr(node, "append", "off");
	attr_uint(child(serial, "target", NULL), "port", 0);

	channel = child(devices, "channel", NULL);
	attr(channel, "type", "unix");
	node = child(channel, "target", NULL);
	attr(node, "type", "virtio");
	attr(node, "name", "org.qemu.guest_agent.0");

	/* Nothing the test does not need: fewer devices, faster TCG boot. */
	node = child(devices, "controller", NULL);
	attr(node, "type", "usb");
	attr(node, "model", "none");
	attr(child(devices, "memballoon", NULL), "model", "none");
	attr(child(child(devices, "video", NULL), "model", NULL), "type", "none");
}

static void qemu_arg(xmlNodePtr cmdline, xmlNsPtr ns, const char *value)
{
	xmlNodePtr arg = xmlNewChild(cmdline, ns, BAD_CAST "arg", NULL);

	attr(arg, "value", value);
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
	xmlNodePtr cmdline = xmlNewChild(domain, ns, BAD_CAST "commandline", NULL);
	g_autofree char *path = escape_commas(spec->firmware_log);
	g_autofree char *chardev = g_strdup_printf("file,id=hpci-fwlog,path=%s", path);

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
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr domain = xmlNewNode(NULL, BAD_CAST "domain");
	xmlNsPtr qemu_ns;
	xmlNodePtr features, seclabel;
	xmlChar *buf = NULL;
	int len = 0;
	char text[64];

	xmlDocSetRootElement(doc, domain);
	qemu_ns = xmlNewNs(domain, BAD_CAST QEMU_NS, BAD_CAST "qemu");
	attr(domain, "type", g_strcmp0(spec->accel, "kvm") == 0 ? "kvm" : "qemu");
	child(domain, "name", spec->name);
	g_snprintf(text, sizeof(text), "%u", spec->memory_mib);
	attr(child(domain, "memory", text), "unit", "MiB");
	add_cpus(domain, spec);
	add_os(domain, spec);

	features = child(domain, "features", NULL);
	child(features, "acpi", NULL);
	child(features, "apic", NULL);
	attr(child(features, "smm", NULL), "state", cell->firmware.smm ? "on" : "off");

	add_cpu_model(domain, spec);
	attr(child(domain, "clock", NULL), "offset", "utc");
	/* Any stop the harness did not ask for ends the domain, so the event
	 * tells the classifier what happened and nothing reboots behind it. */
	child(domain, "on_poweroff", "destroy");
	/* OVMF resets once on its own during a boot that changes its memory
	 * type information (first boots with many vCPUs do): the domain
	 * restarts and the harness decides what a reset means (cell-run.c). */
	child(domain, "on_reboot", "restart");
	child(domain, "on_crash", "destroy");
	add_devices(domain, spec);

	/* QEMU runs as the harness's user: every cell file stays the user's own
	 * and lives in the report directory, with no relabelling by libvirt. */
	seclabel = child(domain, "seclabel", NULL);
	attr(seclabel, "type", "static");
	attr(seclabel, "model", "dac");
	attr(seclabel, "relabel", "no");
	g_snprintf(text, sizeof(text), "+%u:+%u", spec->uid, spec->gid);
	child(seclabel, "label", text);

	add_qemu_commandline(domain, qemu_ns, spec);

	xmlDocDumpFormatMemory(doc, &buf, &len, 1);
	xmlFreeDoc(doc);
	if (!buf)
		return hpci_error(ENOMEM, "cannot serialise the domain XML of '%s'", spec->name);
	*ret_xml = g_strndup((const char *)buf, len);
	xmlFree(buf);
	return 0;
}
