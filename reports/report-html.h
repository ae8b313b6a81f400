/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_HTML_H
#define HPCI_REPORT_HTML_H

#include <json-c/json.h>

/*
 * The report as one static HTML page with no external assets and no script
 * (reports/README.md lists its ids and classes): the run's header, the
 * matrix as a grid of verdicts (table#grid; rows topology x smi x firmware
 * x qemu, columns count x ops; each box lists the attempts of a cell that
 * ran more than once), the failures (table#failures), flaky cells
 * (table#flaky), infrastructure errors (table#infra-errors) and known
 * issues, and two inline SVG charts: boot time per cell (svg#boot-chart)
 * and plug latency per hot-added CPU (svg#plug-chart), one rect per bar.
 *
 * report_link is the path from the page's directory to the report's (cell
 * dirs are relative to the report): "" or "." when the page sits next to
 * report.json.  report_dir is the report's directory from the current one:
 * the page links the logs (serial, firmware, events, qemu) found there;
 * NULL links them all.
 */
int hpci_report_html(json_object *report, const char *report_dir, const char *report_link,
		     char **ret_html);

#endif
