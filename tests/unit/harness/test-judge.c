/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../fixture.h"
#include "judge.h"
#include "regdump.h"

#include <string.h>

struct fixture {
	struct hpci_obs obs;
	GPtrArray *samples;
	struct hpci_cell cell;
	struct hpci_cell_result *out;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	hpci_obs_init(&f->obs, NULL);
	f->samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	f->cell.id = "topology=1s2c";
	f->cell.expect.outcome = HPCI_OUTCOME_PASS;
	f->out = hpci_cell_result_new(&f->cell);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hpci_obs_release(&f->obs);
	g_ptr_array_unref(f->samples);
	hpci_cell_result_free(f->out);
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

/* The judge's answer for what the fixture observed, with the error typed. */
static enum hpci_outcome judge_kind(struct fixture *f, enum hpci_failure failure,
				    enum hpci_error_kind kind, const char *error,
				    const char *stop_reason)
{
	struct hpci_observation in = {
		.failure = failure, .error_kind = kind, .error = error, .stop_reason = stop_reason,
		.events = f->obs.events, .regdumps = f->samples, .regdump_span_ms = 2000,
	};

	hpci_cell_result_free(f->out);
	f->out = hpci_cell_result_new(&f->cell);
	hpci_judge(&f->cell, &in, f->out);
	assert_non_null(f->out->evidence);
	return f->out->outcome;
}

static enum hpci_outcome classify(struct fixture *f, enum hpci_failure failure, const char *error,
				  const char *stop_reason)
{
	return judge_kind(f, failure, HPCI_ERR_GENERIC, error, stop_reason);
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
	assert_non_null(strstr(f->out->evidence, "CPU#0 stayed in SMM at RIP=000000001f9d8d42"));
	/* The frozen machine (regdump.h) is in the evidence. */
	assert_non_null(strstr(f->out->evidence, "; CPU#1 stayed parked outside SMM, halted in "
					       "real mode at CS base 0009f000 IP 000c, and every "
					       "CPU in SMM spun in one loop: nothing moved"));
}

/* A stall's samples with every CPU in SMM, one of them in one loop: when a
 * wait timed out on them the judge says hang-smm as before (the runner is
 * what waits for the window), without a parked CPU. */
static void test_spin_without_parked_cpu_is_hang_smm(void **state)
{
	struct fixture *f = *state;

	add_sample(f, "harness/regdump-stall-0.txt");
	add_sample(f, "harness/regdump-stall-1.txt");
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no end of the guest's SMI burst", NULL),
			 HPCI_OUTCOME_HANG_SMM);
	assert_non_null(strstr(f->out->evidence, "CPU#0 stayed in SMM at RIP=000000001ffcb431"));
	assert_null(strstr(f->out->evidence, "parked"));
}

static void test_timeout_without_smm_is_guest_timeout(void **state)
{
	struct fixture *f = *state;

	add_sample(f, "harness/regdump-idle-1cpu.txt");
	add_sample(f, "harness/regdump-idle-1cpu.txt");
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no guest ready line within 120 s", NULL),
			 HPCI_OUTCOME_GUEST_TIMEOUT);
	assert_non_null(strstr(f->out->evidence, "no CPU stuck in SMM"));
	assert_non_null(strstr(f->out->evidence, "within 120 s"));
}

static void test_refusal_message_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *err = "cannot plug vCPU 1 of 'hpci-x-1': internal error: unable to execute "
			  "QEMU command 'device_add': cpu hotplug with SMI wasn't enabled by "
			  "firmware";

	/* virt.c types QEMU's refusal (docs/facts.md §4); the judge goes by the kind. */
	assert_int_equal(judge_kind(f, HPCI_FAIL_REQUEST, HPCI_ERR_REFUSED, err, NULL),
			 HPCI_OUTCOME_REFUSED);
	assert_int_equal(judge_kind(f, HPCI_FAIL_REQUEST, HPCI_ERR_REQUEST,
				    "cannot plug vCPU 1: some other error", NULL),
			 HPCI_OUTCOME_INFRA_ERROR);
}

static void test_panic_is_guest_crash(void **state)
{
	struct fixture *f = *state;

	hpci_obs_serial(&f->obs, "[    7.1] Kernel panic - not syncing: Fatal exception");
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "domain stopped", "shutdown"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out->evidence, "Kernel panic"));
	/* Even when every step had returned, a panic line fails the cell. */
	assert_int_equal(classify(f, HPCI_FAIL_NONE, NULL, NULL), HPCI_OUTCOME_GUEST_CRASH);
}

static void test_reset_without_panic_is_guest_crash(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "shutdown"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out->evidence, "triple fault"));
		/* on_reboot=restart: a reset the harness did not let pass (cell-run.c). */
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "reset"),
			 HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out->evidence, "(libvirt: reset)"));
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
	assert_true(hpci_expect_met(&pass, HPCI_OUTCOME_PASS, NULL));
	assert_false(hpci_expect_met(&pass, HPCI_OUTCOME_HANG_SMM, "x"));
	assert_true(hpci_expect_met(&refused, HPCI_OUTCOME_REFUSED,
				 "error: cpu hotplug with SMI wasn't enabled by firmware"));
	/* Refused for another reason is not the expected refusal. */
	assert_false(hpci_expect_met(&refused, HPCI_OUTCOME_REFUSED,
				  "cpu hot-unplug with SMI wasn't enabled by firmware"));
	assert_false(hpci_expect_met(&refused, HPCI_OUTCOME_REFUSED, NULL));
}

/* ---- the judge on recorded firmware logs (precedence, judge.h) ---------- */

static void use_firmware_log(struct fixture *f, const char *fixture, struct hpci_fw_log *log)
{
	g_autofree char *text = fixture_read(fixture);

	hpci_fw_log_init(log);
	assert_int_equal(hpci_fw_log_parse_buffer(text, strlen(text), log), 0);
	f->cell.firmware.verbose = true;
	f->cell.smi = (struct hpci_smi_mode){ .broadcast = true, .cpu_hotplug = true,
					      .cpu_hotunplug = true, .smbase_smram = true };
	f->cell.expect.firmware = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY,
								 HPCI_FACT_ANY, HPCI_FACT_ANY };
}

static enum hpci_outcome judge_with_log(struct fixture *f, enum hpci_failure failure,
					const char *error, const struct hpci_fw_log *log,
					const GArray *plugs)
{
	struct hpci_observation in = {
		.failure = failure, .error = error, .events = f->obs.events,
		.regdumps = f->samples, .regdump_span_ms = 60000, .plugs = plugs, .firmware = log,
	};

	hpci_cell_result_free(f->out);
	f->out = hpci_cell_result_new(&f->cell);
	hpci_judge(&f->cell, &in, f->out);
	return f->out->outcome;
}

static void add_hang_samples(struct fixture *f)
{
	add_sample(f, "harness/regdump-hang-smm-0.txt");
	add_sample(f, "harness/regdump-hang-smm-1.txt");
	add_sample(f, "harness/regdump-hang-smm-2.txt");
}

/* Step 4: a disagreement turns a pass into mismatch, naming both sides, and
 * only joins the evidence of a run that failed otherwise. */
static void test_firmware_disagreement(void **state)
{
	struct fixture *f = *state;
	struct hpci_fw_log log;

	use_firmware_log(f, "firmware-log/good-boot.log", &log);
	f->cell.expect.firmware.cpu_hotunplug = 0;
	assert_int_equal(judge_with_log(f, HPCI_FAIL_NONE, NULL, &log, NULL), HPCI_OUTCOME_MISMATCH);
	/* good-boot.log also hot-adds CPUs this observation never plugged. */
	assert_non_null(strstr(f->out->error, "the firmware relocated 3 CPU(s) (APIC IDs 1, 2, 4) "
			       "but libvirt plugged 0"));
	assert_non_null(strstr(f->out->error, "firmware.negotiated.cpu_hotunplug: expected false, "
			       "observed true"));
	assert_string_equal(f->out->error, f->out->evidence);
	assert_false(f->out->verdict_pass);

	add_hang_samples(f);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_TIMEOUT, "no guest report", &log, NULL),
			 HPCI_OUTCOME_HANG_SMM);
	assert_non_null(strstr(f->out->evidence, "; firmware: the firmware relocated 3 CPU(s)"));
	assert_non_null(strstr(f->out->evidence, "; firmware.negotiated.cpu_hotunplug"));
	hpci_fw_log_release(&log);
}

/* Step 2 over step 3: the firmware's ASSERT is the first failure whatever
 * the run came to; step 1 over step 2: a harness failure tested nothing. */
static void test_firmware_assert_over_run_under_infra(void **state)
{
	struct fixture *f = *state;
	struct hpci_fw_log log;

	use_firmware_log(f, "firmware-log/negotiation-failed.log", &log);
	add_hang_samples(f);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_TIMEOUT, "no guest ready line", &log, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_non_null(strstr(f->out->evidence, "SmiFeatures.c(243)"));
	assert_non_null(strstr(f->out->evidence, "the cell had come to hang-smm"));

	assert_int_equal(judge_with_log(f, HPCI_FAIL_INFRA, "cannot create the overlay", &log, NULL),
			 HPCI_OUTCOME_INFRA_ERROR);
	assert_int_equal(f->out->firmware_problems->len, 0);
	assert_string_equal(f->out->evidence, "cannot create the overlay");
	hpci_fw_log_release(&log);
}

#define SMI_FEATURES_ASSERT "ASSERT /build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c(243): " \
			    "((BOOLEAN)(0==1))"

/* A fatal firmware line that ended a wait (the firmware tail) is step 2,
 * with firmware.log's summary when the log could be read at the end and
 * the line itself when not; a panic that came after it changes nothing. */
static void test_fatal_firmware_line_is_firmware_assert(void **state)
{
	struct fixture *f = *state;
	const char *error = "the firmware logged a fatal line while the harness waited for the "
			    "guest ready line (HPCI-READY)";
	struct hpci_fw_log log;

	use_firmware_log(f, "firmware-log/negotiation-failed.log", &log);
	hpci_obs_note(&f->obs, "domain resumed");
	hpci_obs_firmware(&f->obs, SMI_FEATURES_ASSERT);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_FIRMWARE, error, &log, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_non_null(strstr(f->out->evidence, "firmware.log: ASSERT SmiFeatures.c(243)"));
	assert_string_equal(f->out->error, error);

	assert_int_equal(judge_with_log(f, HPCI_FAIL_FIRMWARE, error, NULL, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_non_null(strstr(f->out->evidence, "firmware.log had '" SMI_FEATURES_ASSERT "' at "));
	assert_non_null(strstr(f->out->evidence, error));

	hpci_obs_serial(&f->obs, "[    7.1] Kernel panic - not syncing: Fatal exception");
	assert_int_equal(judge_with_log(f, HPCI_FAIL_FIRMWARE, error, &log, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_FIRMWARE, error, NULL, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	hpci_fw_log_release(&log);
}

/* A panic or oops that ended a wait is guest-crash, whatever the register
 * samples say, unless the firmware failed first (step 2). */
static void test_crash_line_that_ended_the_run_is_guest_crash(void **state)
{
	struct fixture *f = *state;
	const char *error = "the guest kernel crashed while the harness waited for guest CPU 1 "
			    "online";
	struct hpci_fw_log good, failed;

	add_hang_samples(f);
	hpci_obs_serial(&f->obs, "[    9.2] BUG: kernel NULL pointer dereference, address: 0");
	assert_int_equal(classify(f, HPCI_FAIL_CRASH, error, NULL), HPCI_OUTCOME_GUEST_CRASH);
	assert_non_null(strstr(f->out->evidence, "guest printed '[    9.2] BUG: kernel NULL"));

	use_firmware_log(f, "firmware-log/good-boot.log", &good);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_CRASH, error, &good, NULL),
			 HPCI_OUTCOME_GUEST_CRASH);
	use_firmware_log(f, "firmware-log/mdepkg-assert.log", &failed);
	assert_int_equal(judge_with_log(f, HPCI_FAIL_CRASH, error, &failed, NULL),
			 HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_non_null(strstr(f->out->evidence, "the cell had come to guest-crash"));
	hpci_fw_log_release(&good);
	hpci_fw_log_release(&failed);
}

/*
 * The seeds' original crash: QEMU plugs a CPU the firmware never negotiated
 * hotplug for.  The firmware rightly relocated nothing; that is not a
 * firmware disagreement (it made one run "mismatch" and the next "hang-smm"),
 * so the run alone decides: here every step completed.
 */
static void test_unnegotiated_hotplug_is_judged_by_the_run(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GArray) plugs = g_array_new(FALSE, TRUE, sizeof(struct hpci_plug_timing));
	struct hpci_plug_timing p = { .vcpu = 1, .guest_cpu = 1, .request_ms = 100,
				      .returned_ms = 110, .seen_ms = 200, .online_ms = 300,
				      .unplug_request_ms = -1, .unplug_returned_ms = -1,
				      .removed_ms = -1 };
	struct hpci_fw_log log;

	use_firmware_log(f, "firmware-log/real-hotplug-off.log", &log);
	f->cell.topology = (struct hpci_topology){ 1, 1, 2, 1, 1, 2 };
	f->cell.smi.cpu_hotplug = false;
	f->cell.smi.cpu_hotunplug = false;
	g_array_append_val(plugs, p);
	hpci_obs_serial(&f->obs, "[    3.6] smpboot: Booting Node 0 Processor 1 APIC 0x1");
	assert_int_equal(judge_with_log(f, HPCI_FAIL_NONE, NULL, &log, plugs), HPCI_OUTCOME_PASS);
	assert_int_equal(f->out->firmware_problems->len, 0);
	hpci_fw_log_release(&log);
}

/* Step 5: an unexpected outcome the matrix declared as a known issue. */
static void test_known_issue_verdict(void **state)
{
	struct fixture *f = *state;
	struct hpci_known_issue issue = { .outcome = HPCI_OUTCOME_QEMU_CRASH,
					  .component = HPCI_COMPONENT_SYSTEM_QEMU };

	f->cell.expect.known_issues = hpci_known_issues_new();
	issue.note = g_strdup("heap corruption after unplug; upstream: x");
	g_array_append_val(f->cell.expect.known_issues, issue);
	assert_int_equal(classify(f, HPCI_FAIL_STOPPED, "stopped", "failed"),
			 HPCI_OUTCOME_QEMU_CRASH);
	assert_false(f->out->verdict_pass);
	assert_true(f->out->known_issue);
	assert_int_equal(classify(f, HPCI_FAIL_TIMEOUT, "no ready line", NULL),
			 HPCI_OUTCOME_GUEST_TIMEOUT);
	assert_false(f->out->known_issue);
	g_array_unref(f->cell.expect.known_issues);
	f->cell.expect.known_issues = NULL;
}

/* Step 0 (judge.h): a claim of this attempt from SMM, corroborated. */
static enum hpci_outcome judge_attack(struct fixture *f, enum hpci_failure failure,
				      const char *dump)
{
	g_autofree char *text = dump ? fixture_read(dump) : NULL;
	g_autoptr(GArray) cpus = NULL;
	struct hpci_observation in = {
		.failure = failure, .error = failure ? "no guest CPU 1 online" : NULL,
		.events = f->obs.events, .regdumps = f->samples, .regdump_span_ms = 2000,
		.attack_token = "da566d29ab99059b",
	};

	if (text)
		assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	in.claim_regs = cpus;
	hpci_cell_result_free(f->out);
	f->out = hpci_cell_result_new(&f->cell);
	hpci_judge(&f->cell, &in, f->out);
	return f->out->outcome;
}

static void test_breach_needs_token_smm_and_dump(void **state)
{
	struct fixture *f = *state;

	f->cell.smi.smbase_smram = false;
	hpci_obs_serial(&f->obs, "HPCI-ATTACK-PLANT token=da566d29ab99059b at=0x38000 bytes=560 "
			"stuck=560 pattern=512/512 readback=fab800388ed8b800");
	hpci_obs_serial(&f->obs, "HPCI-ATTACK da566d29ab99059b smm=1 apic=01 stage=e");
	assert_int_equal(judge_attack(f, HPCI_FAIL_BREACH, "attack/regdump-payload-in-smm.txt"),
			 HPCI_OUTCOME_BREACH);
	assert_non_null(strstr(f->out->evidence, "CPU#1 in SMM with CS base 0x30000"));
	assert_false(f->out->verdict_pass);
	/* The claim alone, without a dump that shows it, is not counted. */
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT, NULL), HPCI_OUTCOME_GUEST_TIMEOUT);
	assert_non_null(strstr(f->out->evidence, "not counted"));
	/* Nor with a dump where no CPU is in SMM at the default SMBASE. */
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT, "harness/regdump-hang-smm-0.txt"),
			 HPCI_OUTCOME_GUEST_TIMEOUT);
	/* The positive control's expectation holds. */
	f->cell.expect.outcome = HPCI_OUTCOME_BREACH;
	assert_int_equal(judge_attack(f, HPCI_FAIL_BREACH, "attack/regdump-payload-in-smm.txt"),
			 HPCI_OUTCOME_BREACH);
	assert_true(f->out->verdict_pass);
}

/*
 * Recorded on QEMU 0001-0008 (no patch 0009), run no9, attempt 4: after its
 * relocation RSM, CPU#1 went back to the attacker's code in real mode, still
 * through the translation of 0x3F000 made in SMM, and read the SMM save
 * state: the claim comes from outside SMM, and SMRAM was readable.
 */
static void test_smram_read_outside_smm_is_breach(void **state)
{
	struct fixture *f = *state;

	f->cell.smi.smbase_smram = true;
	f->cell.topology = (struct hpci_topology){ 1, 1, 4, 1, 1, 4 };
	hpci_obs_serial(&f->obs, "HPCI-ATTACK da566d29ab99059b smm=1 apic=01 stage=e");
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT,
				      "attack/regdump-smram-read-outside-smm.txt"),
			 HPCI_OUTCOME_BREACH);
	assert_non_null(strstr(f->out->evidence, "the guest read SMRAM from outside SMM"));
	assert_non_null(strstr(f->out->evidence, "CPU#1, outside SMM in the payload"));
	/* Another CPU's claim is not backed by CPU#1 sitting there. */
	hpci_obs_release(&f->obs);
	hpci_obs_init(&f->obs, NULL);
	hpci_obs_serial(&f->obs, "HPCI-ATTACK da566d29ab99059b smm=1 apic=02 stage=e");
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT,
				      "attack/regdump-smram-read-outside-smm.txt"),
			 HPCI_OUTCOME_GUEST_TIMEOUT);
}

/* Recorded without QEMU patch 0009 (run att3, attempt 4): CPU#1 in SMM
 * executing guest memory, which no payload line could report. */
static void test_smm_in_guest_memory_is_breach(void **state)
{
	struct fixture *f = *state;

	f->cell.smi.smbase_smram = true;
	add_sample(f, "harness/regdump-hang-smm-0.txt");
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT, NULL), HPCI_OUTCOME_GUEST_TIMEOUT);
	add_sample(f, "attack/regdump-smm-in-guest-memory.txt");
	assert_int_equal(judge_attack(f, HPCI_FAIL_TIMEOUT, NULL), HPCI_OUTCOME_BREACH);
	assert_non_null(strstr(f->out->evidence, "CPU#1 executes guest memory in SMM: CS base "
				"0x65870, RIP 0x10018 in register sample 2"));
}

static void test_other_tokens_and_real_mode_are_no_breach(void **state)
{
	struct fixture *f = *state;

	f->cell.smi.smbase_smram = true;
	/* Another cell's token, and this attempt's payload outside SMM, with the
	 * firmware's first-SMI handler legitimately at the default SMBASE. */
	hpci_obs_serial(&f->obs, "HPCI-ATTACK 828180d2034aa671 smm=1 apic=01 stage=e");
	hpci_obs_serial(&f->obs, "HPCI-ATTACK da566d29ab99059b smm=0 apic=02 stage=e");
	assert_int_equal(judge_attack(f, HPCI_FAIL_NONE, "attack/regdump-first-smi-handler.txt"),
			 HPCI_OUTCOME_PASS);
	assert_non_null(strstr(f->out->evidence, "another cell's or attempt's token"));
	assert_non_null(strstr(f->out->evidence, "the payload ran outside SMM"));
}

static void test_readable_smram_is_breach_only_where_there_is_smram(void **state)
{
	struct fixture *f = *state;
	GArray *issues = hpci_known_issues_new();
	struct hpci_known_issue ki = {
		HPCI_OUTCOME_BREACH, HPCI_COMPONENT_SYSTEM_QEMU, g_strdup("never applies"),
	};

	hpci_obs_serial(&f->obs, "HPCI-SMRAM-CHECK open=0 first=none");
	f->cell.smi.smbase_smram = true;
	assert_int_equal(judge_attack(f, HPCI_FAIL_NONE, NULL), HPCI_OUTCOME_PASS);
	hpci_obs_serial(&f->obs, "HPCI-SMRAM-CHECK open=131072 first=0x30000");
	assert_int_equal(judge_attack(f, HPCI_FAIL_NONE, NULL), HPCI_OUTCOME_BREACH);
	assert_non_null(strstr(f->out->evidence, "read the SMRAM at the default SMBASE"));
	/* A breach is never a known issue, whatever the matrix says. */
	g_array_append_val(issues, ki);
	f->cell.expect.known_issues = issues;
	assert_int_equal(judge_attack(f, HPCI_FAIL_NONE, NULL), HPCI_OUTCOME_BREACH);
	assert_false(f->out->known_issue);
	f->cell.expect.known_issues = NULL;
	g_array_unref(issues);
	/* Without SMRAM there, 0x30000 is guest RAM: nothing to read. */
	f->cell.smi.smbase_smram = false;
	assert_int_equal(judge_attack(f, HPCI_FAIL_NONE, NULL), HPCI_OUTCOME_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_steps_done_is_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_stock_qemu_hang_is_hang_smm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spin_without_parked_cpu_is_hang_smm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_without_smm_is_guest_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_message_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panic_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_without_panic_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_boot_banner_is_guest_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_death_is_qemu_crash, setup, teardown),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test_setup_teardown(test_firmware_disagreement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_assert_over_run_under_infra, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fatal_firmware_line_is_firmware_assert, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_line_that_ended_the_run_is_guest_crash,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unnegotiated_hotplug_is_judged_by_the_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_known_issue_verdict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_breach_needs_token_smm_and_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_tokens_and_real_mode_are_no_breach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_smram_read_outside_smm_is_breach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_smm_in_guest_memory_is_breach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_smram_is_breach_only_where_there_is_smram,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
