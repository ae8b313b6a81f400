/* SPDX-License-Identifier: MIT */
#include "result.h"

struct hpci_cell_result *hpci_cell_result_new(const struct hpci_cell *cell)
{
	struct hpci_cell_result *res = g_new0(struct hpci_cell_result, 1);

	res->cell = cell;
	res->outcome = HPCI_OUTCOME_INFRA_ERROR;
	res->boot_ms = -1;
	res->smi_ms = 0;
	res->plugs = g_array_new(FALSE, TRUE, sizeof(struct hpci_plug_timing));
	res->firmware_problems = g_ptr_array_new_with_free_func(g_free);
	res->attempt = 1;
	res->other_attempts = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);
	return res;
}

void hpci_cell_result_free(struct hpci_cell_result *res)
{
	if (!res)
		return;
	g_free(res->error);
	g_free(res->evidence);
	g_free(res->domain);
	g_free(res->connection);
	g_free(res->dir);
	g_array_unref(res->plugs);
	if (res->firmware) {
		hpci_fw_log_release(res->firmware);
		g_free(res->firmware);
	}
	g_ptr_array_unref(res->firmware_problems);
	g_ptr_array_unref(res->other_attempts);
	g_free(res);
}

enum hpci_verdict hpci_cell_verdict(const struct hpci_cell_result *res)
{
	if (!res->ran)
		return HPCI_VERDICT_NOT_RUN;
	if (res->flaky)
		return HPCI_VERDICT_FLAKY;
	if (res->verdict_pass)
		return HPCI_VERDICT_PASS;
	if (res->known_issue)
		return HPCI_VERDICT_KNOWN_ISSUE;
	return res->outcome == HPCI_OUTCOME_INFRA_ERROR ? HPCI_VERDICT_INFRA_ERROR
							: HPCI_VERDICT_FAIL;
}

const char *hpci_verdict_name(enum hpci_verdict verdict)
{
	static const char *const names[HPCI_VERDICT__COUNT] = {
		[HPCI_VERDICT_NOT_RUN] = "not-run",
		[HPCI_VERDICT_PASS] = "pass",
		[HPCI_VERDICT_FAIL] = "fail",
		[HPCI_VERDICT_FLAKY] = "flaky",
		[HPCI_VERDICT_KNOWN_ISSUE] = "known-issue",
		[HPCI_VERDICT_INFRA_ERROR] = "infra-error",
	};

	return (unsigned)verdict < HPCI_VERDICT__COUNT ? names[verdict] : "invalid";
}

const char *hpci_cell_verdict_name(const struct hpci_cell_result *res)
{
	return hpci_verdict_name(hpci_cell_verdict(res));
}

void hpci_identity_free(struct hpci_identity *id)
{
	if (!id)
		return;
	g_free(id->role);
	g_free(id->path);
	g_free(id->version);
	g_free(id->sha256);
	g_free(id);
}

void hpci_run_report_init(struct hpci_run_report *report)
{
	*report = (struct hpci_run_report){ 0 };
	report->identities = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_identity_free);
	report->results = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);
	report->run.filters = g_ptr_array_new_with_free_func(g_free);
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
	if (report->run.connections)
		g_ptr_array_unref(report->run.connections);
	if (report->identities)
		g_ptr_array_unref(report->identities);
	if (report->results)
		g_ptr_array_unref(report->results);
	*report = (struct hpci_run_report){ 0 };
}
