/* SPDX-License-Identifier: MIT */
/*
 * Boot reuse end to end (harness/boot-state.h): one configuration, four
 * cells.  A Ctrl-C while the boot job saves leaves nothing half written in
 * the cache; the next run saves the boot once, keeps its first cell cold as
 * the control and restores the others, each into its own domain with its
 * own NVRAM and disk overlay and the boot's firmware facts; a third run
 * finds the state in the cache and restores it into two cells at once.
 *
 * The states go into a cache of the test's own (the other kinds are linked
 * to the machine's), so every run of the test makes its state afresh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fsutil.h"
#include "vm-common.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONTROL "ops=each1"
static const char *const restored_ops[] = { "ops=each2", "ops=burst2", "ops=unplug" };

/* Cell order (the control, each1, is the first) and cost order (the
 * scheduler starts the two dearest first, unplug and each2, both restored)
 * both matter here. */
static const char matrix_fmt[] =
	"{ \"name\": \"restore\",\n"
	"  \"defaults\": { \"image\": \"minimal\",\n"
	"    \"timeouts\": { \"boot_s\": 120, \"plug_s\": 60, \"online_s\": 60, \"unplug_s\": 120,"
	" \"smi_s\": 180 } },\n"
	"  \"axes\": {\n"
	"    \"topology\": { \"1s4c\": { \"sockets\": 1, \"dies\": 1, \"cores\": 4, \"threads\": 1,"
	" \"boot\": 1, \"max\": 4 } },\n"
	"    \"smi\": { \"full\": { \"machine\": \"pc-q35-7.2\", \"broadcast\": true,"
	" \"cpu_hotplug\": true, \"cpu_hotunplug\": true } },\n"
	"    \"firmware\": { \"smm-debug\": { \"build\": { \"source\": \"debian:edk2\" } } },\n"
	"    \"qemu\": { \"patched\": { \"build\": { \"source\": \"debian:qemu\","
	" \"patches\": \"%s/qemu-build/patches\" } } },\n"
	"    \"count\": [1],\n"
	"    \"ops\": {\n"
	"      \"each1\": [\"plug-each\", { \"op\": \"smi\", \"sweeps\": 1 }],\n"
	"      \"each2\": [\"plug-each\", { \"op\": \"smi\", \"sweeps\": 2 }],\n"
	"      \"burst2\": [\"plug-burst\", { \"op\": \"smi\", \"sweeps\": 2 }],\n"
	"      \"unplug\": [\"plug-each\", { \"op\": \"smi\", \"sweeps\": 1 }, \"unplug\","
	" { \"op\": \"smi\", \"sweeps\": 1 }]\n"
	"    } },\n"
	"  \"expect\": [ { \"when\": {}, \"outcome\": \"pass\","
	" \"reason\": \"our patched QEMU relocates every hot-added CPU under TCG\" } ] }\n";

struct fixture {
	char *tmp;
	char *cache;      /* HPCI_CACHE_DIR for the runs */
	char *matrix;
};

/* A cache root whose every kind but "states" is the machine's. */
static void link_cache(const char *cache)
{
	const char *given = g_getenv("HPCI_CACHE_DIR");
	g_autofree char *real = given ? g_strdup(given)
				      : g_build_filename(g_get_user_cache_dir(), "hotplug-ci", NULL);
	static const char *const kinds[] = { "images", "qemu", "firmware", "basetools", "sources",
					     "ccache", "downloads", NULL };
	g_autoptr(GDir) dir = NULL;
	const char *name;

	assert_int_equal(hpci_mkdir_p(cache, 0755), 0);
	for (const char *const *k = kinds; *k; k++) {
		g_autofree char *path = g_build_filename(real, *k, NULL);

		assert_int_equal(hpci_mkdir_p(path, 0755), 0);
	}
	dir = g_dir_open(real, 0, NULL);
	assert_non_null(dir);
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *from = g_build_filename(real, name, NULL);
		g_autofree char *to = g_build_filename(cache, name, NULL);

		if (strcmp(name, "states") != 0 && !g_str_has_suffix(name, ".lock"))
			assert_int_equal(symlink(from, to), 0);
	}
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	g_autofree char *text = g_strdup_printf(matrix_fmt, HPCI_SOURCE_ROOT);

	f->tmp = vm_tmpdir("restore");
	f->cache = g_build_filename(f->tmp, "cache", NULL);
	f->matrix = g_build_filename(f->tmp, "restore.json", NULL);
	link_cache(f->cache);
	assert_true(g_file_set_contents(f->matrix, text, -1, NULL));
	g_setenv("HPCI_CACHE_DIR", f->cache, TRUE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* The states (134 MiB each) go with the test; the links only. */
	(void)hpci_rm_rf(f->tmp);
	g_free(f->tmp);
	g_free(f->cache);
	g_free(f->matrix);
	g_free(f);
	return 0;
}

/* Entries of the states kind: finished ones and work directories. */
static void count_states(const char *cache, unsigned *entries, unsigned *work_dirs)
{
	g_autofree char *states = g_build_filename(cache, "states", NULL);
	g_autoptr(GDir) dir = g_dir_open(states, 0, NULL);
	const char *name;

	*entries = *work_dirs = 0;
	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(states, name, NULL);

		if (g_str_has_prefix(name, ".tmp-"))
			(*work_dirs)++;
		else if (g_file_test(path, G_FILE_TEST_IS_DIR))
			(*entries)++;
	}
}

/* A work directory's saved.img, once libvirt has started writing it. */
static bool saving(const char *cache)
{
	g_autofree char *states = g_build_filename(cache, "states", NULL);
	g_autoptr(GDir) dir = g_dir_open(states, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *img = g_build_filename(states, name, "saved.img", NULL);

		if (g_str_has_prefix(name, ".tmp-") && g_file_test(img, G_FILE_TEST_EXISTS))
			return true;
	}
	return false;
}

static void test_interrupt_while_saving(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->tmp, "run1", NULL);
	const char *argv[] = { vm_binary(), "run", "--matrix", f->matrix, "--out", out,
			       "--jobs", "2", NULL };
	unsigned entries, work_dirs;
	gint64 deadline = g_get_monotonic_time() + 300 * G_USEC_PER_SEC;
	json_object *report;
	GPid pid;
	int status = 0;

	assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				  &pid, NULL));
	while (!saving(f->cache)) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("the boot job never started saving");
		g_usleep(20 * 1000);
	}
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_spawn_close_pid(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);

	count_states(f->cache, &entries, &work_dirs);
	assert_int_equal(entries, 0);
	assert_int_equal(work_dirs, 0);
	assert_int_equal(vm_count_domains("hpci-run1-"), 0);
	assert_int_equal(vm_count_processes("guest=hpci-run1-"), 0);
	report = vm_load_report(out);
	assert_true(json_object_get_boolean(vm_get(report, "interrupted")));
	json_object_put(report);
}

/* The bytes of a file hold the string (a qcow2 header its backing file). */
static bool file_has(const char *path, const char *needle)
{
	g_autofree char *text = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, NULL))
		return false;
	return memmem(text, len, needle, strlen(needle)) != NULL;
}

static char *cell_file(const char *out, json_object *cell, const char *name)
{
	return g_build_filename(out, vm_get_str(cell, "dir"), name, NULL);
}

/* What a cell says the firmware did at boot and on the plug. */
static void assert_firmware_facts(json_object *cell)
{
	assert_true(json_object_get_boolean(vm_get(cell, "firmware.smram_at_default_smbase")));
	assert_int_equal(json_object_get_int(vm_get(cell, "firmware.boot_cpu_count")), 1);
	assert_true(json_object_get_boolean(vm_get(cell, "firmware.negotiated.cpu_hotplug")));
	assert_true(json_object_get_boolean(vm_get(cell, "firmware.negotiated.broadcast")));
	assert_int_equal(json_object_get_int(vm_get(cell, "firmware.hot_added.0.apic_id")), 1);
}

/* Seconds since the epoch of a "YYYY-MM-DD HH:MM:SS.mmm+0000: <what>" line
 * of libvirt's QEMU log. */
static double qemu_log_time(const char *path, const char *what)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	double t = -1;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_autofree char *iso = NULL;
		g_autoptr(GDateTime) dt = NULL;

		if (!strstr(*l, what) || strlen(*l) < 28)
			continue;
		iso = g_strndup(*l, 28);
		iso[10] = 'T';
		if ((dt = g_date_time_new_from_iso8601(iso, NULL)))
			t = g_date_time_to_unix(dt) + g_date_time_get_microsecond(dt) / 1e6;
	}
	return t;
}

static void test_save_once_restore_per_cell(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->tmp, "run2", NULL);
	g_autofree char *again = g_build_filename(f->tmp, "run3", NULL);
	g_autofree char *state_dir = NULL;
	g_autofree char *state_disk = NULL;
	g_autoptr(GHashTable) nvram_inodes = g_hash_table_new(g_int64_hash, g_int64_equal);
	struct vm_result r = { 0 }, r3 = { 0 };
	json_object *report, *control;
	g_autofree char *key = NULL;
	unsigned entries, work_dirs;
	double start[G_N_ELEMENTS(restored_ops)], end[G_N_ELEMENTS(restored_ops)];
	unsigned overlaps = 0;

	vm_hotplug_ci(&r, "run", "--matrix", f->matrix, "--out", out, "--jobs", "2",
		      "--keep-disks", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "boot reuse: 3 cell(s) restore 1 saved boot state(s) "
				      "(0 in the cache)"));
	assert_non_null(strstr(r.err, "booting the configuration of cell"));
	report = vm_load_report(out);
	assert_true(json_object_get_boolean(vm_get(report, "run.boot_reuse")));
	assert_int_equal(json_object_get_int(vm_get(report, "summary.pass")), 4);

	control = vm_find_cell(report, "ops", "each1", NULL, NULL);
	assert_non_null(control);
	assert_string_equal(vm_get_str(control, "boot.kind"), "cold");
	assert_true(json_object_get_boolean(vm_get(control, "boot.control")));
	assert_firmware_facts(control);

	for (size_t i = 0; i < G_N_ELEMENTS(restored_ops); i++) {
		json_object *cell = vm_find_cell(report, "ops", restored_ops[i] + 4, NULL, NULL);
		g_autofree char *disk = NULL, *nvram = NULL, *serial = NULL, *fwlog = NULL;
		struct stat st;

		assert_non_null(cell);
		assert_string_equal(vm_get_str(cell, "boot.kind"), "restored");
		assert_false(json_object_get_boolean(vm_get(cell, "boot.control")));
		assert_true(json_object_get_int(vm_get(cell, "boot.restore_ms")) > 0);
		if (!key) {
			key = g_strdup(vm_get_str(cell, "boot.state"));
			state_dir = g_build_filename(f->cache, "states", key, NULL);
			state_disk = g_build_filename(state_dir, "disk.qcow2", NULL);
		}
		/* One state for the configuration. */
		assert_string_equal(vm_get_str(cell, "boot.state"), key);
		/* The boot's firmware facts, checked in this cell. */
		assert_firmware_facts(cell);
		/* Its own overlay, on the saved disk; its own NVRAM. */
		disk = cell_file(out, cell, "disk.qcow2");
		nvram = cell_file(out, cell, "nvram.fd");
		assert_true(file_has(disk, state_disk));
		assert_int_equal(stat(nvram, &st), 0);
		assert_true(g_hash_table_add(nvram_inodes, g_memdup2(&st.st_ino, sizeof(gint64))));
		/* The logs carry the boot and go on after the restore. */
		serial = cell_file(out, cell, "serial.log");
		fwlog = cell_file(out, cell, "firmware.log");
		assert_true(file_has(serial, "HPCI-READY"));
		assert_true(file_has(serial, "HPCI-CPU-ONLINE"));
		assert_true(file_has(fwlog, "SMRAM at default SMBASE"));
		assert_true(file_has(fwlog, "QemuCpuhpCollectApicIds"));
	}
	/* The entry: complete, renamed into place, with what belongs to the RAM. */
	for (const char *const *name = (const char *const[]){ "saved.img", "disk.qcow2",
							      "nvram.fd", "serial.log",
							      "firmware.log", "domain.xml",
							      "manifest.json", NULL };
	     *name; name++) {
		g_autofree char *path = g_build_filename(state_dir, *name, NULL);

		assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	}
	count_states(f->cache, &entries, &work_dirs);
	assert_int_equal(entries, 1);
	assert_int_equal(work_dirs, 0);
	assert_int_equal(vm_count_domains("hpci-run2-"), 0);
	json_object_put(report);

	/* Again: the state is in the cache and two cells restore it at once. */
	vm_hotplug_ci(&r3, "run", "--matrix", f->matrix, "--out", again, "--jobs", "2", NULL);
	assert_int_equal(r3.status, 0);
	assert_non_null(strstr(r3.err, "(1 in the cache)"));
	assert_null(strstr(r3.err, "booting the configuration of cell"));
	report = vm_load_report(again);
	assert_int_equal(json_object_get_int(vm_get(report, "summary.pass")), 4);
	for (size_t i = 0; i < G_N_ELEMENTS(restored_ops); i++) {
		json_object *cell = vm_find_cell(report, "ops", restored_ops[i] + 4, NULL, NULL);
		g_autofree char *log = cell_file(again, cell, "qemu.log");

		assert_string_equal(vm_get_str(cell, "boot.state"), key);
		start[i] = qemu_log_time(log, "starting up");
		end[i] = qemu_log_time(log, "shutting down");
		assert_true(start[i] > 0 && end[i] > start[i]);
	}
	/* Two restored domains ran at the same time (the scheduler starts the
	 * dearest cells first: unplug and each2, both restored). */
	for (size_t i = 0; i < G_N_ELEMENTS(restored_ops); i++)
		for (size_t j = i + 1; j < G_N_ELEMENTS(restored_ops); j++)
			overlaps += start[i] < end[j] && start[j] < end[i];
	assert_true(overlaps >= 1);
	json_object_put(report);
	assert_int_equal(vm_count_domains("hpci-run3-"), 0);
	vm_result_release(&r);
	vm_result_release(&r3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interrupt_while_saving),
		cmocka_unit_test(test_save_once_restore_per_cell),
	};

	return cmocka_run_group_tests_name("restore", tests, setup, teardown);
}
