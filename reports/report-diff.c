/* SPDX-License-Identifier: MIT */
#include "report-diff.h"
#include "report-load.h"
#include "manifest.h"

#include <string.h>

/* Kinds that mean the product got worse: diff exits 1 on them. */
static const char *const regression_kinds[] = { "regressed", "became-flaky", "breached" };

bool hpci_diff_moved(gint64 old_ms, gint64 new_ms, const struct hpci_diff_thresholds *t)
{
	gint64 delta = new_ms > old_ms ? new_ms - old_ms : old_ms - new_ms;
	gint64 scaled, noise;

	/* --threshold-pct can be any int: past 64 bits, nothing moves. */
	noise = __builtin_mul_overflow(old_ms, (gint64)t->pct, &scaled) ? G_MAXINT64
									  : scaled / 100;
	noise = MAX(noise, t->ms);

	return delta > noise;
}

/* "15.0 s"; signed ("+10.0 s") for deltas. */
static char *seconds_text(gint64 ms, bool sign)
{
	const char *prefix = ms < 0 ? "-" : sign ? "+" : "";
	gint64 tenths = ((ms < 0 ? -ms : ms) + 50) / 100;

	return g_strdup_printf("%s%" G_GINT64_FORMAT ".%d s", prefix, tenths / 10,
			       (int)(tenths % 10));
}

static json_object *finding_new(const char *kind, const char *cell, char *message)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "kind", json_object_new_string(kind));
	json_object_object_add(f, "cell", json_object_new_string(cell));
	json_object_object_add(f, "message", json_object_new_string(message));
	g_free(message);
	return f;
}

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static const char *outcome_of(json_object *cell)
{
	const char *outcome = hpci_json_get_string(cell, "outcome");

	return outcome ? outcome : "none";
}

/* The finding a change of verdict is.  An infra-error on either side says
 * nothing about the product, so it is neither a regression nor a recovery;
 * a flaky product failure still is one. */
static const char *verdict_change(enum hpci_verdict ov, enum hpci_verdict nv)
{
	if (ov == HPCI_VERDICT_INFRA_ERROR || nv == HPCI_VERDICT_INFRA_ERROR)
		return "infra";
	if (ov == HPCI_VERDICT_PASS && nv == HPCI_VERDICT_FAIL)
		return "regressed";
	if (ov == HPCI_VERDICT_PASS && nv == HPCI_VERDICT_FLAKY)
		return "became-flaky";
	if ((ov == HPCI_VERDICT_FAIL || ov == HPCI_VERDICT_FLAKY) && nv == HPCI_VERDICT_PASS)
		return "recovered";
	return "changed";
}

static void diff_verdict(json_object *findings, const char *id, json_object *old_cell,
			 json_object *new_cell)
{
	const char *ov = hpci_report_verdict_name(old_cell);
	const char *nv = hpci_report_verdict_name(new_cell);
	const char *oo = outcome_of(old_cell), *no = outcome_of(new_cell);
	const char *kind;
	json_object *f;

	/* Whatever the cell did before, even fail or infra-error: a regression. */
	if (hpci_report_breach(new_cell) && !hpci_report_breach(old_cell))
		kind = "breached";
	else if (strcmp(ov, nv) != 0)
		kind = verdict_change(hpci_report_verdict(old_cell), hpci_report_verdict(new_cell));
	else if (strcmp(oo, no) != 0)
		kind = "changed";
	else
		return;
	f = finding_new(kind, id, g_strdup_printf("verdict %s -> %s, outcome %s -> %s", ov, nv,
						  oo, no));
	add_string(f, "old_verdict", ov);
	add_string(f, "new_verdict", nv);
	add_string(f, "old_outcome", hpci_json_get_string(old_cell, "outcome"));
	add_string(f, "new_outcome", hpci_json_get_string(new_cell, "outcome"));
	json_object_array_add(findings, f);
}

/* what is "boot" or "vCPU N online"; vcpu < 0 for boot. */
static void diff_time(json_object *findings, const char *kind, const char *id,
		      const char *what, gint64 vcpu, gint64 old_ms, gint64 new_ms,
		      const struct hpci_diff_thresholds *t)
{
	g_autofree char *o = NULL, *n = NULL, *d = NULL, *pct = NULL;
	json_object *f;

	if (old_ms < 0 || new_ms < 0 || !hpci_diff_moved(old_ms, new_ms, t))
		return;
	o = seconds_text(old_ms, false);
	n = seconds_text(new_ms, false);
	d = seconds_text(new_ms - old_ms, true);
	pct = old_ms > 0 ? g_strdup_printf(", %+" G_GINT64_FORMAT "%%",
					   (new_ms - old_ms) * 100 / old_ms) : g_strdup("");
	f = finding_new(kind, id, g_strdup_printf("%s %s -> %s (%s%s)", what, o, n, d, pct));
	if (vcpu >= 0)
		json_object_object_add(f, "vcpu", json_object_new_int64(vcpu));
	json_object_object_add(f, "old_ms", json_object_new_int64(old_ms));
	json_object_object_add(f, "new_ms", json_object_new_int64(new_ms));
	json_object_array_add(findings, f);
}

static gint64 plug_latency(json_object *plug)
{
	gint64 request = hpci_report_ms(plug, "request_ms");
	gint64 online = hpci_report_ms(plug, "online_ms");

	return request >= 0 && online >= 0 ? online - request : -1;
}

static const char *boot_kind(json_object *cell)
{
	const char *kind = hpci_json_get_string(cell, "boot.kind");

	return kind ? kind : "cold";
}

static void diff_timings(json_object *findings, const char *id, json_object *old_cell,
			 json_object *new_cell, const struct hpci_diff_thresholds *t)
{
	json_object *old_plugs = hpci_report_array(old_cell, "timings.plugs");
	json_object *new_plugs = hpci_report_array(new_cell, "timings.plugs");
	size_t n = old_plugs && new_plugs ? MIN(json_object_array_length(old_plugs),
						json_object_array_length(new_plugs)) : 0;

	/* A restored guest's "boot" is its restore: only like with like.  A
	 * report older than boot reuse has no "boot" and booted cold. */
	if (g_strcmp0(boot_kind(old_cell), boot_kind(new_cell)) == 0)
		diff_time(findings, "boot-time", id, "boot", -1,
			  hpci_report_ms(old_cell, "timings.boot_ms"),
			  hpci_report_ms(new_cell, "timings.boot_ms"), t);
	for (size_t i = 0; i < n; i++) {
		json_object *op = json_object_array_get_idx(old_plugs, i);
		json_object *np = json_object_array_get_idx(new_plugs, i);
		gint64 vcpu = hpci_report_ms(np, "vcpu");
		g_autofree char *what = g_strdup_printf("vCPU %" G_GINT64_FORMAT " online", vcpu);

		diff_time(findings, "plug-latency", id, what, vcpu, plug_latency(op),
			  plug_latency(np), t);
	}
}

/* Times of a cell that did not run, or whose harness failed, measure
 * nothing about the product. */
static bool timings_comparable(json_object *cell)
{
	return !hpci_report_verdict_is(cell, HPCI_VERDICT_NOT_RUN) &&
	       !hpci_report_verdict_is(cell, HPCI_VERDICT_INFRA_ERROR);
}

static void add_presence(json_object *findings, const char *kind, json_object *cell)
{
	const char *id = hpci_json_get_string(cell, "id");
	json_object *f = finding_new(kind, id, g_strdup_printf(
		"%sverdict %s, outcome %s", strcmp(kind, "disappeared") == 0 ? "was " : "",
		hpci_report_verdict_name(cell), outcome_of(cell)));

	add_string(f, strcmp(kind, "appeared") == 0 ? "new_verdict" : "old_verdict",
		   hpci_report_verdict_name(cell));
	json_object_array_add(findings, f);
}

static GHashTable *cells_by_id(json_object *report)
{
	json_object *cells = hpci_report_cells(report);
	GHashTable *by_id = g_hash_table_new(g_str_hash, g_str_equal);

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		g_hash_table_insert(by_id, (gpointer)hpci_json_get_string(cell, "id"), cell);
	}
	return by_id;
}

json_object *hpci_report_diff(json_object *old_report, json_object *new_report,
			      const struct hpci_diff_thresholds *t)
{
	g_autoptr(GHashTable) old_by_id = cells_by_id(old_report);
	g_autoptr(GHashTable) new_by_id = cells_by_id(new_report);
	json_object *old_cells = hpci_report_cells(old_report);
	json_object *new_cells = hpci_report_cells(new_report);
	json_object *findings = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(new_cells); i++) {
		json_object *cell = json_object_array_get_idx(new_cells, i);
		const char *id = hpci_json_get_string(cell, "id");
		json_object *old_cell = g_hash_table_lookup(old_by_id, id);

		if (!old_cell) {
			add_presence(findings, "appeared", cell);
			continue;
		}
		diff_verdict(findings, id, old_cell, cell);
		if (timings_comparable(old_cell) && timings_comparable(cell))
			diff_timings(findings, id, old_cell, cell, t);
	}
	for (size_t i = 0; i < json_object_array_length(old_cells); i++) {
		json_object *cell = json_object_array_get_idx(old_cells, i);

		if (!g_hash_table_contains(new_by_id, hpci_json_get_string(cell, "id")))
			add_presence(findings, "disappeared", cell);
	}
	return findings;
}

bool hpci_diff_is_regression(json_object *finding)
{
	const char *kind = hpci_json_get_string(finding, "kind");

	for (size_t k = 0; kind && k < G_N_ELEMENTS(regression_kinds); k++)
		if (strcmp(kind, regression_kinds[k]) == 0)
			return true;
	return false;
}

unsigned hpci_diff_regressions(json_object *findings)
{
	unsigned n = 0;

	for (size_t i = 0; i < json_object_array_length(findings); i++)
		n += hpci_diff_is_regression(json_object_array_get_idx(findings, i));
	return n;
}

char *hpci_diff_text(json_object *findings)
{
	size_t n = json_object_array_length(findings);
	GString *text = g_string_new(NULL);
	unsigned regressions = hpci_diff_regressions(findings);

	if (n == 0)
		return g_string_free(g_string_append(text, "no changes\n"), FALSE);
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(findings, i);

		g_string_append_printf(text, "%-12s %s: %s\n", hpci_json_get_string(f, "kind"),
				       hpci_json_get_string(f, "cell"),
				       hpci_json_get_string(f, "message"));
	}
	g_string_append_printf(text, "%zu finding%s, %u regression%s\n", n, n == 1 ? "" : "s",
			       regressions, regressions == 1 ? "" : "s");
	return g_string_free(text, FALSE);
}
