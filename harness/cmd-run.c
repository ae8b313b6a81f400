/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "cell-run.h"
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

struct run_options {
	char *matrix;
	char *out;
	char *uri;
	char *accel;
	gboolean keep_disks;
	int memory_mib;
};

static void run_options_release(struct run_options *o)
{
	g_free(o->matrix);
	g_free(o->out);
	g_free(o->uri);
	g_free(o->accel);
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

/* Everything the cells share, before the first VM: libvirt, the QEMU and
 * firmware builds (a failed one marks only its cells), the images, the
 * identities. */
static int prepare(const struct run_options *opt, struct hpci_matrix *matrix,
		   struct hpci_run_report *report, GHashTable *images, struct hpci_virt **ret_virt)
{
	g_autoptr(hpci_virt) virt = NULL;
	int rc;

	if ((rc = hpci_virt_open(opt->uri, &virt)) < 0)
		return rc;
	build_recipes(matrix, report, virt);
	if (hpci_interrupted())
		return hpci_error(EINTR, "interrupted while building");
	if ((rc = build_images(matrix, images)) < 0 ||
	    (rc = record_identities(report, matrix, images)) < 0)
		return rc;
	*ret_virt = g_steal_pointer(&virt);
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
}

static void print_cell(unsigned index, unsigned total, const struct hpci_cell_result *res)
{
	printf("[%u/%u] %-5s %-15s (expected %s) %5.1f s  %s\n", index, total,
	       res->verdict_pass ? "ok" : res->known_issue ? "KNOWN" : "FAIL",
	       hpci_outcome_name(res->outcome), hpci_outcome_name(res->cell->expect.outcome),
	       res->duration_ms / 1000.0, res->cell->id);
	if (!res->verdict_pass && res->evidence)
		printf("       %s\n", res->evidence);
	if (res->known_issue)
		printf("       known issue: %s\n", res->cell->expect.known_issue);
	fflush(stdout);
}

static int exit_status(const struct hpci_run_report *report)
{
	bool product = false, infra = false;

	if (report->interrupted)
		return HPCI_EXIT_INTERRUPTED;
	for (guint i = 0; i < report->results->len; i++) {
		const struct hpci_cell_result *res = g_ptr_array_index(report->results, i);

		if (res->verdict_pass || res->known_issue)
			continue;
		if (res->outcome == HPCI_OUTCOME_INFRA_ERROR)
			infra = true;
		else
			product = true;
	}
	return product ? HPCI_EXIT_FAILURES : infra ? HPCI_EXIT_INFRA : HPCI_EXIT_OK;
}

static int run_matrix(const struct run_options *opt, struct hpci_matrix *matrix,
		      const char *accel, const char *out_dir)
{
	g_autoptr(GHashTable) images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							     free_image);
	g_autofree char *report_path = g_build_filename(out_dir, "report.json", NULL);
	g_autofree char *run_id = g_path_get_basename(out_dir);
	g_autoptr(hpci_virt) virt = NULL;
	struct hpci_run_report report;
	struct hpci_run_ctx ctx = { 0 };
	gint64 t0 = g_get_monotonic_time();
	g_autofree char *known_text = NULL;
	unsigned pass = 0, known = 0;
	int status;

	hpci_run_report_init(&report);
	fill_host(&report, matrix, accel);
	for (guint i = 0; i < matrix->cells->len; i++)
		g_ptr_array_add(report.results,
				hpci_cell_result_new(g_ptr_array_index(matrix->cells, i)));

	if (prepare(opt, matrix, &report, images, &virt) < 0) {
		hpci_error_print();
		hpci_run_report_release(&report);
		return hpci_interrupted() ? HPCI_EXIT_INTERRUPTED : HPCI_EXIT_INFRA;
	}
	report.libvirt = hpci_virt_describe(virt);
	ctx = (struct hpci_run_ctx){
		.virt = virt, .accel = accel, .run_dir = out_dir, .run_id = run_id,
		.images = images, .keep_disks = opt->keep_disks,
		.memory_mib = opt->memory_mib > 0 ? opt->memory_mib : DEFAULT_MEMORY_MIB,
	};
	/* Domain names must be short and unique per run: a timestamp is. */
	for (char *p = run_id; *p; p++) {
		if (!g_ascii_isalnum(*p))
			*p = '-';
	}

	hpci_info("running %u cells of '%s' (accel %s), report in %s", matrix->cells->len,
		  matrix->name, accel, out_dir);
	for (guint i = 0; i < matrix->cells->len && !hpci_interrupted(); i++) {
		struct hpci_cell_result *res = g_ptr_array_index(report.results, i);

		if (res->ran) {
			print_cell(i + 1, matrix->cells->len, res); /* decided before booting */
			continue;
		}
		hpci_info("[%u/%u] %s: starting", i + 1, matrix->cells->len, res->cell->id);
		if (hpci_cell_run(&ctx, res->cell, i + 1, res) == -EINTR) {
			res->ran = false; /* cut short: its outcome would be the harness's */
			break;
		}
		pass += res->verdict_pass;
		known += res->known_issue;
		print_cell(i + 1, matrix->cells->len, res);
		report.duration_ms = (g_get_monotonic_time() - t0) / 1000;
		/* After every cell, so a killed run still leaves a valid report. */
		(void)hpci_report_write_json(&report, report_path);
	}
	report.interrupted = hpci_interrupted();
	report.duration_ms = (g_get_monotonic_time() - t0) / 1000;
	if (hpci_report_write_json(&report, report_path) < 0)
		hpci_error_print();
	known_text = known ? g_strdup_printf(", %u known issue(s)", known) : g_strdup("");
	printf("%u of %u cells as expected%s%s; report: %s\n", pass, matrix->cells->len,
	       known_text, report.interrupted ? " (interrupted)" : "", report_path);
	status = exit_status(&report);
	hpci_run_report_release(&report);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_options opt = { .memory_mib = DEFAULT_MEMORY_MIB };
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &opt.matrix,
		  "matrix file to run (required), e.g. matrix/smoke.json", "FILE" },
		{ "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
		  "report directory (default: reports/runs/<date>-<matrix name>)", "DIR" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &opt.uri,
		  "libvirt URI (default: " HPCI_DEFAULT_URI ")", "URI" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &opt.accel,
		  "tcg or kvm (default: kvm only when it works with SMM here)", "ACCEL" },
		{ "keep-disks", 0, 0, G_OPTION_ARG_NONE, &opt.keep_disks,
		  "keep each cell's overlay and NVRAM copy in its report directory", NULL },
		{ "memory", 0, 0, G_OPTION_ARG_INT, &opt.memory_mib,
		  "guest memory in MiB (default: 512)", "MIB" },
		{ NULL }
	};
	g_autofree char *accel = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *out_dir = NULL;
	g_autofree char *existing = NULL;
	g_autoptr(hpci_matrix) matrix = NULL;
	struct hpci_matrix_host host;
	int status;

	if ((status = hpci_parse_options(&argc, &argv, "",
					 "Run every cell of a matrix as a real VM through libvirt "
					 "and write DIR/report.json plus per-cell logs.", entries)))
		goto out;
	status = HPCI_EXIT_USAGE;
	if (!opt.matrix) {
		fprintf(stderr, "hotplug-ci: error: --matrix FILE is required "
				"(e.g. --matrix matrix/smoke.json)\n");
		goto out;
	}
	if (opt.memory_mib < 128 || opt.memory_mib > 16384) {
		fprintf(stderr, "hotplug-ci: error: --memory %d is out of range; use 128 to 16384\n",
			opt.memory_mib);
		goto out;
	}
	if (!opt.uri)
		opt.uri = g_strdup(HPCI_DEFAULT_URI);
	if (hpci_resolve_accel(opt.accel, &accel, &reason) < 0)
		goto error;
	host.accel = accel;
	if (hpci_matrix_load(opt.matrix, &host, &matrix) < 0 || preflight(matrix) < 0)
		goto error;
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
	hpci_interrupt_install();
	status = run_matrix(&opt, matrix, accel, out_dir);
	goto out;

error:
	hpci_error_print();
out:
	run_options_release(&opt);
	return status;
}
