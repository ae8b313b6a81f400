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

/* Samples of fixtures (name-0.txt ... name-<n-1>.txt). */
static GPtrArray *samples_of(const char *name, guint n)
{
	GPtrArray *samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);

	for (guint i = 0; i < n; i++) {
		g_autofree char *path = g_strdup_printf("harness/%s-%u.txt", name, i);

		g_ptr_array_add(samples, parse_fixture(path));
	}
	return samples;
}

/* One gint64 a sample (its time, or the firmware log's size then): start,
 * start + step, ... */
static GArray *every(guint n, gint64 step, gint64 start)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(gint64));

	for (guint i = 0; i < n; i++) {
		gint64 v = start + (gint64)i * step;

		g_array_append_val(a, v);
	}
	return a;
}

static void test_parse_real_mode(void **state)
{
	g_autoptr(GArray) hang = parse_fixture("harness/regdump-hang-smm-0.txt");
	g_autoptr(GArray) idle = parse_fixture("harness/regdump-idle-1cpu.txt");
	GArray *cpus = NULL;

	(void)state;
	/* CR0=80010033 in SMM, 60000010 in the pen, 80050033 in Linux. */
	assert_false(g_array_index(hang, struct hpci_cpu_regs, 0).real_mode);
	assert_true(g_array_index(hang, struct hpci_cpu_regs, 1).real_mode);
	assert_false(g_array_index(idle, struct hpci_cpu_regs, 0).real_mode);
	/* No CR0 line: not known to be in real mode. */
	assert_int_equal(hpci_regdump_parse("CPU#0\nEIP=0000000c HLT=1 SMM=0\n", &cpus), 0);
	assert_false(g_array_index(cpus, struct hpci_cpu_regs, 0).real_mode);
	g_array_unref(cpus);
}

/* The stock-QEMU hang: CPU#0 spins in SMM, the hot-added CPU#1 sits in the
 * post-SMM pen (CS base 0x9f000), halted in real mode. */
static void test_stock_hang_is_frozen(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-hang-smm", 3);
	int spinning = -1;

	(void)state;
	assert_true(hpci_regdump_parked(samples, 1));
	assert_false(hpci_regdump_parked(samples, 0));  /* in SMM */
	assert_int_equal(hpci_regdump_frozen(samples, &spinning), 1);
	assert_int_equal(spinning, 0);
}

/* The SIPI-before-SMI attack's fail-closed hang (docs/facts.md §6), 4 CPUs:
 * two spin in SMM, CPUs 2 and 3 wait for SIPI (CS base 0xffff0000). */
static void test_sipi_hang_is_frozen(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-sipi-hang", 3);
	int spinning = -1;

	(void)state;
	assert_true(hpci_regdump_parked(samples, 2));
	assert_true(hpci_regdump_parked(samples, 3));
	assert_int_equal(hpci_regdump_frozen(samples, &spinning), 2);
	assert_int_equal(spinning, 0);
}

/* A stall of an SMI burst that completed (known-issues, 4s8c-each, 2026-11-23):
 * every CPU in SMM, CPU#0 in one loop.  Not frozen: nobody is parked, and
 * CPU#3 moved from one loop to another. */
static void test_stall_is_not_frozen(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-stall", 2);

	(void)state;
	assert_int_equal(hpci_regdump_smm_stuck(samples), 0);
	assert_false(hpci_regdump_parked(samples, 3));
	assert_int_equal(hpci_regdump_frozen(samples, NULL), -1);
}

/* A CPU halted outside SMM in long mode (Linux idle) is not parked, and a
 * parked CPU that moved is not either. */
static void test_halted_in_long_mode_or_moved_is_not_parked(void **state)
{
	g_autofree char *text = fixture_read("harness/regdump-hang-smm-0.txt");
	g_autofree char *protected = g_strdup(text);
	g_autofree char *moved = g_strdup(text);
	g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	GArray *cpus = NULL;

	(void)state;
	memcpy(strstr(protected, "CR0=60000010"), "CR0=60000011", 12);
	memcpy(strstr(moved, "EIP=0000000c"), "EIP=0000000b", 12);
	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	g_ptr_array_add(a, cpus);
	assert_int_equal(hpci_regdump_parse(protected, &cpus), 0);
	g_ptr_array_add(a, cpus);
	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	g_ptr_array_add(b, cpus);
	assert_int_equal(hpci_regdump_parse(moved, &cpus), 0);
	g_ptr_array_add(b, cpus);
	assert_false(hpci_regdump_parked(a, 1));
	assert_int_equal(hpci_regdump_frozen(a, NULL), -1);
	assert_false(hpci_regdump_parked(b, 1));
	assert_int_equal(hpci_regdump_frozen(b, NULL), -1);
	/* CPU#0 still spins: only the long window can call that a hang. */
	assert_int_equal(hpci_regdump_smm_stuck(a), 0);
}

/* The frozen stock hang is decided once three samples span 10 s. */
static void test_frozen_hang_decided_in_frozen_window(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-hang-smm", 3);
	g_autoptr(GArray) times = every(3, 5000, 3000);
	g_autoptr(GArray) short_times = every(3, 4999, 3000);
	g_autoptr(GArray) log_still = every(3, 0, 81234);
	g_autoptr(GArray) log_moves = every(3, 120, 81234);
	g_autoptr(GArray) log_short = every(2, 0, 81234);

	(void)state;
	assert_int_equal(HPCI_HANG_FROZEN_WINDOW_MS, 10000);
	assert_int_equal(hpci_regdump_smm_hang(samples, times, log_still), 0);
	/* 9998 ms is not the window yet. */
	assert_int_equal(hpci_regdump_smm_hang(samples, short_times, log_still), -1);
	/* The firmware still writes its log: it works, wait for the long window. */
	assert_int_equal(hpci_regdump_smm_hang(samples, times, log_moves), -1);
	/* No sizes (or not one per sample): the long window only. */
	assert_int_equal(hpci_regdump_smm_hang(samples, times, NULL), -1);
	assert_int_equal(hpci_regdump_smm_hang(samples, times, log_short), -1);
	/* Two samples 10 s apart are not enough looks. */
	g_ptr_array_remove_index(samples, 1);
	g_array_unref(times);
	times = every(2, 10000, 3000);
	g_array_set_size(log_still, 2);
	assert_int_equal(hpci_regdump_smm_hang(samples, times, log_still), -1);
}

/* Later samples slide the frozen window: it starts at the latest sample
 * 10 s before the last one. */
static void test_frozen_window_is_the_latest(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-hang-smm", 3);
	g_autoptr(GArray) times = every(5, 5000, 3000);
	g_autoptr(GArray) sizes = every(5, 0, 0);

	(void)state;
	/* The stall's first sample, then the hang's three and one more: the
	 * stall (CPU#1 in SMM) is outside the window. */
	g_ptr_array_insert(samples, 0, parse_fixture("harness/regdump-stall-0.txt"));
	g_ptr_array_add(samples, parse_fixture("harness/regdump-hang-smm-2.txt"));
	assert_int_equal(hpci_regdump_smm_hang(samples, times, sizes), 2);
}

/* A stall with every CPU in SMM needs the long window, whatever the log. */
static void test_stall_needs_long_window(void **state)
{
	g_autoptr(GPtrArray) samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	g_autoptr(GArray) times = NULL;
	g_autoptr(GArray) sizes = NULL;

	(void)state;
	/* The stall's first sample over and over: CPU#0 (and all) in one loop. */
	for (guint i = 0; i < 13; i++)
		g_ptr_array_add(samples, parse_fixture("harness/regdump-stall-0.txt"));
	times = every(13, 5000, 3000);
	sizes = every(13, 0, 0);
	assert_int_equal(HPCI_HANG_WINDOW_MS, 60000);
	assert_int_equal(hpci_regdump_smm_hang(samples, times, sizes), 0);
	g_array_index(times, gint64, 0) += 1;  /* 59999 ms: not yet */
	assert_int_equal(hpci_regdump_smm_hang(samples, times, sizes), -1);
	/* Stalls the run saw lasted up to 25 s: they stay stalls. */
	g_ptr_array_set_size(samples, 6);
	g_array_set_size(times, 6);
	g_array_set_size(sizes, 6);
	g_array_index(times, gint64, 0) = 3000;
	assert_int_equal(hpci_regdump_smm_hang(samples, times, sizes), -1);
}

/* The whole recorded stall: CPU#2 stays in one loop, but in the third
 * sample CPU#1 is back in Linux and CPU#0 left the loop.  Stretched to 10 s
 * or 55 s it is no hang yet; only the long window could call it one. */
static void test_stall_that_ended_is_no_early_hang(void **state)
{
	g_autoptr(GPtrArray) samples = samples_of("regdump-stall", 3);
	g_autoptr(GArray) ten = every(3, 5000, 3000);
	g_autoptr(GArray) fifty_five = every(3, 27500, 3000);
	g_autoptr(GArray) sixty = every(3, 30000, 3000);
	g_autoptr(GArray) sizes = every(3, 0, 0);

	(void)state;
	assert_int_equal(hpci_regdump_smm_stuck(samples), 2);
	assert_int_equal(hpci_regdump_frozen(samples, NULL), -1);
	assert_int_equal(hpci_regdump_smm_hang(samples, ten, sizes), -1);
	assert_int_equal(hpci_regdump_smm_hang(samples, fifty_five, sizes), -1);
	assert_int_equal(hpci_regdump_smm_hang(samples, sixty, sizes), 0);
}

/* n samples of the RELEASE OVMF in CpuDeadLoop() (one RIP in all 13 of the
 * run), the `at`th with RIP replaced by `rip` when given. */
static GPtrArray *dead_loop_samples(guint n, guint at, const char *rip)
{
	GPtrArray *samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	g_autofree char *text = fixture_read("harness/regdump-dead-loop-0.txt");

	for (guint i = 0; i < n; i++) {
		g_autofree char *copy = g_strdup(text);
		GArray *cpus = NULL;

		if (rip && i == at)
			memcpy(strstr(copy, "RIP=000000001e6d90cb"), rip, strlen(rip));
		assert_int_equal(hpci_regdump_parse(copy, &cpus), 0);
		g_ptr_array_add(samples, cpus);
	}
	return samples;
}

static void test_firmware_dead_loop(void **state)
{
	g_autoptr(GPtrArray) looping = dead_loop_samples(5, 0, NULL);
	g_autoptr(GPtrArray) near = dead_loop_samples(5, 2, "RIP=000000001e6d90da");
	g_autoptr(GPtrArray) moved = dead_loop_samples(5, 2, "RIP=000000001e6d90db");
	g_autoptr(GArray) times = every(5, 5000, 30000);
	g_autoptr(GArray) short_times = every(5, 4999, 30000);
	g_autoptr(GArray) no_log = every(5, 0, 0);
	g_autoptr(GArray) growing_log = every(5, 80, 0);
	g_autoptr(GPtrArray) stall = samples_of("regdump-stall", 3);
	g_autoptr(GArray) stall_times = every(3, 10000, 0);
	g_autoptr(GArray) stall_log = every(3, 0, 0);

	(void)state;
	assert_int_equal(hpci_regdump_dead_loop(looping, times, no_log), 0);
	/* A loop is under HPCI_DEAD_LOOP_BYTES: 15 bytes on is the same loop,
	 * 16 is a firmware at work. */
	assert_int_equal(hpci_regdump_dead_loop(near, times, no_log), 0);
	assert_int_equal(hpci_regdump_dead_loop(moved, times, no_log), -1);
	/* Short of the window, or with a firmware that still logs: no verdict. */
	assert_int_equal(hpci_regdump_dead_loop(looping, short_times, no_log), -1);
	assert_int_equal(hpci_regdump_dead_loop(looping, times, growing_log), -1);
	assert_int_equal(hpci_regdump_dead_loop(looping, times, NULL), -1);
	/* A CPU in SMM is for the hang rules. */
	assert_int_equal(hpci_regdump_dead_loop(stall, stall_times, stall_log), -1);
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
		cmocka_unit_test(test_parse_real_mode),
		cmocka_unit_test(test_stock_hang_is_frozen),
		cmocka_unit_test(test_sipi_hang_is_frozen),
		cmocka_unit_test(test_stall_is_not_frozen),
		cmocka_unit_test(test_halted_in_long_mode_or_moved_is_not_parked),
		cmocka_unit_test(test_frozen_hang_decided_in_frozen_window),
		cmocka_unit_test(test_frozen_window_is_the_latest),
		cmocka_unit_test(test_stall_needs_long_window),
		cmocka_unit_test(test_stall_that_ended_is_no_early_hang),
		cmocka_unit_test(test_firmware_dead_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
