/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the report.json reader (reports/report-load.c) and the
 * helpers every `report` verb runs on what it loaded: the verdicts, the
 * summary, attempts, known issues, the axes, and the matrix order of cells
 * (the report's "axes", or the order cells first show their values in).  Then the verbs' own readers:
 * JUnit (serial.log tails are looked for below a directory that does not
 * exist), the HTML page and a diff of the report against itself.
 */
#include "report-load.h"
#include "report-diff.h"
#include "report-html.h"
#include "report-junit.h"
#include "error.h"
#include "xml.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct hpci_axis_order *sort_order;

static gint compare_cells(gconstpointer a, gconstpointer b)
{
	return hpci_axis_order_compare(sort_order, *(json_object *const *)a,
				       *(json_object *const *)b, 0, HPCI_REPORT_AXES);
}

static void use_cell(json_object *cell)
{
	json_object *attempts = hpci_report_attempts(cell);
	g_autofree char *xml = NULL;

	xml = hpci_xml_text(hpci_report_verdict_name(cell));
	(void)hpci_report_verdict(cell);
	(void)hpci_report_known_issue(cell, hpci_report_verdict_name(cell));
	(void)hpci_report_known_issue(cell, "fail");
	(void)hpci_report_ms(cell, "timing.total_ms");
	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		g_free(hpci_xml_text(hpci_report_axis(cell, a)));
	for (size_t i = 0; attempts && i < json_object_array_length(attempts); i++) {
		json_object *attempt = json_object_array_get_idx(attempts, i);

		(void)hpci_report_verdict(attempt);
		(void)hpci_report_ms(attempt, "timing.total_ms");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hpci_diff_thresholds thresholds = { HPCI_DIFF_DEFAULT_PCT,
							 HPCI_DIFF_DEFAULT_MS };
	json_object *report = NULL, *cells, *summary, *findings;
	char *xml = NULL, *html = NULL;
	struct hpci_axis_order order;
	g_autoptr(GPtrArray) sorted = NULL;
	int rc;

	rc = hpci_report_load_buffer("fuzz/report.json", (const char *)data, size, &report);
	if (rc < 0) {
		if (rc != -EINVAL || report || !*hpci_error_message())
			abort();
		hpci_error_clear();
		return 0;
	}
	if (rc != 0 || !report)
		abort();
	cells = hpci_report_cells(report);
	if (!cells || !json_object_is_type(cells, json_type_array))
		abort();
	summary = hpci_report_summary(cells);
	json_object_put(summary);
	sorted = g_ptr_array_new();
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		use_cell(json_object_array_get_idx(cells, i));
		g_ptr_array_add(sorted, json_object_array_get_idx(cells, i));
	}
	hpci_axis_order_init(&order, &report, 1);
	sort_order = &order;
	g_ptr_array_sort(sorted, compare_cells);
	hpci_axis_order_release(&order);

	if (hpci_report_junit(report, "/nonexistent/fuzz-report", &xml) == 0)
		g_free(xml);
	if (hpci_report_html(report, NULL, ".", &html) == 0)
		g_free(html);
	hpci_error_clear();
	findings = hpci_report_diff(report, report, &thresholds);
	if (!findings)
		abort();
	if (hpci_diff_regressions(findings) != 0) {
		fprintf(stderr, "a report differs from itself: %s\n",
			json_object_to_json_string(findings));
		abort();
	}
	g_free(hpci_diff_text(findings));
	json_object_put(findings);
	json_object_put(report);
	hpci_error_clear();
	return 0;
}
