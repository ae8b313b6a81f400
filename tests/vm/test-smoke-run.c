/* SPDX-License-Identifier: MIT */
/*
 * Runs matrix/smoke.json as real VMs through libvirtd and checks each cell's
 * classification against what docs/facts.md §6 predicts for this host, how fast
 * the classification came, and that nothing is left behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "regdump.h"
#include "vm-common.h"

#include <stdio.h>
#include <string.h>

#define RUN_TIMEOUT_MS (20 * 60 * 1000)

struct smoke {
	char *dir;
	json_object *report;
	int status;
};

static int run_smoke(void **state)
{
	struct smoke *s = g_new0(struct smoke, 1);
	g_autofree char *out = NULL;
	struct hpci_cmd cmd;

	s->dir = vm_tmpdir("smoke");
	out = g_build_filename(s->dir, "run", NULL);
	hpci_cmd_init(&cmd, vm_binary());
	hpci_cmd_add(&cmd, "run");
	hpci_cmd_add(&cmd, "--matrix");
	hpci_cmd_add(&cmd, HPCI_SOURCE_ROOT "/matrix/smoke.json");
	hpci_cmd_add(&cmd, "--out");
	hpci_cmd_add(&cmd, out);
	cmd.timeout_ms = RUN_TIMEOUT_MS;
	cmd.log_path = g_build_filename(s->dir, "run.log", NULL);
	(void)hpci_cmd_run(&cmd, NULL, NULL);
	s->status = cmd.exit_status;
	hpci_cmd_release(&cmd);
	g_free(s->dir);
	s->dir = g_steal_pointer(&out);
	s->report = vm_load_report(s->dir);
	*state = s;
	return 0;
}

static int cleanup_smoke(void **state)
{
	struct smoke *s = *state;

	json_object_put(s->report);
	/* The report stays for inspection when a test failed; /tmp is cleaned later. */
	g_free(s->dir);
	g_free(s);
	return 0;
}

static void test_exit_status_and_summary(void **state)
{
	struct smoke *s = *state;

	assert_int_equal(s->status, 0);
	assert_int_equal(json_object_get_int(vm_get(s->report, "summary.cells")), 6);
	assert_int_equal(json_object_get_int(vm_get(s->report, "summary.pass")), 6);
	assert_string_equal(vm_get_str(s->report, "host.accel"), "tcg");
	assert_non_null(vm_get_str(s->report, "identities.0.sha256"));
}

static void test_refused_cell(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "smi", "hotplug-off", NULL, NULL);

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "outcome"), "refused");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	assert_non_null(strstr(vm_get_str(cell, "error"),
			       "cpu hotplug with SMI wasn't enabled by firmware"));
	/* The refusal comes straight back from device_add: no guest report. */
	assert_true(json_object_is_type(vm_get(cell, "timings.plugs.0.seen_ms"), json_type_null));
}

static void test_stock_qemu_hangs_in_smm(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "qemu", "system", "firmware", "smm");
	g_autofree char *regdump = NULL;
	gint64 plugged, finished;

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "outcome"), "hang-smm");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	assert_non_null(strstr(vm_get_str(cell, "evidence"), "stayed in SMM"));
	/* Nothing moves (regdump.h): the hot-added CPU is parked in the pen. */
	assert_non_null(strstr(vm_get_str(cell, "evidence"), "stayed parked outside SMM"));
	/* Classified from register samples within the frozen window after the
	 * 3 s of quiet before sampling, then torn down: not left to run on. */
	plugged = json_object_get_int64(vm_get(cell, "timings.plugs.0.request_ms"));
	finished = json_object_get_int64(vm_get(cell, "timings.duration_ms"));
	assert_true(plugged > 0);
	assert_true(finished - plugged < HPCI_HANG_FROZEN_WINDOW_MS + 15000);
	regdump = g_build_filename(s->dir, vm_get_str(cell, "dir"), "regdump-03.txt", NULL);
	assert_true(hpci_is_file(regdump));
}

static void test_non_smm_firmware_passes(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "firmware", "nosmm", NULL, NULL);

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "outcome"), "pass");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	assert_true(json_object_get_int64(vm_get(cell, "timings.boot_ms")) > 0);
	assert_true(json_object_get_int64(vm_get(cell, "timings.plugs.0.seen_ms")) >
		    json_object_get_int64(vm_get(cell, "timings.plugs.0.request_ms")));
	assert_true(json_object_get_int64(vm_get(cell, "timings.plugs.0.online_ms")) >=
		    json_object_get_int64(vm_get(cell, "timings.plugs.0.seen_ms")));
	assert_int_equal(json_object_get_int(vm_get(cell, "smi.runs_survived")), 1);
	assert_true(json_object_get_int(vm_get(cell, "smi.accesses")) > 0);
}

/* The same cell as the hang above, on our patched build: the CPU is
 * relocated, seen, onlined, and the SMIs raised on it afterwards return. */
static void test_patched_qemu_passes(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "qemu", "patched", "ops", "plug-smi");

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "axes.smi"), "full");
	assert_string_equal(vm_get_str(cell, "axes.firmware"), "smm");
	assert_string_equal(vm_get_str(cell, "expected.outcome"), "pass");
	assert_string_equal(vm_get_str(cell, "outcome"), "pass");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	assert_true(json_object_get_int64(vm_get(cell, "timings.plugs.0.online_ms")) >=
		    json_object_get_int64(vm_get(cell, "timings.plugs.0.seen_ms")));
	assert_true(json_object_get_int64(vm_get(cell, "timings.plugs.0.seen_ms")) > 0);
	assert_int_equal(json_object_get_int(vm_get(cell, "smi.runs_survived")), 1);
	assert_true(json_object_get_int(vm_get(cell, "smi.accesses")) > 0);
}

/* The line of the cell's attack record that starts with prefix, or NULL. */
static const char *attack_line(json_object *cell, const char *prefix)
{
	json_object *lines = vm_get(cell, "attack.lines");

	for (size_t i = 0; lines && i < json_object_array_length(lines); i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(lines, i));

		if (g_str_has_prefix(l, prefix))
			return l;
	}
	return NULL;
}

/* The negative control: the guest's code at the default SMBASE does not
 * stick, the window reads all ones after boot and after the plug, and the
 * plugged CPU is relocated, onlined and takes SMIs. */
static void test_attack_blocked(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "smi", "full", "ops", "attack-smbase");
	const char *plant;
	int checks = 0;
	json_object *lines;

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "outcome"), "pass");
	plant = attack_line(cell, "HPCI-ATTACK-PLANT ");
	assert_non_null(plant);
	assert_non_null(strstr(plant, vm_get_str(cell, "attack.token")));
	assert_non_null(strstr(plant, " stuck=0 pattern=0/512 readback=ffffffffffffffff"));
	lines = vm_get(cell, "attack.lines");
	for (size_t i = 0; i < json_object_array_length(lines); i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(lines, i));

		if (g_str_has_prefix(l, "HPCI-SMRAM-CHECK ")) {
			assert_string_equal(l, "HPCI-SMRAM-CHECK open=0 first=none");
			checks++;
		}
		assert_null(strstr(l, "HPCI-ATTACK "));   /* the payload never ran */
	}
	assert_int_equal(checks, 2);
	assert_int_equal(json_object_get_int(vm_get(cell, "smi.runs_survived")), 1);
	assert_true(json_object_get_int64(vm_get(cell, "timings.plugs.0.online_ms")) > 0);
}

/* The positive control: without the SMRAM there, the same attack is seen,
 * and it is a breach with its evidence, soon after the plug. */
static void test_attack_seen_without_smram(void **state)
{
	struct smoke *s = *state;
	json_object *cell = vm_find_cell(s->report, "smi", "smbase-smram-off", NULL, NULL);
	g_autofree char *claim = NULL;
	g_autofree char *regdump = NULL;
	g_autofree char *dump = NULL;
	unsigned bytes = 0, stuck = 0, pattern = 0;
	const char *plant;
	gint64 plugged, finished;

	assert_non_null(cell);
	assert_string_equal(vm_get_str(cell, "outcome"), "breach");
	assert_string_equal(vm_get_str(cell, "verdict"), "pass");
	plant = attack_line(cell, "HPCI-ATTACK-PLANT ");
	assert_non_null(plant);
	/* Every byte of the payload and of the pattern stuck: guest RAM. */
	assert_int_equal(sscanf(strstr(plant, " bytes="), " bytes=%u stuck=%u pattern=%u/512",
				&bytes, &stuck, &pattern), 3);
	assert_true(bytes > 0);
	assert_int_equal(stuck, bytes);
	assert_int_equal(pattern, 512);
	claim = g_strdup_printf("HPCI-ATTACK %s smm=1 apic=01 stage=e",
				vm_get_str(cell, "attack.token"));
	assert_non_null(attack_line(cell, claim));
	assert_non_null(strstr(vm_get_str(cell, "evidence"), "CPU#1 in SMM with CS base 0x30000"));
	assert_string_equal(vm_get_str(cell, "attack.regdump"), "regdump-breach.txt");
	regdump = g_build_filename(s->dir, vm_get_str(cell, "dir"), "regdump-breach.txt", NULL);
	assert_int_equal(hpci_read_file(regdump, &dump, NULL), 0);
	assert_non_null(strstr(dump, "CS =3000 00030000"));
	plugged = json_object_get_int64(vm_get(cell, "timings.plugs.0.request_ms"));
	finished = json_object_get_int64(vm_get(cell, "timings.duration_ms"));
	assert_true(plugged > 0);
	assert_true(finished - plugged < 30000);
}

static void test_nothing_left_behind(void **state)
{
	struct smoke *s = *state;

	assert_int_equal(vm_count_domains("hpci-"), 0);
	assert_int_equal(vm_count_files(s->dir, "disk.qcow2"), 0);
	assert_int_equal(vm_count_files(s->dir, "nvram.fd"), 0);
	assert_int_equal(vm_count_files(s->dir, "serial.log"), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_and_summary),
		cmocka_unit_test(test_refused_cell),
		cmocka_unit_test(test_stock_qemu_hangs_in_smm),
		cmocka_unit_test(test_non_smm_firmware_passes),
		cmocka_unit_test(test_patched_qemu_passes),
		cmocka_unit_test(test_attack_blocked),
		cmocka_unit_test(test_attack_seen_without_smram),
		cmocka_unit_test(test_nothing_left_behind),
	};

	return cmocka_run_group_tests_name("smoke-run", tests, run_smoke, cleanup_smoke);
}
