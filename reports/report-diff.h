/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_DIFF_H
#define HPCI_REPORT_DIFF_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

/*
 * What changed between two runs, cell by cell (matched by id).  Findings
 * are JSON objects with "kind", "cell" and a one-line "message":
 *   breached     the cell breached unexpectedly (hpci_report_breach()) and
 *                did not before, whatever it did then (a regression)
 *   regressed    verdict pass -> fail (a regression)
 *   became-flaky verdict pass -> flaky (a regression)
 *   recovered    verdict fail or flaky -> pass
 *   infra        verdict to or from infra-error (informational: the harness
 *                or host failed, which says nothing about the product)
 *   changed      any other change of verdict or outcome
 *   appeared     a cell only the new report has
 *   disappeared  a cell only the old report has
 *   boot-time    timings.boot_ms moved beyond noise
 *   plug-latency a plug's online_ms - request_ms moved beyond noise (plugs
 *                matched by position in timings.plugs)
 * Verdict findings add old_/new_verdict and old_/new_outcome; timing
 * findings add old_ms, new_ms and, for plugs, vcpu.  Times are compared
 * only when neither side's verdict is not-run or infra-error.
 */

/*
 * Run-to-run noise: a time moved when |new - old| > max(pct % of old, ms).
 * TCG boot times wander by a second or two and by a fair fraction of
 * themselves when the host is busy; both floors are needed so neither a
 * 10 s boot nor a 300 ms plug flags on every run.
 */
#define HPCI_DIFF_DEFAULT_PCT 25
#define HPCI_DIFF_DEFAULT_MS 2000

struct hpci_diff_thresholds {
	int pct;
	gint64 ms;
};

bool hpci_diff_moved(gint64 old_ms, gint64 new_ms, const struct hpci_diff_thresholds *t);

/* The findings (a JSON array, new report's cell order, then disappeared). */
json_object *hpci_report_diff(json_object *old_report, json_object *new_report,
			      const struct hpci_diff_thresholds *t);

/* Whether a finding is a regression (breached, regressed, became-flaky). */
bool hpci_diff_is_regression(json_object *finding);
/* How many findings are regressions. */
unsigned hpci_diff_regressions(json_object *findings);

/* One line per finding and a count, or "no changes". */
char *hpci_diff_text(json_object *findings);

#endif
