/* SPDX-License-Identifier: MIT */
#include "report-junit.h"
#include "report-load.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"
#include "xml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A serial console can be megabytes of kernel noise; its tail is enough. */
#define SERIAL_TAIL_BYTES (64 * 1024)

struct suite_counts {
	unsigned tests, failures, errors, skipped;
};

/* Seconds with milliseconds, independent of the locale's decimal point. */
static char *seconds_text(gint64 ms)
{
	ms = MAX(ms, 0);
	return g_strdup_printf("%" G_GINT64_FORMAT ".%03d", ms / 1000, (int)(ms % 1000));
}

static void set_attr_seconds(xmlNodePtr node, const char *name, gint64 ms)
{
	g_autofree char *text = seconds_text(ms);

	hpci_xml_attr(node, name, text);
}

/* ---- a cell's files ----------------------------------------------------- */

/* The directory of a cell or an attempt as the caller reaches it, or NULL
 * for one that never had one (not run, or its build failed). */
static char *cell_dir(const char *report_dir, json_object *cell)
{
	const char *dir = hpci_json_get_string(cell, "dir");

	if (!dir)
		return NULL;
	if (g_path_is_absolute(dir) || !report_dir || strcmp(report_dir, ".") == 0)
		return g_strdup(dir);
	return g_build_filename(report_dir, dir, NULL);
}

static char *read_end(FILE *f, gsize *ret_len, bool *ret_cut)
{
	long size, start;
	char *buf;

	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
		return NULL;
	start = size > SERIAL_TAIL_BYTES ? size - SERIAL_TAIL_BYTES : 0;
	if (fseek(f, start, SEEK_SET) != 0)
		return NULL;
	buf = g_malloc((gsize)(size - start) + 1);
	*ret_len = fread(buf, 1, (size_t)(size - start), f);
	buf[*ret_len] = '\0';
	*ret_cut = start > 0;
	return buf;
}

/* The last max_lines lines of a file, "\r\n" read as a line end; NULL when
 * the file cannot be read. */
static char *file_tail(const char *path, unsigned max_lines)
{
	FILE *f = fopen(path, "rb");
	g_autofree char *buf = NULL;
	g_auto(GStrv) lines = NULL;
	GString *tail;
	guint n, first;
	gsize len = 0;
	bool cut = false;

	if (!f)
		return NULL;
	buf = read_end(f, &len, &cut);
	fclose(f);
	if (!buf)
		return NULL;
	/* NUL bytes from a resetting guest would end the text early. */
	for (gsize i = 0; i < len; i++)
		buf[i] = buf[i] ? buf[i] : '?';
	lines = g_strsplit(buf, "\n", -1);
	n = g_strv_length(lines);
	if (n > 0 && !*lines[n - 1])
		n--;
	/* Reading from the middle of the file starts in the middle of a line. */
	first = MAX(cut ? 1u : 0u, n > max_lines ? n - max_lines : 0u);
	tail = g_string_new(NULL);
	for (guint i = first; i < n; i++) {
		g_strchomp(lines[i]);
		g_string_append_printf(tail, "%s\n", lines[i]);
	}
	return g_string_free(tail, FALSE);
}

/* ---- test cases ----------------------------------------------------------- */

/* "attempt 2: hang-smm (fail, 81.200 s) in DIR", then its error and
 * evidence; DIR as the caller reaches it. */
static void append_attempts(GString *text, json_object *attempts, const char *report_dir)
{
	for (size_t i = 0; i < json_object_array_length(attempts); i++) {
		json_object *a = json_object_array_get_idx(attempts, i);
		const char *outcome = hpci_json_get_string(a, "outcome");
		const char *verdict = hpci_json_get_string(a, "verdict");
		const char *error = hpci_json_get_string(a, "error");
		const char *evidence = hpci_json_get_string(a, "evidence");
		g_autofree char *dir = cell_dir(report_dir, a);
		g_autofree char *seconds = seconds_text(hpci_report_ms(a, "duration_ms"));

		g_string_append_printf(text, "attempt %" G_GINT64_FORMAT ": %s (%s, %s s)%s%s\n",
				       hpci_report_ms(a, "attempt"), outcome ? outcome : "none",
				       verdict ? verdict : "no verdict", seconds,
				       dir ? " in " : "", dir ? dir : "");
		if (error)
			g_string_append_printf(text, "  error: %s\n", error);
		if (evidence)
			g_string_append_printf(text, "  evidence: %s\n", evidence);
	}
}

static char *failure_text(json_object *cell, const char *report_dir, const char *dir)
{
	GString *text = g_string_new(NULL);
	const char *error = hpci_json_get_string(cell, "error");
	const char *evidence = hpci_json_get_string(cell, "evidence");
	json_object *problems = hpci_report_array(cell, "firmware_problems");
	json_object *attempts = hpci_report_attempts(cell);
	g_autofree char *serial = dir ? g_build_filename(dir, "serial.log", NULL) : NULL;
	g_autofree char *tail = serial ? file_tail(serial, HPCI_JUNIT_SERIAL_TAIL_LINES) : NULL;

	if (error)
		g_string_append_printf(text, "error: %s\n", error);
	if (evidence)
		g_string_append_printf(text, "evidence: %s\n", evidence);
	for (size_t i = 0; problems && i < json_object_array_length(problems); i++) {
		json_object *problem = json_object_array_get_idx(problems, i);

		g_string_append_printf(text, "firmware problem: %s\n",
				       json_object_get_string(problem));
	}
	if (attempts && json_object_array_length(attempts) > 1) {
		g_string_append(text, "\n");
		append_attempts(text, attempts, report_dir);
	}
	if (tail)
		g_string_append_printf(text, "\n%s, last %u lines:\n%s", serial,
				       HPCI_JUNIT_SERIAL_TAIL_LINES, tail);
	return g_string_free(text, FALSE);
}

/* "pass, hang-smm, pass": each attempt's outcome, in run order. */
static char *attempt_outcomes(json_object *attempts)
{
	GString *text = g_string_new(NULL);

	for (size_t i = 0; attempts && i < json_object_array_length(attempts); i++) {
		const char *outcome = hpci_json_get_string(json_object_array_get_idx(attempts, i),
							   "outcome");

		g_string_append_printf(text, "%s%s", i ? ", " : "", outcome ? outcome : "none");
	}
	return g_string_free(text, FALSE);
}

/* "breach: EVIDENCE (expected Y)", the evidence's first line: what a
 * reader of the pipeline sees first. */
static char *breach_message(json_object *cell, const char *expected)
{
	const char *evidence = hpci_json_get_string(cell, "evidence");
	const char *end = evidence ? strchr(evidence, '\n') : NULL;
	int len = end ? (int)(end - evidence) : -1;

	if (!evidence)
		return g_strdup_printf("breach: no evidence recorded (expected %s)", expected);
	return g_strdup_printf("breach: %.*s (expected %s)", len, evidence, expected);
}

static char *failure_message(json_object *cell)
{
	const char *outcome = hpci_json_get_string(cell, "outcome");
	const char *expected = hpci_json_get_string(cell, "expected.outcome");
	const char *message = hpci_json_get_string(cell, "expected.message");
	json_object *attempts = hpci_report_attempts(cell);
	guint n_attempts = attempts ? (guint)json_object_array_length(attempts) : 0;
	g_autofree char *outcomes = attempt_outcomes(attempts);

	expected = expected ? expected : "unknown";
	if (hpci_report_breach(cell))
		return breach_message(cell, expected);
	if (hpci_report_verdict_is(cell, HPCI_VERDICT_FLAKY))
		return g_strdup_printf("flaky: attempts disagreed: %s (expected %s)",
				       *outcomes ? outcomes : "not recorded", expected);
	if (hpci_report_verdict_is(cell, HPCI_VERDICT_INFRA_ERROR) && n_attempts > 1)
		return g_strdup_printf("infra-error on all %u attempts (expected %s)", n_attempts,
				       expected);
	/* A refusal with the wrong words fails with the expected outcome. */
	if (outcome && message && strcmp(outcome, expected) == 0)
		return g_strdup_printf("outcome %s (expected %s with '%s')", outcome, expected,
				       message);
	return g_strdup_printf("outcome %s (expected %s)", outcome ? outcome : "none", expected);
}

/* infra-error is the harness's failure, not the product's: GitLab shows
 * <error> apart from <failure>.  An older report says fail with outcome
 * infra-error for it.  flaky is the product's: a <failure>.  A breach is a
 * <failure> of its own type, whatever the verdict says. */
static void add_failure(xmlNodePtr testcase, json_object *cell, const char *report_dir,
			const char *dir, struct suite_counts *counts)
{
	const char *outcome = hpci_json_get_string(cell, "outcome");
	bool breach = hpci_report_breach(cell);
	bool flaky = !breach && hpci_report_verdict_is(cell, HPCI_VERDICT_FLAKY);
	bool infra = !breach && (hpci_report_verdict_is(cell, HPCI_VERDICT_INFRA_ERROR) ||
				 (hpci_report_verdict_is(cell, HPCI_VERDICT_FAIL) && outcome &&
				  strcmp(outcome, "infra-error") == 0));
	xmlNodePtr node = hpci_xml_child(testcase, infra ? "error" : "failure", NULL);
	g_autofree char *message = failure_message(cell);
	g_autofree char *text = failure_text(cell, report_dir, dir);

	hpci_xml_attr(node, "message", message);
	hpci_xml_attr(node, "type", breach    ? hpci_outcome_name(HPCI_OUTCOME_BREACH)
				    : flaky   ? hpci_verdict_name(HPCI_VERDICT_FLAKY)
				    : infra   ? hpci_verdict_name(HPCI_VERDICT_INFRA_ERROR)
				    : outcome ? outcome
					      : "none");
	hpci_xml_add_text(node, text);
	if (infra)
		counts->errors++;
	else
		counts->failures++;
}

static void add_skipped(xmlNodePtr testcase, json_object *cell, struct suite_counts *counts)
{
	xmlNodePtr node = hpci_xml_child(testcase, "skipped", NULL);
	const char *outcome = hpci_json_get_string(cell, "outcome");
	const char *note = hpci_report_known_issue(cell, outcome);
	g_autofree char *message = NULL;

	if (hpci_report_verdict_is(cell, HPCI_VERDICT_KNOWN_ISSUE))
		message = g_strdup_printf("known issue: %s (outcome %s)", note ? note : "(no note)",
					  outcome ? outcome : "none");
	else
		message = g_strdup("not run: the run ended before this cell");
	hpci_xml_attr(node, "message", message);
	counts->skipped++;
}

/* GitLab links "[[ATTACHMENT|path]]" lines of <system-out> to the job's
 * artifacts; the path is the one the job sees. */
static void add_system_out(xmlNodePtr testcase, const char *dir)
{
	static const char *const attachments[] = { "serial.log", "firmware.log" };
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "cell directory: %s\n", dir);
	for (size_t i = 0; i < G_N_ELEMENTS(attachments); i++) {
		g_autofree char *path = g_build_filename(dir, attachments[i], NULL);

		if (hpci_is_file(path))
			g_string_append_printf(out, "[[ATTACHMENT|%s]]\n", path);
	}
	hpci_xml_child(testcase, "system-out", out->str);
	g_string_free(out, TRUE);
}

static void add_testcase(xmlNodePtr suite, json_object *cell, const char *matrix,
			 const char *report_dir, struct suite_counts *counts)
{
	xmlNodePtr testcase = hpci_xml_child(suite, "testcase", NULL);
	g_autofree char *classname = g_strdup_printf("hotplug-ci.%s", matrix);
	g_autofree char *dir = cell_dir(report_dir, cell);

	hpci_xml_attr(testcase, "classname", classname);
	hpci_xml_attr(testcase, "name", hpci_json_get_string(cell, "id"));
	set_attr_seconds(testcase, "time", hpci_report_ms(cell, "timings.duration_ms"));
	counts->tests++;
	/* A breach fails, whatever verdict the report gives it. */
	switch (hpci_report_breach(cell) ? HPCI_VERDICT_FAIL : hpci_report_verdict(cell)) {
	case HPCI_VERDICT_PASS:
		break;
	case HPCI_VERDICT_KNOWN_ISSUE:
	case HPCI_VERDICT_NOT_RUN:
		add_skipped(testcase, cell, counts);
		break;
	default:    /* fail, flaky, infra-error, and a word this reader does not know */
		add_failure(testcase, cell, report_dir, dir, counts);
	}
	if (dir)
		add_system_out(testcase, dir);
}

/* ---- the suite ------------------------------------------------------------ */

/* What the run ran on, for whoever reads the XML without the JSON. */
static void add_properties(xmlNodePtr suite, json_object *report)
{
	static const char *const keys[] = {
		"matrix.path", "matrix.sha256", "host.kernel", "host.cpu", "host.accel",
		"host.libvirt", "tool_version", "started_at",
	};
	xmlNodePtr properties = hpci_xml_child(suite, "properties", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *value = hpci_json_get_string(report, keys[i]);
		xmlNodePtr property;

		if (!value)
			continue;
		property = hpci_xml_child(properties, "property", NULL);
		hpci_xml_attr(property, "name", keys[i]);
		hpci_xml_attr(property, "value", value);
	}
}

/* JUnit timestamps are ISO 8601 without a zone (Ant's schema); ours are UTC. */
static void set_timestamp(xmlNodePtr suite, json_object *report)
{
	const char *started = hpci_json_get_string(report, "started_at");
	g_autoptr(GDateTime) t = started ? g_date_time_new_from_iso8601(started, NULL) : NULL;
	g_autoptr(GDateTime) utc = t ? g_date_time_to_utc(t) : NULL;
	g_autofree char *text = utc ? g_date_time_format(utc, "%Y-%m-%dT%H:%M:%S") : NULL;

	if (text)
		hpci_xml_attr(suite, "timestamp", text);
}

static void set_counts(xmlNodePtr node, const struct suite_counts *counts, bool with_skipped)
{
	hpci_xml_attrf(node, "tests", "%u", counts->tests);
	hpci_xml_attrf(node, "failures", "%u", counts->failures);
	hpci_xml_attrf(node, "errors", "%u", counts->errors);
	if (with_skipped)
		hpci_xml_attrf(node, "skipped", "%u", counts->skipped);
}

int hpci_report_junit(json_object *report, const char *report_dir, char **ret_xml)
{
	const char *name = hpci_json_get_string(report, "matrix.name");
	json_object *cells = hpci_report_cells(report);
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = hpci_xml_root(doc, "testsuites");
	xmlNodePtr suite;
	struct suite_counts counts = { 0 };

	name = name ? name : "hotplug-ci";
	hpci_xml_attr(root, "name", "hotplug-ci");
	suite = hpci_xml_child(root, "testsuite", NULL);
	hpci_xml_attr(suite, "name", name);
	add_properties(suite, report);
	for (size_t i = 0; i < json_object_array_length(cells); i++)
		add_testcase(suite, json_object_array_get_idx(cells, i), name, report_dir, &counts);
	set_counts(root, &counts, false);
	set_attr_seconds(root, "time", hpci_report_ms(report, "duration_ms"));
	set_counts(suite, &counts, true);
	set_attr_seconds(suite, "time", hpci_report_ms(report, "duration_ms"));
	set_timestamp(suite, report);
	if (!(*ret_xml = hpci_xml_to_string(doc, "UTF-8")))
		return hpci_error(ENOMEM, "cannot serialise the JUnit XML");
	return 0;
}
