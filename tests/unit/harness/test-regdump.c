/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../fixture.h"
#include "regdump.h"

#include <errno.h>
#include <string.h>

static GArray *parse_fixture(const char *name)
{
	g_autofree char *text = fixture_read(name);
	GArray *cpus = NULL;

	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	return cpus;
}

static void test_parse_hang_dump(void **state)
{
	g_autoptr(GArray) cpus = parse_fixture("harness/regdump-hang-smm-0.txt");
	const struct hpci_cpu_regs *c0, *c1;

	(void)state;
	assert_int_equal(cpus->len, 2);
	c0 = &g_array_index(cpus, struct hpci_cpu_regs, 0);
	c1 = &g_array_index(cpus, struct hpci_cpu_regs, 1);
	assert_int_equal(c0->index, 0);
	assert_true(c0->smm);
	assert_false(c0->halted);
	assert_int_equal(c0->ip, 0x1f9d8d42);
	/* The new CPU waits in real mode in the pen: EIP, not RIP. */
	assert_int_equal(c1->index, 1);
	assert_false(c1->smm);
	assert_true(c1->halted);
	assert_int_equal(c1->ip, 0xc);
	assert_int_equal(c1->cs_base, 0x9f000);
}

static void test_stuck_in_smm_over_samples(void **state)
{
	g_autoptr(GPtrArray) samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);

	(void)state;
	g_ptr_array_add(samples, parse_fixture("harness/regdump-hang-smm-0.txt"));
	assert_int_equal(hpci_regdump_smm_stuck(samples), -1); /* one sample proves nothing */
	g_ptr_array_add(samples, parse_fixture("harness/regdump-hang-smm-1.txt"));
	g_ptr_array_add(samples, parse_fixture("harness/regdump-hang-smm-2.txt"));
	assert_int_equal(hpci_regdump_smm_stuck(samples), 0);
}

/* Two samples of the hang dump, the second with CPU#0's RIP replaced. */
static GPtrArray *hang_with_second_rip(const char *rip)
{
	GPtrArray *samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	g_autofree char *text = fixture_read("harness/regdump-hang-smm-0.txt");
	g_autofree char *moved = g_strdup(text);
	GArray *cpus = NULL;

	memcpy(strstr(moved, "RIP=000000001f9d8d42"), rip, strlen(rip));
	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	g_ptr_array_add(samples, cpus);
	assert_int_equal(hpci_regdump_parse(moved, &cpus), 0);
	g_ptr_array_add(samples, cpus);
	return samples;
}

static void test_moving_rip_is_not_stuck(void **state)
{
	/* CPU#0 4 KiB further on: SMM code that progresses. */
	g_autoptr(GPtrArray) samples = hang_with_second_rip("RIP=000000001f9d9d42");

	(void)state;
	assert_int_equal(hpci_regdump_smm_stuck(samples), -1);
	assert_false(hpci_regdump_smm_spin(samples, 0, NULL, NULL));
}

static void test_spin_loop_is_stuck(void **state)
{
	/* A sample that caught the loop at its head, 13 bytes before the usual
	 * RIP (as on the stock-QEMU hang): still the same loop. */
	g_autoptr(GPtrArray) samples = hang_with_second_rip("RIP=000000001f9d8d35");
	g_autoptr(GPtrArray) edge = hang_with_second_rip("RIP=000000001f9d8e42");
	g_autoptr(GPtrArray) beyond = hang_with_second_rip("RIP=000000001f9d8e41");
	guint64 lo = 0, hi = 0;

	(void)state;
	assert_int_equal(hpci_regdump_smm_stuck(samples), 0);
	assert_true(hpci_regdump_smm_spin(samples, 0, &lo, &hi));
	assert_int_equal(lo, 0x1f9d8d35);
	assert_int_equal(hi, 0x1f9d8d42);
	/* HPCI_SPIN_LOOP_BYTES apart is too far; one byte less is one loop. */
	assert_int_equal(HPCI_SPIN_LOOP_BYTES, 0x100);
	assert_int_equal(hpci_regdump_smm_stuck(edge), -1);
	assert_int_equal(hpci_regdump_smm_stuck(beyond), 0);
	/* CPU#1 is halted outside SMM. */
	assert_false(hpci_regdump_smm_spin(samples, 1, NULL, NULL));
}

static void test_idle_guest_is_not_stuck(void **state)
{
	g_autoptr(GPtrArray) samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);

	(void)state;
	g_ptr_array_add(samples, parse_fixture("harness/regdump-idle-1cpu.txt"));
	g_ptr_array_add(samples, parse_fixture("harness/regdump-idle-1cpu.txt"));
	assert_int_equal(hpci_regdump_smm_stuck(samples), -1);
}

static void test_garbage_is_an_error(void **state)
{
	GArray *cpus = NULL;

	(void)state;
	assert_int_equal(hpci_regdump_parse("", &cpus), -EINVAL);
	assert_int_equal(hpci_regdump_parse("error: no monitor\n\x01\xff", &cpus), -EINVAL);
	assert_null(cpus);
	/* A truncated dump still yields the CPU header it has. */
	assert_int_equal(hpci_regdump_parse("CPU#3\nRIP=00", &cpus), 0);
	assert_int_equal(g_array_index(cpus, struct hpci_cpu_regs, 0).index, 3);
	g_array_unref(cpus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hang_dump),
		cmocka_unit_test(test_stuck_in_smm_over_samples),
		cmocka_unit_test(test_moving_rip_is_not_stuck),
		cmocka_unit_test(test_spin_loop_is_stuck),
		cmocka_unit_test(test_idle_guest_is_not_stuck),
		cmocka_unit_test(test_garbage_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
