/* SPDX-License-Identifier: MIT */
#include "report-json.h"
#include "fsutil.h"
#include "json-reader.h"
#include "manifest.h"

#include <string.h>

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *ms_or_null(gint64 ms)
{
	return ms >= 0 ? json_object_new_int64(ms) : NULL;
}

static json_object *axes_json(const struct hpci_cell *cell)
{
	json_object *axes = json_object_new_object();

	for (guint i = 0; i < cell->axes->len; i++) {
		const struct hpci_axis_value *av = &g_array_index(cell->axes, struct hpci_axis_value, i);

		json_object_object_add(axes, av->axis, json_object_new_string(av->value));
	}
	return axes;
}

/* "axes": each axis with its values, in the matrix's order, which the
 * report verbs sort cells by. */
static json_object *axis_order_json(const GArray *values)
{
	json_object *axes = json_object_new_array();
	json_object *current = NULL;
	const char *axis = NULL;

	for (guint i = 0; i < values->len; i++) {
		const struct hpci_axis_value *av = &g_array_index(values, struct hpci_axis_value, i);

		if (!axis || strcmp(axis, av->axis) != 0) {
			json_object *o = json_object_new_object();

			axis = av->axis;
			current = json_object_new_array();
			json_object_object_add(o, "name", json_object_new_string(axis));
			json_object_object_add(o, "values", current);
			json_object_array_add(axes, o);
		}
		json_object_array_add(current, json_object_new_string(av->value));
	}
	return axes;
}

static json_object *known_issues_json(const GArray *issues)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < issues->len; i++) {
		const struct hpci_known_issue *ki =
			&g_array_index(issues, struct hpci_known_issue, i);
		json_object *k = json_object_new_object();

		json_object_object_add(k, "outcome",
				       json_object_new_string(hpci_outcome_name(ki->outcome)));
		json_object_object_add(k, "note", json_object_new_string(ki->note));
		json_object_array_add(arr, k);
	}
	return arr;
}

static json_object *expected_json(const struct hpci_expect *expect)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "outcome",
			       json_object_new_string(hpci_outcome_name(expect->outcome)));
	if (expect->also) {
		json_object *also = json_object_new_array();

		for (int o = 0; o < HPCI_OUTCOME__COUNT; o++)
			if (expect->also & (1u << o))
				json_object_array_add(also,
						      json_object_new_string(hpci_outcome_name(o)));
		json_object_object_add(e, "also", also);
	}
	if (expect->message)
		json_object_object_add(e, "message", json_object_new_string(expect->message));
	if (expect->reason)
		json_object_object_add(e, "reason", json_object_new_string(expect->reason));
	if (expect->known_issues && expect->known_issues->len)
		json_object_object_add(e, "known_issues", known_issues_json(expect->known_issues));
	return e;
}

static json_object *plugs_json(GArray *plugs)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < plugs->len; i++) {
		const struct hpci_plug_timing *p = &g_array_index(plugs, struct hpci_plug_timing, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "vcpu", json_object_new_int(p->vcpu));
		json_object_object_add(o, "guest_cpu",
				       p->guest_cpu >= 0 ? json_object_new_int(p->guest_cpu) : NULL);
		json_object_object_add(o, "request_ms", ms_or_null(p->request_ms));
		json_object_object_add(o, "returned_ms", ms_or_null(p->returned_ms));
		json_object_object_add(o, "seen_ms", ms_or_null(p->seen_ms));
		json_object_object_add(o, "online_ms", ms_or_null(p->online_ms));
		json_object_object_add(o, "unplug_request_ms", ms_or_null(p->unplug_request_ms));
		json_object_object_add(o, "unplug_returned_ms", ms_or_null(p->unplug_returned_ms));
		json_object_object_add(o, "unplug_timed_out", json_object_new_boolean(p->unplug_timed_out));
		json_object_object_add(o, "removed_ms", ms_or_null(p->removed_ms));
		json_object_object_add(o, "request_failed", json_object_new_boolean(p->request_failed));
		json_object_array_add(arr, o);
	}
	return arr;
}

static gint compare_attempts(gconstpointer a, gconstpointer b)
{
	const struct hpci_cell_result *x = *(const struct hpci_cell_result *const *)a;
	const struct hpci_cell_result *y = *(const struct hpci_cell_result *const *)b;

	return (x->attempt > y->attempt) - (x->attempt < y->attempt);
}

/* Every attempt of the cell, the deciding one included, in run order. */
static json_object *attempts_json(const struct hpci_cell_result *res)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	json_object *arr = json_object_new_array();

	if (!res->ran)
		return arr;
	g_ptr_array_add(all, (gpointer)res);
	for (guint i = 0; i < res->other_attempts->len; i++)
		g_ptr_array_add(all, g_ptr_array_index(res->other_attempts, i));
	g_ptr_array_sort(all, compare_attempts);
	for (guint i = 0; i < all->len; i++) {
		const struct hpci_cell_result *a = g_ptr_array_index(all, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "attempt", json_object_new_int(a->attempt));
		json_object_object_add(o, "outcome",
				       json_object_new_string(hpci_outcome_name(a->outcome)));
		json_object_object_add(o, "verdict", json_object_new_string(hpci_cell_verdict_name(a)));
		json_object_object_add(o, "duration_ms", json_object_new_int64(a->duration_ms));
		json_object_object_add(o, "dir", str_or_null(a->dir));
		json_object_object_add(o, "domain", str_or_null(a->domain));
		json_object_object_add(o, "connection", str_or_null(a->connection));
		json_object_object_add(o, "error", str_or_null(a->error));
		json_object_object_add(o, "evidence", str_or_null(a->evidence));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The attack cells' evidence (result.h); null for other cells. */
static json_object *attack_json(const struct hpci_attack_record *rec)
{
	json_object *a;

	if (!rec)
		return NULL;
	a = json_object_new_object();
	json_object_object_add(a, "token", str_or_null(rec->token));
	json_object_object_add(a, "lines", hpci_json_strings(rec->lines));
	json_object_object_add(a, "regdump", str_or_null(rec->regdump));
	return a;
}

/* How the guest came up: "cold" or "restored" from a saved boot state. */
static json_object *boot_json(const struct hpci_cell_result *res)
{
	json_object *b = json_object_new_object();

	json_object_object_add(b, "kind", json_object_new_string(res->boot_state ? "restored"
										 : "cold"));
	json_object_object_add(b, "state", str_or_null(res->boot_state));
	json_object_object_add(b, "restore_ms", ms_or_null(res->restore_ms));
	json_object_object_add(b, "control", json_object_new_boolean(res->boot_control));
	json_object_object_add(b, "note", str_or_null(res->boot_note));
	return b;
}

static json_object *cell_json(const struct hpci_cell_result *res)
{
	const struct hpci_cell *cell = res->cell;
	json_object *c = json_object_new_object();
	json_object *timings = json_object_new_object();
	json_object *smi = json_object_new_object();

	json_object_object_add(c, "id", json_object_new_string(cell->id));
	json_object_object_add(c, "axes", axes_json(cell));
	json_object_object_add(c, "expected", expected_json(&cell->expect));
	json_object_object_add(c, "ran", json_object_new_boolean(res->ran));
	json_object_object_add(c, "outcome",
			       res->ran ? json_object_new_string(hpci_outcome_name(res->outcome)) : NULL);
	json_object_object_add(c, "verdict", json_object_new_string(hpci_cell_verdict_name(res)));
	json_object_object_add(c, "error", str_or_null(res->error));
	json_object_object_add(c, "evidence", str_or_null(res->evidence));
	json_object_object_add(c, "domain", str_or_null(res->domain));
	json_object_object_add(c, "connection", str_or_null(res->connection));
	json_object_object_add(c, "dir", str_or_null(res->dir));
	/* Paths into "identities", which says what each one is (a build's key,
	 * version and patches); the emulator is null when its build failed. */
	json_object_object_add(c, "emulator", str_or_null(res->emulator));
	json_object_object_add(c, "firmware_code", str_or_null(res->firmware_code));

	json_object_object_add(timings, "boot_ms", ms_or_null(res->boot_ms));
	json_object_object_add(timings, "duration_ms", ms_or_null(res->duration_ms));
	json_object_object_add(timings, "plugs", plugs_json(res->plugs));
	json_object_object_add(c, "timings", timings);
	json_object_object_add(c, "boot", res->ran ? boot_json(res) : NULL);

	json_object_object_add(smi, "runs", json_object_new_int(res->smi_runs));
	json_object_object_add(smi, "runs_survived", json_object_new_int(res->smi_runs_survived));
	json_object_object_add(smi, "accesses", json_object_new_int(res->smi_accesses));
	json_object_object_add(smi, "ms", json_object_new_int64(res->smi_ms));
	json_object_object_add(smi, "stalls", json_object_new_int(res->smm_stalls));
	json_object_object_add(smi, "longest_stall_ms",
			       json_object_new_int64(res->smm_stall_longest_ms));
	json_object_object_add(c, "smi", smi);
	/* The firmware's own account, when it writes one: its facts, and the
	 * checks against the topology, the guest and the expectations. */
	json_object_object_add(c, "firmware", res->firmware ? hpci_fw_log_to_json(res->firmware)
							    : NULL);
	json_object_object_add(c, "firmware_problems", hpci_json_strings(res->firmware_problems));
	json_object_object_add(c, "attack", attack_json(res->attack));
	json_object_object_add(c, "attempts", attempts_json(res));
	return c;
}

/* What `bisect --reports` reads to bisect between two nights' revisions. */
static json_object *origin_json(const struct hpci_source_origin *origin)
{
	json_object *o;

	if (!origin->kind)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(origin->kind));
	json_object_object_add(o, "location", str_or_null(origin->location));
	json_object_object_add(o, "revision", str_or_null(origin->revision));
	return o;
}

static json_object *identities_json(GPtrArray *ids)
{
	json_object *arr = json_object_new_array();

	for (guint i = 0; i < ids->len; i++) {
		const struct hpci_identity *id = g_ptr_array_index(ids, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "role", json_object_new_string(id->role));
		json_object_object_add(o, "path", str_or_null(id->path));
		json_object_object_add(o, "version", str_or_null(id->version));
		json_object_object_add(o, "sha256", str_or_null(id->sha256));
		json_object_object_add(o, "source", origin_json(&id->origin));
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *hpci_report_summary_json(const struct hpci_verdict_counts *counts)
{
	json_object *summary = json_object_new_object();

	json_object_object_add(summary, "cells", json_object_new_int64(counts->cells));
	for (unsigned v = 0; v < HPCI_VERDICT__COUNT; v++)
		json_object_object_add(summary, hpci_verdict_summary_key(v),
				       json_object_new_int64(counts->of[v]));
	return summary;
}

char *hpci_report_json(const struct hpci_run_report *report)
{
	g_autoptr(json_object) root = json_object_new_object();
	json_object *host = json_object_new_object();
	json_object *matrix = json_object_new_object();
	json_object *cells = json_object_new_array();
	json_object *run = json_object_new_object();
	struct hpci_verdict_counts counts;

	json_object_object_add(root, "schema", json_object_new_int(HPCI_REPORT_SCHEMA));
	json_object_object_add(root, "tool", json_object_new_string("hotplug-ci"));
	json_object_object_add(root, "tool_version", str_or_null(report->tool_version));
	json_object_object_add(root, "started_at", str_or_null(report->started_at));
	json_object_object_add(root, "duration_ms", json_object_new_int64(report->duration_ms));
	json_object_object_add(root, "interrupted", json_object_new_boolean(report->interrupted));

	json_object_object_add(host, "kernel", str_or_null(report->host_kernel));
	json_object_object_add(host, "cpu", str_or_null(report->host_cpu));
	json_object_object_add(host, "accel", str_or_null(report->accel));
	json_object_object_add(host, "libvirt", str_or_null(report->libvirt));
	json_object_object_add(root, "host", host);

	json_object_object_add(matrix, "path", str_or_null(report->matrix_path));
	json_object_object_add(matrix, "name", str_or_null(report->matrix_name));
	json_object_object_add(matrix, "sha256", str_or_null(report->matrix_sha256));
	json_object_object_add(root, "matrix", matrix);
	if (report->axis_values)
		json_object_object_add(root, "axes", axis_order_json(report->axis_values));

	json_object_object_add(run, "jobs", json_object_new_int(report->run.jobs));
	json_object_object_add(run, "repeat", json_object_new_int(report->run.repeat));
	json_object_object_add(run, "retries", json_object_new_int(report->run.retries));
	json_object_object_add(run, "infra_retries", json_object_new_int(report->run.infra_retries));
	json_object_object_add(run, "filters", hpci_json_strings(report->run.filters));
	json_object_object_add(run, "sets", hpci_json_strings(report->run.sets));
	json_object_object_add(run, "shard", str_or_null(report->run.shard));
	json_object_object_add(run, "connections", hpci_json_strings(report->run.connections));
	json_object_object_add(run, "boot_reuse", json_object_new_boolean(report->run.boot_reuse));
	json_object_object_add(root, "run", run);
	json_object_object_add(root, "identities", identities_json(report->identities));

	for (guint i = 0; i < report->results->len; i++)
		json_object_array_add(cells, cell_json(g_ptr_array_index(report->results, i)));
	hpci_run_report_count(report, &counts);
	json_object_object_add(root, "summary", hpci_report_summary_json(&counts));
	json_object_object_add(root, "cells", cells);

	return g_strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
}

int hpci_report_write_json(const struct hpci_run_report *report, const char *path)
{
	g_autofree char *text = hpci_report_json(report);
	g_autofree char *with_newline = g_strconcat(text, "\n", NULL);

	return hpci_write_file(path, with_newline, -1);
}
