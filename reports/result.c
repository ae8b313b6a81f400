/* SPDX-License-Identifier: MIT */
#include "result.h"

#include <string.h>

struct hpci_cell_result *hpci_cell_result_new(const struct hpci_cell *cell)
{
	struct hpci_cell_result *res = g_new0(struct hpci_cell_result, 1);

	res->cell = cell;
	res->outcome = HPCI_OUTCOME_INFRA_ERROR;
	res->boot_ms = -1;
	res->restore_ms = -1;
	res->smi_ms = 0;
	res->plugs = g_array_new(FALSE, TRUE, sizeof(struct hpci_plug_timing));
	res->firmware_problems = g_ptr_array_new_with_free_func(g_free);
	res->attempt = 1;
	res->other_attempts = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);
	return res;
}

struct hpci_attack_record *hpci_attack_record_new(const char *token)
{
	struct hpci_attack_record *rec = g_new0(struct hpci_attack_record, 1);

	rec->token = g_strdup(token);
	rec->lines = g_ptr_array_new_with_free_func(g_free);
	return rec;
}

void hpci_attack_record_free(struct hpci_attack_record *rec)
{
	if (!rec)
		return;
	g_free(rec->token);
	g_ptr_array_unref(rec->lines);
	g_free(rec->regdump);
	g_free(rec);
}

void hpci_cell_result_free(struct hpci_cell_result *res)
{
	if (!res)
		return;
	g_free(res->error);
	g_free(res->evidence);
	g_free(res->domain);
	g_free(res->connection);
	g_free(res->emulator);
	g_free(res->firmware_code);
	g_free(res->dir);
	g_free(res->boot_state);
	g_free(res->boot_note);
	g_array_unref(res->plugs);
	if (res->firmware) {
		hpci_fw_log_release(res->firmware);
		g_free(res->firmware);
	}
	g_ptr_array_unref(res->firmware_problems);
	hpci_attack_record_free(res->attack);
	g_ptr_array_unref(res->other_attempts);
	g_free(res);
}

bool hpci_cell_breached(const struct hpci_cell_result *res)
{
	return res->ran && res->outcome == HPCI_OUTCOME_BREACH && !res->verdict_pass;
}

enum hpci_verdict hpci_cell_verdict(const struct hpci_cell_result *res)
{
	if (!res->ran)
		return HPCI_VERDICT_NOT_RUN;
	/* Whatever else was said of it: never flaky, never a known issue. */
	if (hpci_cell_breached(res))
		return HPCI_VERDICT_FAIL;
	if (res->flaky)
		return HPCI_VERDICT_FLAKY;
	if (res->verdict_pass)
		return HPCI_VERDICT_PASS;
	if (res->known_issue)
		return HPCI_VERDICT_KNOWN_ISSUE;
	return res->outcome == HPCI_OUTCOME_INFRA_ERROR ? HPCI_VERDICT_INFRA_ERROR
							: HPCI_VERDICT_FAIL;
}

/* The one table of verdicts: every name, key, word and tag comes from here. */
static const struct {
	const char *name;           /* report.json's "verdict" */
	const char *summary_key;    /* report.json's "summary" */
	const char *words;          /* in a sentence */
	const char *tag;            /* on the progress line */
} verdicts[HPCI_VERDICT__COUNT] = {
	[HPCI_VERDICT_PASS] = { "pass", "pass", "pass", "ok" },
	[HPCI_VERDICT_FAIL] = { "fail", "fail", "fail", "FAIL" },
	[HPCI_VERDICT_FLAKY] = { "flaky", "flaky", "flaky", "FLAKY" },
	[HPCI_VERDICT_KNOWN_ISSUE] = { "known-issue", "known_issue", "known issue", "KNOWN" },
	[HPCI_VERDICT_INFRA_ERROR] = { "infra-error", "infra_error", "infra error", "INFRA" },
	[HPCI_VERDICT_NOT_RUN] = { "not-run", "not_run", "not run", "-" },
};

static bool verdict_valid(enum hpci_verdict verdict)
{
	return (unsigned)verdict < HPCI_VERDICT__COUNT;
}

const char *hpci_verdict_name(enum hpci_verdict verdict)
{
	return verdict_valid(verdict) ? verdicts[verdict].name : "invalid";
}

enum hpci_verdict hpci_verdict_parse(const char *name)
{
	for (unsigned v = 0; name && v < HPCI_VERDICT__COUNT; v++) {
		if (strcmp(verdicts[v].name, name) == 0)
			return v;
	}
	return HPCI_VERDICT__COUNT;
}

const char *hpci_verdict_summary_key(enum hpci_verdict verdict)
{
	return verdict_valid(verdict) ? verdicts[verdict].summary_key : "invalid";
}

const char *hpci_verdict_words(enum hpci_verdict verdict)
{
	return verdict_valid(verdict) ? verdicts[verdict].words : "invalid";
}

const char *hpci_verdict_tag(enum hpci_verdict verdict)
{
	return verdict_valid(verdict) ? verdicts[verdict].tag : "?";
}

void hpci_verdict_counts_add(struct hpci_verdict_counts *counts, enum hpci_verdict verdict)
{
	counts->cells++;
	if (verdict_valid(verdict))
		counts->of[verdict]++;
}

char *hpci_verdict_counts_text(const struct hpci_verdict_counts *counts)
{
	GString *text = g_string_new(NULL);

	g_string_append_printf(text, "%u cells", counts->cells);
	for (unsigned v = 0; v < HPCI_VERDICT__COUNT; v++)
		g_string_append_printf(text, ", %u %s", counts->of[v], verdicts[v].words);
	return g_string_free(text, FALSE);
}

const char *hpci_cell_verdict_name(const struct hpci_cell_result *res)
{
	return hpci_verdict_name(hpci_cell_verdict(res));
}

void hpci_run_report_count(const struct hpci_run_report *report,
			   struct hpci_verdict_counts *counts)
{
	*counts = (struct hpci_verdict_counts){ 0 };
	for (guint i = 0; i < report->results->len; i++) {
		const struct hpci_cell_result *res = g_ptr_array_index(report->results, i);

		hpci_verdict_counts_add(counts, hpci_cell_verdict(res));
	}
}

void hpci_identity_free(struct hpci_identity *id)
{
	if (!id)
		return;
	g_free(id->role);
	g_free(id->path);
	g_free(id->version);
	g_free(id->sha256);
	hpci_source_origin_clear(&id->origin);
	g_free(id);
}

void hpci_run_report_init(struct hpci_run_report *report)
{
	*report = (struct hpci_run_report){ 0 };
	report->identities = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_identity_free);
	report->results = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);
	report->run.filters = g_ptr_array_new_with_free_func(g_free);
	report->run.sets = g_ptr_array_new_with_free_func(g_free);
	report->run.connections = g_ptr_array_new_with_free_func(g_free);
}

void hpci_run_report_release(struct hpci_run_report *report)
{
	g_free(report->tool_version);
	g_free(report->host_kernel);
	g_free(report->host_cpu);
	g_free(report->accel);
	g_free(report->libvirt);
	g_free(report->matrix_path);
	g_free(report->matrix_name);
	g_free(report->matrix_sha256);
	g_free(report->started_at);
	g_free(report->run.shard);
	if (report->run.filters)
		g_ptr_array_unref(report->run.filters);
	if (report->run.sets)
		g_ptr_array_unref(report->run.sets);
	if (report->run.connections)
		g_ptr_array_unref(report->run.connections);
	if (report->identities)
		g_ptr_array_unref(report->identities);
	if (report->results)
		g_ptr_array_unref(report->results);
	*report = (struct hpci_run_report){ 0 };
}
