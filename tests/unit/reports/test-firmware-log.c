/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "firmware-log.h"
#include "error.h"
#include "../fixture.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#define SMRAM_FOUND "Q35SmramAtDefaultSmbaseInitialization: SMRAM at default SMBASE found\n"
#define CPU_COUNTS_1_4 "MaxCpuCountInitialization: BootCpuCount=1 MaxCpuCount=4\n"
#define UNPLUG_START(n, apic) \
	"UnplugCpus: Started hot-unplug on ProcessorNum " #n ", APIC ID " apic \
	", QemuSelector " #n "\n"

static char *fixture_path(const char *rel)
{
	const char *dir = g_getenv("HPCI_FIXTURES");

	return g_build_filename(dir ? dir : "tests/fixtures", "firmware-log", rel, NULL);
}

static void parse_text(const char *text, struct hpci_fw_log *log)
{
	assert_int_equal(hpci_fw_log_parse_buffer(text, strlen(text), log), 0);
}

static void parse_fixture(const char *rel, struct hpci_fw_log *log)
{
	g_autofree char *path = fixture_path(rel);

	assert_int_equal(hpci_fw_log_parse_file(path, log), 0);
}

static const struct hpci_fw_hot_add *hot_add_at(const struct hpci_fw_log *log, guint i)
{
	assert_true(i < log->hot_added->len);
	return &g_array_index(log->hot_added, struct hpci_fw_hot_add, i);
}

static const struct hpci_fw_unplug *unplug_at(const struct hpci_fw_log *log, guint i)
{
	assert_true(i < log->unplugs->len);
	return &g_array_index(log->unplugs, struct hpci_fw_unplug, i);
}

static const struct hpci_fw_assert *assert_at(const struct hpci_fw_log *log, guint i)
{
	assert_true(i < log->asserts->len);
	return g_ptr_array_index(log->asserts, i);
}

/* The log as compact JSON text, for comparing two parses of one input. */
static char *log_json_text(const struct hpci_fw_log *log)
{
	json_object *o = hpci_fw_log_to_json(log);
	char *text = g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return text;
}

static json_object *get(json_object *o, const char *path)
{
	g_auto(GStrv) keys = g_strsplit(path, ".", -1);

	for (char **k = keys; *k && o; k++) {
		if (g_ascii_isdigit(**k))
			o = json_object_array_get_idx(o, atoi(*k));
		else if (!json_object_object_get_ex(o, *k, &o))
			return NULL;
	}
	return o;
}

static bool is_null(json_object *root, const char *path)
{
	json_object *v;

	/* Present with a null value, not absent. */
	return json_object_object_get_ex(root, path, &v) && v == NULL;
}

static const char *get_str(json_object *o, const char *path)
{
	json_object *v = get(o, path);

	return v ? json_object_get_string(v) : NULL;
}

static void assert_summary(const struct hpci_fw_log *log, const char *expected)
{
	g_autofree char *summary = NULL;

	assert_true(hpci_fw_log_failed(log, &summary));
	assert_non_null(summary);
	assert_string_equal(summary, expected);
}

/*
 * Logs recorded from real cells (DEBUG OVMF from Debian's edk2 2022.11, our
 * patched QEMU 7.2, TCG): matrix/firmware-debug.json and its SMI-mode
 * variants, on 2026-11-23.
 */
static void test_real_burst_on_three_threads(void **state)
{
	struct hpci_fw_log log;
	static const guint32 apic[] = { 1, 2, 4 };
	static const guint64 smbase[] = { 0x1FFA6000, 0x1FFA8000, 0x1FFAA000 };

	(void)state;
	parse_fixture("real-burst-1s2c3t.log", &log);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_YES);
	assert_int_equal(log.boot_cpu_count, 1);
	assert_int_equal(log.max_cpu_count, 6);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_YES);
	assert_int_equal(log.hot_added->len, 3);
	for (guint i = 0; i < 3; i++) {
		assert_int_equal(hot_add_at(&log, i)->apic_id, apic[i]);
		assert_int_equal(hot_add_at(&log, i)->smbase, smbase[i]);
		assert_int_equal(hot_add_at(&log, i)->number, i + 1);
	}
	assert_int_equal(log.unplugs->len, 0);
	assert_int_equal(log.asserts->len, 0);
	assert_int_equal(log.malformed, 0);
	assert_false(hpci_fw_log_failed(&log, NULL));
	hpci_fw_log_release(&log);
}

static void test_real_unplug(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_fixture("real-unplug-1s2c3t.log", &log);
	assert_int_equal(log.hot_added->len, 1);
	assert_int_equal(hot_add_at(&log, 0)->apic_id, 1);
	assert_int_equal(log.unplugs->len, 1);
	assert_int_equal(unplug_at(&log, 0)->processor, 1);
	assert_int_equal(unplug_at(&log, 0)->apic_id, 1);
	assert_int_equal(unplug_at(&log, 0)->selector, 1);
	assert_true(unplug_at(&log, 0)->started);
	assert_true(unplug_at(&log, 0)->done);
	assert_true(unplug_at(&log, 0)->line_no > hot_add_at(&log, 0)->line_no);
	hpci_fw_log_release(&log);
}

static void test_real_negotiation_variants(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	/* x-smi-cpu-hotunplug=off: the plug is relocated, unplug not negotiated. */
	parse_fixture("real-no-hotunplug.log", &log);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_NO);
	assert_int_equal(log.hot_added->len, 1);
	hpci_fw_log_release(&log);

	/* x-smi-cpu-hotplug=off and hotunplug=off: QEMU refuses the plug, and
	 * the firmware never sees a CPU. */
	parse_fixture("real-hotplug-off.log", &log);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_NO);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_NO);
	assert_int_equal(log.hot_added->len, 0);
	assert_false(hpci_fw_log_failed(&log, NULL));
	hpci_fw_log_release(&log);
}

static void test_real_assert(void **state)
{
	struct hpci_fw_log log;
	g_autofree char *summary = NULL;

	(void)state;
	/* x-smi-broadcast=off with hotplug on: the firmware asks for bitmap 0x6,
	 * QEMU says no, and SmiFeatures.c asserts; the guest never boots. */
	parse_fixture("real-no-broadcast-assert.log", &log);
	assert_true(log.negotiation_failed);
	assert_int_equal(log.failed_bitmap, 0x6);
	assert_int_equal(log.broadcast, HPCI_FW_MISSING);
	assert_int_equal(log.asserts->len, 1);
	assert_true(g_str_has_suffix(assert_at(&log, 0)->file,
				     "/OvmfPkg/SmmControl2Dxe/SmiFeatures.c"));
	assert_int_equal(assert_at(&log, 0)->line, 230);
	assert_string_equal(assert_at(&log, 0)->expression, "((BOOLEAN)(0==1))");
	assert_true(hpci_fw_log_failed(&log, &summary));
	assert_string_equal(summary, "ASSERT SmiFeatures.c(230): ((BOOLEAN)(0==1))");
	assert_int_equal(log.boot_cpu_count, 1);
	assert_int_equal(log.max_cpu_count, 2);
	hpci_fw_log_release(&log);
}

static void test_good_boot(void **state)
{
	struct hpci_fw_log log;
	const struct hpci_fw_unplug *u;
	char *summary = (char *)"unset";

	(void)state;
	parse_fixture("good-boot.log", &log);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_YES);
	assert_int_equal(log.boot_cpu_count, 1);
	assert_int_equal(log.max_cpu_count, 4);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_YES);
	assert_false(log.negotiation_failed);

	assert_int_equal(log.hot_added->len, 3);
	assert_int_equal(hot_add_at(&log, 0)->apic_id, 1);
	assert_int_equal(hot_add_at(&log, 0)->smbase, 0x7ff9e000);
	assert_int_equal(hot_add_at(&log, 0)->number, 1);
	assert_int_equal(hot_add_at(&log, 0)->line_no, 123);
	assert_int_equal(hot_add_at(&log, 1)->apic_id, 2);
	assert_int_equal(hot_add_at(&log, 1)->smbase, 0x7ffa0000);
	assert_int_equal(hot_add_at(&log, 1)->number, 2);
	assert_int_equal(hot_add_at(&log, 2)->apic_id, 4);
	assert_int_equal(hot_add_at(&log, 2)->smbase, 0x7ffa2000);
	assert_int_equal(hot_add_at(&log, 2)->number, 3);

	assert_int_equal(log.unplugs->len, 1);
	u = unplug_at(&log, 0);
	assert_int_equal(u->processor, 2);
	assert_int_equal(u->apic_id, 2);
	assert_int_equal(u->selector, 2);
	assert_true(u->started);
	assert_true(u->done);
	assert_int_equal(u->line_no, 132);

	assert_int_equal(log.asserts->len, 0);
	assert_false(log.deadloop);
	assert_int_equal(log.lines, 133);
	assert_int_equal(log.malformed, 0);
	assert_false(log.truncated_lines);
	assert_false(log.capped);
	assert_false(hpci_fw_log_failed(&log, &summary));
	assert_null(summary);
	hpci_fw_log_release(&log);
}

/* Old QEMU, and a capture with CRLF line ends. */
static void test_no_hotplug_crlf(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_fixture("no-hotplug.log", &log);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_NO);
	assert_int_equal(log.boot_cpu_count, 2);
	assert_int_equal(log.max_cpu_count, 2);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_NO);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_NO);
	assert_int_equal(log.hot_added->len, 0);
	assert_int_equal(log.malformed, 0);
	assert_false(hpci_fw_log_failed(&log, NULL));
	hpci_fw_log_release(&log);
}

static void test_negotiation_failed(void **state)
{
	struct hpci_fw_log log;
	const struct hpci_fw_assert *a;

	(void)state;
	parse_fixture("negotiation-failed.log", &log);
	assert_int_equal(log.broadcast, HPCI_FW_NO);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_MISSING);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_MISSING);
	assert_true(log.negotiation_failed);
	assert_int_equal(log.failed_bitmap, 0x6);
	assert_int_equal(log.asserts->len, 1);
	a = assert_at(&log, 0);
	assert_null(a->module);
	assert_string_equal(a->file, "/build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c");
	assert_int_equal(a->line, 243);
	assert_string_equal(a->expression, "((BOOLEAN)(0==1))");
	assert_int_equal(a->line_no, log.lines);
	assert_summary(&log, "ASSERT SmiFeatures.c(243): ((BOOLEAN)(0==1))");
	hpci_fw_log_release(&log);
}

static void test_mdepkg_assert(void **state)
{
	struct hpci_fw_log log;
	const struct hpci_fw_assert *a;

	(void)state;
	parse_fixture("mdepkg-assert.log", &log);
	assert_int_equal(log.max_cpu_count, 8);
	assert_int_equal(log.asserts->len, 1);
	a = assert_at(&log, 0);
	assert_string_equal(a->module, "CpuHotplugSmm");
	assert_string_equal(a->file, "/build/edk2/OvmfPkg/CpuHotplugSmm/CpuHotplug.c");
	assert_int_equal(a->line, 205);
	assert_string_equal(a->expression, "!(((INTN)(RETURN_UINTN)(Status)) < 0)");
	/* "AddProcessor(...): Already started" and "ASSERT_EFI_ERROR" are
	 * other messages, not damaged ones. */
	assert_int_equal(log.malformed, 0);
	assert_int_equal(log.hot_added->len, 0);
	assert_summary(&log, "ASSERT CpuHotplug.c(205): !(((INTN)(RETURN_UINTN)(Status)) < 0)");
	hpci_fw_log_release(&log);
}

static void test_broken_register_block(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_fixture("broken-register-block.log", &log);
	assert_true(log.deadloop);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_YES);
	assert_int_equal(log.boot_cpu_count, -1);
	assert_int_equal(log.asserts->len, 1);
	assert_int_equal(assert_at(&log, 0)->line, 691);
	/* The ASSERT comes first in the summary: it names the place. */
	assert_summary(&log, "ASSERT Platform.c(691): ((BOOLEAN)(0==1))");
	hpci_fw_log_release(&log);

	/* Without ASSERTs enabled only the message is left. */
	parse_text("PlatformCpuCountBugCheck: Broken CPU hotplug register block found. "
		   "Update QEMU to version 8+, or\n", &log);
	assert_true(log.deadloop);
	assert_summary(&log, "Broken CPU hotplug register block found");
	hpci_fw_log_release(&log);

	parse_text("NegotiateSmiFeatures: negotiation failed for feature bitmap 0x6\n", &log);
	assert_summary(&log, "SMI feature negotiation failed for feature bitmap 0x6");
	hpci_fw_log_release(&log);
}

static void test_unplug_matching(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_text(UNPLUG_START(1, "0x00000001")
		   UNPLUG_START(3, "0x00000004")
		   "EjectCpu: Unplugged ProcessorNum 3, QemuSelector 3\n"
		   "EjectCpu: Unplugged ProcessorNum 1, QemuSelector 1\n"
		   "EjectCpu: Unplugged ProcessorNum 1, QemuSelector 1\n"
		   UNPLUG_START(2, "0x00000002"),
		   &log);
	assert_int_equal(log.unplugs->len, 4);
	assert_int_equal(unplug_at(&log, 0)->processor, 1);
	assert_true(unplug_at(&log, 0)->done);
	assert_int_equal(unplug_at(&log, 1)->apic_id, 4);
	assert_true(unplug_at(&log, 1)->done);
	/* The second "Unplugged 1" had no start left to complete. */
	assert_false(unplug_at(&log, 2)->started);
	assert_true(unplug_at(&log, 2)->done);
	assert_int_equal(unplug_at(&log, 2)->line_no, 5);
	assert_true(unplug_at(&log, 3)->started);
	assert_false(unplug_at(&log, 3)->done);
	hpci_fw_log_release(&log);
}

static void test_numbers(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_text("ProcessHotAddedCpus: hot-added APIC ID 0x0000000A, SMBASE 0xFFFFFFFFFFFFF000, "
		   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 18446744073709551615\n"
		   /* 65 bits */
		   "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBASE 0x1ffffffffffffffff, "
		   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
		   /* an APIC ID wider than 32 bits */
		   "ProcessHotAddedCpus: hot-added APIC ID 0x100000000, SMBASE 0x7ff9e000, "
		   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
		   "ProcessHotAddedCpus: hot-added APIC ID 0xzz, SMBASE 0x7ff9e000, "
		   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
		   "MaxCpuCountInitialization: BootCpuCount=-1 MaxCpuCount=4\n"
		   "MaxCpuCountInitialization: BootCpuCount=1 MaxCpuCount=4 and more\n"
		   "ASSERT [Module no-close-bracket\n"
		   "ASSERT file.c(x): no line\n",
		   &log);
	assert_int_equal(log.hot_added->len, 1);
	assert_int_equal(hot_add_at(&log, 0)->apic_id, 10);
	assert_int_equal(hot_add_at(&log, 0)->smbase, 0xFFFFFFFFFFFFF000ull);
	assert_int_equal(hot_add_at(&log, 0)->number, G_MAXUINT64);
	assert_int_equal(log.boot_cpu_count, -1);
	assert_int_equal(log.malformed, 7);
	assert_int_equal(log.asserts->len, 0);
	hpci_fw_log_release(&log);
}

/* A reset runs the firmware again; the second boot's facts are kept. */
static void test_last_fact_wins(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_text(SMRAM_FOUND
		   CPU_COUNTS_1_4
		   "NegotiateSmiFeatures: CPU hotplug with SMI negotiated\n"
		   "SecCoreStartupWithStack(0xFFFCC000, 0x820000)\n"
		   "Q35SmramAtDefaultSmbaseInitialization: "
		   "SMRAM at default SMBASE not checked due to CSM\n"
		   "MaxCpuCountInitialization: BootCpuCount=2 MaxCpuCount=8\n"
		   "NegotiateSmiFeatures: CPU hotplug not negotiated\n",
		   &log);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_MISSING);
	assert_int_equal(log.boot_cpu_count, 2);
	assert_int_equal(log.max_cpu_count, 8);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_NO);
	hpci_fw_log_release(&log);
}

/* The log ends mid-line: the last line is parsed as far as it goes. */
static void test_truncated_last_line(void **state)
{
	static const char cut[] = SMRAM_FOUND
				  "ProcessHotAddedCpus: hot-added APIC ID 0x00000001, SMBA";
	static const char whole[] = "MaxCpuCountInitialization: BootCpuCount=1 MaxCpuCount=4";
	struct hpci_fw_log log;
	struct hpci_fw_log_parser *parser;

	(void)state;
	parse_text(cut, &log);
	assert_int_equal(log.lines, 2);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_YES);
	assert_int_equal(log.hot_added->len, 0);
	assert_int_equal(log.malformed, 1);
	hpci_fw_log_release(&log);

	/* A good line without its newline waits for finish. */
	hpci_fw_log_init(&log);
	parser = hpci_fw_log_parser_new(&log);
	hpci_fw_log_parser_feed(parser, whole, strlen(whole));
	assert_int_equal(hpci_fw_log_parser_pending(parser), strlen(whole));
	assert_int_equal(log.max_cpu_count, -1);
	hpci_fw_log_parser_finish(parser);
	assert_int_equal(hpci_fw_log_parser_pending(parser), 0);
	assert_int_equal(log.max_cpu_count, 4);
	assert_int_equal(log.lines, 1);
	hpci_fw_log_parser_free(parser);
	hpci_fw_log_release(&log);
}

static void test_truncated_mid_number(void **state)
{
	struct hpci_fw_log log;

	(void)state;
	parse_text("ProcessHotAddedCpus: hot-added APIC ID 0x0000\n"
		   "ProcessHotAddedCpus: hot-added APIC ID 0x00000002, SMBASE 0x7ffa0000, "
		   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 2\n"
		   "NegotiateSmiFeatures: negotiation failed for feature bitmap 0x\n",
		   &log);
	assert_int_equal(log.malformed, 2);
	assert_int_equal(log.hot_added->len, 1);
	assert_int_equal(hot_add_at(&log, 0)->apic_id, 2);
	assert_int_equal(hot_add_at(&log, 0)->line_no, 2);
	assert_false(log.negotiation_failed);
	hpci_fw_log_release(&log);
}

/* NUL bytes, 0xff, invalid UTF-8 and control characters between good lines,
 * with and without newlines of their own. */
static void test_binary_noise(void **state)
{
	static const char head[] = CPU_COUNTS_1_4;
	static const char noise[] = "\xff\xfe\x00\x00\xc3\x28\xa0\xa1\x1b[2J\x00"
				    "ProcessHotAddedCpus: \x00\xff\n"
				    "\x80\x81\x82\xf0\x28\x8c\x28\r\r\x07\n"
				    "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff";
	static const char tail[] = "\nProcessHotAddedCpus: hot-added APIC ID 0x00000001, "
				   "SMBASE 0x7ff9e000, "
				   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1\n"
				   "ASSERT [Cpu\xff\x01Smm] /build/\xc3\x28x.c(12): a \x00 b\n"
				   "NegotiateSmiFeatures: using SMI broadcast\n";
	g_autofree char *text = NULL;
	struct hpci_fw_log log;
	json_object *root;
	GRand *rand = g_rand_new_with_seed(42);
	guint8 random_noise[4096];
	g_autoptr(GByteArray) input = g_byte_array_new();

	(void)state;
	for (size_t i = 0; i < sizeof(random_noise); i++)
		random_noise[i] = (guint8)g_rand_int_range(rand, 0, 256);
	g_rand_free(rand);
	g_byte_array_append(input, (const guint8 *)head, strlen(head));
	g_byte_array_append(input, (const guint8 *)noise, sizeof(noise) - 1);
	g_byte_array_append(input, random_noise, sizeof(random_noise));
	g_byte_array_append(input, (const guint8 *)tail, sizeof(tail) - 1);

	assert_int_equal(hpci_fw_log_parse_buffer((const char *)input->data, input->len, &log), 0);
	assert_int_equal(log.bytes, input->len);
	assert_int_equal(log.max_cpu_count, 4);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.hot_added->len, 1);
	assert_int_equal(hot_add_at(&log, 0)->smbase, 0x7ff9e000);
	assert_int_equal(log.asserts->len, 1);
	/* Copied strings are printable ASCII; a NUL ends the line. */
	assert_string_equal(assert_at(&log, 0)->module, "Cpu??Smm");
	assert_string_equal(assert_at(&log, 0)->file, "/build/?(x.c");
	assert_string_equal(assert_at(&log, 0)->expression, "a ");

	text = log_json_text(&log);
	assert_true(g_utf8_validate(text, -1, NULL));
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_string_equal(get_str(root, "asserts.0.module"), "Cpu??Smm");
	json_object_put(root);
	hpci_fw_log_release(&log);
}

/* Splitting the input anywhere gives the same result as one buffer. */
static void test_split_feeding(void **state)
{
	g_autofree char *data = fixture_read("firmware-log/good-boot.log");
	g_autofree char *whole_json = NULL, *bytewise_json = NULL, *random_json = NULL;
	size_t len = strlen(data);
	struct hpci_fw_log whole, bytewise, randomly;
	struct hpci_fw_log_parser *parser;
	GRand *rand = g_rand_new_with_seed(7);

	(void)state;
	parse_text(data, &whole);
	whole_json = log_json_text(&whole);

	hpci_fw_log_init(&bytewise);
	parser = hpci_fw_log_parser_new(&bytewise);
	for (size_t i = 0; i < len; i++) {
		hpci_fw_log_parser_feed(parser, data + i, 1);
		assert_true(hpci_fw_log_parser_pending(parser) <= HPCI_FW_LOG_LINE_MAX);
	}
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);
	bytewise_json = log_json_text(&bytewise);
	assert_string_equal(bytewise_json, whole_json);

	hpci_fw_log_init(&randomly);
	parser = hpci_fw_log_parser_new(&randomly);
	for (size_t off = 0, n; off < len; off += n) {
		n = MIN((size_t)g_rand_int_range(rand, 0, 200), len - off);
		hpci_fw_log_parser_feed(parser, data + off, n);
	}
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);
	g_rand_free(rand);
	random_json = log_json_text(&randomly);
	assert_string_equal(random_json, whole_json);

	assert_int_equal(whole.hot_added->len, 3);
	hpci_fw_log_release(&whole);
	hpci_fw_log_release(&bytewise);
	hpci_fw_log_release(&randomly);
}

/* Peak resident memory of the process so far, in KiB. */
static long peak_rss_kib(void)
{
	g_autofree char *status = NULL;
	const char *hwm;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	hwm = strstr(status, "VmHWM:");
	return hwm ? strtol(hwm + strlen("VmHWM:"), NULL, 10) : -1;
}

static const char *const junk_lines[] = {
	"Loading driver at 0x0007EA0E000 EntryPoint=0x0007EA0F1BE DevicePathDxe.efi\n",
	"InstallProtocolInterface: 5B1B31A1-9562-11D2-8E3F-00A0C969723B 7EE4E040\n",
	"QemuCpuhpCollectApicIds: CurrentSelector=1 PendingSelector=1: loop exit\n",
	"SetUefiImageMemoryAttributes - 0x000000007D5C9000 - 0x0000000000001000\n",
	"ProcessHotAddedCpus: AddProcessor(0x00000001): Already started\n",
	"Select Item: 0x19\n",
	"\n",
};

/* About 1 MiB of whole junk lines. */
static GString *junk_block(void)
{
	GString *block = g_string_sized_new(1 << 20);

	for (guint i = 0; block->len < (1 << 20); i++)
		g_string_append(block, junk_lines[i % G_N_ELEMENTS(junk_lines)]);
	return block;
}

/* Feeds block in pieces of an odd size, so lines are split everywhere. */
static void feed_in_pieces(struct hpci_fw_log_parser *parser, const GString *block)
{
	const size_t piece = 65521;

	for (size_t off = 0; off < block->len; off += piece) {
		hpci_fw_log_parser_feed(parser, block->str + off, MIN(piece, block->len - off));
		assert_true(hpci_fw_log_parser_pending(parser) <= HPCI_FW_LOG_LINE_MAX);
	}
}

static void feed_str(struct hpci_fw_log_parser *parser, const char *s)
{
	hpci_fw_log_parser_feed(parser, s, strlen(s));
}

/* 100 MB of mostly junk through the streaming API, never held whole. */
static void test_huge_stream(void **state)
{
	GString *block = junk_block();
	struct hpci_fw_log log;
	struct hpci_fw_log_parser *parser;
	guint64 total = 0;
	long peak_before;

	(void)state;
	peak_before = peak_rss_kib();
	hpci_fw_log_init(&log);
	parser = hpci_fw_log_parser_new(&log);
	for (int i = 0; total < 100 * 1000 * 1000; i++) {
		if (i == 3)
			feed_str(parser, SMRAM_FOUND CPU_COUNTS_1_4);
		if (i == 40)
			feed_str(parser, "NegotiateSmiFeatures: using SMI broadcast\n"
					 "NegotiateSmiFeatures: CPU hotplug with SMI negotiated\n");
		if (i == 90)
			feed_str(parser, "ProcessHotAddedCpus: hot-added APIC ID 0x00000004, "
				 "SMBASE 0x7ffa2000, "
				 "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 3\n");
		feed_in_pieces(parser, block);
		total += block->len;
	}
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);

	assert_true(log.bytes > total);
	assert_true(log.lines > 1000000);
	assert_int_equal(log.smram_at_default_smbase, HPCI_FW_YES);
	assert_int_equal(log.max_cpu_count, 4);
	assert_int_equal(log.broadcast, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotplug, HPCI_FW_YES);
	assert_int_equal(log.cpu_hotunplug, HPCI_FW_MISSING);
	assert_int_equal(log.hot_added->len, 1);
	assert_int_equal(hot_add_at(&log, 0)->apic_id, 4);
	assert_int_equal(log.malformed, 0);
	assert_false(log.truncated_lines);
	/* Nothing grew with the input: the peak rose by far less than it. */
	if (peak_before > 0)
		assert_true(peak_rss_kib() - peak_before < 32 * 1024);
	hpci_fw_log_release(&log);
	g_string_free(block, TRUE);
}

/* The arrays stop at their caps and say so. */
static void test_flood_capped(void **state)
{
	struct hpci_fw_log log;
	struct hpci_fw_log_parser *parser;
	char line[256];

	(void)state;
	hpci_fw_log_init(&log);
	parser = hpci_fw_log_parser_new(&log);
	for (unsigned i = 0; i < 3 * HPCI_FW_LOG_CPUS_MAX; i++) {
		g_snprintf(line, sizeof(line),
			   "ProcessHotAddedCpus: hot-added APIC ID 0x%08x, SMBASE 0x%x, "
			   "EFI_SMM_CPU_SERVICE_PROTOCOL assigned number %u\n",
			   i, 0x7ff9e000 + 0x2000 * i, i + 1);
		feed_str(parser, line);
		g_snprintf(line, sizeof(line), "UnplugCpus: Started hot-unplug on ProcessorNum %u, "
			   "APIC ID 0x%08x, QemuSelector %u\n", i + 1, i, i + 1);
		feed_str(parser, line);
		g_snprintf(line, sizeof(line),
			   "EjectCpu: Unplugged ProcessorNum %u, QemuSelector %u\n", i + 1, i + 1);
		feed_str(parser, line);
	}
	for (unsigned i = 0; i < 2 * HPCI_FW_LOG_ASSERTS_MAX; i++) {
		g_snprintf(line, sizeof(line), "ASSERT /build/edk2/X.c(%u): FALSE\n", i + 1);
		feed_str(parser, line);
	}
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);

	assert_true(log.capped);
	assert_int_equal(log.hot_added->len, HPCI_FW_LOG_CPUS_MAX);
	assert_int_equal(log.unplugs->len, HPCI_FW_LOG_CPUS_MAX);
	assert_int_equal(log.asserts->len, HPCI_FW_LOG_ASSERTS_MAX);
	/* The first entries are the ones kept. */
	assert_int_equal(hot_add_at(&log, HPCI_FW_LOG_CPUS_MAX - 1)->apic_id,
			 HPCI_FW_LOG_CPUS_MAX - 1);
	assert_int_equal(hot_add_at(&log, 1)->smbase, 0x7ffa0000);
	assert_true(unplug_at(&log, HPCI_FW_LOG_CPUS_MAX - 1)->started);
	assert_true(unplug_at(&log, HPCI_FW_LOG_CPUS_MAX - 1)->done);
	assert_int_equal(assert_at(&log, 0)->line, 1);
	assert_int_equal(log.malformed, 0);
	hpci_fw_log_release(&log);
}

/* One 10 MB line with no newline, then a good line after another long one. */
static void test_huge_line(void **state)
{
	const size_t chunk_len = 1 << 20;
	g_autofree char *chunk = g_malloc(chunk_len);
	g_autofree char *long_assert = NULL;
	struct hpci_fw_log log;
	struct hpci_fw_log_parser *parser;

	(void)state;
	memset(chunk, 'A', chunk_len);
	hpci_fw_log_init(&log);
	parser = hpci_fw_log_parser_new(&log);
	for (int i = 0; i < 10; i++) {
		hpci_fw_log_parser_feed(parser, chunk, chunk_len);
		assert_int_equal(hpci_fw_log_parser_pending(parser), HPCI_FW_LOG_LINE_MAX);
	}
	assert_true(log.truncated_lines);
	hpci_fw_log_parser_finish(parser);
	assert_int_equal(log.lines, 1);
	assert_int_equal(log.bytes, 10 * chunk_len);
	hpci_fw_log_parser_free(parser);
	hpci_fw_log_release(&log);

	/* The rest of a cut line is skipped up to its newline only. */
	long_assert = g_strdup_printf("ASSERT /build/X.c(7): %0*d\n", 3 * HPCI_FW_LOG_LINE_MAX, 0);
	hpci_fw_log_init(&log);
	parser = hpci_fw_log_parser_new(&log);
	feed_str(parser, long_assert);
	for (int i = 0; i < 3; i++)
		hpci_fw_log_parser_feed(parser, chunk, chunk_len);
	feed_str(parser, "\n" CPU_COUNTS_1_4);
	hpci_fw_log_parser_finish(parser);
	hpci_fw_log_parser_free(parser);
	assert_int_equal(log.lines, 3);
	assert_int_equal(log.max_cpu_count, 4);
	assert_int_equal(log.asserts->len, 1);
	assert_int_equal(assert_at(&log, 0)->line, 7);
	assert_int_equal(strlen(assert_at(&log, 0)->expression),
			 HPCI_FW_LOG_LINE_MAX - strlen("ASSERT /build/X.c(7): "));
	hpci_fw_log_release(&log);
}

static void test_json_missing(void **state)
{
	struct hpci_fw_log log;
	json_object *root, *missing;
	static const char *const all[] = {
		"smram_at_default_smbase", "boot_cpu_count", "max_cpu_count",
		"negotiated.broadcast", "negotiated.cpu_hotplug", "negotiated.cpu_hotunplug",
	};

	(void)state;
	hpci_fw_log_init(&log);
	root = hpci_fw_log_to_json(&log);
	assert_true(is_null(root, "smram_at_default_smbase"));
	assert_true(is_null(root, "boot_cpu_count"));
	assert_true(is_null(root, "max_cpu_count"));
	assert_true(is_null(root, "negotiation_failed_bitmap"));
	assert_true(is_null(get(root, "negotiated"), "broadcast"));
	assert_true(is_null(get(root, "negotiated"), "cpu_hotplug"));
	assert_true(is_null(get(root, "negotiated"), "cpu_hotunplug"));
	assert_int_equal(json_object_array_length(get(root, "hot_added")), 0);
	assert_int_equal(json_object_array_length(get(root, "asserts")), 0);
	assert_false(json_object_get_boolean(get(root, "deadloop")));
	assert_int_equal(json_object_get_int(get(root, "lines")), 0);
	missing = get(root, "missing");
	assert_int_equal(json_object_array_length(missing), G_N_ELEMENTS(all));
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(missing, i)),
				    all[i]);
	json_object_put(root);
	hpci_fw_log_release(&log);

	parse_text(CPU_COUNTS_1_4
		   "NegotiateSmiFeatures: SMI broadcast unavailable\n", &log);
	root = hpci_fw_log_to_json(&log);
	assert_int_equal(json_object_get_int(get(root, "boot_cpu_count")), 1);
	assert_false(json_object_get_boolean(get(root, "negotiated.broadcast")));
	assert_false(is_null(get(root, "negotiated"), "broadcast"));
	missing = get(root, "missing");
	assert_int_equal(json_object_array_length(missing), 3);
	assert_string_equal(get_str(missing, "0"), "smram_at_default_smbase");
	assert_string_equal(get_str(missing, "1"), "negotiated.cpu_hotplug");
	json_object_put(root);
	hpci_fw_log_release(&log);
}

static void test_json_round_trip(void **state)
{
	struct hpci_fw_log log;
	g_autofree char *text = NULL;
	json_object *root;

	(void)state;
	parse_fixture("good-boot.log", &log);
	text = log_json_text(&log);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_true(json_object_get_boolean(get(root, "smram_at_default_smbase")));
	assert_int_equal(json_object_get_int(get(root, "boot_cpu_count")), 1);
	assert_int_equal(json_object_get_int(get(root, "max_cpu_count")), 4);
	assert_true(json_object_get_boolean(get(root, "negotiated.broadcast")));
	assert_true(json_object_get_boolean(get(root, "negotiated.cpu_hotunplug")));
	assert_true(is_null(root, "negotiation_failed_bitmap"));
	assert_int_equal(json_object_array_length(get(root, "hot_added")), 3);
	assert_int_equal(json_object_get_int(get(root, "hot_added.2.apic_id")), 4);
	assert_string_equal(get_str(root, "hot_added.0.smbase"), "0x7ff9e000");
	assert_int_equal(json_object_get_int(get(root, "hot_added.1.number")), 2);
	assert_int_equal(json_object_get_int(get(root, "unplugs.0.processor")), 2);
	assert_int_equal(json_object_get_int(get(root, "unplugs.0.apic_id")), 2);
	assert_int_equal(json_object_get_int(get(root, "unplugs.0.selector")), 2);
	assert_true(json_object_get_boolean(get(root, "unplugs.0.completed")));
	assert_int_equal(json_object_get_int(get(root, "lines")), 133);
	assert_int_equal(json_object_get_int(get(root, "malformed_lines")), 0);
	assert_false(json_object_get_boolean(get(root, "truncated_lines")));
	assert_false(json_object_get_boolean(get(root, "capped")));
	assert_int_equal(json_object_array_length(get(root, "missing")), 0);
	json_object_put(root);
	hpci_fw_log_release(&log);

	parse_fixture("negotiation-failed.log", &log);
	root = hpci_fw_log_to_json(&log);
	assert_string_equal(get_str(root, "negotiation_failed_bitmap"), "0x6");
	assert_true(is_null(get(root, "asserts.0"), "module"));
	assert_string_equal(get_str(root, "asserts.0.file"),
			    "/build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c");
	assert_int_equal(json_object_get_int(get(root, "asserts.0.line")), 243);
	assert_string_equal(get_str(root, "asserts.0.expression"), "((BOOLEAN)(0==1))");
	json_object_put(root);
	hpci_fw_log_release(&log);

	/* An unplug seen only at its end has no APIC ID. */
	parse_text("EjectCpu: Unplugged ProcessorNum 3, QemuSelector 3\n", &log);
	root = hpci_fw_log_to_json(&log);
	assert_true(is_null(get(root, "unplugs.0"), "apic_id"));
	assert_false(json_object_get_boolean(get(root, "unplugs.0.started")));
	assert_true(json_object_get_boolean(get(root, "unplugs.0.completed")));
	json_object_put(root);
	hpci_fw_log_release(&log);
}

static void test_parse_file_errors(void **state)
{
	g_autofree char *missing = fixture_path("no-such.log");
	g_autofree char *dir = fixture_path(".");
	g_autofree char *data = fixture_read("firmware-log/good-boot.log");
	g_autofree char *from_file = NULL, *from_buffer = NULL;
	struct hpci_fw_log log, other;

	(void)state;
	memset(&log, 0x5a, sizeof(log));
	assert_int_equal(hpci_fw_log_parse_file(missing, &log), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), missing));
	assert_int_equal(log.lines, 0x5a5a5a5a5a5a5a5aull);
	/* A directory opens but does not read. */
	assert_int_equal(hpci_fw_log_parse_file(dir, &log), -EISDIR);
	assert_non_null(strstr(hpci_error_message(), "cannot read"));
	assert_int_equal(log.lines, 0x5a5a5a5a5a5a5a5aull);
	hpci_error_clear();

	parse_fixture("good-boot.log", &log);
	parse_text(data, &other);
	from_file = log_json_text(&log);
	from_buffer = log_json_text(&other);
	assert_string_equal(from_file, from_buffer);
	hpci_fw_log_release(&log);
	hpci_fw_log_release(&other);
}

/* Each fatal message in the form the parser reads, and lines that look
 * like one but are not: a reader of the growing log must agree with the
 * parser line by line. */
static void test_line_fatal(void **state)
{
	static const char *const fatal[] = {
		"ASSERT [PiSmmCpuDxeSmm] /build/edk2/UefiCpuPkg/PiSmmCpuDxeSmm/CpuService.c(123): "
		"mSmmMpSyncData->CpuData[CpuIndex].Present",
		"ASSERT /build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c(243): ((BOOLEAN)(0==1))",
		"ASSERT /build/edk2/OvmfPkg/SmmControl2Dxe/SmiFeatures.c(243): ((BOOLEAN)(0==1))\r",
		"PlatformCpuCountBugCheck: Broken CPU hotplug register block found. "
		"Update QEMU to version 8+, or",
		"NegotiateSmiFeatures: negotiation failed for feature bitmap 0x6",
		"NegotiateSmiFeatures: negotiation failed for feature bitmap 0x6\r",
	};
	static const char *const harmless[] = {
		"",
		"ASSERT_EFI_ERROR (Status = Already started)",
		"ASSERT [Module no-close-bracket",
		"ASSERT file.c(x): no line",
		" ASSERT /build/X.c(7): FALSE",
		"NegotiateSmiFeatures: negotiation failed for feature bitmap 0x",
		"NegotiateSmiFeatures: negotiation failed for feature bitmap 0x6 and more",
		"NegotiateSmiFeatures: using SMI broadcast",
		"AppendFwCfgBootScript: SMI feature negotiation boot script saved",
		"Broken CPU hotplug register block found",
		"CpuHotplugMmi: hot-added APIC ID 0x00000001, SMBASE 0x7FF7E000, "
		"EFI_SMM_CPU_SERVICE_PROTOCOL assigned number 1",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(fatal); i++) {
		if (!hpci_fw_line_fatal(fatal[i]))
			fail_msg("not fatal: '%s'", fatal[i]);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(harmless); i++) {
		if (hpci_fw_line_fatal(harmless[i]))
			fail_msg("fatal: '%s'", harmless[i]);
	}
}

/* On every recorded log: the log failed exactly when a line of it is fatal,
 * and each ASSERT the parser recorded is on a fatal line. */
static void test_line_fatal_agrees_with_log(void **state)
{
	static const char *const fixtures[] = {
		"broken-register-block.log", "good-boot.log", "mdepkg-assert.log",
		"negotiation-failed.log", "no-hotplug.log", "real-burst-1s2c3t.log",
		"real-no-broadcast-assert.log", "real-unplug-1s2c3t.log",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(fixtures); i++) {
		g_autofree char *rel = g_build_filename("firmware-log", fixtures[i], NULL);
		g_autofree char *text = fixture_read(rel);
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		g_autoptr(GHashTable) fatal_lines = g_hash_table_new(NULL, NULL);
		struct hpci_fw_log log;

		parse_text(text, &log);
		for (guint n = 0; lines[n]; n++) {
			if (hpci_fw_line_fatal(lines[n]))
				g_hash_table_add(fatal_lines, GUINT_TO_POINTER(n + 1));
		}
		if (hpci_fw_log_failed(&log, NULL) != (g_hash_table_size(fatal_lines) > 0))
			fail_msg("%s: the log %s but %u lines are fatal", fixtures[i],
				 hpci_fw_log_failed(&log, NULL) ? "failed" : "did not fail",
				 g_hash_table_size(fatal_lines));
		for (guint a = 0; a < log.asserts->len; a++)
			assert_true(g_hash_table_contains(fatal_lines,
							  GUINT_TO_POINTER(assert_at(&log, a)->line_no)));
		hpci_fw_log_release(&log);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_burst_on_three_threads),
		cmocka_unit_test(test_real_unplug),
		cmocka_unit_test(test_real_negotiation_variants),
		cmocka_unit_test(test_real_assert),
		cmocka_unit_test(test_good_boot),
		cmocka_unit_test(test_no_hotplug_crlf),
		cmocka_unit_test(test_negotiation_failed),
		cmocka_unit_test(test_mdepkg_assert),
		cmocka_unit_test(test_broken_register_block),
		cmocka_unit_test(test_unplug_matching),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_last_fact_wins),
		cmocka_unit_test(test_truncated_last_line),
		cmocka_unit_test(test_truncated_mid_number),
		cmocka_unit_test(test_binary_noise),
		cmocka_unit_test(test_split_feeding),
		cmocka_unit_test(test_huge_stream),
		cmocka_unit_test(test_flood_capped),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_json_missing),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_parse_file_errors),
		cmocka_unit_test(test_line_fatal),
		cmocka_unit_test(test_line_fatal_agrees_with_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
