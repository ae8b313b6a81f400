/* SPDX-License-Identifier: MIT */
/*
 * The firmware's account against the topology, the guest, the SMI mode and
 * the matrix's expectations, on firmware logs and guest lines written the
 * way OVMF and Linux print them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "firmware-check.h"
#include "observe.h"

#include <string.h>

/* 1 socket, 2 cores, 3 threads: thread IDs need 2 bits, so vCPU 3 (core 1,
 * thread 0) is APIC ID 4 and the IDs are not contiguous. */
static const struct hpci_topology threads3 = { 1, 1, 2, 3, 1, 6 };

struct fixture {
	struct hpci_cell cell;
	struct hpci_obs obs;
	GArray *plugs;
	struct hpci_fw_log log;
	GPtrArray *problems;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->cell.topology = threads3;
	f->cell.smi = (struct hpci_smi_mode){ .broadcast = true, .cpu_hotplug = true,
					      .cpu_hotunplug = true, .smbase_smram = true };
	f->cell.expect.firmware = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY,
								 HPCI_FACT_ANY, HPCI_FACT_ANY };
	hpci_obs_init(&f->obs, NULL);
	f->plugs = g_array_new(FALSE, TRUE, sizeof(struct hpci_plug_timing));
	hpci_fw_log_init(&f->log);
	f->problems = g_ptr_array_new_with_free_func(g_free);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hpci_obs_release(&f->obs);
	g_array_unref(f->plugs);
	hpci_fw_log_release(&f->log);
	g_ptr_array_unref(f->problems);
	g_free(f);
	return 0;
}

static void parse_log(struct fixture *f, const char *text)
{
	hpci_fw_log_release(&f->log);
	assert_int_equal(hpci_fw_log_parse_buffer(text, strlen(text), &f->log), 0);
}

/* A vCPU libvirt plugged and the guest onlined as `guest_cpu`, announcing
 * `guest_apic` in its "smpboot: Booting" line. */
static void plugged(struct fixture *f, unsigned vcpu, int guest_cpu, unsigned guest_apic)
{
	struct hpci_plug_timing p = { .vcpu = vcpu, .guest_cpu = guest_cpu, .request_ms = 100,
				      .returned_ms = 110, .seen_ms = 200, .online_ms = 300,
				      .unplug_request_ms = -1, .unplug_returned_ms = -1, .removed_ms = -1 };
	g_autofree char *line = g_strdup_printf("[    3.630490] smpboot: Booting Node 0 "
						"Processor %d APIC 0x%x", guest_cpu, guest_apic);

	g_array_append_val(f->plugs, p);
	hpci_obs_serial(&f->obs, line);
}

static void cross_check(struct fixture *f)
{
	struct hpci_fw_check_input in = { &f->cell, f->plugs, f->obs.events, &f->log };

	hpci_fw_cross_check(&in, f->problems);
}

static void assert_problem(struct fixture *f, const char *needle)
{
	for (guint i = 0; i < f->problems->len; i++)
		if (strstr(f->problems->pdata[i], needle))
			return;
	fail_msg("no problem mentions '%s' (%u problems%s%s)", needle, f->problems->len,
		 f->problems->len ? ", first: " : "",
		 f->problems->len ? (char *)f->problems->pdata[0] : "");
}

#define NEGOTIATED \
	"NegotiateSmiFeatures: using SMI broadcast\n" \
	"NegotiateSmiFeatures: CPU hotplug with SMI negotiated\n" \
	"NegotiateSmiFeatures: CPU hot-unplug with SMI negotiated\n"
#define HOT_ADDED_1_2_4 \
	"ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x7FF9E000, " \
	"EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n" \
	"ProcessHotAddedCpus: hot-added APIC ID 0x00000002, SMBASE 0x7FFA0000, " \
	"EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 2\n" \
	"ProcessHotAddedCpus: hot-added APIC ID 0x00000004, SMBASE 0x7FFA2000, " \
	"EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 3\n"

static void test_topology_apic_ids(void **state)
{
	const struct hpci_topology flat = { 1, 1, 4, 1, 1, 4 };
	const struct hpci_topology big = { 2, 2, 3, 2, 1, 24 };

	(void)state;
	assert_int_equal(hpci_topology_apic_id(&threads3, 0), 0);
	assert_int_equal(hpci_topology_apic_id(&threads3, 2), 2);
	assert_int_equal(hpci_topology_apic_id(&threads3, 3), 4);
	assert_int_equal(hpci_topology_apic_id(&threads3, 5), 6);
	assert_int_equal(hpci_topology_apic_id(&flat, 3), 3);
	/* 2 sockets x 2 dies x 3 cores x 2 threads: 1 thread bit, 2 core
	 * bits, 1 die bit; vCPU 13 is socket 1, die 0, core 0, thread 1. */
	assert_int_equal(hpci_topology_apic_id(&big, 13), (1 << 4) | 1);
	assert_int_equal(hpci_topology_apic_id(&big, 6), (1 << 3));
}

static void test_three_plugs_agree(void **state)
{
	struct fixture *f = *state;

	parse_log(f, NEGOTIATED HOT_ADDED_1_2_4);
	plugged(f, 1, 1, 1);
	plugged(f, 2, 2, 2);
	plugged(f, 3, 3, 4);
	cross_check(f);
	if (f->problems->len)
		fail_msg("unexpected problem: %s", (char *)f->problems->pdata[0]);
}

static void test_firmware_relocated_other_apic_ids(void **state)
{
	struct fixture *f = *state;

	parse_log(f, NEGOTIATED HOT_ADDED_1_2_4);
	plugged(f, 1, 1, 1);
	plugged(f, 2, 2, 2);
	plugged(f, 4, 3, 5);   /* vCPU 4 is APIC ID 5, the firmware says 4 */
	cross_check(f);
	assert_problem(f, "the firmware relocated APIC IDs 1, 2, 4 but the topology gives the "
			  "plugged vCPUs APIC IDs 1, 2, 5");
}

static void test_relocated_count_differs(void **state)
{
	struct fixture *f = *state;

	parse_log(f, NEGOTIATED);
	plugged(f, 1, 1, 1);
	cross_check(f);
	assert_problem(f, "the firmware relocated 0 CPU(s) (APIC IDs none) but libvirt plugged 1 "
			  "(APIC IDs 1 by the topology)");
}

static void test_guest_apic_differs(void **state)
{
	struct fixture *f = *state;

	parse_log(f, NEGOTIATED HOT_ADDED_1_2_4);
	plugged(f, 1, 1, 1);
	plugged(f, 2, 2, 2);
	plugged(f, 3, 3, 3);   /* the guest says 3 where topology and firmware say 4 */
	cross_check(f);
	assert_problem(f, "the guest booted hot-added CPUs with APIC IDs 1, 2, 3 but the topology "
			  "gives them 1, 2, 4");
	assert_int_equal(f->problems->len, 1);
}

static void test_duplicate_smbase(void **state)
{
	struct fixture *f = *state;

	parse_log(f, NEGOTIATED
		  "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x7FF9E000, "
		  "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
		  "ProcessHotAddedCpus: hot-added APIC ID 0x00000002, SMBASE 0x7FF9E000, "
		  "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 2\n");
	plugged(f, 1, 1, 1);
	plugged(f, 2, 2, 2);
	cross_check(f);
	assert_problem(f, "gave APIC IDs 1 and 2 the same SMBASE 0x7ff9e000");
}

static void test_smbase_reused_after_unplug(void **state)
{
	struct fixture *f = *state;
	struct hpci_plug_timing *first;

	parse_log(f, NEGOTIATED
		  "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x7FF9E000, "
		  "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
		  "UnplugCpus: Started hot-unplug on ProcessorNum 1, APIC ID 0x00000001, "
		  "QemuSelector 1\n"
		  "EjectCpu: Unplugged ProcessorNum 1, QemuSelector 1\n"
		  "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x7FF9E000, "
		  "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n");
	plugged(f, 1, 1, 1);
	first = &g_array_index(f->plugs, struct hpci_plug_timing, 0);
	first->unplug_request_ms = 400;
	first->removed_ms = 500;
	plugged(f, 1, 1, 1);
	cross_check(f);
	if (f->problems->len)
		fail_msg("unexpected problem: %s", (char *)f->problems->pdata[0]);
}

static void test_unplug_not_seen_by_firmware(void **state)
{
	struct fixture *f = *state;
	struct hpci_plug_timing *p;

	parse_log(f, NEGOTIATED
		  "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x7FF9E000, "
		  "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n");
	plugged(f, 1, 1, 1);
	p = &g_array_index(f->plugs, struct hpci_plug_timing, 0);
	p->unplug_request_ms = 400;
	p->removed_ms = 500;
	cross_check(f);
	assert_problem(f, "the firmware started the hot-unplug of APIC IDs none but the guest saw "
			  "vCPUs with APIC IDs 1 go away");
}

static void test_negotiation_against_smi_mode(void **state)
{
	struct fixture *f = *state;

	f->cell.smi.cpu_hotunplug = false;
	parse_log(f, NEGOTIATED);
	cross_check(f);
	assert_problem(f, "the firmware negotiated CPU hot-unplug with SMI but the cell's SMI mode "
			  "has ICH9-LPC.x-smi-cpu-hotunplug=off");
	assert_int_equal(f->problems->len, 1);
}

static void test_refused_cell_without_hotplug(void **state)
{
	struct fixture *f = *state;
	struct hpci_plug_timing refused = { .vcpu = 1, .guest_cpu = -1, .request_ms = 100,
					    .returned_ms = 150, .seen_ms = -1, .online_ms = -1,
					    .unplug_request_ms = -1, .unplug_returned_ms = -1, .removed_ms = -1,
					    .request_failed = true };

	f->cell.smi.cpu_hotplug = f->cell.smi.cpu_hotunplug = false;
	parse_log(f, "NegotiateSmiFeatures: using SMI broadcast\n"
		  "NegotiateSmiFeatures: CPU hotplug not negotiated\n"
		  "NegotiateSmiFeatures: CPU hot-unplug not negotiated\n");
	g_array_append_val(f->plugs, refused);
	cross_check(f);
	if (f->problems->len)
		fail_msg("unexpected problem: %s", (char *)f->problems->pdata[0]);
}

static void test_expectations(void **state)
{
	struct fixture *f = *state;
	struct hpci_firmware_expect expect = { .smram_at_default_smbase = 1, .broadcast = 1,
					       .cpu_hotplug = 1, .cpu_hotunplug = 0 };

	parse_log(f, "PlatformSmmProtectionsInit: SMRAM at default SMBASE found\n" NEGOTIATED);
	hpci_fw_expect_check(&expect, &f->log, f->problems);
	assert_int_equal(f->problems->len, 1);
	assert_string_equal(f->problems->pdata[0],
			    "firmware.negotiated.cpu_hotunplug: expected false, observed true");

	/* A fact the log never stated is reported as missing, not as false. */
	g_ptr_array_set_size(f->problems, 0);
	parse_log(f, NEGOTIATED);
	expect.cpu_hotunplug = 1;
	hpci_fw_expect_check(&expect, &f->log, f->problems);
	assert_int_equal(f->problems->len, 1);
	assert_string_equal(f->problems->pdata[0], "firmware.smram_at_default_smbase: expected "
			    "true, observed missing from firmware.log");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology_apic_ids),
		cmocka_unit_test_setup_teardown(test_three_plugs_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_relocated_other_apic_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_relocated_count_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_apic_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_smbase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smbase_reused_after_unplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug_not_seen_by_firmware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiation_against_smi_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_cell_without_hotplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expectations, setup, teardown),
	};

	return cmocka_run_group_tests_name("firmware-check", tests, NULL, NULL);
}
