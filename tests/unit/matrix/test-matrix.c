/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "matrix.h"
#include "error.h"
#include "firmware-build.h"
#include "qemu-build.h"
#include "fixture.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define BAD "matrix/bad.json"

/* Inline matrices are written with ' for " to stay readable. */
static char *sq(const char *text)
{
	char *s = g_strdup(text);

	for (char *c = s; *c; c++) {
		if (*c == '\'')
			*c = '"';
	}
	return s;
}

static struct hpci_matrix *parse_ok(const char *text, const char *accel)
{
	g_autofree char *json = sq(text);
	struct hpci_matrix_host host = { accel };
	struct hpci_matrix *m = NULL;

	if (hpci_matrix_parse("matrix/ok.json", json, &host, &m) < 0)
		fail_msg("unexpected error: %s", hpci_error_message());
	return m;
}

static void check_error(const char *text, const char *expected)
{
	g_autofree char *json = sq(text);
	struct hpci_matrix_host host = { "tcg" };
	struct hpci_matrix *m = NULL;
	int rc;

	hpci_error_clear();
	rc = hpci_matrix_parse(BAD, json, &host, &m);
	if (rc != -EINVAL || !strstr(hpci_error_message(), expected))
		fail_msg("rc %d, message\n    %s\nshould contain\n    %s", rc, hpci_error_message(),
			 expected);
	assert_null(m);
}

static char *fixture_path(const char *rel)
{
	const char *dir = g_getenv("HPCI_FIXTURES");

	return g_build_filename(dir ? dir : "tests/fixtures", rel, NULL);
}

static struct hpci_matrix *load_fixture(const char *accel)
{
	g_autofree char *path = fixture_path("matrix/valid.json");
	struct hpci_matrix_host host = { accel };
	struct hpci_matrix *m = NULL;

	if (hpci_matrix_load(path, accel ? &host : NULL, &m) < 0)
		fail_msg("cannot load the fixture: %s", hpci_error_message());
	return m;
}

static const struct hpci_cell *cell_by_id(const struct hpci_matrix *m, const char *id)
{
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *c = g_ptr_array_index(m->cells, i);

		if (strcmp(c->id, id) == 0)
			return c;
	}
	fail_msg("no cell '%s'", id);
	return NULL;
}

#define ALL_GIVEN (HPCI_SMI_BROADCAST | HPCI_SMI_CPU_HOTPLUG | HPCI_SMI_CPU_HOTUNPLUG | \
		   HPCI_SMI_SMBASE_SMRAM)

#define ID(topo, smi, count, ops) \
	"topology=" topo ",smi=" smi ",firmware=smm,qemu=system,count=" count ",ops=" ops

static const char *const fixture_ids[] = {
	ID("1s2c", "full", "1", "each"),
	ID("1s2c", "full", "1", "burst"),
	ID("1s2c", "full", "1", "unplug"),
	ID("1s2c", "full", "all", "each"),
	ID("1s2c", "full", "all", "burst"),
	ID("1s2c", "full", "all", "unplug"),
	ID("1s2c", "hotplug-off", "1", "each"),
	ID("1s2c", "hotplug-off", "all", "each"),
	ID("2s2c2t", "full", "1", "each"),
	ID("2s2c2t", "full", "1", "burst"),
	ID("2s2c2t", "full", "1", "unplug"),
	ID("2s2c2t", "full", "2", "each"),
	ID("2s2c2t", "full", "2", "burst"),
	ID("2s2c2t", "full", "2", "unplug"),
	ID("2s2c2t", "full", "all", "each"),
	ID("2s2c2t", "full", "all", "burst"),
	ID("2s2c2t", "full", "all", "unplug"),
	ID("2s2c2t", "hotplug-off", "1", "each"),
	ID("2s2c2t", "hotplug-off", "2", "each"),
	ID("2s2c2t", "hotplug-off", "all", "each"),
};

/* ---- valid matrices ---------------------------------------------------- */

static void test_fixture_ids_and_order(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("tcg");

	(void)state;
	assert_string_equal(m->name, "smoke");
	assert_int_equal(m->cells->len, G_N_ELEMENTS(fixture_ids));
	for (guint i = 0; i < m->cells->len; i++)
		assert_string_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, i))->id,
				    fixture_ids[i]);
}

static void test_fixture_ids_unique(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("kvm");
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	(void)state;
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *c = g_ptr_array_index(m->cells, i);

		if (!g_hash_table_add(seen, c->id))
			fail_msg("cell id '%s' appears twice", c->id);
	}
	assert_int_equal(g_hash_table_size(seen), G_N_ELEMENTS(fixture_ids));
}

static void test_fixture_axes_array(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("tcg");
	const struct hpci_cell *c = g_ptr_array_index(m->cells, 0);
	static const char *const want[][2] = {
		{ "topology", "1s2c" }, { "smi", "full" }, { "firmware", "smm" },
		{ "qemu", "system" }, { "count", "1" }, { "ops", "each" },
	};

	(void)state;
	assert_int_equal(c->axes->len, 6);
	for (guint i = 0; i < 6; i++) {
		const struct hpci_axis_value *av = &g_array_index(c->axes, struct hpci_axis_value, i);

		assert_string_equal(av->axis, want[i][0]);
		assert_string_equal(av->value, want[i][1]);
		assert_string_equal(hpci_cell_axis(c, want[i][0]), want[i][1]);
	}
	assert_null(hpci_cell_axis(c, "nope"));
	assert_null(hpci_cell_axis(NULL, "smi"));
}

static void test_fixture_resolved_values(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("tcg");
	const struct hpci_cell *c;
	const struct hpci_step *s;

	(void)state;
	/* dies and threads default to 1, max given */
	c = cell_by_id(m, ID("1s2c", "full", "all", "each"));
	assert_int_equal(c->topology.sockets, 1);
	assert_int_equal(c->topology.dies, 1);
	assert_int_equal(c->topology.cores, 2);
	assert_int_equal(c->topology.threads, 1);
	assert_int_equal(c->topology.boot, 1);
	assert_int_equal(c->topology.max, 2);
	assert_int_equal(c->count, 1);    /* all = max - boot */
	assert_int_equal(c->steps->len, 2);
	s = &g_array_index(c->steps, struct hpci_step, 0);
	assert_int_equal(s->kind, HPCI_STEP_PLUG_EACH);
	s = &g_array_index(c->steps, struct hpci_step, 1);
	assert_int_equal(s->kind, HPCI_STEP_SMI);
	assert_int_equal(s->sweeps, 3);

	/* max omitted: the product */
	c = cell_by_id(m, ID("2s2c2t", "full", "all", "burst"));
	assert_int_equal(c->topology.dies, 1);
	assert_int_equal(c->topology.threads, 2);
	assert_int_equal(c->topology.max, 8);
	assert_int_equal(c->topology.boot, 2);
	assert_int_equal(c->count, 6);
	assert_int_equal(c->steps->len, 2);
	s = &g_array_index(c->steps, struct hpci_step, 0);
	assert_int_equal(s->kind, HPCI_STEP_PLUG_BURST);
	s = &g_array_index(c->steps, struct hpci_step, 1);
	assert_int_equal(s->kind, HPCI_STEP_SMI);
	assert_int_equal(s->sweeps, 2);    /* default sweeps */

	c = cell_by_id(m, ID("2s2c2t", "full", "2", "unplug"));
	assert_int_equal(c->count, 2);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 1).kind, HPCI_STEP_UNPLUG);
	assert_string_equal(c->smi.machine, "pc-q35-7.2");
	assert_true(c->smi.broadcast && c->smi.cpu_hotplug && c->smi.cpu_hotunplug &&
		    c->smi.smbase_smram);
	assert_int_equal(c->smi.given, ALL_GIVEN);
	assert_string_equal(c->firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_string_equal(c->firmware.vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
	assert_true(c->firmware.smm);
	assert_string_equal(c->qemu.emulator, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(c->image, "minimal");

	c = cell_by_id(m, ID("2s2c2t", "hotplug-off", "1", "each"));
	assert_false(c->smi.cpu_hotplug);
	assert_false(c->smi.cpu_hotunplug);
	assert_true(c->smi.broadcast);
	assert_true(c->smi.smbase_smram);   /* pc-q35-7.2's default */
	assert_int_equal(c->smi.given, ALL_GIVEN & ~HPCI_SMI_SMBASE_SMRAM);
}

static void test_fixture_timeouts_tcg_kvm(void **state)
{
	g_autoptr(hpci_matrix) tcg = load_fixture("tcg");
	g_autoptr(hpci_matrix) kvm = load_fixture("kvm");
	g_autoptr(hpci_matrix) unknown = load_fixture(NULL);
	const struct hpci_timeouts *t;

	(void)state;
	t = &((const struct hpci_cell *)g_ptr_array_index(tcg->cells, 5))->timeouts;
	assert_int_equal(t->boot_ms, 100000);
	assert_int_equal(t->plug_ms, 60000);
	assert_int_equal(t->online_ms, 8000);
	assert_int_equal(t->unplug_ms, 60000);
	assert_int_equal(t->smi_ms, 120000);
	/* Unscaled whatever the host: the harness's prepare stage scales for KVM. */
	t = &((const struct hpci_cell *)g_ptr_array_index(kvm->cells, 5))->timeouts;
	assert_int_equal(t->boot_ms, 100000);
	assert_int_equal(t->online_ms, 8000);
	t = &((const struct hpci_cell *)g_ptr_array_index(unknown->cells, 5))->timeouts;
	assert_int_equal(t->boot_ms, 100000);
}

static void test_default_timeouts_and_floor(void **state)
{
	g_autoptr(hpci_matrix) tcg = parse_ok("{'name':'t','axes':{}}", "tcg");
	g_autoptr(hpci_matrix) kvm = parse_ok("{'name':'t','defaults':{'timeouts':{'online_s':3,"
					      "'smi_s':30}},'axes':{}}", "kvm");
	const struct hpci_timeouts *t;

	(void)state;
	t = &((const struct hpci_cell *)g_ptr_array_index(tcg->cells, 0))->timeouts;
	assert_int_equal(t->boot_ms, 120000);
	assert_int_equal(t->plug_ms, 60000);
	assert_int_equal(t->online_ms, 60000);
	assert_int_equal(t->unplug_ms, 90000);
	assert_int_equal(t->smi_ms, 120000);
	t = &((const struct hpci_cell *)g_ptr_array_index(kvm->cells, 0))->timeouts;
	assert_int_equal(t->boot_ms, 120000);
	assert_int_equal(t->unplug_ms, 90000);
	assert_int_equal(t->online_ms, 3000);
	assert_int_equal(t->smi_ms, 30000);
}

struct want_expect {
	const char *id;
	enum hpci_outcome outcome;
	const char *message;
	const char *reason_start;
};

static void check_expectations(const struct hpci_matrix *m, const struct want_expect *want,
			       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct hpci_cell *c = cell_by_id(m, want[i].id);

		if (c->expect.outcome != want[i].outcome)
			fail_msg("%s: outcome %s, want %s", c->id,
				 hpci_outcome_name(c->expect.outcome),
				 hpci_outcome_name(want[i].outcome));
		assert_string_equal(c->expect.message ? c->expect.message : "(null)",
				    want[i].message ? want[i].message : "(null)");
		if (want[i].reason_start)
			assert_true(c->expect.reason &&
				    g_str_has_prefix(c->expect.reason, want[i].reason_start));
		else
			assert_null(c->expect.reason);
	}
}

#define REFUSED_MSG "cpu hotplug with SMI wasn't enabled by firmware"

static void test_expect_tcg(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("tcg");
	const struct want_expect want[] = {
		/* rule 1 wins over rule 2, which matches too */
		{ ID("1s2c", "hotplug-off", "1", "each"), HPCI_OUTCOME_REFUSED, REFUSED_MSG, "QEMU refuses" },
		{ ID("2s2c2t", "hotplug-off", "all", "each"), HPCI_OUTCOME_REFUSED, REFUSED_MSG, "QEMU refuses" },
		{ ID("1s2c", "full", "1", "each"), HPCI_OUTCOME_HANG_SMM, NULL, "stock QEMU" },
		{ ID("2s2c2t", "full", "2", "burst"), HPCI_OUTCOME_HANG_SMM, NULL, "stock QEMU" },
		/* the kvm rule does not apply under tcg */
		{ ID("2s2c2t", "full", "1", "unplug"), HPCI_OUTCOME_PASS, NULL, NULL },
		{ ID("2s2c2t", "full", "all", "unplug"), HPCI_OUTCOME_QEMU_CRASH, NULL, NULL },
		{ ID("1s2c", "full", "all", "unplug"), HPCI_OUTCOME_QEMU_CRASH, NULL, NULL },
	};

	(void)state;
	check_expectations(m, want, G_N_ELEMENTS(want));
}

static void test_expect_kvm(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture("kvm");
	const struct want_expect want[] = {
		{ ID("1s2c", "hotplug-off", "1", "each"), HPCI_OUTCOME_REFUSED, REFUSED_MSG, "QEMU refuses" },
		/* the tcg rule does not apply under kvm */
		{ ID("1s2c", "full", "1", "each"), HPCI_OUTCOME_PASS, NULL, NULL },
		{ ID("2s2c2t", "full", "2", "burst"), HPCI_OUTCOME_PASS, NULL, NULL },
		{ ID("2s2c2t", "full", "1", "unplug"), HPCI_OUTCOME_GUEST_TIMEOUT, NULL, "kvm-only" },
		/* the kvm rule comes first and wins over the count=all rule */
		{ ID("2s2c2t", "full", "all", "unplug"), HPCI_OUTCOME_GUEST_TIMEOUT, NULL, "kvm-only" },
		{ ID("1s2c", "full", "all", "unplug"), HPCI_OUTCOME_QEMU_CRASH, NULL, NULL },
	};

	(void)state;
	check_expectations(m, want, G_N_ELEMENTS(want));
}

static void test_expect_unknown_host(void **state)
{
	g_autoptr(hpci_matrix) m = load_fixture(NULL);
	struct hpci_matrix_host no_accel = { NULL };
	g_autoptr(hpci_matrix) m2 = NULL;
	g_autofree char *path = fixture_path("matrix/valid.json");
	const struct want_expect want[] = {
		{ ID("1s2c", "hotplug-off", "1", "each"), HPCI_OUTCOME_REFUSED, REFUSED_MSG, "QEMU refuses" },
		{ ID("1s2c", "full", "1", "each"), HPCI_OUTCOME_PASS, NULL, NULL },
		{ ID("2s2c2t", "full", "1", "unplug"), HPCI_OUTCOME_PASS, NULL, NULL },
		{ ID("2s2c2t", "full", "all", "unplug"), HPCI_OUTCOME_QEMU_CRASH, NULL, NULL },
	};

	(void)state;
	check_expectations(m, want, G_N_ELEMENTS(want));
	assert_int_equal(hpci_matrix_load(path, &no_accel, &m2), 0);
	check_expectations(m2, want, G_N_ELEMENTS(want));
}

static void test_sha256_and_path(void **state)
{
	g_autofree char *path = fixture_path("matrix/valid.json");
	g_autofree char *data = fixture_read("matrix/valid.json");
	g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, data, -1);
	g_autoptr(hpci_matrix) loaded = load_fixture("tcg");
	g_autoptr(hpci_matrix) parsed = NULL;
	struct hpci_matrix_host host = { "tcg" };

	(void)state;
	assert_string_equal(loaded->sha256, want);
	assert_int_equal(strlen(loaded->sha256), 64);
	assert_string_equal(loaded->path, path);
	assert_int_equal(hpci_matrix_parse("x.json", data, &host, &parsed), 0);
	assert_string_equal(parsed->sha256, want);
	assert_string_equal(parsed->path, "x.json");
	assert_int_equal(parsed->cells->len, loaded->cells->len);
}

static void test_all_defaults(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok("{'name':'d','axes':{}}", "tcg");
	const struct hpci_cell *c;

	(void)state;
	assert_int_equal(m->cells->len, 1);
	c = g_ptr_array_index(m->cells, 0);
	assert_string_equal(c->id, "topology=default,smi=default,firmware=default,qemu=default,"
			    "count=default,ops=default");
	assert_int_equal(c->topology.sockets, 1);
	assert_int_equal(c->topology.dies, 1);
	assert_int_equal(c->topology.cores, 2);
	assert_int_equal(c->topology.threads, 1);
	assert_int_equal(c->topology.boot, 1);
	assert_int_equal(c->topology.max, 2);
	assert_string_equal(c->smi.machine, "q35");
	assert_true(c->smi.broadcast && c->smi.cpu_hotplug && c->smi.cpu_hotunplug &&
		    c->smi.smbase_smram);
	assert_int_equal(c->smi.given, 0);
	assert_string_equal(c->firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_string_equal(c->firmware.vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
	assert_true(c->firmware.smm);
	assert_string_equal(c->qemu.emulator, "/usr/bin/qemu-system-x86_64");
	assert_int_equal(c->count, 1);
	assert_int_equal(c->steps->len, 2);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 0).kind, HPCI_STEP_PLUG_EACH);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 1).kind, HPCI_STEP_SMI);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 1).sweeps, 2);
	assert_string_equal(c->image, "minimal");
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_PASS);
	assert_null(c->expect.message);
	assert_null(c->expect.reason);
	assert_string_equal(hpci_cell_axis(c, "count"), "default");
}

static void test_smi_defaults_and_machine(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'smi':{'a':{},'b':{'machine':'pc-q35-10.12',"
		"'cpu_hotplug':false,'cpu_hotunplug':false,'smbase_smram':false,"
		"'broadcast':false}}},'expect':[{'when':{'smi':'b'},'outcome':'guest-crash'}]}",
		NULL);
	const struct hpci_cell *a = g_ptr_array_index(m->cells, 0);
	const struct hpci_cell *b = g_ptr_array_index(m->cells, 1);

	(void)state;
	assert_string_equal(a->smi.machine, "q35");
	assert_true(a->smi.broadcast && a->smi.cpu_hotplug && a->smi.cpu_hotunplug &&
		    a->smi.smbase_smram);
	assert_int_equal(a->smi.given, 0);
	assert_string_equal(b->smi.machine, "pc-q35-10.12");
	assert_false(b->smi.broadcast || b->smi.cpu_hotplug || b->smi.cpu_hotunplug ||
		     b->smi.smbase_smram);
	assert_int_equal(b->smi.given, ALL_GIVEN);
}

struct want_smi {
	const char *value;       /* the smi axis value */
	bool broadcast, cpu_hotplug, cpu_hotunplug, smbase_smram;
	unsigned given;
};

static void check_smi(const struct hpci_matrix *m, const struct want_smi *want, size_t n)
{
	assert_int_equal(m->cells->len, n);
	for (size_t i = 0; i < n; i++) {
		const struct hpci_cell *c = g_ptr_array_index(m->cells, i);
		const struct hpci_smi_mode *smi = &c->smi;

		assert_string_equal(hpci_cell_axis(c, "smi"), want[i].value);
		if (smi->broadcast != want[i].broadcast || smi->cpu_hotplug != want[i].cpu_hotplug ||
		    smi->cpu_hotunplug != want[i].cpu_hotunplug ||
		    smi->smbase_smram != want[i].smbase_smram || smi->given != want[i].given)
			fail_msg("smi '%s' (%s): broadcast %d cpu_hotplug %d cpu_hotunplug %d "
				 "smbase_smram %d given 0x%x; want %d %d %d %d 0x%x", want[i].value,
				 smi->machine, smi->broadcast, smi->cpu_hotplug, smi->cpu_hotunplug,
				 smi->smbase_smram, smi->given, want[i].broadcast,
				 want[i].cpu_hotplug, want[i].cpu_hotunplug, want[i].smbase_smram,
				 want[i].given);
	}
}

/* Omitted switches take the machine type's defaults (QEMU's compat properties),
 * compared as numbers: 4.10 is newer than 4.2 and 10.0 newer than 5.2. */
static void test_smi_machine_defaults(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'smi':{"
		"'2.8':{'machine':'pc-q35-2.8'},'2.9':{'machine':'pc-q35-2.9'},"
		"'4.2':{'machine':'pc-q35-4.2'},'4.10':{'machine':'pc-q35-4.10'},"
		"'5.1':{'machine':'pc-q35-5.1'},'5.2':{'machine':'pc-q35-5.2'},"
		"'6.0':{'machine':'pc-q35-6.0'},'10.0':{'machine':'pc-q35-10.0'},"
		"'q35':{'machine':'q35'},'huge':{'machine':'pc-q35-99999999999999999999.1'},"
		"'override':{'machine':'pc-q35-5.1','cpu_hotplug':true,'broadcast':false},"
		"'5.2-off':{'machine':'pc-q35-5.2','cpu_hotplug':false}}},"
		"'expect':[{'when':{'smi':['2.8','2.9','4.2']},'outcome':'refused'}]}", NULL);
	static const struct want_smi want[] = {
		{ "2.8", false, false, false, false, 0 },
		{ "2.9", true, false, false, false, 0 },
		{ "4.2", true, false, false, false, 0 },
		{ "4.10", true, false, false, true, 0 },
		{ "5.1", true, false, false, true, 0 },
		{ "5.2", true, true, false, true, 0 },
		{ "6.0", true, true, true, true, 0 },
		{ "10.0", true, true, true, true, 0 },
		{ "q35", true, true, true, true, 0 },
		{ "huge", true, true, true, true, 0 },   /* saturates, still the newest */
		/* 5.1 leaves hot-unplug off, so hotplug alone is fine */
		{ "override", false, true, false, true, HPCI_SMI_BROADCAST | HPCI_SMI_CPU_HOTPLUG },
		/* 5.2 leaves hot-unplug off, so turning hotplug off is fine too */
		{ "5.2-off", true, false, false, true, HPCI_SMI_CPU_HOTPLUG },
	};

	(void)state;
	check_smi(m, want, G_N_ELEMENTS(want));
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 0))->expect.outcome,
			 HPCI_OUTCOME_REFUSED);
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 3))->expect.outcome,
			 HPCI_OUTCOME_PASS);
}

/* smbase_smram off is fine once a rule expects what the cell really shows;
 * the first matching rule decides, so a later catch-all pass does no harm. */
static void test_smbase_smram_off_with_expectation(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'smi':{'on':{},'off':{'smbase_smram':false},"
		"'old':{'machine':'pc-q35-4.2'}}},"
		"'expect':[{'when':{'smi':['off','old']},'outcome':'hang-smm'},"
		"{'when':{},'outcome':'pass'}]}", "kvm");
	static const struct want_smi want[] = {
		{ "on", true, true, true, true, 0 },
		{ "off", true, true, true, false, HPCI_SMI_SMBASE_SMRAM },
		{ "old", true, false, false, false, 0 },
	};

	(void)state;
	check_smi(m, want, G_N_ELEMENTS(want));
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 0))->expect.outcome,
			 HPCI_OUTCOME_PASS);
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 1))->expect.outcome,
			 HPCI_OUTCOME_HANG_SMM);
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 2))->expect.outcome,
			 HPCI_OUTCOME_HANG_SMM);
}

/* An attack may fail closed in several ways: a list of outcomes that all
 * hold, the first one named in reports. */
static void test_expect_outcome_list(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'ops':{'a':['attack-sipi','plug-burst']}},"
		"'expect':[{'when':{},'outcome':['hang-smm','guest-timeout','refused','pass'],"
		"'message':'cpu hotplug with SMI','reason':'fails closed'}]}", "tcg");
	const struct hpci_cell *c;

	(void)state;
	assert_int_equal(m->cells->len, 1);
	c = g_ptr_array_index(m->cells, 0);
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_HANG_SMM);
	assert_int_equal(c->expect.also, (1u << HPCI_OUTCOME_GUEST_TIMEOUT) |
					 (1u << HPCI_OUTCOME_REFUSED) | (1u << HPCI_OUTCOME_PASS));
	assert_true(hpci_expect_met(&c->expect, HPCI_OUTCOME_HANG_SMM, NULL));
	assert_true(hpci_expect_met(&c->expect, HPCI_OUTCOME_GUEST_TIMEOUT, NULL));
	assert_true(hpci_expect_met(&c->expect, HPCI_OUTCOME_REFUSED,
				    "cpu hotplug with SMI wasn't enabled by firmware"));
	assert_false(hpci_expect_met(&c->expect, HPCI_OUTCOME_REFUSED, "something else"));
	assert_true(hpci_expect_met(&c->expect, HPCI_OUTCOME_PASS, NULL));
	assert_false(hpci_expect_met(&c->expect, HPCI_OUTCOME_BREACH, NULL));
	assert_false(hpci_expect_met(&c->expect, HPCI_OUTCOME_GUEST_CRASH, NULL));
}

static void test_err_expect_outcome_list(void **state)
{
	(void)state;
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':['hang-smm']}]}",
		    "$.expect[0].outcome: a list of outcomes needs at least two; give a single "
		    "outcome as a string");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},"
		    "'outcome':['hang-smm','breach']}]}",
		    "$.expect[0].outcome[1]: 'breach' cannot be one of several expected outcomes: a "
		    "list says how an attack may be beaten or fail closed; expect 'breach' on its "
		    "own");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},"
		    "'outcome':['infra-error','hang-smm']}]}",
		    "$.expect[0].outcome[0]: 'infra-error' cannot be one of several expected outcomes");
	/* Pass on a list counts for the smbase_smram rule like pass alone. */
	check_error("{'name':'x','axes':{'smi':{'off':{'smbase_smram':false}}},"
		    "'expect':[{'when':{},'outcome':['hang-smm','pass']}]}",
		    "$.expect[0]: cell 'topology=default,smi=off,firmware=default,qemu=default,"
		    "count=default,ops=default' is expected to pass (by $.expect[0]) but smi 'off' "
		    "has smbase_smram false");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},"
		    "'outcome':['hang-smm','guest-timeout','hang-smm']}]}",
		    "$.expect[0].outcome[2]: outcome 'hang-smm' is listed twice");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':['hang-smm','hung']}]}",
		    "$.expect[0].outcome[1]: unknown outcome 'hung'; outcomes are pass, refused");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':['hang-smm',1]}]}",
		    "$.expect[0].outcome[1]: expected an outcome name, got number 1");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},"
		    "'outcome':['hang-smm','guest-timeout'],'message':'m'}]}",
		    "$.expect[0].message: message only applies to outcome 'refused', not 'hang-smm'");
}

/* The positive control: with smbase_smram off an attack must be seen, so
 * such a cell may be expected to breach; a firmware without SMM may run
 * the same matrix when the rules keep it from the attack cells. */
static void test_breach_positive_control(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'smi':{'on':{},'off':{'smbase_smram':false},"
		"'old':{'machine':'pc-q35-4.2'}},"
		"'firmware':{'smm':{'code':'/c','vars':'/v','smm':true},"
		"'nosmm':{'code':'/c','vars':'/v','smm':false}},"
		"'ops':{'plain':['plug-each'],'attack':['attack-smbase','attack-sipi','plug-each']}},"
		"'exclude':[{'firmware':'nosmm','ops':'attack'}],"
		"'expect':[{'when':{'smi':['off','old'],'ops':'attack'},'outcome':'breach',"
		"'reason':'the protection is removed'},"
		"{'when':{'smi':['off','old']},'outcome':'guest-timeout'}]}", "tcg");
	static const char *const want[][2] = {
		{ "topology=default,smi=on,firmware=smm,qemu=default,count=default,ops=plain", "pass" },
		{ "topology=default,smi=on,firmware=smm,qemu=default,count=default,ops=attack", "pass" },
		{ "topology=default,smi=on,firmware=nosmm,qemu=default,count=default,ops=plain", "pass" },
		{ "topology=default,smi=off,firmware=smm,qemu=default,count=default,ops=plain",
		  "guest-timeout" },
		{ "topology=default,smi=off,firmware=smm,qemu=default,count=default,ops=attack",
		  "breach" },
		{ "topology=default,smi=off,firmware=nosmm,qemu=default,count=default,ops=plain",
		  "guest-timeout" },
		{ "topology=default,smi=old,firmware=smm,qemu=default,count=default,ops=plain",
		  "guest-timeout" },
		{ "topology=default,smi=old,firmware=smm,qemu=default,count=default,ops=attack",
		  "breach" },
		{ "topology=default,smi=old,firmware=nosmm,qemu=default,count=default,ops=plain",
		  "guest-timeout" },
	};

	(void)state;
	assert_int_equal(m->cells->len, G_N_ELEMENTS(want));
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *c = g_ptr_array_index(m->cells, i);

		assert_string_equal(c->id, want[i][0]);
		assert_string_equal(hpci_outcome_name(c->expect.outcome), want[i][1]);
	}
}

static void test_include_filter(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'count':[1,2,3],'ops':{'a':['smi'],'b':['plug-each'],"
		"'c':['unplug']},'topology':{'big':{'sockets':1,'cores':4,'boot':1}}},"
		"'include':[{'count':[1,3],'ops':'a'},{'count':2,'ops':['c']}]}", NULL);
	static const char *const want[] = {
		"topology=big,smi=default,firmware=default,qemu=default,count=1,ops=a",
		"topology=big,smi=default,firmware=default,qemu=default,count=2,ops=c",
		"topology=big,smi=default,firmware=default,qemu=default,count=3,ops=a",
	};

	(void)state;
	assert_int_equal(m->cells->len, G_N_ELEMENTS(want));
	for (guint i = 0; i < m->cells->len; i++)
		assert_string_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, i))->id,
				    want[i]);
}

/* axis_values: every axis in canonical order whatever order the file has,
 * each axis's values as the file lists them, excluded ones too, and
 * "default" for an absent axis. */
static void test_axis_values_in_file_order(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'ops':{'z':['smi'],'a':['plug-each']},'count':[2,1],"
		"'topology':{'big':{'sockets':1,'cores':4,'boot':1}}},"
		"'exclude':[{'ops':'z'}]}", NULL);
	static const char *const want[][2] = {
		{ "topology", "big" }, { "smi", "default" }, { "firmware", "default" },
		{ "qemu", "default" }, { "count", "2" }, { "count", "1" }, { "ops", "z" },
		{ "ops", "a" },
	};

	(void)state;
	assert_int_equal(m->axis_values->len, G_N_ELEMENTS(want));
	for (guint i = 0; i < m->axis_values->len; i++) {
		const struct hpci_axis_value *av =
			&g_array_index(m->axis_values, struct hpci_axis_value, i);

		assert_string_equal(av->axis, want[i][0]);
		assert_string_equal(av->value, want[i][1]);
	}
}

/* count 3 does not fit 'small', but that pair is excluded: no error. */
static void test_exclude_skips_cell_checks(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'topology':{'small':{'sockets':1,'cores':2,'boot':1},"
		"'big':{'sockets':1,'cores':4,'boot':1}},'count':[1,3,'all']},"
		"'exclude':[{'topology':'small','count':'3'}]}", NULL);
	const struct hpci_cell *c;

	(void)state;
	assert_int_equal(m->cells->len, 5);
	c = g_ptr_array_index(m->cells, 1);
	assert_string_equal(hpci_cell_axis(c, "count"), "all");
	assert_int_equal(c->count, 1);
	c = g_ptr_array_index(m->cells, 4);
	assert_string_equal(hpci_cell_axis(c, "count"), "all");
	assert_int_equal(c->count, 3);
}

/* Two plug runs separated by an unplug each need only `count` free slots. */
static void test_unplug_separates_plug_runs(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'count':['all'],'ops':{'replug':['plug-each','unplug',"
		"'plug-burst','smi']}}}", NULL);

	(void)state;
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 0))->count, 1);
}

/* attack-smbase before the first plug (or with none), attack-sipi right
 * before each plug it arms; neither takes sweeps. */
static void test_attack_steps(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'t','axes':{'count':[1],'topology':{'t':{'sockets':1,'cores':4,'boot':1}},"
		"'ops':{'smbase':['attack-smbase','smi'],"
		"'both':['smi','attack-smbase',{'op':'attack-sipi'},'plug-each','smi','unplug',"
		"'attack-sipi','plug-burst']}}}", NULL);
	static const enum hpci_step_kind both[] = {
		HPCI_STEP_SMI, HPCI_STEP_ATTACK_SMBASE, HPCI_STEP_ATTACK_SIPI, HPCI_STEP_PLUG_EACH,
		HPCI_STEP_SMI, HPCI_STEP_UNPLUG, HPCI_STEP_ATTACK_SIPI, HPCI_STEP_PLUG_BURST,
	};
	const struct hpci_cell *c;

	(void)state;
	assert_int_equal(m->cells->len, 2);
	c = g_ptr_array_index(m->cells, 0);
	assert_int_equal(c->steps->len, 2);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 0).kind,
			 HPCI_STEP_ATTACK_SMBASE);
	assert_int_equal(g_array_index(c->steps, struct hpci_step, 0).sweeps, 0);
	c = g_ptr_array_index(m->cells, 1);
	assert_int_equal(c->steps->len, G_N_ELEMENTS(both));
	for (guint i = 0; i < c->steps->len; i++)
		assert_int_equal(g_array_index(c->steps, struct hpci_step, i).kind, both[i]);
}

static void test_outcome_and_step_names(void **state)
{
	enum hpci_outcome o;

	(void)state;
	for (int i = 0; i < HPCI_OUTCOME__COUNT; i++) {
		assert_int_equal(hpci_outcome_parse(hpci_outcome_name(i), &o), 0);
		assert_int_equal(o, i);
	}
	assert_string_equal(hpci_outcome_name(HPCI_OUTCOME_HANG_SMM), "hang-smm");
	assert_string_equal(hpci_outcome_name(HPCI_OUTCOME_INFRA_ERROR), "infra-error");
	assert_string_equal(hpci_outcome_name(HPCI_OUTCOME_FIRMWARE_ASSERT), "firmware-assert");
	assert_string_equal(hpci_outcome_name(HPCI_OUTCOME_MISMATCH), "mismatch");
	assert_int_equal(hpci_outcome_parse("hang", &o), -EINVAL);
	assert_int_equal(hpci_outcome_parse(NULL, &o), -EINVAL);
	assert_string_equal(hpci_step_name(HPCI_STEP_PLUG_EACH), "plug-each");
	assert_string_equal(hpci_step_name(HPCI_STEP_PLUG_BURST), "plug-burst");
	assert_string_equal(hpci_step_name(HPCI_STEP_UNPLUG), "unplug");
	assert_string_equal(hpci_step_name(HPCI_STEP_SMI), "smi");
	assert_string_equal(hpci_step_name(HPCI_STEP_ATTACK_SMBASE), "attack-smbase");
	assert_string_equal(hpci_step_name(HPCI_STEP_ATTACK_SIPI), "attack-sipi");
	assert_string_equal(hpci_outcome_name(HPCI_OUTCOME_BREACH), "breach");
	hpci_cell_free(NULL);
	hpci_matrix_free(NULL);
}

/* json-c stops at a NUL byte; the bytes after it must not go unnoticed. */
static void test_err_nul_byte_in_file(void **state)
{
	static const char data[] = "{\"name\":\"x\",\n\"axes\":{}}\n\0{junk";
	g_autofree char *dir = g_dir_make_tmp("hpci-matrix-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "nul.json", NULL);
	g_autofree char *want = g_strdup_printf("%s: invalid JSON near line 3: NUL byte in the file",
						path);
	struct hpci_matrix *m = NULL;

	(void)state;
	assert_true(g_file_set_contents(path, data, sizeof(data) - 1, NULL));
	assert_int_equal(hpci_matrix_load(path, NULL, &m), -EINVAL);
	assert_null(m);
	assert_string_equal(hpci_error_message(), want);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_missing_file(void **state)
{
	struct hpci_matrix *m = NULL;

	(void)state;
	assert_int_equal(hpci_matrix_load("/nonexistent/hpci.json", NULL, &m), -ENOENT);
	assert_null(m);
	assert_non_null(strstr(hpci_error_message(), "cannot read '/nonexistent/hpci.json'"));
}

/* ---- one test per validation error -------------------------------------- */

#define ERROR_TEST(fn, json, message) \
	static void fn(void **state) \
	{ \
		(void)state; \
		check_error(json, message); \
	}

/* A topology with one free slot, for rules and per-cell checks. */
#define T1 "'topology':{'1s2c':{'sockets':1,'cores':2,'boot':1,'max':2}}"

/* JSON syntax */
ERROR_TEST(test_err_json_syntax, "{\n 'name': 'x',\n 'axes': {,}\n}",
	   BAD ": invalid JSON near line 3: quoted object property name expected")
ERROR_TEST(test_err_json_truncated, "{\n 'name': 'x',\n 'axes': {\n",
	   BAD ": invalid JSON near line 4: unexpected end of data")
ERROR_TEST(test_err_json_trailing, "{'name':'x','axes':{}}\n\n}",
	   BAD ": invalid JSON near line 3: ")
ERROR_TEST(test_err_json_trailing_comma, "{'name':'x','axes':{},}",
	   BAD ": invalid JSON near line 1: unexpected character")
ERROR_TEST(test_err_json_empty, "", BAD ": invalid JSON near line 1: unexpected end of data")
ERROR_TEST(test_err_root_type, "[1]", BAD ": $: expected an object, got array")

/* top level */
ERROR_TEST(test_err_unknown_top_key, "{'name':'x','axes':{},'exlude':[]}",
	   BAD ": $: unknown key 'exlude'; allowed keys are name, description, defaults, axes, "
	   "include, exclude, expect")
ERROR_TEST(test_err_name_missing, "{'axes':{}}", BAD ": $: missing required key 'name'")
ERROR_TEST(test_err_name_type, "{'name':3,'axes':{}}",
	   BAD ": $.name: expected a string, got number 3")
ERROR_TEST(test_err_name_chars, "{'name':'my smoke','axes':{}}",
	   BAD ": $.name: name 'my smoke' may only contain letters, digits and . _ -")
ERROR_TEST(test_err_name_empty, "{'name':'','axes':{}}",
	   BAD ": $.name: name '' may only contain letters, digits and . _ -")
ERROR_TEST(test_err_description_type, "{'name':'x','description':['a'],'axes':{}}",
	   BAD ": $.description: expected a string, got array")
ERROR_TEST(test_err_axes_missing, "{'name':'x'}", BAD ": $: missing required key 'axes'")
ERROR_TEST(test_err_axes_type, "{'name':'x','axes':[]}",
	   BAD ": $.axes: expected an object, got array")
ERROR_TEST(test_err_string_nul, "{'name':'a\\u0000b','axes':{}}",
	   BAD ": $.name: the string contains a NUL character")

/* defaults */
ERROR_TEST(test_err_defaults_type, "{'name':'x','defaults':1,'axes':{}}",
	   BAD ": $.defaults: expected an object, got number 1")
ERROR_TEST(test_err_defaults_unknown_key, "{'name':'x','defaults':{'img':'a'},'axes':{}}",
	   BAD ": $.defaults: unknown key 'img'; allowed keys are image, timeouts")
ERROR_TEST(test_err_image_type, "{'name':'x','defaults':{'image':true},'axes':{}}",
	   BAD ": $.defaults.image: expected a string, got boolean true")
ERROR_TEST(test_err_image_name, "{'name':'x','defaults':{'image':'../etc'},'axes':{}}",
	   BAD ": $.defaults.image: '../etc' is not an image recipe name")
ERROR_TEST(test_err_timeouts_type, "{'name':'x','defaults':{'timeouts':[]},'axes':{}}",
	   BAD ": $.defaults.timeouts: expected an object, got array")
ERROR_TEST(test_err_timeouts_unknown_key,
	   "{'name':'x','defaults':{'timeouts':{'boot':5}},'axes':{}}",
	   BAD ": $.defaults.timeouts: unknown key 'boot'; allowed keys are boot_s, plug_s, "
	   "online_s, unplug_s, smi_s")
ERROR_TEST(test_err_timeout_zero, "{'name':'x','defaults':{'timeouts':{'plug_s':0}},'axes':{}}",
	   BAD ": $.defaults.timeouts.plug_s: expected a positive integer, got number 0")
ERROR_TEST(test_err_timeout_string,
	   "{'name':'x','defaults':{'timeouts':{'smi_s':'120'}},'axes':{}}",
	   BAD ": $.defaults.timeouts.smi_s: expected a positive integer, got string \"120\"")
ERROR_TEST(test_err_timeout_fraction,
	   "{'name':'x','defaults':{'timeouts':{'boot_s':1.5}},'axes':{}}",
	   BAD ": $.defaults.timeouts.boot_s: expected a positive integer, got number 1.5")
ERROR_TEST(test_err_timeout_limit,
	   "{'name':'x','defaults':{'timeouts':{'boot_s':100000}},'axes':{}}",
	   BAD ": $.defaults.timeouts.boot_s: boot_s 100000 exceeds the limit of 86400")

/* axes */
ERROR_TEST(test_err_unknown_axis, "{'name':'x','axes':{'firmwares':{}}}",
	   BAD ": $.axes: unknown axis 'firmwares'; axes are topology, smi, firmware, qemu, "
	   "count, ops")
ERROR_TEST(test_err_axis_empty_object, "{'name':'x','axes':{'smi':{}}}",
	   BAD ": $.axes.smi: axis 'smi' has no values; add one, or remove the axis")
ERROR_TEST(test_err_axis_empty_count, "{'name':'x','axes':{'count':[]}}",
	   BAD ": $.axes.count: axis 'count' has no values")
ERROR_TEST(test_err_axis_type, "{'name':'x','axes':{'qemu':['a']}}",
	   BAD ": $.axes.qemu: expected an object, got array")
ERROR_TEST(test_err_value_name_chars,
	   "{'name':'x','axes':{'qemu':{'my qemu':{'emulator':'/q'}}}}",
	   BAD ": $.axes.qemu[\"my qemu\"]: value name 'my qemu' may only contain letters, "
	   "digits and . _ + -")
ERROR_TEST(test_err_value_name_comma,
	   "{'name':'x','axes':{'qemu':{'a,b':{'emulator':'/q'}}}}",
	   BAD ": $.axes.qemu[\"a,b\"]: value name 'a,b' may only contain")
ERROR_TEST(test_err_value_name_empty, "{'name':'x','axes':{'qemu':{'':{'emulator':'/q'}}}}",
	   BAD ": $.axes.qemu[\"\"]: empty value name")
ERROR_TEST(test_err_value_spec_type, "{'name':'x','axes':{'qemu':{'q':'/usr/bin/q'}}}",
	   BAD ": $.axes.qemu.q: expected an object, got string \"/usr/bin/q\"")

/* topology */
ERROR_TEST(test_err_topology_unknown_key,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':1,'core':2,'boot':1}}}}",
	   BAD ": $.axes.topology.t: unknown key 'core'; allowed keys are sockets, dies, cores, "
	   "threads, boot, max")
ERROR_TEST(test_err_topology_missing_sockets,
	   "{'name':'x','axes':{'topology':{'t':{'cores':2,'boot':1}}}}",
	   BAD ": $.axes.topology.t: missing required key 'sockets'")
ERROR_TEST(test_err_topology_missing_cores,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':2,'boot':1}}}}",
	   BAD ": $.axes.topology.t: missing required key 'cores'")
ERROR_TEST(test_err_topology_missing_boot,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':2,'cores':1}}}}",
	   BAD ": $.axes.topology.t: missing required key 'boot'")
ERROR_TEST(test_err_topology_string,
	   "{'name':'x','axes':{'topology':{'small':{'sockets':1,'cores':'2','boot':1}}}}",
	   BAD ": $.axes.topology.small.cores: expected a positive integer, got string \"2\"")
ERROR_TEST(test_err_topology_dies_zero,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':1,'dies':0,'cores':2,'boot':1}}}}",
	   BAD ": $.axes.topology.t.dies: expected a positive integer, got number 0")
ERROR_TEST(test_err_topology_threads_negative,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':1,'threads':-2,'cores':2,'boot':1}}}}",
	   BAD ": $.axes.topology.t.threads: expected a positive integer, got number -2")
ERROR_TEST(test_err_topology_product,
	   "{'name':'x','axes':{'topology':{'small':{'sockets':2,'cores':2,'boot':1,'max':2}}}}",
	   BAD ": $.axes.topology.small: sockets*dies*cores*threads is 4 but max is 2; make max "
	   "equal the product")
ERROR_TEST(test_err_topology_boot_over_max,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':1,'cores':2,'boot':3}}}}",
	   BAD ": $.axes.topology.t.boot: boot 3 exceeds max 2; boot at most max vCPUs")
ERROR_TEST(test_err_topology_boot_zero,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':1,'cores':2,'boot':0}}}}",
	   BAD ": $.axes.topology.t.boot: expected a positive integer, got number 0")
ERROR_TEST(test_err_topology_max_limit,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':2,'cores':1024,'boot':1,"
	   "'max':2048}}}}",
	   BAD ": $.axes.topology.t.max: max 2048 exceeds the limit of 1024")
ERROR_TEST(test_err_topology_product_limit,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':4,'cores':512,'boot':1}}}}",
	   BAD ": $.axes.topology.t: sockets*dies*cores*threads is 2048, over the limit of 1024 "
	   "vCPUs")
ERROR_TEST(test_err_topology_huge,
	   "{'name':'x','axes':{'topology':{'t':{'sockets':99999999999999999999,'cores':1,"
	   "'boot':1}}}}",
	   BAD ": $.axes.topology.t.sockets: sockets 18446744073709551615 exceeds the limit of 1024")

/* smi */
ERROR_TEST(test_err_smi_unknown_key,
	   "{'name':'x','axes':{'smi':{'s':{'hotplug':true}}}}",
	   BAD ": $.axes.smi.s: unknown key 'hotplug'; allowed keys are machine, broadcast, "
	   "cpu_hotplug, cpu_hotunplug, smbase_smram")
ERROR_TEST(test_err_smi_machine,
	   "{'name':'x','axes':{'smi':{'s':{'machine':'pc-i440fx-7.2'}}}}",
	   BAD ": $.axes.smi.s.machine: machine 'pc-i440fx-7.2' is not q35 or "
	   "pc-q35-<major>.<minor>")
ERROR_TEST(test_err_smi_machine_partial,
	   "{'name':'x','axes':{'smi':{'s':{'machine':'pc-q35-7'}}}}",
	   BAD ": $.axes.smi.s.machine: machine 'pc-q35-7' is not q35")
ERROR_TEST(test_err_smi_machine_type,
	   "{'name':'x','axes':{'smi':{'s':{'machine':7.2}}}}",
	   BAD ": $.axes.smi.s.machine: expected a string, got number 7.2")
ERROR_TEST(test_err_smi_bool_type,
	   "{'name':'x','axes':{'smi':{'s':{'broadcast':'yes'}}}}",
	   BAD ": $.axes.smi.s.broadcast: expected a boolean, got string \"yes\"")
ERROR_TEST(test_err_smi_bool_null,
	   "{'name':'x','axes':{'smi':{'s':{'smbase_smram':null}}}}",
	   BAD ": $.axes.smi.s.smbase_smram: expected a boolean, got null")
ERROR_TEST(test_err_smi_unplug_without_plug,
	   "{'name':'x','axes':{'smi':{'s':{'cpu_hotplug':false,'cpu_hotunplug':true}}}}",
	   BAD ": $.axes.smi.s: cpu_hotunplug is true while cpu_hotplug is false, which QEMU "
	   "refuses to start with (\"cpu hot-unplug requires cpu hot-plug\"); set cpu_hotunplug "
	   "to false or cpu_hotplug to true")
ERROR_TEST(test_err_smi_unplug_default_without_plug,
	   "{'name':'x','axes':{'smi':{'s':{'cpu_hotplug':false}}}}",
	   BAD ": $.axes.smi.s: cpu_hotunplug is true (the default of machine type 'q35') while "
	   "cpu_hotplug is false, which QEMU")
ERROR_TEST(test_err_smi_unplug_machine_default_without_plug,
	   "{'name':'x','axes':{'smi':{'s':{'machine':'pc-q35-6.0','cpu_hotplug':false}}}}",
	   BAD ": $.axes.smi.s: cpu_hotunplug is true (the default of machine type 'pc-q35-6.0') "
	   "while cpu_hotplug is false, which QEMU")
ERROR_TEST(test_err_smi_unplug_with_machine_default_plug_off,
	   "{'name':'x','axes':{'smi':{'s':{'machine':'pc-q35-5.1','cpu_hotunplug':true}}}}",
	   BAD ": $.axes.smi.s: cpu_hotunplug is true while cpu_hotplug is false (the default of "
	   "machine type 'pc-q35-5.1'), which QEMU")
ERROR_TEST(test_err_smi_machine_trailing_text,
	   "{'name':'x','axes':{'smi':{'s':{'machine':'pc-q35-1.2x','cpu_hotplug':false}}}}",
	   BAD ": $.axes.smi.s.machine: machine 'pc-q35-1.2x' is not q35")
#define SMBASE_FIX \
	"so the guest can plant code at the default SMBASE that a hot-added CPU runs in SMM " \
	"and the cell must never count as a pass; give it an expect rule, ahead of any that " \
	"expects pass, with the outcome it actually shows (e.g. hang-smm or guest-crash)"
ERROR_TEST(test_err_smbase_smram_machine_default_pass,
	   "{'name':'x','axes':{'smi':{'new':{},'old':{'machine':'pc-q35-4.2'}}}}",
	   BAD ": $.axes.smi.old: cell 'topology=default,smi=old,firmware=default,qemu=default,"
	   "count=default,ops=default' is expected to pass (as no expect rule matches it) but "
	   "smi 'old' has smbase_smram false (the default of machine type 'pc-q35-4.2'), "
	   SMBASE_FIX)
ERROR_TEST(test_err_smbase_smram_rule_pass,
	   "{'name':'x','axes':{'smi':{'off':{'smbase_smram':false}}},"
	   "'expect':[{'when':{},'outcome':'pass','reason':'r'}]}",
	   BAD ": $.expect[0]: cell 'topology=default,smi=off,firmware=default,qemu=default,"
	   "count=default,ops=default' is expected to pass (by $.expect[0]) but smi 'off' has "
	   "smbase_smram false, " SMBASE_FIX)
/* A rule for another accelerator does not count: on this host the cell would
 * be expected to pass (check_error loads for tcg). */
ERROR_TEST(test_err_smbase_smram_other_host_rule,
	   "{'name':'x','axes':{'smi':{'off':{'smbase_smram':false}}},"
	   "'expect':[{'when':{},'host':{'accel':'kvm'},'outcome':'hang-smm'}]}",
	   BAD ": $.axes.smi.off: cell 'topology=default,smi=off,firmware=default,qemu=default,"
	   "count=default,ops=default' is expected to pass (as no expect rule matches it)")

/* breach is the positive control's outcome: only with smbase_smram false */
#define BREACH_FIX \
	"so SMRAM guards the default SMBASE and a breach there is a product failure, never an " \
	"expectation; narrow the rule's 'when' to cells whose smi has smbase_smram false (the " \
	"positive control, with the protection removed)"
ERROR_TEST(test_err_breach_smbase_smram_default,
	   "{'name':'x','axes':{'smi':{'full':{}},'ops':{'a':['attack-smbase','plug-each']}},"
	   "'expect':[{'when':{},'outcome':'breach'}]}",
	   BAD ": $.expect[0]: cell 'topology=default,smi=full,firmware=default,qemu=default,"
	   "count=default,ops=a' is expected to breach (by $.expect[0]) but smi 'full' has "
	   "smbase_smram true (the default of machine type 'q35'), " BREACH_FIX)
ERROR_TEST(test_err_breach_smbase_smram_given,
	   "{'name':'x','axes':{'smi':{'off':{'smbase_smram':false},'on':{'smbase_smram':true}},"
	   "'ops':{'a':['attack-smbase','plug-each']}},"
	   "'expect':[{'when':{'smi':'off'},'outcome':'hang-smm'},"
	   "{'when':{'smi':['off','on']},'outcome':'breach'}]}",
	   BAD ": $.expect[1]: cell 'topology=default,smi=on,firmware=default,qemu=default,"
	   "count=default,ops=a' is expected to breach (by $.expect[1]) but smi 'on' has "
	   "smbase_smram true, " BREACH_FIX)
/* Only an attack can show a breach where there is no SMRAM to check. */
ERROR_TEST(test_err_breach_without_attack,
	   "{'name':'x','axes':{'smi':{'off':{'smbase_smram':false}}},"
	   "'expect':[{'when':{},'outcome':'breach'}]}",
	   BAD ": $.expect[0]: cell 'topology=default,smi=off,firmware=default,qemu=default,"
	   "count=default,ops=default' is expected to breach (by $.expect[0]) but its ops have no "
	   "attack step, so nothing in it could show a breach; add attack-smbase or attack-sipi "
	   "to its ops, or expect the outcome it actually shows")

/* an attack needs a firmware with SMM */
#define ATTACK_FIX "so the attack tests nothing; exclude the pair or use a firmware built with " \
	"SMM_REQUIRE"
ERROR_TEST(test_err_attack_firmware_images,
	   "{'name':'x','axes':{'firmware':{'smm':{'code':'/c','vars':'/v','smm':true},"
	   "'nosmm':{'code':'/c','vars':'/v','smm':false}},"
	   "'ops':{'plain':['plug-each'],'attack':['smi','attack-smbase','plug-each']}}}",
	   BAD ": $.axes.ops.attack[1]: cell 'topology=default,smi=default,firmware=nosmm,"
	   "qemu=default,count=default,ops=attack' runs attack-smbase on firmware 'nosmm', which "
	   "has no SMM (smm is false in $.axes.firmware.nosmm), " ATTACK_FIX)
ERROR_TEST(test_err_attack_firmware_recipe,
	   "{'name':'x','axes':{'firmware':{'f':{'build':{'source':'debian:edk2',"
	   "'defines':['SMM_REQUIRE=FALSE']}}},'ops':{'o':['attack-sipi','plug-burst']}}}",
	   BAD ": $.axes.ops.o[0]: cell 'topology=default,smi=default,firmware=f,qemu=default,"
	   "count=default,ops=o' runs attack-sipi on firmware 'f', which has no SMM (its defines "
	   "turn SMM_REQUIRE off in $.axes.firmware.f.build), " ATTACK_FIX)
ERROR_TEST(test_err_attack_firmware_descriptor,
	   "{'name':'x','axes':{'firmware':{'plain':{'descriptor':'60-edk2-x86_64.json'}},"
	   "'ops':{'o':['attack-smbase']}}}",
	   BAD ": $.axes.ops.o[0]: cell 'topology=default,smi=default,firmware=plain,"
	   "qemu=default,count=default,ops=o' runs attack-smbase on firmware 'plain', which has "
	   "no SMM (descriptor '/usr/share/qemu/firmware/60-edk2-x86_64.json' lacks the feature "
	   "requires-smm), " ATTACK_FIX)

/* firmware */
ERROR_TEST(test_err_firmware_unknown_key,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'/v','smm':true,'secure':1}}}}",
	   BAD ": $.axes.firmware.f: unknown key 'secure'; allowed keys are code, vars, smm, "
	   "verbose")
ERROR_TEST(test_err_firmware_missing_code,
	   "{'name':'x','axes':{'firmware':{'f':{'vars':'/v','smm':true}}}}",
	   BAD ": $.axes.firmware.f: missing required key 'code'")
ERROR_TEST(test_err_firmware_missing_vars,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','smm':true}}}}",
	   BAD ": $.axes.firmware.f: missing required key 'vars'")
ERROR_TEST(test_err_firmware_missing_smm,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'/v'}}}}",
	   BAD ": $.axes.firmware.f: missing required key 'smm'")
ERROR_TEST(test_err_firmware_relative,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'OVMF_VARS.fd','smm':true}}}}",
	   BAD ": $.axes.firmware.f.vars: 'OVMF_VARS.fd' is not an absolute path")
ERROR_TEST(test_err_firmware_code_type,
	   "{'name':'x','axes':{'firmware':{'f':{'code':1,'vars':'/v','smm':true}}}}",
	   BAD ": $.axes.firmware.f.code: expected a string, got number 1")
ERROR_TEST(test_err_firmware_smm_type,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'/v','smm':'on'}}}}",
	   BAD ": $.axes.firmware.f.smm: expected a boolean, got string \"on\"")

/* qemu */
ERROR_TEST(test_err_qemu_unknown_key,
	   "{'name':'x','axes':{'qemu':{'q':{'emulator':'/q','accel':'tcg'}}}}",
	   BAD ": $.axes.qemu.q: unknown key 'accel'; allowed keys are emulator")
ERROR_TEST(test_err_qemu_missing, "{'name':'x','axes':{'qemu':{'q':{}}}}",
	   BAD ": $.axes.qemu.q: give exactly one of 'emulator' (a QEMU binary) or 'build'")
ERROR_TEST(test_err_qemu_relative,
	   "{'name':'x','axes':{'qemu':{'q':{'emulator':'qemu-system-x86_64'}}}}",
	   BAD ": $.axes.qemu.q.emulator: 'qemu-system-x86_64' is not an absolute path")

/* count */
ERROR_TEST(test_err_count_type, "{'name':'x','axes':{'count':{'one':1}}}",
	   BAD ": $.axes.count: expected an array, got object")
ERROR_TEST(test_err_count_zero, "{'name':'x','axes':{'count':[1,0]}}",
	   BAD ": $.axes.count[1]: expected a positive integer or \"all\", got number 0")
ERROR_TEST(test_err_count_negative, "{'name':'x','axes':{'count':[-1]}}",
	   BAD ": $.axes.count[0]: expected a positive integer or \"all\", got number -1")
ERROR_TEST(test_err_count_string, "{'name':'x','axes':{'count':[1,'al']}}",
	   BAD ": $.axes.count[1]: expected a positive integer or \"all\", got string \"al\"")
ERROR_TEST(test_err_count_fraction, "{'name':'x','axes':{'count':[1.5]}}",
	   BAD ": $.axes.count[0]: expected a positive integer or \"all\", got number 1.5")
ERROR_TEST(test_err_count_limit, "{'name':'x','axes':{'count':[5000]}}",
	   BAD ": $.axes.count[0]: count 5000 exceeds the limit of 1024")
ERROR_TEST(test_err_count_duplicate, "{'name':'x','axes':{'count':[1,'all',1]}}",
	   BAD ": $.axes.count[2]: count '1' is already listed at $.axes.count[0]; remove one")
ERROR_TEST(test_err_count_duplicate_all, "{'name':'x','axes':{'count':['all','all']}}",
	   BAD ": $.axes.count[1]: count 'all' is already listed at $.axes.count[0]")

/* ops */
ERROR_TEST(test_err_ops_type, "{'name':'x','axes':{'ops':{'o':'smi'}}}",
	   BAD ": $.axes.ops.o: expected an array, got string \"smi\"")
ERROR_TEST(test_err_ops_empty, "{'name':'x','axes':{'ops':{'o':[]}}}",
	   BAD ": $.axes.ops.o: no steps; list at least one of plug-each, plug-burst, unplug, smi, "
	   "attack-smbase, attack-sipi")
ERROR_TEST(test_err_step_unknown, "{'name':'x','axes':{'ops':{'o':['plug-each','plugeach']}}}",
	   BAD ": $.axes.ops.o[1]: unknown step 'plugeach'; steps are plug-each, plug-burst, "
	   "unplug, smi, attack-smbase, attack-sipi")
ERROR_TEST(test_err_step_unknown_op, "{'name':'x','axes':{'ops':{'o':[{'op':'burst'}]}}}",
	   BAD ": $.axes.ops.o[0].op: unknown step 'burst'; steps are plug-each, plug-burst, "
	   "unplug, smi")
ERROR_TEST(test_err_step_type, "{'name':'x','axes':{'ops':{'o':[3]}}}",
	   BAD ": $.axes.ops.o[0]: expected a step name or an object with \"op\", got number 3")
ERROR_TEST(test_err_step_missing_op, "{'name':'x','axes':{'ops':{'o':[{'sweeps':2}]}}}",
	   BAD ": $.axes.ops.o[0]: missing required key 'op'")
ERROR_TEST(test_err_step_unknown_key,
	   "{'name':'x','axes':{'ops':{'o':[{'op':'smi','sweep':2}]}}}",
	   BAD ": $.axes.ops.o[0]: unknown key 'sweep'; allowed keys are op, sweeps")
ERROR_TEST(test_err_step_sweeps_not_smi,
	   "{'name':'x','axes':{'ops':{'o':[{'op':'unplug','sweeps':2}]}}}",
	   BAD ": $.axes.ops.o[0].sweeps: sweeps only applies to step 'smi', not 'unplug'; "
	   "remove it")
ERROR_TEST(test_err_step_sweeps_zero,
	   "{'name':'x','axes':{'ops':{'o':['plug-each',{'op':'smi','sweeps':0}]}}}",
	   BAD ": $.axes.ops.o[1].sweeps: expected a positive integer, got number 0")
ERROR_TEST(test_err_step_sweeps_limit,
	   "{'name':'x','axes':{'ops':{'o':[{'op':'smi','sweeps':5000}]}}}",
	   BAD ": $.axes.ops.o[0].sweeps: sweeps 5000 exceeds the limit of 1000")
/* The attack steps take no options and aim at a plug. */
ERROR_TEST(test_err_step_sweeps_attack,
	   "{'name':'x','axes':{'ops':{'o':[{'op':'attack-sipi','sweeps':2},'plug-each']}}}",
	   BAD ": $.axes.ops.o[0].sweeps: sweeps only applies to step 'smi', not 'attack-sipi'; "
	   "remove it")
#define SIPI_FIX \
	"but attack-sipi arms the CPUs the next plug adds; put a plug-each or plug-burst step " \
	"right after it"
ERROR_TEST(test_err_attack_sipi_before_smi,
	   "{'name':'x','axes':{'ops':{'o':['plug-each','attack-sipi','smi','plug-burst']}}}",
	   BAD ": $.axes.ops.o[1]: attack-sipi is followed by 'smi', " SIPI_FIX)
ERROR_TEST(test_err_attack_sipi_last,
	   "{'name':'x','axes':{'ops':{'o':['plug-each',{'op':'attack-sipi'}]}}}",
	   BAD ": $.axes.ops.o[1]: attack-sipi is the last step, " SIPI_FIX)
ERROR_TEST(test_err_attack_sipi_twice,
	   "{'name':'x','axes':{'ops':{'o':['attack-sipi','attack-sipi','plug-each']}}}",
	   BAD ": $.axes.ops.o[0]: attack-sipi is followed by 'attack-sipi', " SIPI_FIX)
ERROR_TEST(test_err_attack_smbase_after_plug,
	   "{'name':'x','axes':{'ops':{'o':['smi','plug-burst','unplug','attack-smbase',"
	   "'plug-each']}}}",
	   BAD ": $.axes.ops.o[3]: attack-smbase comes after the plug step $.axes.ops.o[1], but "
	   "it plants at the default SMBASE before any CPU is added; move it ahead of the first "
	   "plug-each or plug-burst step")

/* include / exclude */
ERROR_TEST(test_err_include_type, "{'name':'x','axes':{},'include':{'smi':'default'}}",
	   BAD ": $.include: expected an array, got object")
ERROR_TEST(test_err_include_rule_type, "{'name':'x','axes':{},'include':['smi']}",
	   BAD ": $.include[0]: expected an object, got string \"smi\"")
ERROR_TEST(test_err_rule_unknown_axis,
	   "{'name':'x','axes':{},'exclude':[{'smi':'default'},{'firmwar':'default'}]}",
	   BAD ": $.exclude[1]: unknown axis 'firmwar'; axes are topology, smi, firmware, qemu, "
	   "count, ops")
ERROR_TEST(test_err_rule_unknown_value,
	   "{'name':'x','axes':{'ops':{'each':['smi'],'burst':['smi']}},"
	   "'exclude':[{'ops':['burst','bursts']}]}",
	   BAD ": $.exclude[0].ops[1]: unknown ops value 'bursts'; values are each, burst")
ERROR_TEST(test_err_rule_unknown_value_single,
	   "{'name':'x','axes':{},'include':[{'smi':'full'}]}",
	   BAD ": $.include[0].smi: unknown smi value 'full'; values are default")
ERROR_TEST(test_err_rule_unknown_count,
	   "{'name':'x','axes':{'count':[1,'all']},'exclude':[{'count':2}]}",
	   BAD ": $.exclude[0].count: unknown count value '2'; values are 1, all")
ERROR_TEST(test_err_rule_value_type,
	   "{'name':'x','axes':{},'exclude':[{'smi':true}]}",
	   BAD ": $.exclude[0].smi: expected a value name or an array of value names, got "
	   "boolean true")
ERROR_TEST(test_err_rule_list_value_type,
	   "{'name':'x','axes':{},'exclude':[{'smi':['default',['default']]}]}",
	   BAD ": $.exclude[0].smi[1]: expected a value name, got array")
ERROR_TEST(test_err_rule_empty_list,
	   "{'name':'x','axes':{},'include':[{'smi':[]}]}",
	   BAD ": $.include[0].smi: an empty list matches no cell")

/* expect */
ERROR_TEST(test_err_expect_type, "{'name':'x','axes':{},'expect':{}}",
	   BAD ": $.expect: expected an array, got object")
ERROR_TEST(test_err_expect_rule_type, "{'name':'x','axes':{},'expect':[1]}",
	   BAD ": $.expect[0]: expected an object, got number 1")
ERROR_TEST(test_err_expect_unknown_key,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','why':'x'}]}",
	   BAD ": $.expect[0]: unknown key 'why'; allowed keys are when, host, outcome, message, "
	   "reason, firmware")
ERROR_TEST(test_err_expect_missing_when, "{'name':'x','axes':{},'expect':[{'outcome':'pass'}]}",
	   BAD ": $.expect[0]: missing required key 'when'")
ERROR_TEST(test_err_expect_when_type,
	   "{'name':'x','axes':{},'expect':[{'when':'smi','outcome':'pass'}]}",
	   BAD ": $.expect[0].when: expected an object, got string \"smi\"")
ERROR_TEST(test_err_expect_when_unknown_value,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass'},"
	   "{'when':{'qemu':'sytem'},'outcome':'pass'}]}",
	   BAD ": $.expect[1].when.qemu: unknown qemu value 'sytem'; values are default")
ERROR_TEST(test_err_expect_when_unknown_axis,
	   "{'name':'x','axes':{},'expect':[{'when':{'accel':'tcg'},'outcome':'pass'}]}",
	   BAD ": $.expect[0].when: unknown axis 'accel'; axes are topology")
ERROR_TEST(test_err_expect_missing_outcome, "{'name':'x','axes':{},'expect':[{'when':{}}]}",
	   BAD ": $.expect[0]: missing required key 'outcome'")
ERROR_TEST(test_err_expect_unknown_outcome,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'hang'}]}",
	   BAD ": $.expect[0].outcome: unknown outcome 'hang'; outcomes are pass, refused, "
	   "hang-smm, guest-timeout, guest-crash, qemu-crash, infra-error, firmware-assert, "
	   "mismatch")
ERROR_TEST(test_err_expect_message_not_refused,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'hang-smm','message':'x'}]}",
	   BAD ": $.expect[0].message: message only applies to outcome 'refused', not "
	   "'hang-smm'; remove it")
ERROR_TEST(test_err_expect_message_empty,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'refused','message':''}]}",
	   BAD ": $.expect[0].message: empty message matches every error")
ERROR_TEST(test_err_expect_reason_type,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','reason':7}]}",
	   BAD ": $.expect[0].reason: expected a string, got number 7")
ERROR_TEST(test_err_expect_host_type,
	   "{'name':'x','axes':{},'expect':[{'when':{},'host':'tcg','outcome':'pass'}]}",
	   BAD ": $.expect[0].host: expected an object, got string \"tcg\"")
ERROR_TEST(test_err_expect_host_unknown_key,
	   "{'name':'x','axes':{},'expect':[{'when':{},'host':{'arch':'x86'},'outcome':'pass'}]}",
	   BAD ": $.expect[0].host: unknown key 'arch'; allowed keys are accel")
ERROR_TEST(test_err_expect_host_missing_accel,
	   "{'name':'x','axes':{},'expect':[{'when':{},'host':{},'outcome':'pass'}]}",
	   BAD ": $.expect[0].host: missing required key 'accel'")
ERROR_TEST(test_err_expect_host_accel,
	   "{'name':'x','axes':{},'expect':[{'when':{},'host':{'accel':'hvf'},'outcome':'pass'}]}",
	   BAD ": $.expect[0].host.accel: unknown accelerator 'hvf'; use tcg or kvm")

/* per-cell checks, after include/exclude */
ERROR_TEST(test_err_cell_count_exceeds,
	   "{'name':'x','axes':{" T1 ",'count':[1,'all',3]}}",
	   BAD ": $.axes.count[2]: count 3 exceeds the 1 free vCPU slot(s) of topology '1s2c' "
	   "(cell 'topology=1s2c,smi=default,firmware=default,qemu=default,count=3,ops=default'); "
	   "exclude the pair or raise max in $.axes.topology.1s2c")
ERROR_TEST(test_err_cell_count_all_no_slot,
	   "{'name':'x','axes':{'topology':{'full':{'sockets':1,'cores':2,'boot':2}},"
	   "'count':['all']}}",
	   BAD ": $.axes.count[0]: count 'all' has no free vCPU slot to plug: topology 'full' "
	   "boots all 2 of its vCPUs (cell 'topology=full,smi=default,firmware=default,"
	   "qemu=default,count=all,ops=default'); exclude the pair or raise max in "
	   "$.axes.topology.full")
ERROR_TEST(test_err_cell_implicit_count,
	   "{'name':'x','axes':{'topology':{'full':{'sockets':1,'cores':1,'boot':1}}}}",
	   BAD ": $.axes.count: count 1 exceeds the 0 free vCPU slot(s) of topology 'full'")
ERROR_TEST(test_err_cell_plug_runs,
	   "{'name':'x','axes':{" T1 ",'ops':{'twice':['plug-each','smi','plug-burst']}}}",
	   BAD ": $.axes.count: count 1 needs 2 free vCPU slots for the 2 plug steps of ops "
	   "'twice' that no unplug separates, but topology '1s2c' has 1 (cell 'topology=1s2c,"
	   "smi=default,firmware=default,qemu=default,count=default,ops=twice'); exclude the "
	   "combination, add an unplug step in $.axes.ops.twice, or raise max in "
	   "$.axes.topology.1s2c")
ERROR_TEST(test_err_cell_after_include,
	   "{'name':'x','axes':{" T1 ",'count':[1,2],'ops':{'a':['smi'],'b':['smi']}},"
	   "'include':[{'ops':'b'}]}",
	   BAD ": $.axes.count[1]: count 2 exceeds the 1 free vCPU slot(s) of topology '1s2c' "
	   "(cell 'topology=1s2c,smi=default,firmware=default,qemu=default,count=2,ops=b')")
ERROR_TEST(test_err_no_cells,
	   "{'name':'x','axes':{'count':[1,2]},'exclude':[{'count':[1,2]}]}",
	   BAD ": $: no cells left after include/exclude rules (of 2 combinations); loosen "
	   "$.include or $.exclude")
ERROR_TEST(test_err_no_cells_include,
	   "{'name':'x','axes':{},'include':[]}",
	   BAD ": $: no cells left after include/exclude rules")
ERROR_TEST(test_err_too_many_cells,
	   "{'name':'x','axes':{'count':[1,2,3,4,5,6,7,8,9,10],"
	   "'ops':{'a':['smi'],'b':['smi'],'c':['smi'],'d':['smi'],'e':['smi'],'f':['smi'],"
	   "'g':['smi'],'h':['smi'],'i':['smi'],'j':['smi']},"
	   "'qemu':{'a':{'emulator':'/q'},'b':{'emulator':'/q'},'c':{'emulator':'/q'},"
	   "'d':{'emulator':'/q'},'e':{'emulator':'/q'},'f':{'emulator':'/q'},"
	   "'g':{'emulator':'/q'},'h':{'emulator':'/q'},'i':{'emulator':'/q'},"
	   "'j':{'emulator':'/q'}},"
	   "'smi':{'a':{},'b':{},'c':{},'d':{},'e':{},'f':{},'g':{},'h':{},'i':{},'j':{}},"
	   "'firmware':{'a':{'code':'/c','vars':'/v','smm':true},"
	   "'b':{'code':'/c','vars':'/v','smm':true},'c':{'code':'/c','vars':'/v','smm':true},"
	   "'d':{'code':'/c','vars':'/v','smm':true},'e':{'code':'/c','vars':'/v','smm':true},"
	   "'f':{'code':'/c','vars':'/v','smm':true},'g':{'code':'/c','vars':'/v','smm':true},"
	   "'h':{'code':'/c','vars':'/v','smm':true},'i':{'code':'/c','vars':'/v','smm':true},"
	   "'j':{'code':'/c','vars':'/v','smm':true},'k':{'code':'/c','vars':'/v','smm':true}}}}",
	   BAD ": $.axes: the axes combine into more than 100000 cells")

/* QEMU build recipes */
ERROR_TEST(test_err_qemu_both, "{'name':'x','axes':{'qemu':{'q':{'emulator':'/q','build':{'source':'debian:qemu'}}}}}",
	   BAD ": $.axes.qemu.q: give exactly one of 'emulator' (a QEMU binary) or 'build'")
ERROR_TEST(test_err_qemu_build_unknown_key, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'debian:qemu','revision':'x'}}}}}",
	   BAD ": $.axes.qemu.q.build: unknown key 'revision'")
ERROR_TEST(test_err_qemu_build_no_source, "{'name':'x','axes':{'qemu':{'q':{'build':{'rev':'v8.0.0'}}}}}",
	   BAD ": $.axes.qemu.q.build: missing required key 'source'")
ERROR_TEST(test_err_qemu_build_configure_type, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'debian:qemu','configure':'--enable-x'}}}}}",
	   BAD ": $.axes.qemu.q.build.configure: expected an array of strings, got string")

/* The builder names the configure argument it rejects; the message names its path. */
ERROR_TEST(test_err_qemu_build_configure_arg, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'debian:qemu','configure':['--enable-debug','--prefix=/x']}}}}}",
	   BAD ": $.axes.qemu.q.build.configure[1]: configure argument '--prefix=/x' is the "
	   "builder's to set; leave it out")

ERROR_TEST(test_err_qemu_build_bad_source, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'debian:edk2'}}}}}",
	   BAD ": $.axes.qemu.q.build: source 'debian:edk2': this build takes the Debian package 'qemu', not 'edk2'; write debian:qemu")
ERROR_TEST(test_err_qemu_build_missing_patches, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'debian:qemu','patches':'/nonexistent/queue'}}}}}",
	   BAD ": $.axes.qemu.q.build: patch queue '/nonexistent/queue' cannot be read")
ERROR_TEST(test_err_qemu_build_rev_on_tarball, "{'name':'x','axes':{'qemu':{'q':{'build':{'source':'https://example.org/qemu.tar.xz','rev':'v8.0.0'}}}}}",
	   BAD ": $.axes.qemu.q.build: source 'https://example.org/qemu.tar.xz': a revision applies to git sources only")

static void test_qemu_build_recipe(void **state)
{
	g_autofree char *saved_cwd = g_get_current_dir();
	/* "matrix/ok.json" names the queue relative to itself: from the source
	 * root that is our real queue, which the parser checks is there. */
	int chdir_rc = chdir(HPCI_SOURCE_ROOT);
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'qemu':{'patched':{'build':{'source':'debian:qemu',"
		"'patches':'../qemu-build/patches','configure':['--enable-debug-tcg']}},"
		"'system':{'emulator':'/usr/bin/qemu-system-x86_64'}}}}", "tcg");
	const struct hpci_cell *patched = g_ptr_array_index(m->cells, 0);
	const struct hpci_cell *system = g_ptr_array_index(m->cells, 1);
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *want = g_build_filename(cwd, "matrix", "../qemu-build/patches", NULL);

	(void)state;
	assert_int_equal(m->cells->len, 2);
	assert_null(patched->qemu.emulator); /* filled in once built */
	assert_non_null(patched->qemu.recipe);
	assert_string_equal(patched->qemu.recipe->src.source, "debian:qemu");
	assert_null(patched->qemu.recipe->src.rev);
	/* Relative to the matrix file's directory. */
	assert_string_equal(patched->qemu.recipe->src.patches, want);
	assert_int_equal(patched->qemu.recipe->configure->len, 1);
	assert_string_equal(g_ptr_array_index(patched->qemu.recipe->configure, 0), "--enable-debug-tcg");
	assert_null(system->qemu.recipe);
	assert_string_equal(system->qemu.emulator, "/usr/bin/qemu-system-x86_64");
	assert_int_equal(chdir_rc, 0);
	assert_int_equal(chdir(saved_cwd), 0);
}

/* ---- firmware forms ------------------------------------------------------ */

/* A temporary directory the test removes with everything in it. */
static char *temp_dir(void)
{
	char *dir = g_dir_make_tmp("hpci-matrix-XXXXXX", NULL);

	assert_non_null(dir);
	return dir;
}

static void remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

/* Writes `text` (' for ") to dir/rel, making the directories on the way. */
static char *write_file(const char *dir, const char *rel, const char *text)
{
	char *path = g_build_filename(dir, rel, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autofree char *data = sq(text);

	assert_int_equal(g_mkdir_with_parents(parent, 0700), 0);
	assert_true(g_file_set_contents(path, data, -1, NULL));
	return path;
}

/* A descriptor like Debian's, with parts to vary. */
#define DESC_IMAGES \
	"'executable':{'filename':'/opt/ovmf/OVMF_CODE.fd','format':'raw'}," \
	"'nvram-template':{'filename':'/opt/ovmf/OVMF_VARS.fd','format':'raw'}"
#define DESC_MAPPING "{'device':'flash'," DESC_IMAGES "}"
#define DESC_TARGETS "[{'architecture':'x86_64','machines':['pc-i440fx-*','pc-q35-*']}]"
#define DESC(mapping, targets, features) \
	"{'description':'test OVMF','interface-types':['uefi'],'mapping':" mapping \
	",'targets':" targets ",'features':" features ",'tags':[]}"

static void test_firmware_descriptor_system(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'firmware':{'secure':{'descriptor':'50-edk2-x86_64-secure.json'},"
		"'plain':{'descriptor':'60-edk2-x86_64.json'}}}}", "tcg");
	const struct hpci_cell *secure = g_ptr_array_index(m->cells, 0);
	const struct hpci_cell *plain = g_ptr_array_index(m->cells, 1);

	(void)state;
	assert_int_equal(m->cells->len, 2);
	assert_string_equal(hpci_cell_axis(secure, "firmware"), "secure");
	assert_string_equal(secure->firmware.descriptor,
			    "/usr/share/qemu/firmware/50-edk2-x86_64-secure.json");
	assert_string_equal(secure->firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_string_equal(secure->firmware.vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
	assert_true(secure->firmware.smm);         /* requires-smm */
	assert_false(secure->firmware.verbose);    /* verbose-dynamic only */
	assert_null(secure->firmware.recipe);
	assert_string_equal(plain->firmware.descriptor,
			    "/usr/share/qemu/firmware/60-edk2-x86_64.json");
	assert_string_equal(plain->firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
	assert_false(plain->firmware.smm);
}

/* "fw/debug.json" has a '/', so it is relative to the matrix file's directory. */
static void test_firmware_descriptor_relative(void **state)
{
	g_autofree char *dir = temp_dir();
	g_autofree char *desc = write_file(dir, "fw/debug.json",
		DESC(DESC_MAPPING, DESC_TARGETS, "['acpi-s3','requires-smm','verbose-static']"));
	g_autofree char *matrix = write_file(dir, "m.json",
		"{'name':'x','axes':{'firmware':{'debug':{'descriptor':'./fw/../fw/debug.json'}}}}");
	struct hpci_matrix_host host = { "tcg" };
	g_autoptr(hpci_matrix) m = NULL;
	const struct hpci_cell *c;

	(void)state;
	if (hpci_matrix_load(matrix, &host, &m) < 0)
		fail_msg("unexpected error: %s", hpci_error_message());
	c = g_ptr_array_index(m->cells, 0);
	assert_string_equal(c->firmware.descriptor, desc);
	assert_string_equal(c->firmware.code, "/opt/ovmf/OVMF_CODE.fd");
	assert_string_equal(c->firmware.vars, "/opt/ovmf/OVMF_VARS.fd");
	assert_true(c->firmware.smm);
	assert_true(c->firmware.verbose);
	remove_tree(dir);
}

/* Writes `descriptor` to a temporary file and checks the error for a matrix
 * that names it: "<matrix>: $.axes.firmware.d.descriptor: firmware
 * descriptor '<file>' <problem>". */
static void check_descriptor_error(const char *descriptor, const char *problem)
{
	g_autofree char *dir = temp_dir();
	g_autofree char *path = g_build_filename(dir, "desc.json", NULL);
	g_autofree char *json = g_strdup_printf("{'name':'x','axes':{'firmware':{'d':"
						"{'descriptor':'%s'}}}}", path);
	g_autofree char *want = g_strdup_printf(BAD ": $.axes.firmware.d.descriptor: firmware "
						"descriptor '%s' %s", path, problem);

	/* Not JSON on purpose in one test, so written as it is. */
	assert_true(g_file_set_contents(path, descriptor, -1, NULL));
	check_error(json, want);
	remove_tree(dir);
}

#define DESCRIPTOR_TEST(fn, descriptor, problem) \
	static void fn(void **state) \
	{ \
		g_autofree char *text = sq(descriptor); \
		(void)state; \
		check_descriptor_error(text, problem); \
	}

DESCRIPTOR_TEST(test_err_descriptor_no_nvram,
	DESC("{'device':'flash','executable':{'filename':'/opt/ovmf/OVMF.fd','format':'raw'}}",
	     DESC_TARGETS, "['requires-smm']"),
	"has no mapping.nvram-template.filename; hotplug-ci needs split flash (CODE + VARS)")
DESCRIPTOR_TEST(test_err_descriptor_aarch64,
	DESC(DESC_MAPPING, "[{'architecture':'aarch64','machines':['virt-*']}]", "[]"),
	"has no x86_64 target (it is for aarch64); hotplug-ci runs x86_64 guests, use an "
	"x86_64 OVMF descriptor")
DESCRIPTOR_TEST(test_err_descriptor_not_json, "# OVMF\ncode=/opt/ovmf/OVMF_CODE.fd\n",
	"is not valid JSON (near line 1: unexpected character); give a descriptor in the format "
	"of QEMU's docs/interop/firmware.json")
DESCRIPTOR_TEST(test_err_descriptor_not_object, "['uefi']",
	"holds array, not a JSON object; give a descriptor in the format of QEMU's "
	"docs/interop/firmware.json")
DESCRIPTOR_TEST(test_err_descriptor_no_uefi,
	"{'interface-types':['bios'],'mapping':" DESC_MAPPING ",'targets':" DESC_TARGETS "}",
	"has no \"uefi\" in interface-types; hotplug-ci boots UEFI firmware (OVMF)")
DESCRIPTOR_TEST(test_err_descriptor_no_mapping,
	"{'interface-types':['uefi'],'targets':" DESC_TARGETS "}",
	"has no mapping object; give a descriptor in the format of QEMU's "
	"docs/interop/firmware.json")
DESCRIPTOR_TEST(test_err_descriptor_memory,
	DESC("{'device':'memory','filename':'/opt/ovmf/OVMF.fd'}", DESC_TARGETS, "[]"),
	"has mapping.device 'memory', not 'flash'; hotplug-ci needs split flash (CODE + VARS)")
DESCRIPTOR_TEST(test_err_descriptor_combined,
	DESC("{'device':'flash','mode':'combined'," DESC_IMAGES "}", DESC_TARGETS, "[]"),
	"has mapping.mode 'combined'; hotplug-ci needs split flash (CODE + VARS)")
DESCRIPTOR_TEST(test_err_descriptor_no_executable,
	DESC("{'device':'flash','nvram-template':{'filename':'/opt/ovmf/OVMF_VARS.fd'}}",
	     DESC_TARGETS, "[]"),
	"has no mapping.executable.filename; a flash descriptor must name its CODE image")
DESCRIPTOR_TEST(test_err_descriptor_relative_image,
	DESC("{'device':'flash','executable':{'filename':'OVMF_CODE.fd'},"
	     "'nvram-template':{'filename':'/opt/ovmf/OVMF_VARS.fd'}}", DESC_TARGETS, "[]"),
	"has mapping.executable.filename 'OVMF_CODE.fd', which is not an absolute path; fix "
	"the descriptor")
DESCRIPTOR_TEST(test_err_descriptor_qcow2,
	DESC("{'device':'flash','executable':{'filename':'/opt/ovmf/OVMF_CODE.qcow2',"
	     "'format':'qcow2'},'nvram-template':{'filename':'/opt/ovmf/OVMF_VARS.qcow2',"
	     "'format':'qcow2'}}", DESC_TARGETS, "[]"),
	"has mapping.executable.format 'qcow2'; hotplug-ci attaches raw flash images, use a "
	"descriptor for raw ones")
DESCRIPTOR_TEST(test_err_descriptor_no_q35,
	DESC(DESC_MAPPING, "[{'architecture':'x86_64','machines':['pc-i440fx-*']}]", "[]"),
	"has no x86_64 machine pattern matching pc-q35-* (it lists pc-i440fx-*); hotplug-ci "
	"needs a q35 machine, use a descriptor whose x86_64 target lists pc-q35-*")
DESCRIPTOR_TEST(test_err_descriptor_no_targets, DESC(DESC_MAPPING, "[]", "[]"),
	"has no x86_64 target (no targets); hotplug-ci runs x86_64 guests")

static void test_err_descriptor_too_large(void **state)
{
	gsize len = (16u << 20) + 1;
	g_autofree char *text = g_malloc(len + 1);

	(void)state;
	memset(text, ' ', len);
	text[len] = '\0';
	check_descriptor_error(text, "has 16777217 bytes, more than the 16777216 a descriptor "
			       "may have; give a real descriptor");
}

ERROR_TEST(test_err_descriptor_unknown_name,
	   "{'name':'x','axes':{'firmware':{'d':{'descriptor':'edk2-x86_64-secure.json'}}}}",
	   BAD ": $.axes.firmware.d.descriptor: no firmware descriptor 'edk2-x86_64-secure.json' "
	   "in /etc/qemu/firmware or /usr/share/qemu/firmware; use one of "
	   "40-edk2-x86_64-secure-enrolled.json, 50-edk2-x86_64-secure.json, "
	   "60-edk2-x86_64.json, or give the path of a descriptor")
ERROR_TEST(test_err_descriptor_missing_file,
	   "{'name':'x','axes':{'firmware':{'d':{'descriptor':'/nonexistent/ovmf.json'}}}}",
	   BAD ": $.axes.firmware.d.descriptor: cannot read '/nonexistent/ovmf.json': ")
ERROR_TEST(test_err_descriptor_empty_name,
	   "{'name':'x','axes':{'firmware':{'d':{'descriptor':''}}}}",
	   BAD ": $.axes.firmware.d.descriptor: empty descriptor name; give a file name from "
	   "/usr/share/qemu/firmware or a path")
ERROR_TEST(test_err_descriptor_type,
	   "{'name':'x','axes':{'firmware':{'d':{'descriptor':['60-edk2-x86_64.json']}}}}",
	   BAD ": $.axes.firmware.d.descriptor: expected a string, got array")
ERROR_TEST(test_err_descriptor_with_smm,
	   "{'name':'x','axes':{'firmware':{'d':{'descriptor':'60-edk2-x86_64.json','smm':true}}}}",
	   BAD ": $.axes.firmware.d: 'smm' and 'descriptor' belong to different forms; give "
	   "exactly one of \"code\" + \"vars\" + \"smm\" (flash images, optional \"verbose\"), "
	   "\"descriptor\" (a QEMU firmware descriptor) or \"build\" (a recipe firmware-build/ "
	   "builds)")

/* two forms, no form, keys outside every form */
ERROR_TEST(test_err_firmware_two_forms,
	   "{'name':'x','axes':{'firmware':{'f':{'descriptor':'60-edk2-x86_64.json',"
	   "'build':{'source':'debian:edk2'}}}}}",
	   BAD ": $.axes.firmware.f: 'descriptor' and 'build' belong to different forms; give "
	   "exactly one of \"code\" + \"vars\" + \"smm\" (flash images, optional \"verbose\"), "
	   "\"descriptor\" (a QEMU firmware descriptor) or \"build\" (a recipe firmware-build/ "
	   "builds)")
ERROR_TEST(test_err_firmware_no_form, "{'name':'x','axes':{'firmware':{'f':{}}}}",
	   BAD ": $.axes.firmware.f: no firmware given; give exactly one of \"code\" + \"vars\" + "
	   "\"smm\" (flash images, optional \"verbose\"), \"descriptor\" (a QEMU firmware "
	   "descriptor) or \"build\" (a recipe firmware-build/ builds)")
ERROR_TEST(test_err_firmware_unknown_key_no_form,
	   "{'name':'x','axes':{'firmware':{'f':{'descriptr':'60-edk2-x86_64.json'}}}}",
	   BAD ": $.axes.firmware.f: unknown key 'descriptr'; allowed keys are code, vars, smm, "
	   "verbose, descriptor, build")
ERROR_TEST(test_err_firmware_verbose_type,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'/v','smm':true,"
	   "'verbose':'yes'}}}}",
	   BAD ": $.axes.firmware.f.verbose: expected a boolean, got string \"yes\"")

static void test_firmware_images_verbose(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'firmware':{'dbg':{'code':'/opt/dbg/CODE.fd',"
		"'vars':'/opt/dbg/VARS.fd','smm':true,'verbose':true},'rel':{'code':'/c',"
		"'vars':'/v','smm':false}}}}", "tcg");
	const struct hpci_cell *dbg = g_ptr_array_index(m->cells, 0);
	const struct hpci_cell *rel = g_ptr_array_index(m->cells, 1);

	(void)state;
	assert_string_equal(dbg->firmware.code, "/opt/dbg/CODE.fd");
	assert_true(dbg->firmware.smm);
	assert_true(dbg->firmware.verbose);
	assert_null(dbg->firmware.descriptor);
	assert_null(dbg->firmware.recipe);
	assert_false(rel->firmware.smm);
	assert_false(rel->firmware.verbose);   /* the default */
}

static void test_firmware_default_not_verbose(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok("{'name':'x','axes':{}}", "tcg");
	const struct hpci_cell *c = g_ptr_array_index(m->cells, 0);

	(void)state;
	assert_false(c->firmware.verbose);
	assert_null(c->firmware.descriptor);
	assert_null(c->firmware.recipe);
	assert_int_equal(c->expect.firmware.smram_at_default_smbase, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.broadcast, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.cpu_hotplug, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.cpu_hotunplug, HPCI_FACT_ANY);
}

/* ---- firmware build recipes --------------------------------------------- */

static void test_firmware_build_recipe(void **state)
{
	g_autofree char *dir = temp_dir();
	g_autofree char *patch = write_file(dir, "ovmf-patches/0001-x.patch",
		"Subject: [PATCH] x\n\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
	g_autofree char *queue = g_path_get_dirname(patch);
	g_autofree char *matrix = write_file(dir, "m.json",
		"{'name':'x','axes':{'firmware':{"
		"'noopt':{'build':{'source':'debian:edk2','patches':'ovmf-patches',"
		"'build_type':'NOOPT','defines':['SECURE_BOOT_ENABLE=TRUE','NETWORK_ENABLE=FALSE'],"
		"'pcds':['gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel=0x80000000']}},"
		"'nosmm':{'build':{'source':'debian:edk2','build_type':'RELEASE',"
		"'defines':['SMM_REQUIRE=FALSE']}},"
		"'plain':{'build':{'source':'debian:edk2'}}}}}");
	struct hpci_matrix_host host = { "tcg" };
	g_autoptr(hpci_matrix) m = NULL;
	const struct hpci_cell *noopt, *nosmm, *plain;
	const struct hpci_firmware_request *r;

	(void)state;
	if (hpci_matrix_load(matrix, &host, &m) < 0)
		fail_msg("unexpected error: %s", hpci_error_message());
	assert_int_equal(m->cells->len, 3);
	noopt = g_ptr_array_index(m->cells, 0);
	nosmm = g_ptr_array_index(m->cells, 1);
	plain = g_ptr_array_index(m->cells, 2);

	assert_null(noopt->firmware.code);   /* filled in once built */
	assert_null(noopt->firmware.vars);
	assert_null(noopt->firmware.descriptor);
	assert_true(noopt->firmware.smm);    /* SMM_REQUIRE=TRUE by default */
	assert_true(noopt->firmware.verbose);
	r = noopt->firmware.recipe;
	assert_non_null(r);
	assert_string_equal(r->src.source, "debian:edk2");
	assert_null(r->src.rev);
	assert_null(r->src.sha256);
	assert_string_equal(r->src.patches, queue);   /* relative to the matrix file */
	assert_string_equal(r->build_type, "NOOPT");
	assert_int_equal(r->defines->len, 2);
	assert_string_equal(g_ptr_array_index(r->defines, 0), "SECURE_BOOT_ENABLE=TRUE");
	assert_string_equal(g_ptr_array_index(r->defines, 1), "NETWORK_ENABLE=FALSE");
	assert_int_equal(r->pcds->len, 1);
	assert_string_equal(g_ptr_array_index(r->pcds, 0),
			    "gEfiMdePkgTokenSpaceGuid.PcdDebugPrintErrorLevel=0x80000000");

	assert_false(nosmm->firmware.smm);
	assert_false(nosmm->firmware.verbose);   /* RELEASE */
	assert_string_equal(nosmm->firmware.recipe->build_type, "RELEASE");
	assert_null(nosmm->firmware.recipe->src.patches);

	assert_true(plain->firmware.smm);
	assert_true(plain->firmware.verbose);
	assert_string_equal(plain->firmware.recipe->build_type, "DEBUG");   /* the default */
	assert_int_equal(plain->firmware.recipe->defines->len, 0);
	assert_int_equal(plain->firmware.recipe->pcds->len, 0);
	/* each cell owns its copy */
	assert_ptr_not_equal(plain->firmware.recipe, noopt->firmware.recipe);
	remove_tree(dir);
}

static void test_firmware_recipe_copy(void **state)
{
	struct hpci_firmware_request r = {
		.src = { .source = "debian:edk2" }, .build_type = "DEBUG",
	};
	struct hpci_firmware_request *copy;

	(void)state;
	assert_null(hpci_firmware_request_copy(NULL));
	hpci_firmware_request_free(NULL);
	copy = hpci_firmware_request_copy(&r);
	assert_string_equal(copy->src.source, "debian:edk2");
	assert_string_equal(copy->build_type, "DEBUG");
	assert_null(copy->src.rev);
	assert_non_null(copy->defines);
	assert_int_equal(copy->defines->len, 0);
	assert_int_equal(copy->pcds->len, 0);
	hpci_firmware_request_free(copy);
}

#define FWB(build) "{'name':'x','axes':{'firmware':{'f':{'build':" build "}}}}"

ERROR_TEST(test_err_firmware_build_type, FWB("{'source':'debian:edk2','build_type':'debug'}"),
	   BAD ": $.axes.firmware.f.build.build_type: build type 'debug' is not one of DEBUG, "
	   "RELEASE or NOOPT")
ERROR_TEST(test_err_firmware_build_define,
	   FWB("{'source':'debian:edk2','defines':['SECURE_BOOT_ENABLE=TRUE',"
	       "'-D SMM_REQUIRE=FALSE']}"),
	   BAD ": $.axes.firmware.f.build.defines[1]: define '-D SMM_REQUIRE=FALSE' is not of "
	   "the form NAME=VALUE (e.g. SECURE_BOOT_ENABLE=TRUE)")
ERROR_TEST(test_err_firmware_build_pcd,
	   FWB("{'source':'debian:edk2','pcds':['PcdDebugPrintErrorLevel=0x80000000']}"),
	   BAD ": $.axes.firmware.f.build.pcds[0]: PCD 'PcdDebugPrintErrorLevel=0x80000000' is "
	   "not of the form TokenSpaceGuid.PcdName=VALUE")
ERROR_TEST(test_err_firmware_build_unknown_key,
	   FWB("{'source':'debian:edk2','configure':['--enable-debug']}"),
	   BAD ": $.axes.firmware.f.build: unknown key 'configure'; allowed keys are source, rev, "
	   "sha256, patches, build_type, defines, pcds")
ERROR_TEST(test_err_firmware_build_no_source, FWB("{'build_type':'DEBUG'}"),
	   BAD ": $.axes.firmware.f.build: missing required key 'source'")
ERROR_TEST(test_err_firmware_build_bad_source, FWB("{'source':'debian:qemu'}"),
	   BAD ": $.axes.firmware.f.build: source 'debian:qemu': this build takes the Debian "
	   "package 'edk2', not 'qemu'; write debian:edk2")
ERROR_TEST(test_err_firmware_build_missing_patches,
	   FWB("{'source':'debian:edk2','patches':'/nonexistent/queue'}"),
	   BAD ": $.axes.firmware.f.build: patch queue '/nonexistent/queue' cannot be read")
ERROR_TEST(test_err_firmware_build_defines_type,
	   FWB("{'source':'debian:edk2','defines':'SMM_REQUIRE=FALSE'}"),
	   BAD ": $.axes.firmware.f.build.defines: expected an array of strings, got string")
ERROR_TEST(test_err_firmware_build_pcd_type,
	   FWB("{'source':'debian:edk2','pcds':[1]}"),
	   BAD ": $.axes.firmware.f.build.pcds[0]: expected a string, got number 1")
ERROR_TEST(test_err_firmware_build_not_object, FWB("'debian:edk2'"),
	   BAD ": $.axes.firmware.f.build: expected an object, got string \"debian:edk2\"")

/* ---- firmware expectations ---------------------------------------------- */

#define EVIDENCE HPCI_SOURCE_ROOT "/matrix/known-issues/tcg-smm-deadlock-after-burst"
/* The component and upstream fields every known issue needs. */
#define KERNEL_BUG "'component':'guest-kernel','upstream':'U',"

static void test_known_issue(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'count':[1,2],'topology':{'t':{'sockets':1,'cores':4,'boot':1}}},"
		"'expect':[{'when':{'count':2},'outcome':'pass','known_issue':{"
		"'outcome':'hang-smm'," KERNEL_BUG "'note':'deadlock in SMM','evidence':'" EVIDENCE "'}}]}",
		"tcg");
	const struct hpci_cell *one = g_ptr_array_index(m->cells, 0);
	const struct hpci_cell *two = g_ptr_array_index(m->cells, 1);

	const struct hpci_known_issue *ki;

	(void)state;
	assert_null(one->expect.known_issues);
	assert_null(hpci_expect_known_issue(&one->expect, HPCI_OUTCOME_HANG_SMM));
	assert_int_equal(two->expect.outcome, HPCI_OUTCOME_PASS);
	assert_non_null(two->expect.known_issues);
	assert_int_equal(two->expect.known_issues->len, 1);
	ki = &g_array_index(two->expect.known_issues, struct hpci_known_issue, 0);
	assert_int_equal(ki->outcome, HPCI_OUTCOME_HANG_SMM);
	assert_string_equal(ki->note, "deadlock in SMM; upstream: U (evidence: " EVIDENCE ")");
	assert_string_equal(hpci_expect_known_issue(&two->expect, HPCI_OUTCOME_HANG_SMM),
			    "deadlock in SMM; upstream: U (evidence: " EVIDENCE ")");
	assert_null(hpci_expect_known_issue(&two->expect, HPCI_OUTCOME_QEMU_CRASH));
	assert_null(hpci_expect_known_issue(&two->expect, HPCI_OUTCOME_PASS));
}

/* An array of known issues reaches every cell the rule matches, each cell
 * with its own copy, and the helper picks the note by outcome. */
static void test_known_issues_array(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'count':[1,2],'topology':{'t':{'sockets':1,'cores':4,'boot':1}}},"
		"'expect':[{'when':{},'outcome':'pass','known_issue':["
		"{'outcome':'qemu-crash'," KERNEL_BUG "'note':'heap corruption after unplug','evidence':'"
		EVIDENCE "'},"
		"{'outcome':'hang-smm'," KERNEL_BUG "'note':'deadlock in SMM','evidence':'" EVIDENCE "'}]}]}",
		"tcg");

	(void)state;
	assert_int_equal(m->cells->len, 2);
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(m->cells, i);
		const GArray *issues = cell->expect.known_issues;

		assert_non_null(issues);
		assert_int_equal(issues->len, 2);
		assert_int_equal(g_array_index(issues, struct hpci_known_issue, 0).outcome,
				 HPCI_OUTCOME_QEMU_CRASH);
		assert_int_equal(g_array_index(issues, struct hpci_known_issue, 1).outcome,
				 HPCI_OUTCOME_HANG_SMM);
		assert_string_equal(hpci_expect_known_issue(&cell->expect, HPCI_OUTCOME_QEMU_CRASH),
				    "heap corruption after unplug; upstream: U (evidence: " EVIDENCE ")");
		assert_string_equal(hpci_expect_known_issue(&cell->expect, HPCI_OUTCOME_HANG_SMM),
				    "deadlock in SMM; upstream: U (evidence: " EVIDENCE ")");
		assert_null(hpci_expect_known_issue(&cell->expect, HPCI_OUTCOME_GUEST_CRASH));
	}
	/* copied per cell, not shared */
	assert_ptr_not_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 0))->expect.known_issues,
			     ((struct hpci_cell *)g_ptr_array_index(m->cells, 1))->expect.known_issues);
}

static void test_known_issues_copy(void **state)
{
	g_autoptr(GArray) issues = hpci_known_issues_new();
	g_autoptr(GArray) copy = NULL;
	struct hpci_known_issue ki = { HPCI_OUTCOME_GUEST_CRASH, HPCI_COMPONENT_GUEST_KERNEL, g_strdup("panic") };
	const struct hpci_known_issue *got;

	(void)state;
	assert_null(hpci_known_issues_copy(NULL));
	assert_null(hpci_known_issue_find(NULL, HPCI_OUTCOME_GUEST_CRASH));
	g_array_append_val(issues, ki);
	copy = hpci_known_issues_copy(issues);
	assert_int_equal(copy->len, 1);
	got = &g_array_index(copy, struct hpci_known_issue, 0);
	assert_int_equal(got->outcome, HPCI_OUTCOME_GUEST_CRASH);
	assert_string_equal(got->note, "panic");
	assert_ptr_not_equal(got->note, ki.note);
	assert_ptr_equal(hpci_known_issue_find(copy, HPCI_OUTCOME_GUEST_CRASH), got->note);
}

static void test_err_known_issue(void **state)
{
	(void)state;
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'hang-smm'," KERNEL_BUG "'note':'n','evidence':'/nonexistent/evidence'}}]}",
		    "$.expect[0].known_issue.evidence: evidence '/nonexistent/evidence' does not "
		    "exist; keep the logs and register dumps of the failure there");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'pass'," KERNEL_BUG "'note':'n','evidence':'" EVIDENCE "'}}]}",
		    "$.expect[0].known_issue.outcome: a known issue is a product failure other "
		    "than the expected outcome 'pass'; 'pass' cannot be one");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'hang-smm'," KERNEL_BUG "'evidence':'" EVIDENCE "'}}]}",
		    "$.expect[0].known_issue: missing required key 'note'");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'hang-smm'," KERNEL_BUG "'note':'n','evidence':'" EVIDENCE "','bug':1}}]}",
		    "$.expect[0].known_issue: unknown key 'bug'");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass',"
		    "'known_issue':'hang-smm'}]}",
		    "$.expect[0].known_issue: expected an object or an array of objects, got "
		    "string \"hang-smm\"");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass',"
		    "'known_issue':[]}]}",
		    "$.expect[0].known_issue: empty list of known issues; name at least one, or "
		    "remove the key");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':["
		    "{'outcome':'hang-smm'," KERNEL_BUG "'note':'a','evidence':'" EVIDENCE "'},"
		    "{'outcome':'qemu-crash'," KERNEL_BUG "'note':'b','evidence':'" EVIDENCE "'},"
		    "{'outcome':'hang-smm'," KERNEL_BUG "'note':'c','evidence':'" EVIDENCE "'}]}]}",
		    "$.expect[0].known_issue[2].outcome: an earlier known issue of this rule has "
		    "outcome 'hang-smm' too, so a cell ending in it would match both; merge them "
		    "into one");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'hang-smm',"
		    "'known_issue':[{'outcome':'qemu-crash'," KERNEL_BUG "'note':'a','evidence':'" EVIDENCE "'},"
		    "{'outcome':'hang-smm'," KERNEL_BUG "'note':'b','evidence':'" EVIDENCE "'}]}]}",
		    "$.expect[0].known_issue[1].outcome: a known issue is a product failure other "
		    "than the expected outcome 'hang-smm'; 'hang-smm' cannot be one");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':["
		    "{'outcome':'qemu-crash'," KERNEL_BUG "'note':'a','evidence':'/nonexistent/evidence'}]}]}",
		    "$.expect[0].known_issue[0].evidence: evidence '/nonexistent/evidence' does "
		    "not exist");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':["
		    "{'outcome':'qemu-crash'," KERNEL_BUG "'note':'a','evidence':'" EVIDENCE "'},1]}]}",
		    "$.expect[0].known_issue[1]: expected an object, got number 1");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'hang-smm','component':'qemu-build','upstream':'U','note':'n',"
		    "'evidence':'" EVIDENCE "'}}]}",
		    "$.expect[0].known_issue.component: 'qemu-build' is not a component a known "
		    "issue may name: use system-qemu, system-firmware, guest-kernel or libvirt.  A "
		    "bug in QEMU or OVMF that hotplug-ci builds or patches, or in its guest image, is "
		    "fixed in its patch queue, not declared");
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'hang-smm','component':'guest-kernel','note':'n',"
		    "'evidence':'" EVIDENCE "'}}]}",
		    "$.expect[0].known_issue: missing required key 'upstream'");
	/* A breach is never excused, not even on a cell expected to breach. */
	check_error("{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'breach','component':'system-firmware','upstream':'U','note':'n',"
		    "'evidence':'" EVIDENCE "'}}]}",
		    "$.expect[0].known_issue.outcome: a breach is never a known issue: guest code "
		    "that ran in SMM, or SMRAM the guest could read, is a failure whatever "
		    "component it is in; remove this known issue");
	check_error("{'name':'x','axes':{'smi':{'off':{'smbase_smram':false}}},'expect':[{"
		    "'when':{},'outcome':'breach','known_issue':[{'outcome':'hang-smm'," KERNEL_BUG
		    "'note':'a','evidence':'" EVIDENCE "'},{'outcome':'breach'," KERNEL_BUG
		    "'note':'b','evidence':'" EVIDENCE "'}]}]}",
		    "$.expect[0].known_issue[1].outcome: a breach is never a known issue");
	/* A system-QEMU bug cannot excuse the cell that runs our build. */
	check_error("{'name':'x','axes':{'qemu':{'system':{'emulator':'/usr/bin/qemu-system-x86_64'},"
		    "'ours':{'build':{'source':'debian:qemu'}}}},"
		    "'expect':[{'when':{},'outcome':'pass','known_issue':{"
		    "'outcome':'qemu-crash','component':'system-qemu','upstream':'U','note':'n',"
		    "'evidence':'" EVIDENCE "'}}]}",
		    "qemu=ours,count=default,ops=default' runs qemu 'ours', which hotplug-ci "
		    "builds ($.axes.qemu.ours.build), but its known issue names the system-qemu: a "
		    "bug in what we build is fixed in its patch queue, not declared; narrow the "
		    "rule's 'when' to the system build");
}

static void test_expect_firmware_facts(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'firmware':{'dbg':{'code':'/c','vars':'/v','smm':true,"
		"'verbose':true},'rel':{'code':'/c','vars':'/v','smm':true}},"
		"'smi':{'full':{},'nobc':{'broadcast':false}}},"
		"'expect':["
		"{'when':{'firmware':'dbg','smi':'nobc'},'outcome':'mismatch',"
		"'firmware':{'negotiated':{'broadcast':false}},'reason':'no broadcast'},"
		"{'when':{'firmware':'dbg'},'outcome':'pass','firmware':{"
		"'smram_at_default_smbase':true,'negotiated':{'broadcast':true,'cpu_hotplug':true,"
		"'cpu_hotunplug':false}}},"
		"{'when':{'firmware':'rel'},'host':{'accel':'tcg'},'outcome':'firmware-assert'}]}",
		"tcg");
	const struct hpci_firmware_expect *e;
	const struct hpci_cell *c;

	(void)state;
	assert_int_equal(m->cells->len, 4);
	c = g_ptr_array_index(m->cells, 0);   /* full, dbg */
	assert_string_equal(c->id, "topology=default,smi=full,firmware=dbg,qemu=default,"
			    "count=default,ops=default");
	e = &c->expect.firmware;
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_PASS);
	assert_int_equal(e->smram_at_default_smbase, 1);
	assert_int_equal(e->broadcast, 1);
	assert_int_equal(e->cpu_hotplug, 1);
	assert_int_equal(e->cpu_hotunplug, 0);

	c = g_ptr_array_index(m->cells, 1);   /* full, rel: no facts expected */
	e = &c->expect.firmware;
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_FIRMWARE_ASSERT);
	assert_int_equal(e->smram_at_default_smbase, HPCI_FACT_ANY);
	assert_int_equal(e->broadcast, HPCI_FACT_ANY);
	assert_int_equal(e->cpu_hotplug, HPCI_FACT_ANY);
	assert_int_equal(e->cpu_hotunplug, HPCI_FACT_ANY);

	c = g_ptr_array_index(m->cells, 2);   /* nobc, dbg: the first rule wins */
	e = &c->expect.firmware;
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_MISMATCH);
	assert_string_equal(c->expect.reason, "no broadcast");
	assert_int_equal(e->smram_at_default_smbase, HPCI_FACT_ANY);
	assert_int_equal(e->broadcast, 0);
	assert_int_equal(e->cpu_hotplug, HPCI_FACT_ANY);
	assert_int_equal(e->cpu_hotunplug, HPCI_FACT_ANY);
}

/* Under kvm the firmware-assert rule does not apply: no rule, no facts. */
static void test_expect_firmware_no_rule(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'firmware':{'rel':{'code':'/c','vars':'/v','smm':true}}},"
		"'expect':[{'when':{},'host':{'accel':'tcg'},'outcome':'firmware-assert'}]}", "kvm");
	const struct hpci_cell *c = g_ptr_array_index(m->cells, 0);

	(void)state;
	assert_int_equal(c->expect.outcome, HPCI_OUTCOME_PASS);
	assert_int_equal(c->expect.firmware.smram_at_default_smbase, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.broadcast, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.cpu_hotplug, HPCI_FACT_ANY);
	assert_int_equal(c->expect.firmware.cpu_hotunplug, HPCI_FACT_ANY);
}

#define EXPECT_FW(fw) "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass'," \
	"'firmware':" fw "}]}"

ERROR_TEST(test_err_expect_firmware_type, EXPECT_FW("true"),
	   BAD ": $.expect[0].firmware: expected an object, got boolean true")
ERROR_TEST(test_err_expect_firmware_unknown_key, EXPECT_FW("{'smbase_smram':true}"),
	   BAD ": $.expect[0].firmware: unknown key 'smbase_smram'; allowed keys are "
	   "smram_at_default_smbase, negotiated")
ERROR_TEST(test_err_expect_firmware_fact_type, EXPECT_FW("{'smram_at_default_smbase':1}"),
	   BAD ": $.expect[0].firmware.smram_at_default_smbase: expected a boolean, got number 1")
ERROR_TEST(test_err_expect_firmware_negotiated_type, EXPECT_FW("{'negotiated':['broadcast']}"),
	   BAD ": $.expect[0].firmware.negotiated: expected an object, got array")
ERROR_TEST(test_err_expect_firmware_negotiated_unknown_key,
	   EXPECT_FW("{'negotiated':{'broadcast':true,'hotplug':true}}"),
	   BAD ": $.expect[0].firmware.negotiated: unknown key 'hotplug'; allowed keys are "
	   "broadcast, cpu_hotplug, cpu_hotunplug")
ERROR_TEST(test_err_expect_firmware_negotiated_fact_type,
	   EXPECT_FW("{'negotiated':{'cpu_hotunplug':null}}"),
	   BAD ": $.expect[0].firmware.negotiated.cpu_hotunplug: expected a boolean, got null")

/* Facts come from the debug log; a firmware that writes none cannot give them. */
ERROR_TEST(test_err_expect_firmware_not_verbose_release,
	   "{'name':'x','axes':{'firmware':{'dbg':{'build':{'source':'debian:edk2'}},"
	   "'rel':{'build':{'source':'debian:edk2','build_type':'RELEASE'}}}},"
	   "'expect':[{'when':{'firmware':'dbg'},'outcome':'pass'},"
	   "{'when':{},'outcome':'pass','firmware':{'negotiated':{'cpu_hotplug':true}}}]}",
	   BAD ": $.expect[1].firmware: cell 'topology=default,smi=default,firmware=rel,"
	   "qemu=default,count=default,ops=default' expects firmware facts but firmware 'rel' "
	   "writes no debug log (a RELEASE build); use a DEBUG build (build_type DEBUG or NOOPT "
	   "in $.axes.firmware.rel.build) or drop the expectation")
ERROR_TEST(test_err_expect_firmware_not_verbose_images,
	   "{'name':'x','axes':{'firmware':{'f':{'code':'/c','vars':'/v','smm':true}}},"
	   "'expect':[{'when':{'firmware':'f'},'outcome':'pass',"
	   "'firmware':{'smram_at_default_smbase':false}}]}",
	   BAD ": $.expect[0].firmware: cell 'topology=default,smi=default,firmware=f,"
	   "qemu=default,count=default,ops=default' expects firmware facts but firmware 'f' "
	   "writes no debug log (verbose is false in $.axes.firmware.f); use a DEBUG build (and "
	   "set verbose to true) or drop the expectation")
ERROR_TEST(test_err_expect_firmware_not_verbose_default,
	   "{'name':'x','axes':{},'expect':[{'when':{},'outcome':'pass',"
	   "'firmware':{'negotiated':{'broadcast':true}}}]}",
	   BAD ": $.expect[0].firmware: cell 'topology=default,smi=default,firmware=default,"
	   "qemu=default,count=default,ops=default' expects firmware facts but firmware "
	   "'default' writes no debug log (the default firmware is the distribution's OVMF, "
	   "which is not verbose); use a DEBUG build or drop the expectation")
ERROR_TEST(test_err_expect_firmware_not_verbose_descriptor,
	   "{'name':'x','axes':{'firmware':{'secure':{'descriptor':'50-edk2-x86_64-secure.json'}}},"
	   "'expect':[{'when':{},'outcome':'mismatch','firmware':{'negotiated':{'broadcast':true}}}]}",
	   BAD ": $.expect[0].firmware: cell 'topology=default,smi=default,firmware=secure,"
	   "qemu=default,count=default,ops=default' expects firmware facts but firmware 'secure' "
	   "writes no debug log (descriptor '/usr/share/qemu/firmware/50-edk2-x86_64-secure.json' "
	   "lacks the feature verbose-static); use a DEBUG build or drop the expectation")

/* An excluded cell is never checked, nor is one another rule wins. */
static void test_expect_firmware_quiet_cell_not_matched(void **state)
{
	g_autoptr(hpci_matrix) m = parse_ok(
		"{'name':'x','axes':{'firmware':{'dbg':{'build':{'source':'debian:edk2'}},"
		"'rel':{'build':{'source':'debian:edk2','build_type':'RELEASE'}}},"
		"'count':[1,'all']},"
		"'exclude':[{'firmware':'rel','count':'all'}],"
		"'expect':[{'when':{'firmware':'rel'},'outcome':'pass'},"
		"{'when':{'count':'all'},'outcome':'pass','firmware':{'negotiated':"
		"{'cpu_hotplug':true}}}]}", "tcg");

	(void)state;
	assert_int_equal(m->cells->len, 3);
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 1))
			 ->expect.firmware.cpu_hotplug, 1);
	assert_int_equal(((struct hpci_cell *)g_ptr_array_index(m->cells, 2))
			 ->expect.firmware.cpu_hotplug, HPCI_FACT_ANY);
}

/* ---- --set overrides ----------------------------------------------------- */

/* Two recipes and two image firmwares, as full.json has them. */
#define SET_MATRIX \
	"{'name':'x','axes':{'firmware':{" \
	"'smm-release':{'code':'/c/CODE.fd','vars':'/c/VARS.fd','smm':true}," \
	"'smm-debug':{'build':{'source':'debian:edk2','build_type':'NOOPT'," \
	"'defines':['SECURE_BOOT_ENABLE=TRUE']}}," \
	"'nosmm':{'code':'/c/CODE.fd','vars':'/c/VARS.fd','smm':false}}," \
	"'qemu':{'patched':{'build':{'source':'debian:qemu','configure':['--enable-debug-tcg']}}}}}"

static struct hpci_matrix *parse_set_ok(const char *text, const char *const *sets, guint n)
{
	g_autofree char *json = sq(text);
	struct hpci_matrix_host host = { "tcg" };
	struct hpci_matrix *m = NULL;

	if (hpci_matrix_parse_with("matrix/ok.json", json, &host, sets, n, &m) < 0)
		fail_msg("unexpected error: %s", hpci_error_message());
	return m;
}

/* The load fails with exactly `expected`, recorded with `kind`. */
static void check_set_error(const char *text, const char *const *sets, guint n,
			    enum hpci_error_kind kind, const char *expected)
{
	g_autofree char *json = sq(text);
	struct hpci_matrix_host host = { "tcg" };
	struct hpci_matrix *m = NULL;
	int rc;

	hpci_error_clear();
	rc = hpci_matrix_parse_with(BAD, json, &host, sets, n, &m);
	if (rc != -EINVAL || strcmp(hpci_error_message(), expected) != 0)
		fail_msg("rc %d, message\n    %s\nshould be\n    %s", rc, hpci_error_message(),
			 expected);
	assert_int_equal(hpci_error_last_kind(), kind);
	assert_null(m);
}

static const struct hpci_cell *cell_with(const struct hpci_matrix *m, const char *axis,
					 const char *value)
{
	for (guint i = 0; i < m->cells->len; i++) {
		const struct hpci_cell *c = g_ptr_array_index(m->cells, i);

		if (strcmp(hpci_cell_axis(c, axis), value) == 0)
			return c;
	}
	fail_msg("no cell with %s=%s", axis, value);
	return NULL;
}

static void assert_sets(const struct hpci_matrix *m, const char *const *want, guint n)
{
	assert_non_null(m->sets);
	assert_int_equal(m->sets->len, n);
	for (guint i = 0; i < n; i++)
		assert_string_equal(g_ptr_array_index(m->sets, i), want[i]);
}

/* What bisect does: the recipe builds the commit under test and keeps the
 * rest of itself; the other cells and the matrix's sha256 stay as they were. */
static void test_set_recipe_rev(void **state)
{
	const char *sets[] = { "axes.firmware.smm-debug.build.source=/src/edk2",
			       "axes.firmware.smm-debug.build.rev=4f3a2b1",
			       "axes.qemu.patched.build.source=/src/qemu",
			       "axes.qemu.patched.build.rev=v9.0.0" };
	g_autoptr(hpci_matrix) plain = parse_set_ok(SET_MATRIX, NULL, 0);
	g_autoptr(hpci_matrix) m = parse_set_ok(SET_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *debug = cell_with(m, "firmware", "smm-debug");
	const struct hpci_cell *release = cell_with(m, "firmware", "smm-release");
	const struct hpci_firmware_request *fw = debug->firmware.recipe;
	const struct hpci_qemu_request *qemu = debug->qemu.recipe;

	(void)state;
	assert_int_equal(m->cells->len, 3);
	assert_non_null(fw);
	assert_string_equal(fw->src.source, "/src/edk2");
	assert_string_equal(fw->src.rev, "4f3a2b1");
	assert_string_equal(fw->build_type, "NOOPT");          /* kept */
	assert_int_equal(fw->defines->len, 1);                 /* kept */
	assert_string_equal(g_ptr_array_index(fw->defines, 0), "SECURE_BOOT_ENABLE=TRUE");
	assert_string_equal(qemu->src.source, "/src/qemu");
	assert_string_equal(qemu->src.rev, "v9.0.0");
	assert_int_equal(qemu->configure->len, 1);             /* kept */
	/* every cell's qemu is the patched one: all of them build v9.0.0 */
	assert_string_equal(release->qemu.recipe->src.rev, "v9.0.0");
	assert_null(release->firmware.recipe);
	assert_string_equal(release->firmware.code, "/c/CODE.fd");
	assert_sets(m, sets, G_N_ELEMENTS(sets));
	assert_string_equal(m->sha256, plain->sha256);
	assert_int_equal(plain->sets->len, 0);
	assert_null(cell_with(plain, "firmware", "smm-debug")->firmware.recipe->src.rev);
}

/* PATH=VALUE is always a string, however it looks (an abbreviated commit
 * may be all digits); PATH:=JSON is JSON, checked like the file's values. */
static void test_set_json_and_string(void **state)
{
	const char *sets[] = {
		"axes.firmware.smm-debug.build.source=/src/edk2",
		"axes.firmware.smm-debug.build.rev=1234567",
		"axes.firmware.smm-debug.build.defines:=[\"SMM_REQUIRE=FALSE\", \"A=B\"]",
		"axes.firmware.smm-debug.build.build_type:=\"RELEASE\"",
		"axes.firmware.nosmm.smm:=true",
		"axes.firmware.nosmm.verbose:=true",
	};
	const char *recorded[] = {
		"axes.firmware.smm-debug.build.source=/src/edk2",
		"axes.firmware.smm-debug.build.rev=1234567",
		"axes.firmware.smm-debug.build.defines:=[\"SMM_REQUIRE=FALSE\",\"A=B\"]",
		"axes.firmware.smm-debug.build.build_type=RELEASE",
		"axes.firmware.nosmm.smm:=true",
		"axes.firmware.nosmm.verbose:=true",
	};
	const char *number[] = { "axes.firmware.smm-debug.build.source=/src/edk2",
				 "axes.firmware.smm-debug.build.rev:=1234567" };
	const char *string[] = { "axes.firmware.nosmm.smm=true" };
	g_autoptr(hpci_matrix) m = parse_set_ok(SET_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *debug = cell_with(m, "firmware", "smm-debug");
	const struct hpci_cell *nosmm = cell_with(m, "firmware", "nosmm");

	(void)state;
	assert_string_equal(debug->firmware.recipe->src.rev, "1234567");
	assert_int_equal(debug->firmware.recipe->defines->len, 2);
	assert_string_equal(g_ptr_array_index(debug->firmware.recipe->defines, 1), "A=B");
	assert_false(debug->firmware.smm);                     /* SMM_REQUIRE=FALSE */
	assert_false(debug->firmware.verbose);                 /* RELEASE */
	assert_true(nosmm->firmware.smm);
	assert_true(nosmm->firmware.verbose);
	assert_sets(m, recorded, G_N_ELEMENTS(recorded));
	/* checked as the file's values are, in the tree --set changed */
	check_set_error(SET_MATRIX, number, G_N_ELEMENTS(number), HPCI_ERR_INPUT,
			BAD " (with --set): $.axes.firmware.smm-debug.build.rev: expected a "
			"string, got number 1234567");
	check_set_error(SET_MATRIX, string, G_N_ELEMENTS(string), HPCI_ERR_INPUT,
			BAD " (with --set): $.axes.firmware.nosmm.smm: expected a boolean, got "
			"string \"true\"");
}

/* A typo in PATH is an error naming the key and the keys there are: it
 * must not make a new axis value, nor a new object on the way. */
static void test_set_missing_key(void **state)
{
	const char *typo[] = { "axes.firmware.smm-dbg.build.rev=X" };
	const char *new_value[] = { "axes.firmware.smm-dbg:={\"build\":{\"source\":\"debian:edk2\"}}" };
	const char *no_object[] = { "axes.qemu.patched.build.options.x=1" };
	const char *remove[] = { "axes.qemu.patched.build.sha256:=null" };
	const char *empty[] = { "axes.firmware.nosmm:={}", "axes.firmware.nosmm.x.y=1" };
	const char *new_key[] = { "axes.firmware.smm-debug.build.revv=1" };

	(void)state;
	check_set_error(SET_MATRIX, typo, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.smm-dbg.build.rev=X': " BAD ": $.axes.firmware has "
			"no key 'smm-dbg' (it has: smm-release, smm-debug, nosmm)");
	check_set_error(SET_MATRIX, new_value, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.smm-dbg:={\"build\":{\"source\":\"debian:edk2\"}}': "
			BAD ": $.axes.firmware has no key 'smm-dbg' (it has: smm-release, "
			"smm-debug, nosmm)");
	check_set_error(SET_MATRIX, no_object, 1, HPCI_ERR_USAGE,
			"--set 'axes.qemu.patched.build.options.x=1': " BAD ": "
			"$.axes.qemu.patched.build has no key 'options' (it has: source, configure)");
	check_set_error(SET_MATRIX, remove, 1, HPCI_ERR_USAGE,
			"--set 'axes.qemu.patched.build.sha256:=null': " BAD ": "
			"$.axes.qemu.patched.build has no key 'sha256' to remove (it has: source, "
			"configure)");
	check_set_error(SET_MATRIX, empty, 2, HPCI_ERR_USAGE,
			"--set 'axes.firmware.nosmm.x.y=1': " BAD ": $.axes.firmware.nosmm has no "
			"key 'x' (it has: none)");
	/* A new last key where the schema names the keys: the schema's check,
	 * at its JSON path, in the tree --set changed. */
	check_set_error(SET_MATRIX, new_key, 1, HPCI_ERR_INPUT,
			BAD " (with --set): $.axes.firmware.smm-debug.build: unknown key 'revv'; "
			"allowed keys are source, rev, sha256, patches, build_type, defines, pcds");
}

static void test_set_into_non_object(void **state)
{
	const char *array[] = { "axes.firmware.smm-debug.build.defines.x=1" };
	const char *string[] = { "name.x:=1" };

	(void)state;
	check_set_error(SET_MATRIX, array, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.smm-debug.build.defines.x=1': " BAD ": "
			"$.axes.firmware.smm-debug.build.defines: expected an object with the key "
			"'x', got array; --set reaches members of objects only, so set "
			"axes.firmware.smm-debug.build.defines as a whole "
			"(axes.firmware.smm-debug.build.defines:=JSON)");
	check_set_error(SET_MATRIX, string, 1, HPCI_ERR_USAGE,
			"--set 'name.x:=1': " BAD ": $.name: expected an object with the key 'x', "
			"got string \"x\"; --set reaches members of objects only, so set name as a "
			"whole (name:=JSON)");
}

/* Parsing one option looks at no matrix. */
static void test_set_parse(void **state)
{
	static const struct {
		const char *arg, *path, *value;
		bool json;
	} good[] = {
		{ "axes.qemu.patched.build.rev=4f3a2b1", "axes.qemu.patched.build.rev", "4f3a2b1", false },
		{ "a.b=c=d", "a.b", "c=d", false },            /* the first '=' splits */
		{ "a=", "a", "", false },
		{ "a=:=x", "a", ":=x", false },
		{ "a=[1", "a", "[1", false },                  /* a string */
		{ "a:=[1, \"x\"]", "a", "[1, \"x\"]", true },
		{ "a:=null", "a", "null", true },
	};
	static const struct {
		const char *arg, *message;
	} bad[] = {
		{ "axes.qemu.patched.build.rev", "--set 'axes.qemu.patched.build.rev': no '=' in "
		  "it; give PATH=VALUE (VALUE a string) or PATH:=JSON, e.g. "
		  "axes.firmware.smm-debug.build.rev=4f3a2b1" },
		{ "=x", "--set '=x': the PATH before '=' is empty; name the field from the top of "
		  "the matrix, e.g. axes.qemu.patched.build.source" },
		{ ":=1", "--set ':=1': the PATH before ':=' is empty; name the field from the top "
		  "of the matrix, e.g. axes.qemu.patched.build.source" },
		{ "axes..qemu=1", "--set 'axes..qemu=1': PATH 'axes..qemu' has an empty key; join "
		  "the keys with single dots, e.g. axes.qemu.patched.build.source" },
		{ ".axes=1", "--set '.axes=1': PATH '.axes' has an empty key;" },
		{ "axes.=1", "--set 'axes.=1': PATH 'axes.' has an empty key;" },
		{ "a:=[1", "--set 'a:=[1': the value after ':=' is not JSON (unexpected end of "
		  "data); quote a string as \"...\" or give it as PATH=VALUE" },
		{ "a:=4f3a2b1", "--set 'a:=4f3a2b1': the value after ':=' is not JSON" },
		{ "a:=", "--set 'a:=': the value after ':=' is not JSON" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_auto(hpci_matrix_set) set = { 0 };

		if (hpci_matrix_set_parse(good[i].arg, &set) < 0)
			fail_msg("'%s': %s", good[i].arg, hpci_error_message());
		assert_string_equal(set.path, good[i].path);
		assert_string_equal(set.value, good[i].value);
		assert_int_equal(set.json, good[i].json);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(hpci_matrix_set) set = { 0 };

		hpci_error_clear();
		assert_int_equal(hpci_matrix_set_parse(bad[i].arg, &set), -EINVAL);
		if (!g_str_has_prefix(hpci_error_message(), bad[i].message))
			fail_msg("'%s': message\n    %s\nshould start with\n    %s", bad[i].arg,
				 hpci_error_message(), bad[i].message);
		assert_int_equal(hpci_error_last_kind(), HPCI_ERR_USAGE);
		assert_null(set.path);
	}
	/* the loader refuses it the same way */
	{
		const char *sets[] = { "axes.qemu.patched.build.rev" };

		check_set_error(SET_MATRIX, sets, 1, HPCI_ERR_USAGE, bad[0].message);
	}
}

/* A relative path given with --set is the current directory's, not the
 * matrix file's ("matrix/ok.json" here, whose directory has none of them),
 * in a value of its own or inside an object; report texts say where. */
static void test_set_relative_path(void **state)
{
	g_autofree char *saved_cwd = g_get_current_dir();
	g_autofree char *dir = temp_dir();
	g_autofree char *patch = write_file(dir, "ovmf-patches/0001-x.patch",
		"Subject: [PATCH] x\n\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
	g_autofree char *desc = write_file(dir, "fw/debug.json",
		DESC(DESC_MAPPING, DESC_TARGETS, "['requires-smm','verbose-static']"));
	const char *sets[] = {
		"axes.firmware.smm-debug.build.patches=ovmf-patches",
		"axes.firmware.smm-debug.build.source=./edk2",
		"axes.qemu.patched.build:={\"source\":\"../qemu\",\"patches\":\"ovmf-patches\"}",
		"axes.firmware.smm-release:={\"descriptor\":\"fw/debug.json\"}",
		"axes.firmware.nosmm.code=images/CODE.fd",
		"axes.firmware.nosmm.vars=/abs/VARS.fd",
	};
	g_autoptr(hpci_matrix) m = NULL;
	g_autofree char *cwd = NULL, *parent = NULL, *queue = NULL, *edk2 = NULL, *qemu = NULL;
	g_autofree char *code = NULL, *descriptor = NULL;
	const struct hpci_cell *debug, *release, *nosmm;

	(void)state;
	(void)patch;
	(void)desc;
	assert_int_equal(chdir(dir), 0);
	cwd = g_get_current_dir();
	parent = g_path_get_dirname(cwd);
	queue = g_build_filename(cwd, "ovmf-patches", NULL);
	edk2 = g_build_filename(cwd, "edk2", NULL);
	qemu = g_build_filename(parent, "qemu", NULL);
	code = g_build_filename(cwd, "images", "CODE.fd", NULL);
	descriptor = g_build_filename(cwd, "fw", "debug.json", NULL);
	m = parse_set_ok(SET_MATRIX, sets, G_N_ELEMENTS(sets));
	debug = cell_with(m, "firmware", "smm-debug");
	release = cell_with(m, "firmware", "smm-release");
	nosmm = cell_with(m, "firmware", "nosmm");
	assert_string_equal(debug->firmware.recipe->src.patches, queue);
	assert_string_equal(debug->firmware.recipe->src.source, edk2);
	assert_string_equal(debug->qemu.recipe->src.source, qemu);
	assert_string_equal(debug->qemu.recipe->src.patches, queue);
	assert_int_equal(debug->qemu.recipe->configure->len, 0);   /* the whole build replaced */
	assert_string_equal(release->firmware.descriptor, descriptor);
	assert_string_equal(release->firmware.code, "/opt/ovmf/OVMF_CODE.fd");
	assert_string_equal(nosmm->firmware.code, code);
	assert_string_equal(nosmm->firmware.vars, "/abs/VARS.fd");
	{
		g_autofree char *t0 = g_strdup_printf("%s=%s", "axes.firmware.smm-debug.build.patches",
						      queue);
		g_autofree char *t2 = g_strdup_printf("axes.qemu.patched.build:={\"source\":\"%s\","
						      "\"patches\":\"%s\"}", qemu, queue);
		g_autofree char *t3 = g_strdup_printf("axes.firmware.smm-release:={\"descriptor\":"
						      "\"%s\"}", descriptor);

		assert_string_equal(g_ptr_array_index(m->sets, 0), t0);
		assert_string_equal(g_ptr_array_index(m->sets, 2), t2);
		assert_string_equal(g_ptr_array_index(m->sets, 3), t3);
		assert_string_equal(g_ptr_array_index(m->sets, 5), "axes.firmware.nosmm.vars=/abs/VARS.fd");
	}
	assert_int_equal(chdir(saved_cwd), 0);
	remove_tree(dir);
}

/* What is not a local path stays as given: debian:PKG and URLs as sources,
 * a bare descriptor name (looked up where QEMU looks), and a string in a
 * member that holds no path. */
static void test_set_non_paths_stay(void **state)
{
	const char *sets[] = {
		"axes.qemu.patched.build.source=debian:qemu=1:7.2+dfsg-7",
		"axes.firmware.smm-debug.build.source=https://example.org/edk2.tar.xz",
		"axes.firmware.smm-release:={\"descriptor\":\"50-edk2-x86_64-secure.json\"}",
		"axes.firmware.smm-debug.build.build_type=DEBUG",
	};
	g_autoptr(hpci_matrix) m = parse_set_ok(SET_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *debug = cell_with(m, "firmware", "smm-debug");
	const struct hpci_cell *release = cell_with(m, "firmware", "smm-release");

	(void)state;
	assert_string_equal(debug->qemu.recipe->src.source, "debian:qemu=1:7.2+dfsg-7");
	assert_string_equal(debug->firmware.recipe->src.source, "https://example.org/edk2.tar.xz");
	assert_string_equal(release->firmware.descriptor,
			    "/usr/share/qemu/firmware/50-edk2-x86_64-secure.json");
	assert_sets(m, sets, G_N_ELEMENTS(sets));   /* as given */
}

/* Options apply in order: a later one wins, also over a whole object set
 * before it, and :=null removes a key. */
static void test_set_order(void **state)
{
	const char *later[] = { "axes.qemu.patched.build.source=/src/qemu",
				"axes.qemu.patched.build.rev=aaaaaaa",
				"axes.qemu.patched.build.rev=bbbbbbb" };
	const char *whole[] = { "axes.qemu.patched.build.rev=aaaaaaa",
				"axes.qemu.patched.build:={\"source\":\"/src/qemu\"}" };
	const char *removed[] = { "axes.qemu.patched.build.source=/src/qemu",
				  "axes.qemu.patched.build.rev=aaaaaaa",
				  "axes.qemu.patched.build.rev:=null",
				  "axes.qemu.patched.build.configure:=null" };
	const char *too_early[] = { "axes.qemu.patched.build.rev:=null",
				    "axes.qemu.patched.build.rev=aaaaaaa" };
	g_autoptr(hpci_matrix) a = parse_set_ok(SET_MATRIX, later, G_N_ELEMENTS(later));
	g_autoptr(hpci_matrix) b = parse_set_ok(SET_MATRIX, whole, G_N_ELEMENTS(whole));
	g_autoptr(hpci_matrix) c = parse_set_ok(SET_MATRIX, removed, G_N_ELEMENTS(removed));
	const struct hpci_qemu_request *ra = cell_with(a, "firmware", "nosmm")->qemu.recipe;
	const struct hpci_qemu_request *rb = cell_with(b, "firmware", "nosmm")->qemu.recipe;
	const struct hpci_qemu_request *rc = cell_with(c, "firmware", "nosmm")->qemu.recipe;

	(void)state;
	assert_string_equal(ra->src.rev, "bbbbbbb");
	assert_sets(a, later, G_N_ELEMENTS(later));
	assert_string_equal(rb->src.source, "/src/qemu");
	assert_null(rb->src.rev);                  /* the whole build replaced */
	assert_int_equal(rb->configure->len, 0);
	assert_string_equal(rc->src.source, "/src/qemu");
	assert_null(rc->src.rev);
	assert_int_equal(rc->configure->len, 0);
	assert_sets(c, removed, G_N_ELEMENTS(removed));
	check_set_error(SET_MATRIX, too_early, 2, HPCI_ERR_USAGE,
			"--set 'axes.qemu.patched.build.rev:=null': " BAD ": "
			"$.axes.qemu.patched.build has no key 'rev' to remove (it has: source, "
			"configure)");
}

/* Axis value names may hold dots: PATH takes the longest key there is. */
static void test_set_dotted_value_name(void **state)
{
	const char *sets[] = { "axes.smi.machine-5.1.cpu_hotplug:=true",
			       "axes.smi.machine-5.1.machine=pc-q35-5.2" };
	g_autoptr(hpci_matrix) m = parse_set_ok(
		"{'name':'x','axes':{'smi':{'machine-5':{'machine':'pc-q35-5.0'},"
		"'machine-5.1':{'machine':'pc-q35-5.1'}}}}", sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *five = cell_with(m, "smi", "machine-5");
	const struct hpci_cell *five_one = cell_with(m, "smi", "machine-5.1");

	(void)state;
	assert_string_equal(five_one->smi.machine, "pc-q35-5.2");
	assert_true(five_one->smi.cpu_hotplug);
	assert_string_equal(five->smi.machine, "pc-q35-5.0");
	assert_false(five->smi.cpu_hotplug);
}

/* ---- --set with '*' keys ------------------------------------------------ */

/* Two firmware recipes, a firmware without one, a qemu recipe, an array axis. */
#define WILD_MATRIX \
	"{'name':'x','defaults':{'timeouts':{'online_s':3,'smi_s':30}},'axes':{'firmware':{" \
	"'dbg':{'build':{'source':'debian:edk2','build_type':'NOOPT'," \
	"'defines':['SECURE_BOOT_ENABLE=TRUE']}}," \
	"'rel':{'build':{'source':'debian:edk2','build_type':'RELEASE'}}," \
	"'nosmm':{'code':'/c/CODE.fd','vars':'/c/VARS.fd','smm':false}}," \
	"'qemu':{'patched':{'build':{'source':'debian:qemu'}}},'count':[1,'all']}}"

/* What a nightly pipeline does: every recipe of an axis builds one source,
 * whatever the values are called; a value without a recipe is left alone.
 * A '*' as the last key sets each member there is and adds none. */
static void test_set_wildcard_recipes(void **state)
{
	const char *sets[] = { "axes.firmware.*.build.source=/src/edk2",
			       "axes.firmware.*.build.rev=master",
			       "defaults.timeouts.*:=200" };
	g_autoptr(hpci_matrix) m = parse_set_ok(WILD_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *dbg = cell_with(m, "firmware", "dbg");
	const struct hpci_cell *rel = cell_with(m, "firmware", "rel");
	const struct hpci_cell *nosmm = cell_with(m, "firmware", "nosmm");

	(void)state;
	assert_int_equal(m->cells->len, 6);
	assert_string_equal(dbg->firmware.recipe->src.source, "/src/edk2");
	assert_string_equal(dbg->firmware.recipe->src.rev, "master");
	assert_string_equal(dbg->firmware.recipe->build_type, "NOOPT");   /* kept */
	assert_int_equal(dbg->firmware.recipe->defines->len, 1);          /* kept */
	assert_string_equal(rel->firmware.recipe->src.source, "/src/edk2");
	assert_string_equal(rel->firmware.recipe->src.rev, "master");
	assert_string_equal(rel->firmware.recipe->build_type, "RELEASE");
	assert_null(nosmm->firmware.recipe);                              /* skipped */
	assert_string_equal(nosmm->firmware.code, "/c/CODE.fd");
	assert_string_equal(dbg->qemu.recipe->src.source, "debian:qemu"); /* another axis */
	assert_null(dbg->qemu.recipe->src.rev);
	assert_int_equal(dbg->timeouts.online_ms, 200000);
	assert_int_equal(dbg->timeouts.smi_ms, 200000);
	assert_int_equal(dbg->timeouts.boot_ms, 120000);   /* not in the file: not set */
	assert_sets(m, sets, G_N_ELEMENTS(sets));           /* once each, as given */
}

/* A '*' that stands for no member is a mistake in PATH, not a no-op. */
static void test_set_wildcard_no_member(void **state)
{
	const char *no_build[] = { "axes.firmware.*.build.rev=x" };
	const char *no_pin[] = { "axes.firmware.*.build.sha256:=null" };
	const char *two[] = { "axes.*.*.buld.rev=x" };
	const char *empty[] = { "defaults.timeouts:={}", "defaults.timeouts.*:=1" };
	const char *mixed[] = { "axes.firmware.nosmm.*=rel" };

	(void)state;
	check_set_error("{'name':'x','axes':{'firmware':{"
			"'smm':{'code':'/c/CODE.fd','vars':'/c/VARS.fd','smm':true},"
			"'nosmm':{'code':'/c/CODE.fd','vars':'/c/VARS.fd','smm':false}}}}",
			no_build, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.*.build.rev=x': " BAD ": no member of "
			"$.axes.firmware has build (members: smm, nosmm); '*' stands for each "
			"member that has the keys after it, so check them against the file");
	check_set_error(WILD_MATRIX, no_pin, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.*.build.sha256:=null': " BAD ": no member of "
			"$.axes.firmware has build.sha256 to remove (members: dbg, rel, nosmm); "
			"'*' stands for each member that has the keys after it, so check them "
			"against the file");
	check_set_error(WILD_MATRIX, two, 1, HPCI_ERR_USAGE,
			"--set 'axes.*.*.buld.rev=x': " BAD ": no member of $.axes has *.buld "
			"(members: firmware, qemu, count); '*' stands for each member that has "
			"the keys after it, so check them against the file");
	check_set_error(WILD_MATRIX, empty, 2, HPCI_ERR_USAGE,
			"--set 'defaults.timeouts.*:=1': " BAD ": $.defaults.timeouts has no "
			"members for '*' to stand for");
	/* "rel" would be made absolute in code but not in smm: recorded once as
	 * given, the option would not read back to the same values. */
	check_set_error(WILD_MATRIX, mixed, 1, HPCI_ERR_USAGE,
			"--set 'axes.firmware.nosmm.*=rel': " BAD ": $.axes.firmware.nosmm.code "
			"and $.axes.firmware.nosmm.smm would get different values, as a relative "
			"path is made absolute only where the schema holds a path; give it as an "
			"absolute path");
}

/* A relative source under '*' is made absolute in each recipe, and
 * recorded once, absolute, with the '*'. */
static void test_set_wildcard_relative_source(void **state)
{
	g_autofree char *saved_cwd = g_get_current_dir();
	g_autofree char *dir = temp_dir();
	const char *sets[] = { "axes.firmware.*.build.source=./edk2" };
	g_autoptr(hpci_matrix) m = NULL;
	g_autofree char *cwd = NULL, *edk2 = NULL, *recorded = NULL;

	(void)state;
	assert_int_equal(chdir(dir), 0);
	cwd = g_get_current_dir();
	edk2 = g_build_filename(cwd, "edk2", NULL);
	recorded = g_strdup_printf("axes.firmware.*.build.source=%s", edk2);
	m = parse_set_ok(WILD_MATRIX, sets, G_N_ELEMENTS(sets));
	assert_string_equal(cell_with(m, "firmware", "dbg")->firmware.recipe->src.source, edk2);
	assert_string_equal(cell_with(m, "firmware", "rel")->firmware.recipe->src.source, edk2);
	assert_null(cell_with(m, "firmware", "nosmm")->firmware.recipe);
	assert_sets(m, (const char *const[]){ recorded }, 1);
	assert_int_equal(chdir(saved_cwd), 0);
	remove_tree(dir);
}

/* :=null under '*' removes the key where it is and skips where it is not. */
static void test_set_wildcard_remove(void **state)
{
	const char *sets[] = { "axes.firmware.*.build.defines:=null" };
	g_autoptr(hpci_matrix) m = parse_set_ok(WILD_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_firmware_request *dbg = cell_with(m, "firmware", "dbg")->firmware.recipe;
	const struct hpci_firmware_request *rel = cell_with(m, "firmware", "rel")->firmware.recipe;

	(void)state;
	assert_int_equal(dbg->defines->len, 0);
	assert_string_equal(dbg->build_type, "NOOPT");   /* the rest kept */
	assert_int_equal(rel->defines->len, 0);
	assert_string_equal(cell_with(m, "firmware", "nosmm")->firmware.code, "/c/CODE.fd");
	assert_sets(m, sets, G_N_ELEMENTS(sets));
}

/* A value set whole under '*' is a copy in each place, so a later option
 * changes one of them only. */
static void test_set_wildcard_copies(void **state)
{
	const char *sets[] = { "axes.firmware.*:={\"build\":{\"source\":\"debian:edk2\"}}",
			       "axes.firmware.rel.build.build_type=RELEASE" };
	g_autoptr(hpci_matrix) m = parse_set_ok(WILD_MATRIX, sets, G_N_ELEMENTS(sets));

	(void)state;
	assert_string_equal(cell_with(m, "firmware", "rel")->firmware.recipe->build_type,
			    "RELEASE");
	assert_string_equal(cell_with(m, "firmware", "dbg")->firmware.recipe->build_type,
			    "DEBUG");
	assert_string_equal(cell_with(m, "firmware", "nosmm")->firmware.recipe->build_type,
			    "DEBUG");
	assert_int_equal(cell_with(m, "firmware", "dbg")->firmware.recipe->defines->len, 0);
}

/* Two '*' in one PATH: every recipe of every axis; the values without a
 * recipe and the axis that is an array are skipped. */
static void test_set_wildcard_two(void **state)
{
	const char *sets[] = { "axes.*.*.build.source=/src/tree", "axes.*.*.build.rev=v1" };
	g_autoptr(hpci_matrix) m = parse_set_ok(WILD_MATRIX, sets, G_N_ELEMENTS(sets));
	const struct hpci_cell *dbg = cell_with(m, "firmware", "dbg");
	const struct hpci_cell *rel = cell_with(m, "firmware", "rel");

	(void)state;
	assert_int_equal(m->cells->len, 6);
	assert_string_equal(dbg->firmware.recipe->src.rev, "v1");
	assert_string_equal(rel->firmware.recipe->src.rev, "v1");
	assert_string_equal(dbg->qemu.recipe->src.rev, "v1");
	assert_string_equal(dbg->qemu.recipe->src.source, "/src/tree");
	assert_string_equal(dbg->firmware.recipe->build_type, "NOOPT");   /* kept */
	assert_null(cell_with(m, "firmware", "nosmm")->firmware.recipe);
	assert_sets(m, sets, G_N_ELEMENTS(sets));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_ids_and_order),
		cmocka_unit_test(test_fixture_ids_unique),
		cmocka_unit_test(test_fixture_axes_array),
		cmocka_unit_test(test_fixture_resolved_values),
		cmocka_unit_test(test_fixture_timeouts_tcg_kvm),
		cmocka_unit_test(test_default_timeouts_and_floor),
		cmocka_unit_test(test_expect_tcg),
		cmocka_unit_test(test_expect_kvm),
		cmocka_unit_test(test_expect_unknown_host),
		cmocka_unit_test(test_sha256_and_path),
		cmocka_unit_test(test_all_defaults),
		cmocka_unit_test(test_smi_defaults_and_machine),
		cmocka_unit_test(test_smi_machine_defaults),
		cmocka_unit_test(test_smbase_smram_off_with_expectation),
		cmocka_unit_test(test_breach_positive_control),
		cmocka_unit_test(test_expect_outcome_list),
		cmocka_unit_test(test_err_expect_outcome_list),
		cmocka_unit_test(test_include_filter),
		cmocka_unit_test(test_axis_values_in_file_order),
		cmocka_unit_test(test_exclude_skips_cell_checks),
		cmocka_unit_test(test_unplug_separates_plug_runs),
		cmocka_unit_test(test_attack_steps),
		cmocka_unit_test(test_outcome_and_step_names),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_qemu_build_recipe),
		cmocka_unit_test(test_err_qemu_both),
		cmocka_unit_test(test_err_qemu_build_unknown_key),
		cmocka_unit_test(test_err_qemu_build_no_source),
		cmocka_unit_test(test_err_qemu_build_configure_type),
		cmocka_unit_test(test_err_qemu_build_configure_arg),
		cmocka_unit_test(test_err_qemu_build_bad_source),
		cmocka_unit_test(test_err_qemu_build_missing_patches),
		cmocka_unit_test(test_err_qemu_build_rev_on_tarball),
		cmocka_unit_test(test_err_nul_byte_in_file),

		cmocka_unit_test(test_err_json_syntax),
		cmocka_unit_test(test_err_json_truncated),
		cmocka_unit_test(test_err_json_trailing),
		cmocka_unit_test(test_err_json_trailing_comma),
		cmocka_unit_test(test_err_json_empty),
		cmocka_unit_test(test_err_root_type),
		cmocka_unit_test(test_err_unknown_top_key),
		cmocka_unit_test(test_err_name_missing),
		cmocka_unit_test(test_err_name_type),
		cmocka_unit_test(test_err_name_chars),
		cmocka_unit_test(test_err_name_empty),
		cmocka_unit_test(test_err_description_type),
		cmocka_unit_test(test_err_axes_missing),
		cmocka_unit_test(test_err_axes_type),
		cmocka_unit_test(test_err_string_nul),
		cmocka_unit_test(test_err_defaults_type),
		cmocka_unit_test(test_err_defaults_unknown_key),
		cmocka_unit_test(test_err_image_type),
		cmocka_unit_test(test_err_image_name),
		cmocka_unit_test(test_err_timeouts_type),
		cmocka_unit_test(test_err_timeouts_unknown_key),
		cmocka_unit_test(test_err_timeout_zero),
		cmocka_unit_test(test_err_timeout_string),
		cmocka_unit_test(test_err_timeout_fraction),
		cmocka_unit_test(test_err_timeout_limit),
		cmocka_unit_test(test_err_unknown_axis),
		cmocka_unit_test(test_err_axis_empty_object),
		cmocka_unit_test(test_err_axis_empty_count),
		cmocka_unit_test(test_err_axis_type),
		cmocka_unit_test(test_err_value_name_chars),
		cmocka_unit_test(test_err_value_name_comma),
		cmocka_unit_test(test_err_value_name_empty),
		cmocka_unit_test(test_err_value_spec_type),
		cmocka_unit_test(test_err_topology_unknown_key),
		cmocka_unit_test(test_err_topology_missing_sockets),
		cmocka_unit_test(test_err_topology_missing_cores),
		cmocka_unit_test(test_err_topology_missing_boot),
		cmocka_unit_test(test_err_topology_string),
		cmocka_unit_test(test_err_topology_dies_zero),
		cmocka_unit_test(test_err_topology_threads_negative),
		cmocka_unit_test(test_err_topology_product),
		cmocka_unit_test(test_err_topology_boot_over_max),
		cmocka_unit_test(test_err_topology_boot_zero),
		cmocka_unit_test(test_err_topology_max_limit),
		cmocka_unit_test(test_err_topology_product_limit),
		cmocka_unit_test(test_err_topology_huge),
		cmocka_unit_test(test_err_smi_unknown_key),
		cmocka_unit_test(test_err_smi_machine),
		cmocka_unit_test(test_err_smi_machine_partial),
		cmocka_unit_test(test_err_smi_machine_type),
		cmocka_unit_test(test_err_smi_bool_type),
		cmocka_unit_test(test_err_smi_bool_null),
		cmocka_unit_test(test_err_smi_unplug_without_plug),
		cmocka_unit_test(test_err_smi_unplug_default_without_plug),
		cmocka_unit_test(test_err_smi_unplug_machine_default_without_plug),
		cmocka_unit_test(test_err_smi_unplug_with_machine_default_plug_off),
		cmocka_unit_test(test_err_smi_machine_trailing_text),
		cmocka_unit_test(test_err_smbase_smram_machine_default_pass),
		cmocka_unit_test(test_err_smbase_smram_rule_pass),
		cmocka_unit_test(test_err_smbase_smram_other_host_rule),
		cmocka_unit_test(test_err_breach_smbase_smram_default),
		cmocka_unit_test(test_err_breach_smbase_smram_given),
		cmocka_unit_test(test_err_breach_without_attack),
		cmocka_unit_test(test_err_attack_firmware_images),
		cmocka_unit_test(test_err_attack_firmware_recipe),
		cmocka_unit_test(test_err_attack_firmware_descriptor),
		cmocka_unit_test(test_err_firmware_unknown_key),
		cmocka_unit_test(test_err_firmware_missing_code),
		cmocka_unit_test(test_err_firmware_missing_vars),
		cmocka_unit_test(test_err_firmware_missing_smm),
		cmocka_unit_test(test_err_firmware_relative),
		cmocka_unit_test(test_err_firmware_code_type),
		cmocka_unit_test(test_err_firmware_smm_type),
		cmocka_unit_test(test_err_qemu_unknown_key),
		cmocka_unit_test(test_err_qemu_missing),
		cmocka_unit_test(test_err_qemu_relative),
		cmocka_unit_test(test_err_count_type),
		cmocka_unit_test(test_err_count_zero),
		cmocka_unit_test(test_err_count_negative),
		cmocka_unit_test(test_err_count_string),
		cmocka_unit_test(test_err_count_fraction),
		cmocka_unit_test(test_err_count_limit),
		cmocka_unit_test(test_err_count_duplicate),
		cmocka_unit_test(test_err_count_duplicate_all),
		cmocka_unit_test(test_err_ops_type),
		cmocka_unit_test(test_err_ops_empty),
		cmocka_unit_test(test_err_step_unknown),
		cmocka_unit_test(test_err_step_unknown_op),
		cmocka_unit_test(test_err_step_type),
		cmocka_unit_test(test_err_step_missing_op),
		cmocka_unit_test(test_err_step_unknown_key),
		cmocka_unit_test(test_err_step_sweeps_not_smi),
		cmocka_unit_test(test_err_step_sweeps_zero),
		cmocka_unit_test(test_err_step_sweeps_limit),
		cmocka_unit_test(test_err_step_sweeps_attack),
		cmocka_unit_test(test_err_attack_sipi_before_smi),
		cmocka_unit_test(test_err_attack_sipi_last),
		cmocka_unit_test(test_err_attack_sipi_twice),
		cmocka_unit_test(test_err_attack_smbase_after_plug),
		cmocka_unit_test(test_err_include_type),
		cmocka_unit_test(test_err_include_rule_type),
		cmocka_unit_test(test_err_rule_unknown_axis),
		cmocka_unit_test(test_err_rule_unknown_value),
		cmocka_unit_test(test_err_rule_unknown_value_single),
		cmocka_unit_test(test_err_rule_unknown_count),
		cmocka_unit_test(test_err_rule_value_type),
		cmocka_unit_test(test_err_rule_list_value_type),
		cmocka_unit_test(test_err_rule_empty_list),
		cmocka_unit_test(test_err_expect_type),
		cmocka_unit_test(test_err_expect_rule_type),
		cmocka_unit_test(test_err_expect_unknown_key),
		cmocka_unit_test(test_err_expect_missing_when),
		cmocka_unit_test(test_err_expect_when_type),
		cmocka_unit_test(test_err_expect_when_unknown_value),
		cmocka_unit_test(test_err_expect_when_unknown_axis),
		cmocka_unit_test(test_err_expect_missing_outcome),
		cmocka_unit_test(test_err_expect_unknown_outcome),
		cmocka_unit_test(test_err_expect_message_not_refused),
		cmocka_unit_test(test_err_expect_message_empty),
		cmocka_unit_test(test_err_expect_reason_type),
		cmocka_unit_test(test_err_expect_host_type),
		cmocka_unit_test(test_err_expect_host_unknown_key),
		cmocka_unit_test(test_err_expect_host_missing_accel),
		cmocka_unit_test(test_err_expect_host_accel),
		cmocka_unit_test(test_err_cell_count_exceeds),
		cmocka_unit_test(test_err_cell_count_all_no_slot),
		cmocka_unit_test(test_err_cell_implicit_count),
		cmocka_unit_test(test_err_cell_plug_runs),
		cmocka_unit_test(test_err_cell_after_include),
		cmocka_unit_test(test_err_no_cells),
		cmocka_unit_test(test_err_no_cells_include),
		cmocka_unit_test(test_err_too_many_cells),
		cmocka_unit_test(test_firmware_descriptor_system),
		cmocka_unit_test(test_firmware_descriptor_relative),
		cmocka_unit_test(test_err_descriptor_no_nvram),
		cmocka_unit_test(test_err_descriptor_aarch64),
		cmocka_unit_test(test_err_descriptor_not_json),
		cmocka_unit_test(test_err_descriptor_not_object),
		cmocka_unit_test(test_err_descriptor_no_uefi),
		cmocka_unit_test(test_err_descriptor_no_mapping),
		cmocka_unit_test(test_err_descriptor_memory),
		cmocka_unit_test(test_err_descriptor_combined),
		cmocka_unit_test(test_err_descriptor_no_executable),
		cmocka_unit_test(test_err_descriptor_relative_image),
		cmocka_unit_test(test_err_descriptor_qcow2),
		cmocka_unit_test(test_err_descriptor_no_q35),
		cmocka_unit_test(test_err_descriptor_no_targets),
		cmocka_unit_test(test_err_descriptor_too_large),
		cmocka_unit_test(test_err_descriptor_unknown_name),
		cmocka_unit_test(test_err_descriptor_missing_file),
		cmocka_unit_test(test_err_descriptor_empty_name),
		cmocka_unit_test(test_err_descriptor_type),
		cmocka_unit_test(test_err_descriptor_with_smm),
		cmocka_unit_test(test_err_firmware_two_forms),
		cmocka_unit_test(test_err_firmware_no_form),
		cmocka_unit_test(test_err_firmware_unknown_key_no_form),
		cmocka_unit_test(test_err_firmware_verbose_type),
		cmocka_unit_test(test_firmware_images_verbose),
		cmocka_unit_test(test_firmware_default_not_verbose),
		cmocka_unit_test(test_firmware_build_recipe),
		cmocka_unit_test(test_firmware_recipe_copy),
		cmocka_unit_test(test_err_firmware_build_type),
		cmocka_unit_test(test_err_firmware_build_define),
		cmocka_unit_test(test_err_firmware_build_pcd),
		cmocka_unit_test(test_err_firmware_build_unknown_key),
		cmocka_unit_test(test_err_firmware_build_no_source),
		cmocka_unit_test(test_err_firmware_build_bad_source),
		cmocka_unit_test(test_err_firmware_build_missing_patches),
		cmocka_unit_test(test_err_firmware_build_defines_type),
		cmocka_unit_test(test_err_firmware_build_pcd_type),
		cmocka_unit_test(test_err_firmware_build_not_object),
		cmocka_unit_test(test_expect_firmware_facts),
		cmocka_unit_test(test_known_issue),
		cmocka_unit_test(test_known_issues_array),
		cmocka_unit_test(test_known_issues_copy),
		cmocka_unit_test(test_err_known_issue),
		cmocka_unit_test(test_expect_firmware_no_rule),
		cmocka_unit_test(test_err_expect_firmware_type),
		cmocka_unit_test(test_err_expect_firmware_unknown_key),
		cmocka_unit_test(test_err_expect_firmware_fact_type),
		cmocka_unit_test(test_err_expect_firmware_negotiated_type),
		cmocka_unit_test(test_err_expect_firmware_negotiated_unknown_key),
		cmocka_unit_test(test_err_expect_firmware_negotiated_fact_type),
		cmocka_unit_test(test_err_expect_firmware_not_verbose_release),
		cmocka_unit_test(test_err_expect_firmware_not_verbose_images),
		cmocka_unit_test(test_err_expect_firmware_not_verbose_default),
		cmocka_unit_test(test_err_expect_firmware_not_verbose_descriptor),
		cmocka_unit_test(test_expect_firmware_quiet_cell_not_matched),
		cmocka_unit_test(test_set_recipe_rev),
		cmocka_unit_test(test_set_json_and_string),
		cmocka_unit_test(test_set_missing_key),
		cmocka_unit_test(test_set_into_non_object),
		cmocka_unit_test(test_set_parse),
		cmocka_unit_test(test_set_relative_path),
		cmocka_unit_test(test_set_non_paths_stay),
		cmocka_unit_test(test_set_order),
		cmocka_unit_test(test_set_dotted_value_name),
		cmocka_unit_test(test_set_wildcard_recipes),
		cmocka_unit_test(test_set_wildcard_no_member),
		cmocka_unit_test(test_set_wildcard_relative_source),
		cmocka_unit_test(test_set_wildcard_remove),
		cmocka_unit_test(test_set_wildcard_copies),
		cmocka_unit_test(test_set_wildcard_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
