/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "cell-run.h"
#include "prepare.h"
#include "progress.h"
#include "scheduler.h"
#include "select.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "interrupt.h"
#include "matrix.h"
#include "report-json.h"
#include "strlist.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MEMORY_MIB 512
#define DEFAULT_RETRIES 1
#define DEFAULT_INFRA_RETRIES 2
#define MAX_JOBS 64
#define MAX_ATTEMPTS 100

struct run_options {
	char *matrix;
	char *out;
	char **uris;
	char *accel;
	gboolean keep_disks;
	gboolean cold;
	gboolean restore_any_qemu;
	int memory_mib;
	int jobs;               /* 0: from the host */
	char **filters;
	char **sets;
	char *shard;
	int repeat;
	int retries;
	int infra_retries;
	gboolean quiet;
	gboolean verbose;
};

static void run_options_clear(struct run_options *o)
{
	g_free(o->matrix);
	g_free(o->out);
	g_strfreev(o->uris);
	g_free(o->accel);
	g_strfreev(o->filters);
	g_strfreev(o->sets);
	g_free(o->shard);
}
typedef struct run_options run_options;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(run_options, run_options_clear)

static char *default_out_dir(const char *matrix_name)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_autofree char *name = g_strdup_printf("%s-%s", stamp, matrix_name);

	return g_build_filename(HPCI_SOURCE_ROOT, "reports", "runs", name, NULL);
}

/* The libvirt connections, one per --connect. */
static int open_connections(const struct run_options *opt, GPtrArray *virts)
{
	int rc;

	for (char **uri = opt->uris; *uri; uri++) {
		struct hpci_virt *virt;

		if ((rc = hpci_virt_open(*uri, &virt)) < 0)
			return rc;
		g_ptr_array_add(virts, virt);
	}
	return 0;
}

static void fill_host(struct hpci_run_report *report, const struct hpci_matrix *matrix,
		      const char *accel)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	report->tool_version = g_strdup(HPCI_VERSION);
	report->started_at = g_date_time_format_iso8601(now);
	report->host_kernel = hpci_host_kernel();
	report->host_cpu = hpci_host_cpu_model();
	report->accel = g_strdup(accel);
	report->matrix_path = g_strdup(matrix->path);
	report->matrix_name = g_strdup(matrix->name);
	report->matrix_sha256 = g_strdup(matrix->sha256);
	report->axis_values = matrix->axis_values;
}

/* An unexpected breach is a failure (its verdict is fail), so it exits 1. */
static int exit_status(const struct hpci_run_report *report)
{
	struct hpci_verdict_counts counts;

	if (report->interrupted)
		return HPCI_EXIT_INTERRUPTED;
	hpci_run_report_count(report, &counts);
	if (counts.of[HPCI_VERDICT_FAIL] || counts.of[HPCI_VERDICT_FLAKY])
		return HPCI_EXIT_FAILURES;
	return counts.of[HPCI_VERDICT_INFRA_ERROR] ? HPCI_EXIT_INFRA : HPCI_EXIT_OK;
}

static void fill_run_settings(struct hpci_run_settings *run, const struct run_options *opt,
			      const struct hpci_matrix *matrix, unsigned jobs, const char *shard)
{
	run->jobs = jobs;
	run->repeat = opt->repeat;
	run->retries = opt->retries;
	run->infra_retries = opt->infra_retries;
	run->shard = g_strdup(shard);
	run->boot_reuse = !opt->cold;
	for (char **f = opt->filters; f && *f; f++)
		g_ptr_array_add(run->filters, g_strdup(*f));
	for (guint i = 0; i < matrix->sets->len; i++)
		g_ptr_array_add(run->sets, g_strdup(g_ptr_array_index(matrix->sets, i)));
	for (char **u = opt->uris; *u; u++)
		g_ptr_array_add(run->connections, g_strdup(*u));
}

static char *describe_connections(GPtrArray *virts)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < virts->len; i++)
		g_ptr_array_add(parts, hpci_virt_describe(g_ptr_array_index(virts, i)));
	return hpci_strings_join(parts, "; ");
}

struct run_setup {
	unsigned jobs;
	char *jobs_why;          /* how the default was chosen, or NULL */
	char *shard;             /* "K/N" or NULL */
	unsigned shard_k, shard_n;
	enum hpci_verbosity verbosity;
};

static void run_setup_clear(struct run_setup *s)
{
	g_free(s->jobs_why);
	g_free(s->shard);
}
typedef struct run_setup run_setup;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(run_setup, run_setup_clear)

/* The boot jobs of boot reuse, as they start and end. */
static void report_state(enum hpci_sched_event_kind kind, const struct hpci_boot_state *st)
{
	if (kind == HPCI_SCHED_STATE_STARTED)
		hpci_info("boot state %.12s: booting the configuration of cell '%s' to save it",
			  st->key, st->model->cell->id);
	else if (st->status == HPCI_BOOT_STATE_READY && st->made)
		hpci_info("boot state %.12s: saved (boot %.1f s, save %.1f s) for %u cell(s)",
			  st->key, st->boot_ms / 1000.0, st->save_ms / 1000.0, st->restored_cells);
	else if (st->status == HPCI_BOOT_STATE_READY)
		hpci_info("boot state %.12s: made by another run meanwhile, used", st->key);
	else
		hpci_warn("boot state %.12s: not made, its %u cell(s) boot cold: %s", st->key,
			  st->restored_cells, st->error);
}

/*
 * Boot reuse (boot-state.h): which cells restore a saved boot and which
 * boot cold.  A key that cannot be made (a file gone) is not a reason to
 * stop the run: every cell boots cold then.
 */
static void assign_states(struct hpci_prepared *prepared, const char *accel,
			  const struct run_options *opt, struct hpci_virt *virt)
{
	g_autofree char *libvirt = hpci_virt_describe(virt);
	struct hpci_boot_key_inputs in = {
		.accel = accel, .memory_mib = opt->memory_mib, .libvirt = libvirt,
		.any_emulator = opt->restore_any_qemu,
	};
	unsigned restored = 0, found = 0;

	if (opt->cold)
		return;
	if (hpci_boot_states_assign(prepared->plans, &in, &prepared->states) < 0) {
		hpci_error_prefix("boot reuse is off for this run");
		hpci_error_print();
		return;
	}
	for (guint i = 0; i < prepared->states->len; i++) {
		const struct hpci_boot_state *st = g_ptr_array_index(prepared->states, i);

		restored += st->restored_cells;
		found += st->status == HPCI_BOOT_STATE_READY;
	}
	if (prepared->states->len)
		hpci_info("boot reuse: %u cell(s) restore %u saved boot state(s) (%u in the cache), "
			  "one cell per configuration boots cold as the control (--cold: none)",
			  restored, prepared->states->len, found);
}

/* Hands the cells that still need a VM to the scheduler and reports each as
 * it is decided, writing the report after every cell so that a killed run
 * still leaves a valid one. */
static void run_cells(const struct run_setup *setup, const struct run_options *opt,
		      GPtrArray *virts, struct hpci_run_ctx *ctxs, const struct hpci_prepared *prepared,
		      struct hpci_run_report *report, const char *report_path)
{
	g_autoptr(GArray) todo = g_array_new(FALSE, FALSE, sizeof(struct hpci_sched_cell));
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(hpci_progress) progress = NULL;
	g_autoptr(hpci_scheduler) sched = NULL;
	struct hpci_retry_policy policy = {
		.repeat = opt->repeat, .retries = opt->retries, .infra_retries = opt->infra_retries,
	};
	gint64 t0 = g_get_monotonic_time();
	struct hpci_sched_event ev;
	int got;

	progress = hpci_progress_new(report->results->len, setup->verbosity,
				     isatty(STDERR_FILENO) && isatty(STDOUT_FILENO));
	for (guint i = 0; i < report->results->len; i++) {
		struct hpci_cell_result *res = g_ptr_array_index(report->results, i);
		const struct hpci_plan *plan = g_ptr_array_index(prepared->plans, i);
		struct hpci_sched_cell sc = { plan, i + 1 };

		hpci_plan_record(plan, res); /* also for a cell that never runs */
		if (plan->unrunnable) {
			hpci_cell_judge_unrunnable(plan, res);
			hpci_progress_cell(progress, res); /* decided before booting */
			continue;
		}
		g_array_append_val(todo, sc);
		g_array_append_val(slots, i);
	}
	if (todo->len == 0)
		return;
	hpci_scheduler_start(ctxs, virts->len, setup->jobs, &policy, todo, &sched);
	while ((got = hpci_scheduler_next(sched, 1000, &ev)) >= 0) {
		if (got == 1 && (ev.kind == HPCI_SCHED_STATE_STARTED ||
				 ev.kind == HPCI_SCHED_STATE_DONE)) {
			report_state(ev.kind, ev.state);
		} else if (got == 1 && ev.kind == HPCI_SCHED_STARTED) {
			hpci_progress_started(progress, g_array_index(todo, struct hpci_sched_cell,
								      ev.slot).plan->cell, ev.attempt);
		} else if (got == 1) {
			guint at = g_array_index(slots, guint, ev.slot);

			/* The placeholder (not run) gives way to the decided cell. */
			hpci_cell_result_free(report->results->pdata[at]);
			report->results->pdata[at] = ev.result;
			hpci_progress_cell(progress, ev.result);
			report->duration_ms = (g_get_monotonic_time() - t0) / 1000;
			(void)hpci_report_write_json(report, report_path);
		}
		hpci_progress_tick(progress, hpci_scheduler_running(sched));
	}
}

static int run_matrix(const struct run_options *opt, const struct run_setup *setup,
		      struct hpci_matrix *matrix, const char *accel, const char *out_dir)
{
	struct hpci_prepare_host host = {
		.accel = accel, .jobs = setup->jobs, .cores = g_get_num_processors(),
	};
	g_autoptr(hpci_prepared) prepared = NULL;
	g_autoptr(GPtrArray) virts = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_virt_close);
	g_autofree char *report_path = g_build_filename(out_dir, "report.json", NULL);
	g_autofree char *run_id = g_path_get_basename(out_dir);
	g_autofree struct hpci_run_ctx *ctxs = NULL;
	g_auto(hpci_run_report) report = { 0 };
	g_autofree char *summary = NULL;
	gint64 t0 = g_get_monotonic_time();

	hpci_run_report_init(&report);
	fill_host(&report, matrix, accel);
	fill_run_settings(&report.run, opt, matrix, setup->jobs, setup->shard);
	for (guint i = 0; i < matrix->cells->len; i++)
		g_ptr_array_add(report.results,
				hpci_cell_result_new(g_ptr_array_index(matrix->cells, i)));

	if (open_connections(opt, virts) < 0 ||
	    hpci_prepare(matrix->cells, virts, &host, report.identities, &prepared) < 0) {
		return hpci_error_exit(hpci_interrupted() ? HPCI_EXIT_INTERRUPTED : HPCI_EXIT_INFRA);
	}
	report.libvirt = describe_connections(virts);
	assign_states(prepared, accel, opt, g_ptr_array_index(virts, 0));
	/* Domain names must be short and unique per run: a timestamp is. */
	for (char *p = run_id; *p; p++) {
		if (!g_ascii_isalnum(*p))
			*p = '-';
	}
	ctxs = g_new0(struct hpci_run_ctx, virts->len);
	for (guint v = 0; v < virts->len; v++)
		ctxs[v] = (struct hpci_run_ctx){
			.virt = g_ptr_array_index(virts, v), .accel = accel, .run_dir = out_dir,
			.run_id = run_id, .keep_disks = opt->keep_disks,
			.memory_mib = opt->memory_mib,
		};

	if (setup->jobs_why)
		hpci_info("jobs: %u (%s)", setup->jobs, setup->jobs_why);
	hpci_info("running %u cells of '%s' (accel %s, %u at a time on %u connection(s)), "
		  "report in %s", matrix->cells->len, matrix->name, accel, setup->jobs, virts->len,
		  out_dir);
	(void)hpci_report_write_json(&report, report_path);
	run_cells(setup, opt, virts, ctxs, prepared, &report, report_path);

	report.interrupted = hpci_interrupted();
	report.duration_ms = (g_get_monotonic_time() - t0) / 1000;
	if (hpci_report_write_json(&report, report_path) < 0)
		hpci_error_print();
	summary = hpci_progress_summary(&report, report_path);
	fputs(summary, stdout);
	return exit_status(&report);
}

/* --shard, else GitLab's parallel:N variables (CI_NODE_INDEX is 1-based). */
static int resolve_shard(const char *given, struct run_setup *setup)
{
	const char *index = g_getenv("CI_NODE_INDEX"), *total = g_getenv("CI_NODE_TOTAL");
	g_autofree char *from_env = NULL;
	int rc;

	if (given)
		rc = hpci_shard_parse(given, "--shard", &setup->shard_k, &setup->shard_n);
	else if (index && total)
		rc = hpci_shard_parse(from_env = g_strdup_printf("%s/%s", index, total),
				      "CI_NODE_INDEX/CI_NODE_TOTAL", &setup->shard_k, &setup->shard_n);
	else
		return 0;
	if (rc == 0)
		setup->shard = g_strdup_printf("%u/%u", setup->shard_k, setup->shard_n);
	return rc;
}

static int check_count(const char *option, int value, int min, int max)
{
	if (value >= min && value <= max)
		return 0;
	return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "%s %d is out of range; use %d to %d",
			       option, value, min, max);
}

/* The option values glib cannot check, and the defaults that depend on none. */
static int check_options(struct run_options *opt)
{
	int rc;

	if ((rc = check_count("--memory", opt->memory_mib, 128, 16384)) < 0 ||
	    (rc = check_count("--jobs", opt->jobs, 0, MAX_JOBS)) < 0 ||
	    (rc = check_count("--repeat", opt->repeat, 1, MAX_ATTEMPTS)) < 0 ||
	    (rc = check_count("--retries", opt->retries, 0, MAX_ATTEMPTS)) < 0 ||
	    (rc = check_count("--infra-retries", opt->infra_retries, 0, MAX_ATTEMPTS)) < 0)
		return rc;
	if (opt->cold && opt->restore_any_qemu)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--cold restores nothing and "
				       "--restore-any-qemu restores on any QEMU; give one of them");
	if (opt->quiet && opt->verbose)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL,
				       "--quiet and --verbose contradict each other; choose one");
	if (!opt->uris)
		opt->uris = g_strdupv((char *[]){ HPCI_DEFAULT_URI, NULL });
	return 0;
}

/* --filter, then --shard, over the matrix's cells. */
static int select_cells(const struct run_options *opt, const struct run_setup *setup,
			struct hpci_matrix *matrix)
{
	int rc;

	if (opt->filters &&
	    (rc = hpci_matrix_filter(matrix, (const char *const *)opt->filters,
				     g_strv_length(opt->filters), "--filter")) < 0)
		return rc;
	if (setup->shard && (rc = hpci_matrix_shard(matrix, setup->shard_k, setup->shard_n)) < 0)
		return rc;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	g_auto(run_options) opt = {
		.memory_mib = DEFAULT_MEMORY_MIB, .repeat = 1, .retries = DEFAULT_RETRIES,
		.infra_retries = DEFAULT_INFRA_RETRIES,
	};
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &opt.matrix,
		  "matrix file to run (required), e.g. matrix/full.json", "FILE" },
		{ "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
		  "report directory (default: reports/runs/<date>-<matrix name>)", "DIR" },
		{ "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &opt.filters,
		  "run only the cells whose axis values match, e.g. 'qemu=patched,ops!=burst|cycle*' "
		  "(globs; terms ANDed; the option repeated ORs)", "EXPR" },
		{ "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt.sets,
		  "change a field of the matrix before it is checked: PATH=VALUE sets a string, "
		  "PATH:=JSON any JSON value (null removes the key), e.g. "
		  "'axes.firmware.smm-debug.build.rev=4f3a2b1' (a key * stands for each member "
		  "there); repeatable, a later one wins; "
		  "relative paths are from the current directory (matrix/README.md)",
		  "PATH=VALUE" },
		{ "shard", 0, 0, G_OPTION_ARG_STRING, &opt.shard,
		  "run shard K of N of the selected cells (default: CI_NODE_INDEX/CI_NODE_TOTAL "
		  "when GitLab sets them)", "K/N" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs,
		  "cells to run at once (default: one per core, fewer if memory is short)", "N" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &opt.uris,
		  "libvirt URI (default: " HPCI_DEFAULT_URI "); repeat to spread cells over several "
		  "hosts, which must see the same cache and report paths", "URI" },
		{ "repeat", 0, 0, G_OPTION_ARG_INT, &opt.repeat,
		  "run every cell N times; answers that differ make it flaky (default: 1)", "N" },
		{ "retries", 0, 0, G_OPTION_ARG_INT, &opt.retries,
		  "re-run a failing cell up to N times to tell flaky from solid (default: 1)", "N" },
		{ "infra-retries", 0, 0, G_OPTION_ARG_INT, &opt.infra_retries,
		  "re-run a cell up to N times after an infrastructure error (default: 2)", "N" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &opt.accel,
		  "tcg or kvm (default: kvm only when it works with SMM here)", "ACCEL" },
		{ "cold", 0, 0, G_OPTION_ARG_NONE, &opt.cold,
		  "boot every cell from scratch (default: cells that share a configuration up to "
		  "their first step restore one saved boot of it, and one of them boots cold as "
		  "the control)", NULL },
		{ "restore-any-qemu", 0, 0, G_OPTION_ARG_NONE, &opt.restore_any_qemu,
		  "restore saved boots of SMM guests also on a QEMU without our patch 0010 "
		  "(Debian's 7.2 opens the SMRAM at the default SMBASE on a restore: its "
		  "restored SMM cells are breaches; for showing and bisecting that bug)", NULL },
		{ "keep-disks", 0, 0, G_OPTION_ARG_NONE, &opt.keep_disks,
		  "keep each cell's overlay and NVRAM copy in its report directory", NULL },
		{ "memory", 0, 0, G_OPTION_ARG_INT, &opt.memory_mib,
		  "guest memory in MiB (default: 512)", "MIB" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt.quiet,
		  "print only the cells that did not go as expected, and the summary", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose,
		  "also print each attempt as it starts, and every cell's evidence", NULL },
		{ NULL }
	};
	g_autofree char *accel = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *out_dir = NULL;
	g_autofree char *existing = NULL;
	g_autoptr(hpci_matrix) matrix = NULL;
	g_auto(run_setup) setup = { 0 };
	struct hpci_matrix_host host;
	guint total;
	int status;

	if ((status = hpci_parse_options(&argc, &argv, "",
					 "Run the cells of a matrix as real VMs through libvirt, "
					 "several at a time, and write DIR/report.json plus "
					 "per-cell logs.", entries)))
		return status;
	if (!opt.matrix)
		return hpci_usage_error("run", "--matrix FILE is required, e.g. matrix/full.json");
	if (check_options(&opt) < 0 || resolve_shard(opt.shard, &setup) < 0 ||
	    hpci_resolve_accel(opt.accel, &accel, &reason) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	host.accel = accel;
	if (hpci_matrix_load_with(opt.matrix, &host, (const char *const *)opt.sets,
				  opt.sets ? g_strv_length(opt.sets) : 0, &matrix) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	total = matrix->cells->len;
	if (select_cells(&opt, &setup, matrix) < 0 ||
	    hpci_prepare_preflight(matrix->path, matrix->cells) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	setup.jobs = opt.jobs > 0 ? (unsigned)opt.jobs
				 : hpci_host_default_jobs((unsigned)opt.memory_mib, &setup.jobs_why);
	setup.verbosity = opt.quiet ? HPCI_QUIET : opt.verbose ? HPCI_VERBOSE : HPCI_NORMAL;
	/* Absolute: libvirtd opens the cells' NVRAM and disks from its own
	 * working directory, not ours. */
	out_dir = opt.out ? g_canonicalize_filename(opt.out, NULL) : default_out_dir(matrix->name);
	existing = g_build_filename(out_dir, "report.json", NULL);
	if (hpci_is_file(existing)) {
		hpci_error(EEXIST, "'%s' already holds a report; choose another --out", out_dir);
		return hpci_error_exit(HPCI_EXIT_USAGE);
	}
	if (hpci_mkdir_p(out_dir, 0755) < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	if (reason)
		hpci_info("accelerator: %s (%s)", accel, reason);
	for (guint i = 0; i < matrix->sets->len; i++)
		hpci_info("--set %s", (const char *)g_ptr_array_index(matrix->sets, i));
	if (matrix->cells->len != total)
		hpci_info("selected %u of the %u cells of '%s'%s%s", matrix->cells->len, total,
			  matrix->path, setup.shard ? ", shard " : "", setup.shard ? setup.shard : "");
	hpci_interrupt_install();
	return run_matrix(&opt, &setup, matrix, accel, out_dir);
}
