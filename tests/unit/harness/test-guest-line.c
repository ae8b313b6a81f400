/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest-line.h"

static void expect_line(const char *line, enum hpci_guest_line_kind kind, int cpu)
{
	struct hpci_guest_line l = hpci_guest_line_parse(line);

	if (l.kind != kind || l.cpu != cpu)
		fail_msg("'%s': got %s/%d, want %s/%d", line, hpci_guest_line_kind_name(l.kind),
			 l.cpu, hpci_guest_line_kind_name(kind), cpu);
}

static void test_contract_lines(void **state)
{
	(void)state;
	expect_line("HPCI-READY", HPCI_LINE_READY, -1);
	expect_line("HPCI-READY\r", HPCI_LINE_READY, -1);
	expect_line("HPCI-CPU-ADDED 1", HPCI_LINE_CPU_ADDED, 1);
	expect_line("HPCI-CPU-ONLINE 31", HPCI_LINE_CPU_ONLINE, 31);
	expect_line("HPCI-CPU-OFFLINE 2", HPCI_LINE_CPU_OFFLINE, 2);
	expect_line("HPCI-CPU-REMOVED 7", HPCI_LINE_CPU_REMOVED, 7);
	expect_line("HPCI-SMI sweeps=3 cpu=1 reads=90 writes=3 ms=2000", HPCI_LINE_SMI_DONE, -1);
	expect_line("HPCI-SMI-ERROR cannot write variable", HPCI_LINE_GUEST_ERROR, -1);
	expect_line("HPCI-ERROR no agent port", HPCI_LINE_GUEST_ERROR, -1);
}

static void test_damaged_lines_are_other(void **state)
{
	(void)state;
	expect_line("HPCI-READY now", HPCI_LINE_OTHER, -1);
	expect_line("HPCI-CPU-ADDED", HPCI_LINE_OTHER, -1);
	expect_line("HPCI-CPU-ADDED x", HPCI_LINE_OTHER, -1);
	expect_line("HPCI-CPU-ADDED 99999999999", HPCI_LINE_OTHER, -1);
	expect_line("HPCI-CPU-ADDED 3junk", HPCI_LINE_OTHER, -1);
	expect_line("", HPCI_LINE_OTHER, -1);
	expect_line("[", HPCI_LINE_OTHER, -1);
	expect_line("xHPCI-READY", HPCI_LINE_OTHER, -1);
}

static void test_kernel_cpu_apic_lines(void **state)
{
	struct hpci_guest_line l;

	(void)state;
	l = hpci_guest_line_parse("[    3.630490] smpboot: Booting Node 0 Processor 3 APIC 0x4");
	assert_int_equal(l.kind, HPCI_LINE_KERNEL_CPU_APIC);
	assert_int_equal(l.cpu, 3);
	assert_int_equal(l.apic, 4);
	l = hpci_guest_line_parse("smpboot: Booting Node 1 Processor 17 APIC 0x1a");
	assert_int_equal(l.cpu, 17);
	assert_int_equal(l.apic, 0x1a);
	l = hpci_guest_line_parse("[    3.6] smpboot: Booting Node 0 Processor 3 APIC");
	assert_int_equal(l.kind, HPCI_LINE_OTHER);
	assert_int_equal(l.apic, -1);
	assert_int_equal(hpci_guest_line_parse("HPCI-READY").apic, -1);
}

static void test_kernel_lines(void **state)
{
	(void)state;
	expect_line("[   41.123456] CPU1 has been hot-added", HPCI_LINE_KERNEL_HOTADDED, 1);
	expect_line("CPU12 has been hot-added", HPCI_LINE_KERNEL_HOTADDED, 12);
	expect_line("[    9.000000] Kernel panic - not syncing: Attempted to kill init!",
		    HPCI_LINE_KERNEL_PANIC, -1);
	expect_line("[    1.0] BUG: kernel NULL pointer dereference, address: 0", HPCI_LINE_KERNEL_OOPS, -1);
	expect_line("[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)",
		    HPCI_LINE_KERNEL_BOOT, -1);
	expect_line("[    2.0] smpboot: Allowing 2 CPUs, 1 hotplug CPUs", HPCI_LINE_OTHER, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_lines),
		cmocka_unit_test(test_damaged_lines_are_other),
		cmocka_unit_test(test_kernel_lines),
		cmocka_unit_test(test_kernel_cpu_apic_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
