/* SPDX-License-Identifier: MIT */
#include "progress.h"
#include "strlist.h"

#include <stdio.h>

struct hpci_progress {
	unsigned total, done, failed;
	unsigned running;
	enum hpci_verbosity verbosity;
	bool live;
	bool line_shown;
	gint64 t0;
};

struct hpci_progress *hpci_progress_new(unsigned total, enum hpci_verbosity verbosity,
					bool live)
{
	struct hpci_progress *p = g_new0(struct hpci_progress, 1);

	p->total = total;
	p->verbosity = verbosity;
	p->live = live && verbosity != HPCI_QUIET;
	p->t0 = g_get_monotonic_time();
	return p;
}

static void clear_line(struct hpci_progress *p)
{
	if (!p->line_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->line_shown = false;
}

void hpci_progress_free(struct hpci_progress *p)
{
	if (!p)
		return;
	clear_line(p);
	g_free(p);
}

static void append_duration(GString *s, gint64 ms)
{
	gint64 sec = ms / 1000;

	if (sec >= 3600)
		g_string_append_printf(s, "%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m", sec / 3600,
				       sec / 60 % 60);
	else
		g_string_append_printf(s, "%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", sec / 60,
				       sec % 60);
}

char *hpci_progress_status(unsigned done, unsigned running, unsigned total, unsigned failed,
			   gint64 elapsed_ms)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "[%u/%u] %u running, %u failed, ", done, total, running, failed);
	append_duration(s, elapsed_ms);
	g_string_append(s, ", ETA ");
	/* Cells finish at the rate seen so far; nothing to go on before the first. */
	if (done == 0)
		g_string_append(s, "--");
	else
		append_duration(s, elapsed_ms * (gint64)(total - done) / done);
	return g_string_free(s, FALSE);
}

void hpci_progress_tick(struct hpci_progress *p, unsigned running)
{
	g_autofree char *status = NULL;

	p->running = running;
	if (!p->live)
		return;
	status = hpci_progress_status(p->done, running, p->total, p->failed,
				      (g_get_monotonic_time() - p->t0) / 1000);
	fprintf(stderr, "\r\033[K%s", status);
	fflush(stderr);
	p->line_shown = true;
}

void hpci_progress_started(struct hpci_progress *p, const struct hpci_cell *cell,
			   unsigned attempt)
{
	if (p->verbosity < HPCI_VERBOSE)
		return;
	clear_line(p);
	if (attempt > 1)
		fprintf(stderr, "start   %s (attempt %u)\n", cell->id, attempt);
	else
		fprintf(stderr, "start   %s\n", cell->id);
	hpci_progress_tick(p, p->running);
}

static void print_attempts(const struct hpci_cell_result *res)
{
	g_autoptr(GString) s = g_string_new(NULL);

	if (res->other_attempts->len == 0)
		return;
	g_string_append_printf(s, "attempt %u %s", res->attempt, hpci_outcome_name(res->outcome));
	for (guint i = 0; i < res->other_attempts->len; i++) {
		const struct hpci_cell_result *a = g_ptr_array_index(res->other_attempts, i);

		g_string_append_printf(s, ", attempt %u %s", a->attempt,
				       hpci_outcome_name(a->outcome));
	}
	printf("       attempts: %s\n", s->str);
}

void hpci_progress_cell(struct hpci_progress *p, const struct hpci_cell_result *res)
{
	enum hpci_verdict v = hpci_cell_verdict(res);
	bool as_expected = v == HPCI_VERDICT_PASS || v == HPCI_VERDICT_KNOWN_ISSUE;
	g_autofree char *expected = NULL;

	p->done++;
	p->failed += !as_expected;
	if (p->verbosity == HPCI_QUIET && as_expected)
		return;
	clear_line(p);
	expected = hpci_expect_outcomes(&res->cell->expect);
	printf("[%u/%u] %-5s %-15s (expected %s) %5.1f s  %s\n", p->done, p->total,
	       hpci_verdict_tag(v), hpci_outcome_name(res->outcome), expected,
	       res->duration_ms / 1000.0, res->cell->id);
	if (res->evidence && (!as_expected || p->verbosity == HPCI_VERBOSE))
		printf("       %s\n", res->evidence);
	if (res->known_issue)
		printf("       known issue: %s\n",
		       hpci_expect_known_issue(&res->cell->expect, res->outcome));
	print_attempts(res);
	fflush(stdout);
	hpci_progress_tick(p, p->running);
}

/* The ids of the cells that breached unexpectedly, borrowed. */
static GPtrArray *breached_ids(const struct hpci_run_report *report)
{
	GPtrArray *ids = g_ptr_array_new();

	for (guint i = 0; i < report->results->len; i++) {
		const struct hpci_cell_result *res = g_ptr_array_index(report->results, i);

		if (hpci_cell_breached(res))
			g_ptr_array_add(ids, res->cell->id);
	}
	return ids;
}

char *hpci_progress_summary(const struct hpci_run_report *report, const char *report_path)
{
	g_autoptr(GPtrArray) breached = breached_ids(report);
	struct hpci_verdict_counts counts;
	GString *s = g_string_new(NULL);

	if (breached->len) {
		g_autofree char *ids = hpci_strings_join(breached, ", ");

		g_string_append_printf(s, "BREACH: %u cell(s) ran guest code in SMM or exposed "
				       "SMRAM: %s\n%u breach, ", breached->len, ids, breached->len);
	}
	hpci_run_report_count(report, &counts);
	g_string_append_printf(s, "%u of %u cells as expected", counts.of[HPCI_VERDICT_PASS],
			       report->results->len);
	for (unsigned v = 0; v < HPCI_VERDICT__COUNT; v++) {
		if (v != HPCI_VERDICT_PASS && counts.of[v])
			g_string_append_printf(s, ", %u %s", counts.of[v], hpci_verdict_name(v));
	}
	g_string_append_printf(s, "%s; report: %s\n", report->interrupted ? " (interrupted)" : "",
			       report_path);
	return g_string_free(s, FALSE);
}
