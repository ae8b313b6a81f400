/* SPDX-License-Identifier: MIT */
/*
 * The prepare stage: a cell's time limits scaled once for the host, files
 * checked before any VM, and a plan whose build failed judged without one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cell-run.h"
#include "error.h"
#include "prepare.h"

#include <errno.h>
#include <string.h>

static const struct hpci_timeouts matrix_timeouts = {
	.boot_ms = 120000, .plug_ms = 60000, .online_ms = 30000, .unplug_ms = 8000,
	.smi_ms = 4000,
};

static void test_tcg_one_job_per_core_is_the_matrix(void **state)
{
	struct hpci_prepare_host host = { .accel = "tcg", .jobs = 2, .cores = 2 };
	struct hpci_timeouts t = hpci_plan_timeouts(&matrix_timeouts, &host);

	(void)state;
	assert_memory_equal(&t, &matrix_timeouts, sizeof(t));
}

static void test_kvm_quarter_never_below_5s(void **state)
{
	struct hpci_prepare_host host = { .accel = "kvm", .jobs = 1, .cores = 2 };
	struct hpci_timeouts t = hpci_plan_timeouts(&matrix_timeouts, &host);

	(void)state;
	assert_int_equal(t.boot_ms, 30000);
	assert_int_equal(t.plug_ms, 15000);
	assert_int_equal(t.online_ms, 7500);
	assert_int_equal(t.unplug_ms, 5000);   /* a quarter is 2 s: the 5 s floor */
	assert_int_equal(t.smi_ms, 4000);      /* below the floor already: as given */
}

static void test_more_jobs_than_cores_scale_once(void **state)
{
	struct hpci_prepare_host host = { .accel = "tcg", .jobs = 6, .cores = 2 };
	struct hpci_timeouts t = hpci_plan_timeouts(&matrix_timeouts, &host);
	struct hpci_timeouts again;

	(void)state;
	assert_int_equal(t.boot_ms, 360000);
	assert_int_equal(t.smi_ms, 12000);
	/* The cell is never scaled in place: planning it again gives the same. */
	again = hpci_plan_timeouts(&matrix_timeouts, &host);
	assert_memory_equal(&t, &again, sizeof(t));
	host.accel = "kvm";
	t = hpci_plan_timeouts(&matrix_timeouts, &host);
	assert_int_equal(t.boot_ms, 90000);
	assert_int_equal(t.unplug_ms, 15000);
}

static void test_preflight_names_matrix_cell_and_file(void **state)
{
	struct hpci_cell cell = { .id = "topology=1s2c,smi=full" };
	g_autoptr(GPtrArray) cells = g_ptr_array_new();

	(void)state;
	cell.firmware.code = "/nonexistent/OVMF_CODE.fd";
	g_ptr_array_add(cells, &cell);
	assert_int_equal(hpci_prepare_preflight("matrix/x.json", cells), -ENOENT);
	assert_string_equal(hpci_error_message(),
			    "matrix/x.json: cell 'topology=1s2c,smi=full': firmware code "
			    "'/nonexistent/OVMF_CODE.fd' is not usable; install it or fix the "
			    "matrix: No such file or directory");
	cell.firmware.code = NULL;   /* a recipe: built later, nothing to check */
	assert_int_equal(hpci_prepare_preflight("matrix/x.json", cells), 0);
}

static void test_unrunnable_plan_is_infra_error(void **state)
{
	struct hpci_cell cell = { .id = "qemu=patched" };
	struct hpci_plan plan = {
		.cell = &cell,
		.unrunnable = "cannot build QEMU for cell 'qemu=patched': configure failed "
			      "(log: /c/qemu/x/build.log)",
		.unrunnable_context = "the cell's QEMU could not be built",
	};
	g_autoptr(hpci_cell_result) res = hpci_cell_result_new(&cell);

	(void)state;
	cell.expect.outcome = HPCI_OUTCOME_PASS;
	hpci_cell_judge_unrunnable(&plan, res);
	assert_true(res->ran);
	assert_int_equal(res->attempt, 1);
	assert_int_equal(res->outcome, HPCI_OUTCOME_INFRA_ERROR);
	assert_false(res->verdict_pass);
	assert_string_equal(res->evidence, "the cell's QEMU could not be built");
	assert_string_equal(res->error, plan.unrunnable);
	assert_int_equal(hpci_cell_verdict(res), HPCI_VERDICT_INFRA_ERROR);
	assert_null(res->emulator);   /* the build that failed made none */
}

/* The report says what a cell ran on from its plan: a built QEMU is not in
 * the (immutable) cell.  The builds VM test lost this once. */
static void test_plan_record_names_what_ran(void **state)
{
	struct hpci_cell cell = { .id = "qemu=patched" };
	struct hpci_plan plan = {
		.cell = &cell, .emulator = "/c/qemu/k/bin/qemu-system-x86_64",
		.firmware_code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
	};
	g_autoptr(hpci_cell_result) res = hpci_cell_result_new(&cell);

	(void)state;
	hpci_plan_record(&plan, res);
	assert_string_equal(res->emulator, plan.emulator);
	assert_string_equal(res->firmware_code, plan.firmware_code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcg_one_job_per_core_is_the_matrix),
		cmocka_unit_test(test_kvm_quarter_never_below_5s),
		cmocka_unit_test(test_more_jobs_than_cores_scale_once),
		cmocka_unit_test(test_preflight_names_matrix_cell_and_file),
		cmocka_unit_test(test_unrunnable_plan_is_infra_error),
		cmocka_unit_test(test_plan_record_names_what_ran),
	};

	return cmocka_run_group_tests_name("prepare", tests, NULL, NULL);
}
