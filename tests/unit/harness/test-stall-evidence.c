/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stall-evidence.h"

#include <string.h>

static void test_names_do_not_clash_with_hang_evidence(void **state)
{
	g_autofree char *name = hpci_stall_regdump_name(3, 12);

	(void)state;
	assert_string_equal(name, "stall-03-regdump-12.txt");
}

/* The spans of a loaded burst cell (ms), as the run reports noted them. */
static void test_the_longest_stalls_are_kept(void **state)
{
	g_autoptr(GArray) kept = g_array_new(FALSE, FALSE, sizeof(struct hpci_stall_kept));
	struct hpci_stall_kept dropped;

	(void)state;
	assert_int_equal(HPCI_STALLS_KEPT, 3);
	assert_true(hpci_stall_keep(kept, 1, 2, 5012, &dropped));
	assert_int_equal(dropped.number, 0);
	assert_true(hpci_stall_keep(kept, 2, 4, 15036, &dropped));
	assert_true(hpci_stall_keep(kept, 3, 2, 5012, &dropped));
	assert_int_equal(dropped.number, 0);
	/* Full: one as short as the shortest is not kept. */
	assert_false(hpci_stall_keep(kept, 4, 2, 5012, &dropped));
	assert_int_equal(dropped.number, 0);
	/* A longer one displaces the later of the two shortest. */
	assert_true(hpci_stall_keep(kept, 5, 6, 25258, &dropped));
	assert_int_equal(dropped.number, 3);
	assert_int_equal(dropped.samples, 2);
	assert_int_equal(dropped.span_ms, 5012);
	/* And the next one the other. */
	assert_true(hpci_stall_keep(kept, 6, 3, 10016, &dropped));
	assert_int_equal(dropped.number, 1);
	assert_int_equal(kept->len, 3);
	assert_int_equal(g_array_index(kept, struct hpci_stall_kept, 0).number, 6);
	assert_int_equal(g_array_index(kept, struct hpci_stall_kept, 1).number, 2);
	assert_int_equal(g_array_index(kept, struct hpci_stall_kept, 2).number, 5);
	/* Shorter than all three: not kept. */
	assert_false(hpci_stall_keep(kept, 7, 3, 10015, &dropped));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_do_not_clash_with_hang_evidence),
		cmocka_unit_test(test_the_longest_stalls_are_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
