/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../fixture.h"
#include "attack.h"
#include "guest-line.h"

#include <string.h>

static void test_token_is_per_run_cell_and_attempt(void **state)
{
	g_autofree char *t = hpci_attack_token("run1", "topology=1s4c,ops=attack-smbase", 1);
	g_autofree char *same = hpci_attack_token("run1", "topology=1s4c,ops=attack-smbase", 1);
	g_autofree char *attempt = hpci_attack_token("run1", "topology=1s4c,ops=attack-smbase", 2);
	g_autofree char *cell = hpci_attack_token("run1", "topology=1s4c,ops=attack-sipi", 1);
	g_autofree char *run = hpci_attack_token("run2", "topology=1s4c,ops=attack-smbase", 1);

	(void)state;
	assert_int_equal(strlen(t), HPCI_ATTACK_TOKEN_LEN);
	assert_int_equal(strspn(t, "0123456789abcdef"), HPCI_ATTACK_TOKEN_LEN);
	assert_string_equal(t, same);
	assert_string_not_equal(t, attempt);
	assert_string_not_equal(t, cell);
	assert_string_not_equal(t, run);
}

static void test_claims(void **state)
{
	const char *tok = "da566d29ab99059b";
	int apic = -1;

	(void)state;
	/* Recorded: the positive control's payload, from SMM. */
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab99059b smm=1 apic=01 stage=e",
					   tok, &apic), HPCI_CLAIM_SMM);
	assert_int_equal(apic, 1);
	/* The same payload started by a SIPI, in real mode. */
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab99059b smm=0 apic=02 stage=a",
					   tok, &apic), HPCI_CLAIM_OUTSIDE_SMM);
	assert_int_equal(apic, 2);
	/* Another cell's or attempt's token is never this cell's breach. */
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK 828180d2034aa671 smm=1 apic=01 stage=e",
					   tok, NULL), HPCI_CLAIM_FOREIGN);
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab99059b smm=1 apic=01 stage=e",
					   NULL, NULL), HPCI_CLAIM_FOREIGN);
	/* After a fragment of another writer's line. */
	assert_int_equal(hpci_attack_claim("[    3.1] smpbHPCI-ATTACK da566d29ab99059b smm=1 apic=0a "
					   "stage=e", tok, &apic), HPCI_CLAIM_SMM);
	assert_int_equal(apic, 10);
	/* Garbled or truncated lines claim nothing. */
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab99059b smm=1 apic=01", tok, NULL),
			 HPCI_CLAIM_NONE);
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab9905 smm=1 apic=01 stage=e", tok,
					   NULL), HPCI_CLAIM_NONE);
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK da566d29ab99059b smm=2 apic=01 stage=e",
					   tok, NULL), HPCI_CLAIM_NONE);
	assert_int_equal(hpci_attack_claim("HPCI-ATTACK-PLANT token=da566d29ab99059b stuck=560",
					   tok, NULL), HPCI_CLAIM_NONE);
	assert_int_equal(hpci_attack_claim(NULL, tok, NULL), HPCI_CLAIM_NONE);
}

static GArray *parse_dump(const char *fixture)
{
	g_autofree char *text = fixture_read(fixture);
	GArray *cpus = NULL;

	assert_int_equal(hpci_regdump_parse(text, &cpus), 0);
	return cpus;
}

static void test_cpu_in_default_smm(void **state)
{
	g_autoptr(GArray) payload = parse_dump("attack/regdump-payload-in-smm.txt");
	g_autoptr(GArray) handler = parse_dump("attack/regdump-first-smi-handler.txt");
	g_autoptr(GArray) hang = parse_dump("harness/regdump-hang-smm-0.txt");

	(void)state;
	g_autoptr(GArray) astray = parse_dump("attack/regdump-smm-in-guest-memory.txt");
	g_autoptr(GArray) tseg = parse_dump("attack/regdump-documented-hang.txt");

	assert_int_equal(hpci_attack_smm_cpu_at_payload(payload)->index, 1);
	/* Recorded without QEMU patch 0009: CPU#2 in SMM at 0000:a000, guest
	 * memory, and CPU#3 in the firmware's own first-SMI handler at the
	 * default SMBASE, waiting for its turn.  The first is reported; either
	 * would corroborate a claim, and a dump alone is never a breach. */
	assert_int_equal(hpci_attack_smm_cpu_at_payload(handler)->index, 2);
	/* Recorded without QEMU patch 0009: CPU#1 in SMM at CS base 0x65870. */
	assert_int_equal(hpci_attack_smm_cpu_at_payload(astray)->index, 1);
	/* SMM in TSEG and CPUs outside SMM: nothing where the payload is. */
	assert_null(hpci_attack_smm_cpu_at_payload(tseg));
	assert_null(hpci_attack_smm_cpu_at_payload(hang));
	assert_null(hpci_attack_smm_cpu_at_payload(NULL));
	/* Guest memory in SMM, whatever the payload said. */
	assert_int_equal(hpci_attack_smm_in_guest_memory(astray)->index, 1);
	assert_int_equal(hpci_attack_smm_in_guest_memory(handler)->index, 2);
	assert_null(hpci_attack_smm_in_guest_memory(payload));   /* CS base 0x30000: the window */
	assert_null(hpci_attack_smm_in_guest_memory(tseg));
}

static void test_result_lines(void **state)
{
	(void)state;
	assert_int_equal(hpci_smram_check_open("HPCI-SMRAM-CHECK open=0 first=none"), 0);
	assert_int_equal(hpci_smram_check_open("HPCI-SMRAM-CHECK open=131072 first=0x30000"), 131072);
	assert_int_equal(hpci_smram_check_open("HPCI-SMRAM-CHECK open= first=none"), -1);
	assert_int_equal(hpci_smram_check_open("HPCI-ATTACK-PLANT stuck=3"), -1);
	assert_int_equal(hpci_attack_plant_stuck("HPCI-ATTACK-PLANT token=da566d29ab99059b at=0x38000 "
						 "bytes=560 stuck=560 pattern=512/512 "
						 "readback=fab800388ed8b800"), 560);
	assert_int_equal(hpci_attack_plant_stuck("HPCI-SMRAM-CHECK open=0"), -1);
	assert_int_equal(hpci_guest_line_parse("HPCI-ATTACK da566d29ab99059b smm=1 apic=01 stage=e").kind,
			 HPCI_LINE_ATTACK);
	assert_int_equal(hpci_guest_line_parse("HPCI-ATTACK-PLANT token=x").kind,
			 HPCI_LINE_ATTACK_PLANT);
	assert_int_equal(hpci_guest_line_parse("[   13.1] HPCI-ATTACK-SIPI apic=1 rounds=3 stop=ran").kind,
			 HPCI_LINE_ATTACK_SIPI);
	assert_int_equal(hpci_guest_line_parse("HPCI-SMRAM-CHECK open=0 first=none").kind,
			 HPCI_LINE_SMRAM_CHECK);
	assert_int_equal(hpci_guest_line_parse("HPCI-ATTACK-ERROR cannot load").kind,
			 HPCI_LINE_GUEST_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_is_per_run_cell_and_attempt),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_cpu_in_default_smm),
		cmocka_unit_test(test_result_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
