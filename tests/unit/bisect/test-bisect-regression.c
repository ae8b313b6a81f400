/* SPDX-License-Identifier: MIT */
/*
 * bisect/regression.c: from two nights' reports to what `bisect
 * --old-report/--new-report` bisects (cells, filters, sets, moved revisions),
 * or why there is nothing to bisect.
 */
#include "regression.h"
#include "error.h"
#include "json-reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define OLD_EDK2 "1111111111111111111111111111111111111111"
#define NEW_EDK2 "2222222222222222222222222222222222222222"
#define OLD_QEMU "3333333333333333333333333333333333333333"
#define NEW_QEMU "4444444444444444444444444444444444444444"

/* A build identity: role, path, and its source (kind NULL: a given file). */
static json_object *identity(const char *role, const char *path, const char *kind,
			     const char *location, const char *revision)
{
	json_object *id = json_object_new_object();

	json_object_object_add(id, "role", json_object_new_string(role));
	json_object_object_add(id, "path", json_object_new_string(path));
	if (kind) {
		json_object *src = json_object_new_object();

		json_object_object_add(src, "kind", json_object_new_string(kind));
		json_object_object_add(src, "location", json_object_new_string(location));
		json_object_object_add(src, "revision", json_object_new_string(revision));
		json_object_object_add(id, "source", src);
	} else {
		json_object_object_add(id, "source", NULL);
	}
	return id;
}

static json_object *cell(const char *id, const char *ops, const char *verdict,
			 const char *firmware_code, const char *emulator)
{
	json_object *c = json_object_new_object();
	json_object *axes = json_object_new_object();

	json_object_object_add(axes, "topology", json_object_new_string("1s4c"));
	json_object_object_add(axes, "smi", json_object_new_string("full"));
	json_object_object_add(axes, "firmware", json_object_new_string("smm-debug"));
	json_object_object_add(axes, "qemu", json_object_new_string("patched"));
	json_object_object_add(axes, "count", json_object_new_string("1"));
	json_object_object_add(axes, "ops", json_object_new_string(ops));
	json_object_object_add(c, "id", json_object_new_string(id));
	json_object_object_add(c, "axes", axes);
	json_object_object_add(c, "verdict", json_object_new_string(verdict));
	json_object_object_add(c, "outcome", json_object_new_string(
				       strcmp(verdict, "pass") == 0 ? "pass" : "mismatch"));
	json_object_object_add(c, "firmware_code", json_object_new_string(firmware_code));
	json_object_object_add(c, "emulator", json_object_new_string(emulator));
	return c;
}

/*
 * A run of two cells, "each" and "burst", with their verdicts, on an OVMF
 * built from edk2 at edk2_rev (kind edk2_kind) and a QEMU built at qemu_rev.
 */
static json_object *run(const char *each, const char *burst, const char *edk2_kind,
			const char *edk2_rev, const char *qemu_rev)
{
	json_object *r = json_object_new_object();
	json_object *matrix = json_object_new_object();
	json_object *settings = json_object_new_object();
	json_object *sets = json_object_new_array();
	json_object *ids = json_object_new_array();
	json_object *cells = json_object_new_array();
	g_autofree char *code = g_strdup_printf("/cache/firmware/%.8s/OVMF_CODE.fd", edk2_rev);
	g_autofree char *emu = g_strdup_printf("/cache/qemu/%.8s/bin/qemu-system-x86_64",
					       qemu_rev);

	json_object_object_add(r, "schema", json_object_new_int(1));
	json_object_object_add(matrix, "path", json_object_new_string("/ci/matrix/nightly.json"));
	json_object_object_add(matrix, "sha256", json_object_new_string("ab12"));
	json_object_object_add(r, "matrix", matrix);
	json_object_array_add(sets, json_object_new_string("axes.firmware.*.build.source=/m/edk2"));
	json_object_object_add(settings, "sets", sets);
	json_object_object_add(r, "run", settings);
	json_object_array_add(ids, identity("firmware-code", code, edk2_kind,
					    strcmp(edk2_kind, "git") == 0 ? "/m/edk2" : "edk2",
					    edk2_rev));
	json_object_array_add(ids, identity("qemu", emu, "git", "/m/qemu", qemu_rev));
	json_object_array_add(ids, identity("image", "/cache/images/x/disk.qcow2", NULL, NULL,
					    NULL));
	json_object_object_add(r, "identities", ids);
	json_object_array_add(cells, cell("each", "each", each, code, emu));
	json_object_array_add(cells, cell("burst", "burst", burst, code, emu));
	json_object_object_add(r, "cells", cells);
	return r;
}

static void test_edk2_moved(void **state)
{
	g_autoptr(json_object) old = run("pass", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_autoptr(json_object) new = run("fail", "pass", "git", NEW_EDK2, OLD_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r), 0);
	assert_int_equal(r.n_moved, 1);
	assert_string_equal(r.moved[0].component, "edk2");
	assert_string_equal(r.moved[0].repository, "/m/edk2");
	assert_string_equal(r.moved[0].old_commit, OLD_EDK2);
	assert_string_equal(r.moved[0].new_commit, NEW_EDK2);
	assert_int_equal(r.cells->len, 1);
	assert_string_equal(r.cells->pdata[0], "each");
	assert_string_equal(r.filters->pdata[0],
			    "topology=1s4c,smi=full,firmware=smm-debug,qemu=patched,count=1,ops=each");
	assert_int_equal(r.sets->len, 1);
	assert_string_equal(r.sets->pdata[0], "axes.firmware.*.build.source=/m/edk2");
	assert_string_equal(r.matrix, "/ci/matrix/nightly.json");
	assert_null(r.why);
}

static void test_both_moved(void **state)
{
	g_autoptr(json_object) old = run("pass", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_autoptr(json_object) new = run("fail", "flaky", "git", NEW_EDK2, NEW_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r), 0);
	assert_int_equal(r.n_moved, 2);
	assert_string_equal(r.moved[0].component, "edk2");
	assert_string_equal(r.moved[1].component, "qemu");
	assert_string_equal(r.moved[1].old_commit, OLD_QEMU);
	assert_string_equal(r.moved[1].new_commit, NEW_QEMU);
	/* fail and became-flaky both count */
	assert_int_equal(r.cells->len, 2);
}

static void test_no_regression(void **state)
{
	g_autoptr(json_object) old = run("fail", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_autoptr(json_object) new = run("pass", "pass", "git", NEW_EDK2, OLD_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r), 0);
	assert_int_equal(r.n_moved, 0);
	assert_string_equal(r.why, "no cell regressed between the runs");
}

static void test_nothing_moved(void **state)
{
	g_autoptr(json_object) old = run("pass", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_autoptr(json_object) new = run("fail", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r), 0);
	assert_int_equal(r.n_moved, 0);
	assert_non_null(strstr(r.why, "1 cell(s) regressed, but neither edk2 nor QEMU moved"));
	assert_int_equal(r.left_out->len, 1);
	assert_string_equal(r.left_out->pdata[0], "each: neither edk2 nor QEMU moved under it");
}

static void test_debian_moved(void **state)
{
	g_autoptr(json_object) old = run("pass", "pass", "debian", "2022.11-6", OLD_QEMU);
	g_autoptr(json_object) new = run("fail", "pass", "debian", "2022.11-7", OLD_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r), 0);
	assert_int_equal(r.n_moved, 0);
	assert_string_equal(r.why, "1 cell(s) regressed, but edk2 moved from debian edk2 "
			    "2022.11-6 to debian edk2 2022.11-7; only a git checkout can be "
			    "bisected: set EDK2_SOURCE to one");
}

static void test_report_without_matrix(void **state)
{
	g_autoptr(json_object) old = run("pass", "pass", "git", OLD_EDK2, OLD_QEMU);
	g_autoptr(json_object) new = run("fail", "pass", "git", NEW_EDK2, OLD_QEMU);
	g_auto(hpci_bisect_regression) r = { 0 };

	json_object_object_del(new, "matrix");
	assert_int_equal(hpci_bisect_regression_find(old, "new.json", new, &r),
			 -EINVAL);
	assert_string_equal(hpci_error_message(), "new.json: no matrix.path; a report from "
			    "`hotplug-ci run` names its matrix");
	hpci_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edk2_moved),
		cmocka_unit_test(test_both_moved),
		cmocka_unit_test(test_no_regression),
		cmocka_unit_test(test_nothing_moved),
		cmocka_unit_test(test_debian_moved),
		cmocka_unit_test(test_report_without_matrix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
