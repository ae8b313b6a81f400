/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "domain-xml.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#define ALL_GIVEN (HPCI_SMI_BROADCAST | HPCI_SMI_CPU_HOTPLUG | HPCI_SMI_CPU_HOTUNPLUG | \
		   HPCI_SMI_SMBASE_SMRAM)

/* A pc-q35-7.2 cell whose four SMI switches the matrix all gave. */
static struct hpci_cell make_cell(bool smm, bool hotplug, bool hotunplug, bool smbase_smram)
{
	struct hpci_cell cell = {
		.id = (char *)"topology=t,smi=s",
		.topology = { .sockets = 2, .dies = 1, .cores = 2, .threads = 2, .boot = 1, .max = 8 },
		.smi = { .machine = (char *)"pc-q35-7.2", .broadcast = true, .cpu_hotplug = hotplug,
			 .cpu_hotunplug = hotunplug, .smbase_smram = smbase_smram,
			 .given = ALL_GIVEN },
		.firmware = { .code = (char *)(smm ? "/fw/CODE.secboot.fd" : "/fw/CODE.fd"),
			      .vars = (char *)"/fw/VARS.fd", .smm = smm },
		.qemu = { .emulator = (char *)"/opt/qemu/bin/qemu-system-x86_64" },
	};

	return cell;
}

static xmlDocPtr build(const struct hpci_cell *cell, const char *accel)
{
	struct hpci_domain_spec spec = {
		.cell = cell, .emulator = cell->qemu.emulator, .firmware_code = cell->firmware.code,
		.firmware_vars = cell->firmware.vars, .name = "hpci-run-1", .accel = accel,
		.disk = "/r/cells/c/disk.qcow2",
		.nvram = "/r/cells/c/nvram.fd", .serial_log = "/r/cells/c/serial.log",
		.firmware_log = "/r/cells/c/firmware.log", .memory_mib = 512, .uid = 1000, .gid = 100,
	};
	g_autofree char *xml = NULL;
	xmlDocPtr doc;

	assert_int_equal(hpci_domain_xml(&spec, &xml), 0);
	doc = xmlReadMemory(xml, strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	return doc;
}

/* The string value of an XPath expression ("" when absent). */
static char *xpath(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	char *out;

	xmlXPathRegisterNs(ctx, BAD_CAST "qemu", BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0");
	obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	assert_non_null(obj);
	{
		xmlChar *s = xmlXPathCastToString(obj);

		out = g_strdup((const char *)s);
		xmlFree(s);
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return out;
}

#define assert_xpath(doc, expr, want) do { \
		g_autofree char *got_ = xpath(doc, expr); \
		if (strcmp(got_, want) != 0) \
			fail_msg("%s: got '%s', want '%s'", expr, got_, want); \
	} while (0)

static void test_smm_cell(void **state)
{
	struct hpci_cell cell = make_cell(true, true, true, true);
	xmlDocPtr doc = build(&cell, "tcg");

	(void)state;
	assert_xpath(doc, "/domain/@type", "qemu");
	assert_xpath(doc, "/domain/name", "hpci-run-1");
	assert_xpath(doc, "/domain/os/type/@machine", "pc-q35-7.2");
	assert_xpath(doc, "/domain/os/loader", "/fw/CODE.secboot.fd");
	assert_xpath(doc, "/domain/os/loader/@secure", "yes");
	assert_xpath(doc, "/domain/os/loader/@type", "pflash");
	assert_xpath(doc, "/domain/os/nvram", "/r/cells/c/nvram.fd");
	assert_xpath(doc, "/domain/os/nvram/@template", "/fw/VARS.fd");
	assert_xpath(doc, "/domain/features/smm/@state", "on");
	assert_xpath(doc, "/domain/vcpu", "8");
	assert_xpath(doc, "/domain/vcpu/@current", "1");
	assert_xpath(doc, "count(/domain/vcpus/vcpu)", "8");
	assert_xpath(doc, "/domain/vcpus/vcpu[@id='0']/@enabled", "yes");
	assert_xpath(doc, "/domain/vcpus/vcpu[@id='0']/@hotpluggable", "no");
	assert_xpath(doc, "/domain/vcpus/vcpu[@id='7']/@enabled", "no");
	assert_xpath(doc, "/domain/vcpus/vcpu[@id='7']/@hotpluggable", "yes");
	assert_xpath(doc, "/domain/cpu/topology/@sockets", "2");
	assert_xpath(doc, "/domain/cpu/topology/@threads", "2");
	assert_xpath(doc, "/domain/cpu/model", "qemu64");
	assert_xpath(doc, "/domain/devices/emulator", "/opt/qemu/bin/qemu-system-x86_64");
	assert_xpath(doc, "/domain/devices/disk/source/@file", "/r/cells/c/disk.qcow2");
	assert_xpath(doc, "/domain/devices/serial/source/@path", "/r/cells/c/serial.log");
	assert_xpath(doc, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
	assert_xpath(doc, "/domain/on_reboot", "restart");
	/* No display: libvirt would otherwise add a VGA card that needs ROMs. */
	assert_xpath(doc, "/domain/devices/video/model/@type", "none");
	assert_xpath(doc, "/domain/seclabel/label", "+1000:+100");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-broadcast=on'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-cpu-hotplug=on'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-cpu-hotunplug=on'])", "1");
	/* given, so emitted even though it is pc-q35-7.2's default */
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='mch.smbase-smram=on'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='-global'])", "4");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='file,id=hpci-fwlog,path=/r/cells/c/firmware.log'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='isa-debugcon,iobase=0x402,chardev=hpci-fwlog'])", "1");
	xmlFreeDoc(doc);
}

static void test_toggles_off_and_non_smm_firmware(void **state)
{
	struct hpci_cell cell = make_cell(false, false, false, false);
	xmlDocPtr doc = build(&cell, "kvm");

	(void)state;
	assert_xpath(doc, "/domain/@type", "kvm");
	assert_xpath(doc, "/domain/os/loader/@secure", "no");
	assert_xpath(doc, "/domain/features/smm/@state", "off");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-cpu-hotplug=off'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-cpu-hotunplug=off'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='mch.smbase-smram=off'])", "1");
	xmlFreeDoc(doc);
}

/* pc-q35-5.1 leaves CPU hot(un)plug with SMI off: nothing given, nothing on
 * the command line, so QEMU applies its own compat properties. */
static void test_machine_defaults_left_to_qemu(void **state)
{
	struct hpci_cell cell = make_cell(true, false, false, true);
	xmlDocPtr doc;

	(void)state;
	cell.smi.machine = (char *)"pc-q35-5.1";
	cell.smi.given = 0;
	doc = build(&cell, "tcg");
	assert_xpath(doc, "/domain/os/type/@machine", "pc-q35-5.1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='-global'])", "0");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[starts-with(@value,'ICH9-LPC.')])", "0");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[starts-with(@value,'mch.')])", "0");
	/* the debug console does not depend on the SMI mode */
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='isa-debugcon,iobase=0x402,chardev=hpci-fwlog'])", "1");
	xmlFreeDoc(doc);
}

/* Given values are emitted, whatever the machine's default; the rest are not. */
static void test_only_given_switches_emitted(void **state)
{
	struct hpci_cell cell = make_cell(true, true, false, true);
	xmlDocPtr doc;

	(void)state;
	cell.smi.machine = (char *)"pc-q35-4.2";
	cell.smi.given = HPCI_SMI_CPU_HOTPLUG | HPCI_SMI_SMBASE_SMRAM;
	doc = build(&cell, "tcg");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='-global'])", "2");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='ICH9-LPC.x-smi-cpu-hotplug=on'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='mch.smbase-smram=on'])", "1");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[starts-with(@value,'ICH9-LPC.x-smi-broadcast')])", "0");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[starts-with(@value,'ICH9-LPC.x-smi-cpu-hotunplug')])", "0");
	xmlFreeDoc(doc);
}

static void test_special_characters_are_escaped(void **state)
{
	struct hpci_cell cell = make_cell(true, true, true, true);
	struct hpci_domain_spec spec = {
		.cell = &cell, .emulator = cell.qemu.emulator, .firmware_code = cell.firmware.code,
		.firmware_vars = cell.firmware.vars, .name = "a<b>&'\"", .accel = "tcg",
		.disk = "/d", .nvram = "/n",
		.serial_log = "/s", .firmware_log = "/f,x=1,y", .memory_mib = 256,
	};
	g_autofree char *xml = NULL;
	xmlDocPtr doc;

	(void)state;
	assert_int_equal(hpci_domain_xml(&spec, &xml), 0);
	doc = xmlReadMemory(xml, strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	assert_xpath(doc, "/domain/name", "a<b>&'\"");
	assert_xpath(doc, "count(/domain/qemu:commandline/qemu:arg[@value='file,id=hpci-fwlog,path=/f,,x=1,,y'])", "1");
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smm_cell),
		cmocka_unit_test(test_toggles_off_and_non_smm_firmware),
		cmocka_unit_test(test_machine_defaults_left_to_qemu),
		cmocka_unit_test(test_only_given_switches_emitted),
		cmocka_unit_test(test_special_characters_are_escaped),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
