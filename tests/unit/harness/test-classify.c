/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../fixture.h"
#include "classify.h"
#include "regdump.h"

#include <string.h>

struct fixture {
	struct hpci_obs obs;
	GPtrArray *samples;
	struct hpci_classification out;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	hpci_obs_init(&f->obs, NULL);
	f->samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hpci_obs_release(&f->obs);
	g_ptr_array_unref(f->samples);
	g_free(f->out.evidence);
	g_free(f);
	return 0;
}

static void feed_serial(struct fixture *f, const char *fixture)
{
	g_autofree char *text = fixture_read(fixture);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++)
		hpci_obs_serial(&f->obs, *l);
}

static void add_sample(struct fixture *f, const char *fixture)
{
	g_autofree char *text = fixture_read(fixture);
	GArray *cpus = NULL;

	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	g_ptr_array_add(f->samples, cpus);
}

static enum hpci_outcome classify(struct fixture *f, enum hpci_failure failure, const char *error,
				  const char *stop_reason)
{
	struct hpci_classify_input in = {
		.failure = failure, .error = error, .stop_reason = stop_reason,
		.events = f->obs.events, .regdumps = f->samples, .regdump_span_ms = 2000,
	};

	g_clear_pointer(&f->out.evidence, g_free);
	hpci_classify(&in, &f->out);
	assert_non_null(f->out.evidence);
	return f->out.outcome;
}

static void test_all_steps_done_is_pass(void **state)
{
	struct fixture *f = *state;

	feed_serial(f, "harness/serial-initrd-shell.log");
	hpci_obs_serial(&f->obs, "HPCI-READY");
	assert_int_equal(classify(f, HPCI_FAIL_NONE, NULL, NULL), HPCI_OUTCOME_PASS);
}

static void test_recorded_stock_qemu_hang_is_hang_smm(void **state)
{
	struct fixture *f = *state;

	feed_serial(f, "harness/serial-initrd-shell.log");
	add_sample(f, "harness/regdump-hang-smm-0.txt");
	add_sample(f, "harness/regdump-hang-smm-1.txt");
	add_sample(f, "harness/regdump-hang-smm-2.txt");
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no guest report of hot-added vCPU 1", NULL),
			 HPCI_OUTCOME_HANG_SMM);
	assert_non_null(strstr(f->out.evidence, "CPU#0 stayed in SMM at RIP=000000001f9d8d42"));
}

static void test_timeout_without_smm_is_guest_timeout(void **state)
{
	struct fixture *f = *state;

	add_sample(f, "harness/regdump-idle-1cpu.txt");
	add_sample(f, "harness/regdump-idle-1cpu.txt");
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no guest ready line within 120 s", NULL),
			 HPCI_OUTCOME_GUEST_TIMEOUT);
	assert_non_null(strstr(f->out.evidence, "no CPU stuck in SMM"));
	assert_non_null(strstr(f->out.evidence, "within 120 s"));
}

static void test_refusal_message_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *err = "cannot plug vCPU 1 of 'hpci-x-1': internal error: unable to execute "
			  "QEMU command 'device_add': cpu hotplug with SMI wasn't enabled by "
			  "firmware";

	assert_int_equal(classify(f, HPCI_FAIL_REQUEST, err, NULL), HPCI_OUTCOME_REFUSED);
	assert_int_equal(classify(f, HPCI_FAIL_REQUEST, "cannot plug vCPU 1: some other error", NULL),
			 HPCI_OUTCOME_INFRA_ERROR);
}

static void test_panic_is_guest_crash(void **state)
{
	struct fixture *f = *state;

	hpci_obs_serial(&f->obs, "[    7.1] Kernel panic - not syncing: Fatal exception");
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "domain stopped", "shutdown"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out.evidence, "Kernel panic"));
	/* Even when every step had returned, a panic line fails the cell. */
	assert_int_equal(classify(f, HPCI_FAIL_NONE, NULL, NULL), HPCI_OUTCOME_GUEST_CRASH);
}

static void test_reset_without_panic_is_guest_crash(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "shutdown"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out.evidence, "triple fault"));
	g_clear_pointer(&f->out.evidence, g_free);
	/* on_reboot=restart: a reset the harness did not let pass (cell-run.c). */
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "reset"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out.evidence, "(libvirt: reset)"));
}

static void test_second_boot_banner_is_guest_crash(void **state)
{
	struct fixture *f = *state;

	hpci_obs_serial(&f->obs, "[    0.000000] Linux version 6.1.0-56-amd64");
	assert_int_equal(classify(f, HPCI_FAIL_NONE, NULL, NULL), HPCI_OUTCOME_PASS);
	hpci_obs_serial(&f->obs, "[    0.000000] Linux version 6.1.0-56-amd64");
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no ready line", NULL),
			 HPCI_OUTCOME_GUEST_CRASH);
}

static void test_qemu_death_is_qemu_crash(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "failed"), HPCI_OUTCOME_QEMU_CRASH);
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "destroyed"),
			 HPCI_OUTCOME_INFRA_ERROR);
	assert_int_equal(classify(f, HPCI_FAIL_INFRA, "image build failed", NULL),
			 HPCI_OUTCOME_INFRA_ERROR);
}

static void test_verdict(void **state)
{
	struct hpci_expect refused = {
		.outcome = HPCI_OUTCOME_REFUSED,
		.message = "cpu hotplug with SMI wasn't enabled by firmware",
	};
	struct hpci_expect pass = { .outcome = HPCI_OUTCOME_PASS };

	(void)state;
	assert_true(hpci_verdict(&pass, HPCI_OUTCOME_PASS, NULL));
	assert_false(hpci_verdict(&pass, HPCI_OUTCOME_HANG_SMM, "x"));
	assert_true(hpci_verdict(&refused, HPCI_OUTCOME_REFUSED,
				 "error: cpu hotplug with SMI wasn't enabled by firmware"));
	/* Refused for another reason is not the expected refusal. */
	assert_false(hpci_verdict(&refused, HPCI_OUTCOME_REFUSED,
				  "cpu hot-unplug with SMI wasn't enabled by firmware"));
	assert_false(hpci_verdict(&refused, HPCI_OUTCOME_REFUSED, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_steps_done_is_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_stock_qemu_hang_is_hang_smm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_without_smm_is_guest_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_message_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panic_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_without_panic_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_boot_banner_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_death_is_qemu_crash, setup, teardown),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
