/* SPDX-License-Identifier: MIT */
/*
 * Boot reuse's pure part: what the key of a configuration depends on, which
 * cells restore, which one is the cold control, and which never restore.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot-state.h"
#include "cache.h"
#include "error.h"
#include "fsutil.h"

#include <string.h>

struct fixture {
	char *dir;           /* HPCI_CACHE_DIR and the fake emulator and firmware */
	char *emulator, *code, *vars;
	struct hpci_image image;
	struct hpci_cell cells[6];
	struct hpci_plan plans[6];
	GPtrArray *plan_list;
	GArray *steps;
};

static const struct hpci_boot_key_inputs inputs = {
	.accel = "tcg", .memory_mib = 512, .libvirt = "libvirt 9.0.0, QEMU driver 7.2.0",
};

static struct hpci_cell make_cell(const char *id, GArray *steps, unsigned count)
{
	struct hpci_cell cell = {
		.id = (char *)id,
		.topology = { .sockets = 1, .dies = 1, .cores = 4, .threads = 1, .boot = 1, .max = 4 },
		.smi = { .machine = (char *)"pc-q35-7.2", .broadcast = true, .cpu_hotplug = true,
			 .cpu_hotunplug = true, .smbase_smram = true },
		.firmware = { .smm = true, .verbose = true },
		.image = (char *)"minimal",
		.steps = steps,
		.count = count,
	};
	return cell;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	static const char *const ids[] = { "a", "b", "c", "d", "e", "f" };

	f->dir = g_dir_make_tmp("hpci-boot-state-XXXXXX", NULL);
	g_setenv("HPCI_CACHE_DIR", f->dir, TRUE);
	f->emulator = g_build_filename(f->dir, "qemu-system-x86_64", NULL);
	f->code = g_build_filename(f->dir, "CODE.fd", NULL);
	f->vars = g_build_filename(f->dir, "VARS.fd", NULL);
	assert_int_equal(hpci_write_file(f->emulator, "qemu", -1), 0);
	assert_int_equal(hpci_write_file(f->code, "code", -1), 0);
	assert_int_equal(hpci_write_file(f->vars, "vars", -1), 0);
	f->image = (struct hpci_image){ .recipe = (char *)"minimal",
					.key = (char *)"4f1e0c", .path = (char *)"/i/base.qcow2" };
	f->steps = g_array_new(FALSE, TRUE, sizeof(struct hpci_step));
	f->plan_list = g_ptr_array_new();
	for (unsigned i = 0; i < G_N_ELEMENTS(f->cells); i++) {
		/* Steps and counts differ from cell to cell: not the boot's business. */
		f->cells[i] = make_cell(ids[i], f->steps, i + 1);
		f->plans[i] = (struct hpci_plan){
			.cell = &f->cells[i], .emulator = f->emulator, .firmware_code = f->code,
			.firmware_vars = f->vars, .image = &f->image,
			.emulator_keeps_smram_lock = true,
		};
		g_ptr_array_add(f->plan_list, &f->plans[i]);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)hpci_rm_rf(f->dir);
	g_unsetenv("HPCI_CACHE_DIR");
	g_free(f->dir);
	g_free(f->emulator);
	g_free(f->code);
	g_free(f->vars);
	g_ptr_array_unref(f->plan_list);
	g_array_unref(f->steps);
	g_free(f);
	return 0;
}

static char *key_of(const struct hpci_plan *plan, const struct hpci_boot_key_inputs *in)
{
	char *key = NULL;

	assert_int_equal(hpci_boot_key(plan, in, &key), 0);
	assert_int_equal(strlen(key), 64);
	return key;
}

static void test_key_ignores_steps_and_counts(void **state)
{
	struct fixture *f = *state;
	g_autofree char *a = key_of(&f->plans[0], &inputs);
	g_autofree char *b = key_of(&f->plans[1], &inputs);

	assert_string_equal(a, b);
}

/* Every input of the boot moves the key. */
static void test_key_follows_the_configuration(void **state)
{
	struct fixture *f = *state;
	struct hpci_plan *plan = &f->plans[0];
	struct hpci_cell *cell = &f->cells[0];
	g_autofree char *base = key_of(plan, &inputs);
	struct hpci_boot_key_inputs in = inputs;
	char *other;

#define ASSERT_MOVES(what)                                               \
	do {                                                              \
		other = key_of(plan, &in);                                \
		assert_string_not_equal(base, other);                     \
		g_free(other);                                            \
		(void)(what);                                             \
	} while (0)

	in.memory_mib = 1024;
	ASSERT_MOVES("memory");
	in = inputs;
	in.libvirt = "libvirt 10.0.0";
	ASSERT_MOVES("libvirt");
	in = inputs;
	cell->topology.cores = 2;
	ASSERT_MOVES("topology");
	cell->topology.cores = 4;
	cell->smi.smbase_smram = false;
	cell->smi.given = HPCI_SMI_SMBASE_SMRAM;
	ASSERT_MOVES("an SMI switch");
	cell->smi.smbase_smram = true;
	cell->smi.given = 0;
	cell->smi.machine = (char *)"pc-q35-6.0";
	ASSERT_MOVES("machine type");
	cell->smi.machine = (char *)"pc-q35-7.2";
	f->image.key = (char *)"5a2b";
	ASSERT_MOVES("image");
	f->image.key = (char *)"4f1e0c";
	/* A rebuilt (or upgraded) emulator is another file. */
	g_usleep(10000);
	assert_int_equal(hpci_write_file(f->emulator, "qemu, rebuilt", -1), 0);
	ASSERT_MOVES("emulator");
#undef ASSERT_MOVES
}

static void test_assign_control_and_restored(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) states = NULL;
	const struct hpci_boot_state *st;

	/* c runs on Debian's QEMU (no 0010): an SMM guest never restores there. */
	f->plans[2].emulator_keeps_smram_lock = false;
	/* d's build failed. */
	f->plans[3].unrunnable = (char *)"build failed";
	/* f is alone in its configuration. */
	f->cells[5].topology.cores = 2;
	assert_int_equal(hpci_boot_states_assign(f->plan_list, &inputs, &states), 0);
	f->plans[3].unrunnable = NULL;

	assert_int_equal(states->len, 1);
	st = g_ptr_array_index(states, 0);
	assert_int_equal(st->status, HPCI_BOOT_STATE_NEEDED);
	assert_null(st->dir);
	assert_int_equal(st->restored_cells, 2);
	assert_ptr_equal(st->model, &f->plans[1]);
	/* a, the first of its configuration, is the cold control. */
	assert_true(f->plans[0].boot_control);
	assert_null(f->plans[0].boot_state);
	assert_ptr_equal(f->plans[1].boot_state, st);
	assert_ptr_equal(f->plans[4].boot_state, st);
	assert_false(f->plans[1].boot_control);
	for (unsigned i = 2; i <= 5; i++) {
		if (i == 4)
			continue;
		assert_null(f->plans[i].boot_state);
		assert_false(f->plans[i].boot_control);
	}

	/* --restore-any-qemu: c restores too (and is a breach, judge.h). */
	for (unsigned i = 0; i < G_N_ELEMENTS(f->plans); i++) {
		f->plans[i].boot_state = NULL;
		f->plans[i].boot_control = false;
	}
	g_clear_pointer(&states, g_ptr_array_unref);
	{
		struct hpci_boot_key_inputs any = inputs;

		any.any_emulator = true;
		assert_int_equal(hpci_boot_states_assign(f->plan_list, &any, &states), 0);
	}
	assert_int_equal(states->len, 1);
	assert_ptr_equal(f->plans[2].boot_state, g_ptr_array_index(states, 0));
	assert_int_equal(((struct hpci_boot_state *)g_ptr_array_index(states, 0))->restored_cells,
			 4);
}

/* Without SMM there is no SMRAM lock to lose: any QEMU restores it. */
static void test_no_smm_restores_on_any_qemu(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) states = NULL;

	for (unsigned i = 0; i < 3; i++) {
		f->plans[i].emulator_keeps_smram_lock = false;
		f->cells[i].firmware.smm = false;
	}
	g_ptr_array_set_size(f->plan_list, 3);
	assert_int_equal(hpci_boot_states_assign(f->plan_list, &inputs, &states), 0);
	assert_int_equal(states->len, 1);
	assert_int_equal(((struct hpci_boot_state *)g_ptr_array_index(states, 0))->restored_cells,
			 2);
	assert_true(f->plans[0].boot_control);
}

/* A state in the cache is ready at once; an interrupted make left none. */
static void test_cached_state_is_ready(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) states = NULL;
	g_autofree char *key = key_of(&f->plans[1], &inputs);
	g_autofree char *entry = g_build_filename(f->dir, "states", key, NULL);
	g_autofree char *work = g_strdup_printf("%s/states/.tmp-%s-1", f->dir, key);
	const struct hpci_boot_state *st;

	assert_int_equal(hpci_mkdir_p(work, 0755), 0);
	assert_int_equal(hpci_boot_states_assign(f->plan_list, &inputs, &states), 0);
	st = g_ptr_array_index(states, 0);
	assert_int_equal(st->status, HPCI_BOOT_STATE_NEEDED);

	g_clear_pointer(&states, g_ptr_array_unref);
	for (unsigned i = 0; i < G_N_ELEMENTS(f->plans); i++)
		f->plans[i].boot_state = NULL;
	assert_int_equal(hpci_mkdir_p(entry, 0755), 0);
	assert_int_equal(hpci_boot_states_assign(f->plan_list, &inputs, &states), 0);
	st = g_ptr_array_index(states, 0);
	assert_int_equal(st->status, HPCI_BOOT_STATE_READY);
	assert_string_equal(st->dir, entry);
	assert_int_equal(st->restored_cells, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_ignores_steps_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_follows_the_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_control_and_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_smm_restores_on_any_qemu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_state_is_ready, setup, teardown),
	};

	return cmocka_run_group_tests_name("boot-state", tests, NULL, NULL);
}
