/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "cell-run.h"
#include "progress.h"
#include "scheduler.h"
#include "select.h"
#include "error.h"
#include "firmware-build.h"
#include "fsutil.h"
#include "host.h"
#include "image.h"
#include "interrupt.h"
#include "matrix.h"
#include "qemu-build.h"
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
	int memory_mib;
	int jobs;               /* 0: from the host */
	char **filters;
	char *shard;
	int repeat;
	int retries;
	int infra_retries;
	gboolean quiet;
	gboolean verbose;
};

static void run_options_release(struct run_options *o)
{
	g_free(o->matrix);
	g_free(o->out);
	g_strfreev(o->uris);
	g_free(o->accel);
	g_strfreev(o->filters);
	g_free(o->shard);
}

/* Every file a cell needs must exist before any VM starts. */
static int preflight(const struct hpci_matrix *matrix)
{
	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		const struct { const char *what, *path; bool exec; } files[] = {
			{ "firmware code", cell->firmware.code, false },
			{ "firmware vars template", cell->firmware.vars, false },
			{ "emulator", cell->qemu.emulator, true }, /* NULL: built later */
		};

		for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
			if (!files[f].path)
				continue;
			if (access(files[f].path, files[f].exec ? X_OK : R_OK) < 0)
				return hpci_error_errno(errno, "%s: cell '%s': %s '%s' is not usable; "
							"install it or fix the matrix",
							matrix->path, cell->id, files[f].what,
							files[f].path);
		}
	}
	return 0;
}

static char *default_out_dir(const char *matrix_name)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_autofree char *name = g_strdup_printf("%s-%s", stamp, matrix_name);

	return g_build_filename(HPCI_SOURCE_ROOT, "reports", "runs", name, NULL);
}

static bool identity_known(GPtrArray *ids, const char *role, const char *path)
{
	for (guint i = 0; i < ids->len; i++) {
		const struct hpci_identity *id = g_ptr_array_index(ids, i);

		if (!strcmp(id->role, role) && !strcmp(id->path, path))
			return true;
	}
	return false;
}

static int add_identity(GPtrArray *ids, const char *role, const char *path, const char *version)
{
	struct hpci_identity *id;
	int rc;

	if (identity_known(ids, role, path))
		return 0;
	if ((rc = hpci_identity_new(role, path, version, &id)) < 0)
		return rc;
	g_ptr_array_add(ids, id);
	return 0;
}

static int record_identities(struct hpci_run_report *report, struct hpci_matrix *matrix,
			     GHashTable *images)
{
	GHashTableIter iter;
	gpointer value;
	int rc;

	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		g_autofree char *version = NULL;
		g_autofree char *fw_version = NULL;

		if (!cell->qemu.emulator || !cell->firmware.code)
			continue; /* its build failed: the cell says so */
		if (!identity_known(report->identities, "qemu", cell->qemu.emulator) &&
		    (rc = hpci_host_qemu_version(cell->qemu.emulator, &version)) < 0)
			return rc;
		if (cell->firmware.descriptor)
			fw_version = g_strdup_printf("descriptor %s", cell->firmware.descriptor);
		if ((rc = add_identity(report->identities, "qemu", cell->qemu.emulator, version)) < 0 ||
		    (rc = add_identity(report->identities, "firmware-code", cell->firmware.code,
				       fw_version)) < 0 ||
		    (rc = add_identity(report->identities, "firmware-vars", cell->firmware.vars,
				       fw_version)) < 0)
			return rc;
	}
	g_hash_table_iter_init(&iter, images);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const struct hpci_image *image = value;

		if ((rc = add_identity(report->identities, "image", image->path, image->key)) < 0)
			return rc;
	}
	return 0;
}

static void free_image(gpointer p)
{
	hpci_image_release(p);
	g_free(p);
}

static int build_images(const struct hpci_matrix *matrix, GHashTable *images)
{
	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		g_autofree struct hpci_image *image = NULL;
		int rc;

		if (g_hash_table_contains(images, cell->image))
			continue;
		image = g_new0(struct hpci_image, 1);
		if ((rc = hpci_image_build(cell->image, image)) < 0) {
			hpci_error_prefix("cannot build image '%s'", cell->image);
			return rc;
		}
		g_hash_table_insert(images, g_strdup(cell->image), g_steal_pointer(&image));
	}
	return 0;
}

/* A string that is equal for equal recipes, to build each once per run. */
static char *recipe_id(const char *kind, const char *source, const char *rev, const char *sha256,
		       const char *patches, const GPtrArray *args1, const GPtrArray *args2,
		       const char *extra)
{
	GString *s = g_string_new(kind);
	const GPtrArray *lists[] = { args1, args2 };

	g_string_append_printf(s, "\n%s\n%s\n%s\n%s\n%s", source, rev ? rev : "",
			       sha256 ? sha256 : "", patches ? patches : "", extra ? extra : "");
	for (size_t l = 0; l < G_N_ELEMENTS(lists); l++) {
		g_string_append(s, "\n--");
		for (guint i = 0; lists[l] && i < lists[l]->len; i++)
			g_string_append_printf(s, "\n%s", (char *)g_ptr_array_index(lists[l], i));
	}
	return g_string_free(s, FALSE);
}

static char *joined_patches(const GPtrArray *names)
{
	return names->len ? hpci_strings_join(names, ", ") : g_strdup("none");
}

/* What a recipe gave: the paths a cell needs (emulator; or code and vars). */
typedef char **built_paths;

static int build_qemu(const struct hpci_cell *cell, struct hpci_run_report *report,
		      struct hpci_virt *virt, built_paths *ret)
{
	const struct hpci_qemu_recipe *r = cell->qemu.recipe;
	struct hpci_qemu_request req = {
		.source = r->source, .rev = r->rev, .sha256 = r->sha256, .patches = r->patches,
		.configure = r->configure,
	};
	struct hpci_qemu_build build = { 0 };
	g_autofree char *version = NULL;
	g_autofree char *patches = NULL;
	int rc;

	if ((rc = hpci_qemu_build(&req, &build)) < 0)
		return rc;
	if ((rc = hpci_virt_check_emulator(virt, build.emulator)) < 0) {
		hpci_qemu_build_release(&build);
		return rc;
	}
	hpci_info("qemu: %s of %s, key %.12s (%s)", build.version, build.source, build.key,
		  build.cache_hit ? "cache hit" : "built");
	patches = joined_patches(build.patches);
	version = g_strdup_printf("%s (build %.12s of %s; patches: %s)", build.version,
				  build.key, build.source, patches);
	rc = add_identity(report->identities, "qemu", build.emulator, version);
	if (rc == 0)
		*ret = g_strdupv((char *[]){ build.emulator, NULL });
	hpci_qemu_build_release(&build);
	return rc;
}

static int build_firmware(const struct hpci_cell *cell, struct hpci_run_report *report,
			  struct hpci_virt *virt, built_paths *ret)
{
	const struct hpci_firmware_recipe *r = cell->firmware.recipe;
	struct hpci_firmware_request req = {
		.source = r->source, .rev = r->rev, .sha256 = r->sha256, .patches = r->patches,
		.build_type = r->build_type, .defines = r->defines, .pcds = r->pcds,
	};
	struct hpci_firmware_build build = { 0 };
	g_autofree char *version = NULL;
	g_autofree char *patches = NULL;
	int rc;

	(void)virt;
	if ((rc = hpci_firmware_build(&req, &build)) < 0)
		return rc;
	hpci_info("firmware: %s, key %.12s (%s)", build.version, build.key,
		  build.cache_hit ? "cache hit" : "built");
	patches = joined_patches(build.patches);
	version = g_strdup_printf("%s; patches: %s", build.version, patches);
	if ((rc = add_identity(report->identities, "firmware-code", build.code, version)) == 0 &&
	    (rc = add_identity(report->identities, "firmware-vars", build.vars, version)) == 0)
		*ret = g_strdupv((char *[]){ build.code, build.vars, NULL });
	hpci_firmware_build_release(&build);
	return rc;
}

/* A kind of recipe a cell may carry: how to name it, build it and use it. */
struct recipe_kind {
	const char *what;
	char *(*id)(const struct hpci_cell *cell);         /* NULL: nothing to build */
	int (*build)(const struct hpci_cell *cell, struct hpci_run_report *report,
		     struct hpci_virt *virt, built_paths *ret);
	void (*use)(struct hpci_cell *cell, char **paths);
};

static char *qemu_recipe_id(const struct hpci_cell *cell)
{
	const struct hpci_qemu_recipe *r = cell->qemu.recipe;

	if (!r || cell->qemu.emulator)
		return NULL;
	return recipe_id("qemu", r->source, r->rev, r->sha256, r->patches, r->configure, NULL,
			 NULL);
}

static void use_qemu(struct hpci_cell *cell, char **paths)
{
	cell->qemu.emulator = g_strdup(paths[0]);
}

static char *firmware_recipe_id(const struct hpci_cell *cell)
{
	const struct hpci_firmware_recipe *r = cell->firmware.recipe;

	if (!r || cell->firmware.code)
		return NULL;
	return recipe_id("firmware", r->source, r->rev, r->sha256, r->patches, r->defines,
			 r->pcds, r->build_type);
}

static void use_firmware(struct hpci_cell *cell, char **paths)
{
	cell->firmware.code = g_strdup(paths[0]);
	cell->firmware.vars = g_strdup(paths[1]);
}

static const struct recipe_kind recipe_kinds[] = {
	{ "QEMU", qemu_recipe_id, build_qemu, use_qemu },
	{ "OVMF", firmware_recipe_id, build_firmware, use_firmware },
};

/*
 * Builds every QEMU and firmware recipe the matrix names (once per distinct
 * recipe, each a cache hit after the first time) and fills in the cells'
 * paths.  A cell whose build failed becomes an infra-error with the build's
 * message (which names the log) and is not run; the other cells still are.
 */
static void build_recipes(struct hpci_matrix *matrix, struct hpci_run_report *report,
			  struct hpci_virt *virt)
{
	/* recipe id -> the paths built (char **), or NULL when its build failed */
	g_autoptr(GHashTable) built = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							    (GDestroyNotify)g_strfreev);
	/* recipe id -> the failed build's message */
	g_autoptr(GHashTable) failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; i < matrix->cells->len && !hpci_interrupted(); i++) {
		struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		struct hpci_cell_result *res = g_ptr_array_index(report->results, i);

		for (size_t k = 0; k < G_N_ELEMENTS(recipe_kinds) && !hpci_interrupted(); k++) {
			const struct recipe_kind *kind = &recipe_kinds[k];
			g_autofree char *id = kind->id(cell);
			char **paths;

			if (!id)
				continue;
			if (!g_hash_table_contains(built, id)) {
				built_paths made = NULL;

				if (kind->build(cell, report, virt, &made) < 0) {
					hpci_error_prefix("cannot build %s for cell '%s'", kind->what,
							  cell->id);
					hpci_error_print();
					g_hash_table_insert(failed, g_strdup(id),
							    g_strdup(hpci_error_message()));
				}
				g_hash_table_insert(built, g_strdup(id), made);
			}
			if ((paths = g_hash_table_lookup(built, id))) {
				kind->use(cell, paths);
				continue;
			}
			if (res->ran)
				continue; /* the first failed build is the one reported */
			res->ran = true;
			res->outcome = HPCI_OUTCOME_INFRA_ERROR;
			res->error = g_strdup(g_hash_table_lookup(failed, id));
			res->evidence = g_strdup_printf("the cell's %s could not be built", kind->what);
		}
	}
}

/* Every connection must be able to start every emulator (the first one
 * checked the built ones already). */
static int check_emulators(GPtrArray *virts, const struct hpci_matrix *matrix)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	int rc;

	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);

		if (!cell->qemu.emulator || !g_hash_table_add(seen, cell->qemu.emulator))
			continue;
		for (guint v = 1; v < virts->len; v++) {
			if ((rc = hpci_virt_check_emulator(g_ptr_array_index(virts, v),
							   cell->qemu.emulator)) < 0) {
				hpci_error_prefix("libvirt at '%s'",
						  hpci_virt_uri(g_ptr_array_index(virts, v)));
				return rc;
			}
		}
	}
	return 0;
}

/* Everything the cells share, before the first VM: libvirt connections, the
 * QEMU and firmware builds (a failed one marks only its cells), the images,
 * the identities. */
static int prepare(const struct run_options *opt, struct hpci_matrix *matrix,
		   struct hpci_run_report *report, GHashTable *images, GPtrArray *virts)
{
	int rc;

	for (char **uri = opt->uris; *uri; uri++) {
		struct hpci_virt *virt;

		if ((rc = hpci_virt_open(*uri, &virt)) < 0)
			return rc;
		g_ptr_array_add(virts, virt);
	}
	build_recipes(matrix, report, g_ptr_array_index(virts, 0));
	if (hpci_interrupted())
		return hpci_error(EINTR, "interrupted while building");
	if ((rc = check_emulators(virts, matrix)) < 0 ||
	    (rc = build_images(matrix, images)) < 0 ||
	    (rc = record_identities(report, matrix, images)) < 0)
		return rc;
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

static void print_summary(const struct hpci_run_report *report, const char *report_path)
{
	struct hpci_verdict_counts counts;
	g_autoptr(GString) s = g_string_new(NULL);

	hpci_run_report_count(report, &counts);
	g_string_append_printf(s, "%u of %u cells as expected", counts.of[HPCI_VERDICT_PASS],
			       report->results->len);
	for (unsigned v = 0; v < HPCI_VERDICT__COUNT; v++) {
		if (v != HPCI_VERDICT_PASS && counts.of[v])
			g_string_append_printf(s, ", %u %s", counts.of[v], hpci_verdict_name(v));
	}
	printf("%s%s; report: %s\n", s->str, report->interrupted ? " (interrupted)" : "",
	       report_path);
}

/* When more cells run at once than there are cores, each gets a share of a
 * core, and a TCG guest's steps take that much longer. */
static void scale_timeouts(struct hpci_matrix *matrix, unsigned jobs)
{
	unsigned cores = g_get_num_processors();

	if (jobs <= cores)
		return;
	for (guint i = 0; i < matrix->cells->len; i++) {
		struct hpci_timeouts *t = &((struct hpci_cell *)g_ptr_array_index(matrix->cells, i))->timeouts;
		unsigned *each[] = { &t->boot_ms, &t->plug_ms, &t->online_ms, &t->unplug_ms, &t->smi_ms };

		for (size_t k = 0; k < G_N_ELEMENTS(each); k++)
			*each[k] = (unsigned)((guint64)*each[k] * jobs / cores);
	}
}

static void fill_run_settings(struct hpci_run_settings *run, const struct run_options *opt,
			      unsigned jobs, const char *shard)
{
	run->jobs = jobs;
	run->repeat = opt->repeat;
	run->retries = opt->retries;
	run->infra_retries = opt->infra_retries;
	run->shard = g_strdup(shard);
	for (char **f = opt->filters; f && *f; f++)
		g_ptr_array_add(run->filters, g_strdup(*f));
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

struct run_plan {
	unsigned jobs;
	char *jobs_why;          /* how the default was chosen, or NULL */
	char *shard;             /* "K/N" or NULL */
	unsigned shard_k, shard_n;
	enum hpci_verbosity verbosity;
};

/* Hands the cells that still need a VM to the scheduler and reports each as
 * it is decided, writing the report after every cell so that a killed run
 * still leaves a valid one. */
static void run_cells(const struct run_plan *plan, const struct run_options *opt,
		      GPtrArray *virts, struct hpci_run_ctx *ctxs, struct hpci_run_report *report,
		      const char *report_path)
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

	progress = hpci_progress_new(report->results->len, plan->verbosity,
				     isatty(STDERR_FILENO) && isatty(STDOUT_FILENO));
	for (guint i = 0; i < report->results->len; i++) {
		struct hpci_cell_result *res = g_ptr_array_index(report->results, i);
		struct hpci_sched_cell sc = { res->cell, i + 1 };

		if (res->ran) {
			hpci_progress_cell(progress, res); /* decided before booting */
			continue;
		}
		g_array_append_val(todo, sc);
		g_array_append_val(slots, i);
	}
	if (todo->len == 0)
		return;
	hpci_scheduler_start(ctxs, virts->len, plan->jobs, &policy, todo, &sched);
	while ((got = hpci_scheduler_next(sched, 1000, &ev)) >= 0) {
		if (got == 1 && ev.kind == HPCI_SCHED_STARTED) {
			hpci_progress_started(progress, g_array_index(todo, struct hpci_sched_cell,
								      ev.slot).cell, ev.attempt);
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

static int run_matrix(const struct run_options *opt, const struct run_plan *plan,
		      struct hpci_matrix *matrix, const char *accel, const char *out_dir)
{
	g_autoptr(GHashTable) images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							     free_image);
	g_autoptr(GPtrArray) virts = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_virt_close);
	g_autofree char *report_path = g_build_filename(out_dir, "report.json", NULL);
	g_autofree char *run_id = g_path_get_basename(out_dir);
	g_autofree struct hpci_run_ctx *ctxs = NULL;
	struct hpci_run_report report;
	gint64 t0 = g_get_monotonic_time();
	int status;

	hpci_run_report_init(&report);
	fill_host(&report, matrix, accel);
	fill_run_settings(&report.run, opt, plan->jobs, plan->shard);
	for (guint i = 0; i < matrix->cells->len; i++)
		g_ptr_array_add(report.results,
				hpci_cell_result_new(g_ptr_array_index(matrix->cells, i)));

	if (prepare(opt, matrix, &report, images, virts) < 0) {
		hpci_error_print();
		hpci_run_report_release(&report);
		return hpci_interrupted() ? HPCI_EXIT_INTERRUPTED : HPCI_EXIT_INFRA;
	}
	report.libvirt = describe_connections(virts);
	/* Domain names must be short and unique per run: a timestamp is. */
	for (char *p = run_id; *p; p++) {
		if (!g_ascii_isalnum(*p))
			*p = '-';
	}
	ctxs = g_new0(struct hpci_run_ctx, virts->len);
	for (guint v = 0; v < virts->len; v++)
		ctxs[v] = (struct hpci_run_ctx){
			.virt = g_ptr_array_index(virts, v), .accel = accel, .run_dir = out_dir,
			.run_id = run_id, .images = images, .keep_disks = opt->keep_disks,
			.memory_mib = opt->memory_mib,
		};

	if (plan->jobs_why)
		hpci_info("jobs: %u (%s)", plan->jobs, plan->jobs_why);
	hpci_info("running %u cells of '%s' (accel %s, %u at a time on %u connection(s)), "
		  "report in %s", matrix->cells->len, matrix->name, accel, plan->jobs, virts->len,
		  out_dir);
	(void)hpci_report_write_json(&report, report_path);
	run_cells(plan, opt, virts, ctxs, &report, report_path);

	report.interrupted = hpci_interrupted();
	report.duration_ms = (g_get_monotonic_time() - t0) / 1000;
	if (hpci_report_write_json(&report, report_path) < 0)
		hpci_error_print();
	print_summary(&report, report_path);
	status = exit_status(&report);
	hpci_run_report_release(&report);
	return status;
}

/* --shard, else GitLab's parallel:N variables (CI_NODE_INDEX is 1-based). */
static int resolve_shard(const char *given, struct run_plan *plan)
{
	const char *index = g_getenv("CI_NODE_INDEX"), *total = g_getenv("CI_NODE_TOTAL");
	g_autofree char *from_env = NULL;
	int rc;

	if (given)
		rc = hpci_shard_parse(given, "--shard", &plan->shard_k, &plan->shard_n);
	else if (index && total)
		rc = hpci_shard_parse(from_env = g_strdup_printf("%s/%s", index, total),
				      "CI_NODE_INDEX/CI_NODE_TOTAL", &plan->shard_k, &plan->shard_n);
	else
		return 0;
	if (rc == 0)
		plan->shard = g_strdup_printf("%u/%u", plan->shard_k, plan->shard_n);
	return rc;
}

static int check_count(const char *option, int value, int min, int max)
{
	if (value >= min && value <= max)
		return 0;
	return hpci_error(EINVAL, "%s %d is out of range; use %d to %d", option, value, min, max);
}

int cmd_run(int argc, char **argv)
{
	struct run_options opt = {
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
	struct run_plan plan = { 0 };
	struct hpci_matrix_host host;
	guint total;
	int status;

	if ((status = hpci_parse_options(&argc, &argv, "",
					 "Run the cells of a matrix as real VMs through libvirt, "
					 "several at a time, and write DIR/report.json plus "
					 "per-cell logs.", entries)))
		goto out;
	status = HPCI_EXIT_USAGE;
	if (!opt.matrix) {
		fprintf(stderr, "hotplug-ci: error: --matrix FILE is required "
				"(e.g. --matrix matrix/full.json)\n");
		goto out;
	}
	if (check_count("--memory", opt.memory_mib, 128, 16384) < 0 ||
	    check_count("--jobs", opt.jobs, 0, MAX_JOBS) < 0 ||
	    check_count("--repeat", opt.repeat, 1, MAX_ATTEMPTS) < 0 ||
	    check_count("--retries", opt.retries, 0, MAX_ATTEMPTS) < 0 ||
	    check_count("--infra-retries", opt.infra_retries, 0, MAX_ATTEMPTS) < 0)
		goto error;
	if (opt.quiet && opt.verbose) {
		hpci_error(EINVAL, "--quiet and --verbose contradict each other; choose one");
		goto error;
	}
	if (!opt.uris)
		opt.uris = g_strdupv((char *[]){ HPCI_DEFAULT_URI, NULL });
	if (resolve_shard(opt.shard, &plan) < 0)
		goto error;
	if (hpci_resolve_accel(opt.accel, &accel, &reason) < 0)
		goto error;
	host.accel = accel;
	if (hpci_matrix_load(opt.matrix, &host, &matrix) < 0)
		goto error;
	total = matrix->cells->len;
	if (opt.filters && hpci_matrix_filter(matrix, (const char *const *)opt.filters,
					      g_strv_length(opt.filters), "--filter") < 0)
		goto error;
	if (plan.shard && hpci_matrix_shard(matrix, plan.shard_k, plan.shard_n) < 0)
		goto error;
	if (preflight(matrix) < 0)
		goto error;
	plan.jobs = opt.jobs > 0 ? (unsigned)opt.jobs
				 : hpci_host_default_jobs((unsigned)opt.memory_mib, &plan.jobs_why);
	plan.verbosity = opt.quiet ? HPCI_QUIET : opt.verbose ? HPCI_VERBOSE : HPCI_NORMAL;
	scale_timeouts(matrix, plan.jobs);
	out_dir = opt.out ? g_strdup(opt.out) : default_out_dir(matrix->name);
	existing = g_build_filename(out_dir, "report.json", NULL);
	if (hpci_is_file(existing)) {
		hpci_error(EEXIST, "'%s' already holds a report; choose another --out", out_dir);
		goto error;
	}
	if (hpci_mkdir_p(out_dir, 0755) < 0) {
		status = HPCI_EXIT_INFRA;
		goto error;
	}
	if (reason)
		hpci_info("accelerator: %s (%s)", accel, reason);
	if (matrix->cells->len != total)
		hpci_info("selected %u of the %u cells of '%s'%s%s", matrix->cells->len, total,
			  matrix->path, plan.shard ? ", shard " : "", plan.shard ? plan.shard : "");
	hpci_interrupt_install();
	status = run_matrix(&opt, &plan, matrix, accel, out_dir);
	goto out;

error:
	hpci_error_print();
out:
	g_free(plan.jobs_why);
	g_free(plan.shard);
	run_options_release(&opt);
	return status;
}
