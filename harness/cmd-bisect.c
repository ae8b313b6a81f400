/* SPDX-License-Identifier: MIT */
/*
 * hotplug-ci bisect: names the edk2 (or QEMU) commit that broke the selected
 * cells.  bisect/search.c decides, bisect/git-history.c asks git, and this
 * file is the oracle: it builds a commit through the matrix's own recipe
 * (only the source and revision replaced) and runs the cells with
 * `hotplug-ci run --set`, one child per call, whose report it reads back.
 */
#include "builtin.h"
#include "answers.h"
#include "git-history.h"
#include "record.h"
#include "regression.h"
#include "search.h"
#include "select.h"
#include "error.h"
#include "firmware-build.h"
#include "fsutil.h"
#include "host.h"
#include "interrupt.h"
#include "json-reader.h"
#include "manifest.h"
#include "matrix.h"
#include "qemu-build.h"
#include "report-load.h"
#include "strlist.h"
#include "cmd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CMD_NAME "bisect"
#define RUN_TIMEOUT_MS (6 * 3600 * 1000)
#define RUN_STOP_GRACE_MS (120 * 1000)

struct bisect_options {
	char *matrix;
	char **filters;
	char **sets;
	char *old_report;
	char *new_report;
	char *edk2;
	char *qemu;
	char *good;
	char *bad;
	char *qemu_good;
	char *qemu_bad;
	char *term_old;
	char *term_new;
	char *out;
	char *resume;
	char **history;
	char *accel;
	int jobs;
	int repeat;
	int verify;
};

static void bisect_options_clear(struct bisect_options *o)
{
	g_free(o->matrix);
	g_strfreev(o->filters);
	g_strfreev(o->sets);
	g_free(o->old_report);
	g_free(o->new_report);
	g_free(o->edk2);
	g_free(o->qemu);
	g_free(o->good);
	g_free(o->bad);
	g_free(o->qemu_good);
	g_free(o->qemu_bad);
	g_free(o->term_old);
	g_free(o->term_new);
	g_free(o->out);
	g_free(o->resume);
	g_strfreev(o->history);
	g_free(o->accel);
}
typedef struct bisect_options bisect_options;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bisect_options, bisect_options_clear)

/* A component whose recipes a step sets: the one bisected, or the other one
 * held at a commit. */
struct side {
	const char *component;   /* "edk2" or "qemu" */
	const char *axis;        /* "firmware" or "qemu": the matrix axis of its recipes */
	const char *repository;  /* borrowed from the settings */
	GPtrArray *values;       /* char *, the axis values that are recipes */
	GPtrArray *recipes;      /* the first cell's recipe of each value (borrowed) */
};

static void side_clear(struct side *s)
{
	if (s->values)
		g_ptr_array_unref(s->values);
	if (s->recipes)
		g_ptr_array_unref(s->recipes);
	memset(s, 0, sizeof(*s));
}

/* Everything a call of the oracle needs, and what the calls leave behind. */
struct bisect_ctx {
	const struct bisect_options *opt;
	struct hpci_bisect_settings settings;
	struct hpci_bisect_git *git;
	struct hpci_matrix *matrix;
	/* sides[0] is bisected; sides[1], when n_sides is 2, stays at
	 * settings.pinned_commit (co-bisection). */
	struct side sides[2];
	unsigned n_sides;
	char *dir;
	char *self_exe;
	GPtrArray *runs;            /* struct hpci_bisect_run * */
	GHashTable *info;           /* commit -> json_object (subject, author...) */
	GHashTable *last_dir;       /* commit -> its latest run directory */
	json_object *corners;       /* co-bisection: the four pairs and what they did */
	bool made_dir;              /* dir did not exist before this bisect */
	const struct hpci_bisect_search *search;
	unsigned builds;
	gint64 started_us;
};

static void bisect_ctx_clear(struct bisect_ctx *c)
{
	hpci_bisect_settings_clear(&c->settings);
	hpci_bisect_git_close(c->git);
	hpci_matrix_free(c->matrix);
	side_clear(&c->sides[0]);
	side_clear(&c->sides[1]);
	g_free(c->dir);
	g_free(c->self_exe);
	if (c->runs)
		g_ptr_array_unref(c->runs);
	if (c->info)
		g_hash_table_unref(c->info);
	if (c->last_dir)
		g_hash_table_unref(c->last_dir);
	json_object_put(c->corners);
}
typedef struct bisect_ctx bisect_ctx;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bisect_ctx, bisect_ctx_clear)

/* ---- what git says of a commit --------------------------------------------- */

static void json_object_unref(gpointer o)
{
	json_object_put(o);
}

/* The cells of a run, as its report has them: id, outcome, verdict, and the
 * cell's directory relative to the bisect's. */
static json_object *last_run_cells(struct bisect_ctx *c, const char *run_dir)
{
	g_autofree char *path = g_build_filename(c->dir, run_dir, "report.json", NULL);
	g_autoptr(json_object) report = NULL;
	json_object *out = json_object_new_array();
	json_object *cells;

	if (hpci_report_load(path, &report) < 0) {
		hpci_error_clear();
		return out;
	}
	cells = hpci_report_cells(report);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		json_object *o = json_object_new_object();
		const char *dir = hpci_json_member_string(cell, "dir");
		const char *outcome = hpci_json_member_string(cell, "outcome");

		json_object_object_add(o, "id", json_object_new_string(
					       hpci_json_member_string(cell, "id")));
		json_object_object_add(o, "outcome", outcome ? json_object_new_string(outcome) : NULL);
		json_object_object_add(o, "verdict", json_object_new_string(
					       hpci_report_verdict_name(cell)));
		json_object_object_add(o, "dir", NULL);
		if (dir) {
			g_autofree char *rel = g_build_filename(run_dir, dir, NULL);

			json_object_object_add(o, "dir", json_object_new_string(rel));
		}
		json_object_array_add(out, o);
	}
	return out;
}

static json_object *commit_info(struct bisect_ctx *c, const char *commit)
{
	g_auto(hpci_commit_info) info = { 0 };
	json_object *o = g_hash_table_lookup(c->info, commit);
	const char *dir;

	if (o)
		return o;
	o = json_object_new_object();
	if (hpci_bisect_git_info(c->git, commit, &info) == 0) {
		json_object_object_add(o, "commit", json_object_new_string(info.commit));
		json_object_object_add(o, "subject", json_object_new_string(info.subject));
		json_object_object_add(o, "author", json_object_new_string(info.author));
		json_object_object_add(o, "date", json_object_new_string(info.date));
		json_object_object_add(o, "files", hpci_json_strings(info.files));
	} else {
		hpci_error_print();
	}
	g_hash_table_insert(c->info, g_strdup(commit), o);
	if ((dir = g_hash_table_lookup(c->last_dir, commit))) {
		json_object_object_add(o, "last_run", json_object_new_string(dir));
		json_object_object_add(o, "cells", last_run_cells(c, dir));
	}
	return o;
}

static const char *subject_of(struct bisect_ctx *c, const char *commit)
{
	const char *s = hpci_json_member_string(commit_info(c, commit), "subject");

	return s ? s : "";
}

static void write_record(struct bisect_ctx *c, const char *state)
{
	g_autofree char *path = g_build_filename(c->dir, "bisect.json", NULL);
	g_autoptr(json_object) root = NULL;
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, c->search->commits);
	while (g_hash_table_iter_next(&it, &key, NULL))
		(void)commit_info(c, key);
	root = hpci_bisect_record_json(&c->settings, c->search, c->runs, c->info, state,
				       (g_get_monotonic_time() - c->started_us) / 1000, c->builds);
	json_object_object_add(root, "corners", json_object_get(c->corners));
	if (hpci_json_write_file(path, root) < 0)
		hpci_error_print();
}

/* ---- the oracle --------------------------------------------------------------- */

/* Builds the side's commit with every selected recipe, the source and
 * revision replaced.  Returns 0, 1 when a build failed (*ret_error says
 * why), or negative for an interrupt. */
static void point_at(struct hpci_build_source *src, const struct side *side,
		     const char *commit)
{
	g_free(src->source);
	g_free(src->rev);
	src->source = g_strdup(side->repository);
	src->rev = g_strdup(commit);
}

static int build_side(struct bisect_ctx *c, const struct side *side, const char *commit,
		      char **ret_error)
{
	for (guint i = 0; i < side->recipes->len; i++) {
		bool hit = false;
		int rc;

		if (strcmp(side->axis, "firmware") == 0) {
			g_autoptr(hpci_firmware_request) req =
				hpci_firmware_request_copy(side->recipes->pdata[i]);
			g_auto(hpci_firmware_build_result) build = { 0 };

			point_at(&req->src, side, commit);
			rc = hpci_firmware_build(req, &build);
			hit = build.cache_hit;
		} else {
			g_autoptr(hpci_qemu_request) req =
				hpci_qemu_request_copy(side->recipes->pdata[i]);
			g_auto(hpci_qemu_build_result) build = { 0 };

			point_at(&req->src, side, commit);
			rc = hpci_qemu_build(req, &build);
			hit = build.cache_hit;
		}
		if (rc < 0 && (hpci_interrupted() || rc == -EINTR))
			return -EINTR;
		c->builds += !hit;   /* a failed build counts too */
		if (rc < 0) {
			*ret_error = g_strdup_printf("%s %.12s: %s", side->component, commit,
						     hpci_error_message());
			hpci_error_clear();
			return 1;
		}
	}
	return 0;
}

static void add_sets(struct hpci_cmd *cmd, const struct side *side, const char *commit)
{
	for (guint i = 0; i < side->values->len; i++) {
		hpci_cmd_add(cmd, "--set");
		hpci_cmd_addf(cmd, "axes.%s.%s.build.source=%s", side->axis,
			      (char *)side->values->pdata[i], side->repository);
		hpci_cmd_add(cmd, "--set");
		hpci_cmd_addf(cmd, "axes.%s.%s.build.rev=%s", side->axis,
			      (char *)side->values->pdata[i], commit);
	}
}

/* `hotplug-ci run` of the selected cells on the sides' commits, `runs` times. */
static int run_cells(struct bisect_ctx *c, const char *const *commits, unsigned runs,
		     const char *rel, struct hpci_bisect_tally *said)
{
	g_autofree char *out = g_build_filename(c->dir, rel, NULL);
	g_autofree char *log = g_strdup_printf("%s.log", out);
	g_autofree char *report_path = g_build_filename(out, "report.json", NULL);
	g_autofree char *parent = g_path_get_dirname(out);
	g_autoptr(json_object) report = NULL;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	if ((rc = hpci_mkdir_p(parent, 0755)) < 0)
		return rc;
	hpci_cmd_init(&cmd, c->self_exe);
	/* --shard 1/1: a bisect inside a CI job must not let the job's
	 * CI_NODE_INDEX/CI_NODE_TOTAL pick a shard of its cells. */
	hpci_cmd_addl(&cmd, "run", "--quiet", "--retries", "0", "--shard", "1/1", "--matrix",
		      c->settings.matrix, "--out", out, NULL);
	hpci_cmd_addf(&cmd, "--repeat=%u", runs);
	for (guint i = 0; i < c->settings.filters->len; i++)
		hpci_cmd_addl(&cmd, "--filter", (char *)c->settings.filters->pdata[i], NULL);
	if (c->opt->jobs > 0)
		hpci_cmd_addf(&cmd, "--jobs=%d", c->opt->jobs);
	if (c->opt->accel)
		hpci_cmd_addl(&cmd, "--accel", c->opt->accel, NULL);
	/* The settings' own first: the sides' source and revision win. */
	for (guint i = 0; c->settings.sets && i < c->settings.sets->len; i++)
		hpci_cmd_addl(&cmd, "--set", (char *)c->settings.sets->pdata[i], NULL);
	for (unsigned i = 0; i < c->n_sides; i++)
		add_sets(&cmd, &c->sides[i], commits[i]);
	cmd.log_path = g_strdup(log);
	cmd.timeout_ms = RUN_TIMEOUT_MS;
	/* On Ctrl-C the child gets SIGTERM and destroys its domains first. */
	cmd.stop_grace_ms = RUN_STOP_GRACE_MS;
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc == -EINTR || hpci_interrupted() || cmd.exit_status == HPCI_EXIT_INTERRUPTED)
		return -EINTR;
	/* 1 and 3 are verdicts, which the report holds. */
	if (rc < 0 && cmd.exit_status != HPCI_EXIT_FAILURES && cmd.exit_status != HPCI_EXIT_INFRA) {
		hpci_error_prefix("running the cells on %.12s failed (log '%s')", commits[0], log);
		return rc;
	}
	hpci_error_clear();
	if ((rc = hpci_report_load(report_path, &report)) < 0)
		return rc;
	return hpci_bisect_answers_add(report_path, report, runs, said);
}

/* Builds the sides' commits and runs the cells on them; r records it. */
static int build_and_run(struct bisect_ctx *c, const char *const *commits, unsigned runs,
			 struct hpci_bisect_run *r)
{
	gint64 t0 = g_get_monotonic_time();
	int rc = 0;

	for (unsigned i = 0; i < c->n_sides && rc == 0; i++)
		rc = build_side(c, &c->sides[i], commits[i], &r->build_error);
	r->build_ms = (g_get_monotonic_time() - t0) / 1000;
	if (rc < 0)
		return rc;
	if (rc == 1) {
		hpci_info("bisect: does not build: %s", r->build_error);
		r->said.unbuildable = true;
		g_clear_pointer(&r->dir, g_free);
		return 0;
	}
	t0 = g_get_monotonic_time();
	if ((rc = run_cells(c, commits, runs, r->dir, &r->said)) < 0)
		return rc;
	r->run_ms = (g_get_monotonic_time() - t0) / 1000;
	return 0;
}

static int oracle_run(void *self, const char *commit, unsigned runs,
		      enum hpci_bisect_purpose why, struct hpci_bisect_tally *tally)
{
	struct bisect_ctx *c = self;
	g_autofree struct hpci_bisect_run *r = g_new0(struct hpci_bisect_run, 1);
	const char *commits[2] = { commit, c->settings.pinned_commit };
	int rc;

	r->commit = g_strdup(commit);
	r->purpose = why;
	r->runs = runs;
	r->dir = g_strdup_printf("runs/%03u-%.12s-%s", c->runs->len + 1, commit,
				 hpci_bisect_purpose_name(why));
	hpci_info("bisect: %.12s %s (%s): building, then %u run%s of %u cell(s)", commit,
		  subject_of(c, commit), hpci_bisect_purpose_name(why), runs, runs == 1 ? "" : "s",
		  c->settings.cells->len);
	if ((rc = build_and_run(c, commits, runs, r)) < 0)
		return rc;
	if (r->dir) {
		g_hash_table_insert(c->last_dir, g_strdup(commit), g_strdup(r->dir));
		g_hash_table_remove(c->info, commit);   /* to pick up last_run */
	}
	tally->holds += r->said.holds;
	tally->fails += r->said.fails;
	tally->silent += r->said.silent;
	tally->unbuildable |= r->said.unbuildable;
	g_ptr_array_add(c->runs, g_steal_pointer(&r));
	write_record(c, "running");
	return 0;
}

static char *format_duration(gint64 ms)
{
	gint64 s = ms / 1000;

	return s >= 60 ? g_strdup_printf("%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", s / 60,
					 s % 60)
		       : g_strdup_printf("%" G_GINT64_FORMAT "s", s);
}

/* Progress: which call of about how many, builds and runs so far, and when
 * it should end at the pace so far. */
static void oracle_called(void *self, const struct hpci_bisect_search *s, const char *commit)
{
	struct bisect_ctx *c = self;
	const struct hpci_bisect_commit *bc = g_hash_table_lookup(s->commits, commit);
	unsigned expected = (unsigned)ceil(log2(MAX(c->settings.commits, 2))) + 3;
	gint64 elapsed = (g_get_monotonic_time() - c->started_us) / 1000;
	g_autofree char *spent = format_duration(elapsed);
	g_autofree char *left = NULL;

	if (s->calls < expected)
		left = format_duration(elapsed / s->calls * (expected - s->calls));
	hpci_info("bisect: [%u of ~%u] %.12s %s: %s (%u held, %u failed%s) -> %s; %u build(s), "
		  "%u run(s), %s spent%s%s%s", s->calls, expected, commit, subject_of(c, commit),
		  hpci_bisect_class_name(bc->class), bc->tally.holds, bc->tally.fails,
		  bc->tally.unbuildable ? ", no build" : "",
		  hpci_bisect_search_mark_of(s, bc->class) == HPCI_BISECT_MARK_OLD ? c->settings.term_old
		  : hpci_bisect_search_mark_of(s, bc->class) == HPCI_BISECT_MARK_NEW ? c->settings.term_new
		  : "skip", c->builds, s->runs, spent, left ? ", about " : "", left ? left : "",
		  left ? " left" : "");
}

/* ---- checking what was asked ------------------------------------------------- */

/* The selected cells' values on the side's axis must be build recipes;
 * keeps each value once with its first cell's recipe. */
static int collect_recipes(struct bisect_ctx *c, struct side *side, const char *component,
			   const char *repository)
{
	side->component = component;
	side->axis = strcmp(component, "edk2") == 0 ? "firmware" : "qemu";
	side->repository = repository;
	side->values = g_ptr_array_new_with_free_func(g_free);
	side->recipes = g_ptr_array_new();
	for (guint i = 0; i < c->matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(c->matrix->cells, i);
		const char *value = hpci_cell_axis(cell, side->axis);
		void *recipe = strcmp(side->axis, "firmware") == 0 ? (void *)cell->firmware.recipe
								  : (void *)cell->qemu.recipe;
		bool seen = false;

		if (!recipe)
			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "%s: cell '%s' has %s '%s', "
					       "which is not a build recipe, so bisecting %s cannot "
					       "change it; narrow --filter to cells whose %s has "
					       "\"build\"", c->settings.matrix, cell->id, side->axis,
					       value, component, side->axis);
		for (guint k = 0; k < side->values->len; k++)
			seen |= strcmp(side->values->pdata[k], value) == 0;
		if (!seen) {
			g_ptr_array_add(side->values, g_strdup(value));
			g_ptr_array_add(side->recipes, recipe);
		}
	}
	return 0;
}

static int load_matrix(struct bisect_ctx *c, const char *accel)
{
	struct hpci_matrix_host host = { .accel = accel };
	int rc;

	if ((rc = hpci_matrix_load_with(c->settings.matrix, &host,
					 (const char *const *)c->settings.sets->pdata,
					 c->settings.sets->len, &c->matrix)) < 0)
		return rc;
	if (c->settings.filters->len &&
	    (rc = hpci_matrix_filter(c->matrix, (const char *const *)c->settings.filters->pdata,
				     c->settings.filters->len, "--filter")) < 0)
		return rc;
	if (c->matrix->cells->len == 0)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--filter selects no cell of '%s'; "
				       "`hotplug-ci list --matrix %s` shows the cells",
				       c->settings.matrix, c->settings.matrix);
	if (c->settings.cells)
		g_ptr_array_unref(c->settings.cells);
	c->settings.cells = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < c->matrix->cells->len; i++)
		g_ptr_array_add(c->settings.cells,
				g_strdup(((struct hpci_cell *)c->matrix->cells->pdata[i])->id));
	return 0;
}

static char *default_out_dir(const char *component)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_autofree char *name = g_strdup_printf("%s-%s", stamp, component);

	return g_build_filename(HPCI_SOURCE_ROOT, "reports", "bisect", name, NULL);
}

/* The settings from the command line, or from DIR/bisect.json to resume. */
static int settings_from(struct bisect_ctx *c, const struct bisect_options *opt,
			 GPtrArray **ret_runs)
{
	struct hpci_bisect_settings *s = &c->settings;
	g_autofree char *record = NULL;
	int rc;

	if (opt->resume) {
		if (opt->matrix || opt->edk2 || opt->qemu || opt->good || opt->bad || opt->out ||
		    opt->sets || opt->old_report)
			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--resume DIR takes what to "
					       "bisect from DIR/bisect.json; give it alone");
		record = g_build_filename(opt->resume, "bisect.json", NULL);
		if ((rc = hpci_bisect_record_load(record, s, ret_runs)) < 0)
			return rc;
		/* Absolute, as every path the steps hand to git and run. */
		c->dir = g_canonicalize_filename(opt->resume, NULL);
		if (!s->sets)
			s->sets = g_ptr_array_new_with_free_func(g_free);
		return 0;
	}
	if (!opt->matrix)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--matrix FILE is required");
	if (!opt->edk2 && !opt->qemu)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "give --edk2 REPO or --qemu REPO: "
				       "the repository whose commits to bisect (both, with "
				       "--qemu-good/--qemu-bad, to co-bisect)");
	if (opt->edk2 && opt->qemu && (!opt->qemu_good || !opt->qemu_bad))
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--edk2 and --qemu together "
				       "co-bisect: give the QEMU pair with --qemu-good REV and "
				       "--qemu-bad REV");
	if (!(opt->edk2 && opt->qemu) && (opt->qemu_good || opt->qemu_bad))
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--qemu-good/--qemu-bad belong to "
				       "a co-bisection; give --edk2 and --qemu too, or use --good "
				       "and --bad");
	if (opt->edk2 && opt->qemu && opt->term_old)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "a co-bisection finds what broke "
				       "the cells; --term-old/--term-new apply to one repository");
	if (!opt->good || !opt->bad)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "give both ends: --good REV (or "
				       "--old) and --bad REV (or --new)");
	if (!!opt->term_old != !!opt->term_new)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--term-old and --term-new go "
				       "together, as in git bisect");
	s->component = g_strdup(opt->edk2 ? "edk2" : "qemu");
	s->repository = g_canonicalize_filename(opt->edk2 ? opt->edk2 : opt->qemu, NULL);
	s->term_old = g_strdup(opt->term_old ? opt->term_old : "good");
	s->term_new = g_strdup(opt->term_new ? opt->term_new : "bad");
	if (opt->edk2 && opt->qemu) {
		s->pinned_component = g_strdup("qemu");
		s->pinned_repository = g_canonicalize_filename(opt->qemu, NULL);
	}
	s->old_rev = g_strdup(opt->good);
	s->new_rev = g_strdup(opt->bad);
	s->matrix = g_strdup(opt->matrix);
	s->filters = g_ptr_array_new_with_free_func(g_free);
	for (char **f = opt->filters; f && *f; f++)
		g_ptr_array_add(s->filters, g_strdup(*f));
	s->sets = g_ptr_array_new_with_free_func(g_free);
	for (char **f = opt->sets; f && *f; f++)
		g_ptr_array_add(s->sets, g_strdup(*f));
	/* Absolute: the private clone is made from its parent directory, and
	 * the runs' reports are read back from here. */
	c->dir = opt->out ? g_canonicalize_filename(opt->out, NULL)
			  : default_out_dir(s->component);
	record = g_build_filename(c->dir, "bisect.json", NULL);
	if (hpci_is_file(record))
		return hpci_error_kind(HPCI_ERR_USAGE, EEXIST, "'%s' already holds a bisect; "
				       "continue it with --resume %s, or choose another --out",
				       c->dir, c->dir);
	*ret_runs = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_bisect_run_free);
	return 0;
}

/*
 * The cells' history: reports of earlier runs.  A cell whose attempts
 * disagreed there is a failing cell that held some runs; one that never
 * disagreed adds its runs with no hold.
 */
static int history_prior(char **reports, const struct hpci_bisect_settings *s,
			 struct hpci_bisect_policy *p)
{
	for (char **path = reports; path && *path; path++) {
		g_autoptr(json_object) report = NULL;
		json_object *cells;
		int rc;

		if ((rc = hpci_report_load(*path, &report)) < 0)
			return rc;
		cells = hpci_report_cells(report);
		for (size_t i = 0; i < json_object_array_length(cells); i++) {
			json_object *cell = json_object_array_get_idx(cells, i);
			json_object *attempts = hpci_report_attempts(cell);
			const char *id = hpci_json_member_string(cell, "id");
			bool flaky = hpci_report_verdict_is(cell, HPCI_VERDICT_FLAKY);
			bool selected = false;

			for (guint k = 0; id && k < s->cells->len; k++)
				selected |= strcmp(s->cells->pdata[k], id) == 0;
			if (!selected || !attempts)
				continue;
			for (size_t a = 0; a < json_object_array_length(attempts); a++) {
				enum hpci_verdict v = hpci_report_verdict(
					json_object_array_get_idx(attempts, a));

				if (v == HPCI_VERDICT_INFRA_ERROR)
					continue;
				p->prior_runs++;
				p->prior_holds += flaky && v == HPCI_VERDICT_PASS;
			}
		}
	}
	return 0;
}

/* ---- the answer -------------------------------------------------------------- */

static void print_commit(struct bisect_ctx *c, const char *label, const char *commit)
{
	json_object *info = commit_info(c, commit);
	const struct hpci_bisect_commit *bc = g_hash_table_lookup(c->search->commits, commit);
	json_object *files = hpci_json_member(info, "files");
	const char *last = g_hash_table_lookup(c->last_dir, commit);
	json_object *cells;

	printf("%s %s\n", label, commit);
	printf("    %s\n    %s, %s\n", hpci_json_member_string(info, "subject"),
	       hpci_json_member_string(info, "author"), hpci_json_member_string(info, "date"));
	for (size_t i = 0; files && i < json_object_array_length(files); i++)
		printf("    | %s\n", json_object_get_string(json_object_array_get_idx(files, i)));
	if (bc)
		printf("    runs: %u held, %u failed; verification: %u held, %u failed%s\n",
		       bc->tally.holds, bc->tally.fails, bc->verify_tally.holds,
		       bc->verify_tally.fails, bc->tally.unbuildable ? "; does not build" : "");
	cells = hpci_json_member(info, "cells");
	for (size_t i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		const char *dir = hpci_json_member_string(cell, "dir");

		printf("    %s: %s (%s)\n", hpci_json_member_string(cell, "id"),
		       hpci_json_member_string(cell, "outcome"),
		       hpci_json_member_string(cell, "verdict"));
		if (dir)
			printf("      logs: %s/%s\n", c->dir, dir);
	}
	if (last)
		printf("    report: %s/%s/report.json\n", c->dir, last);
}

/* The answer in one line, on stdout and in DIR/answer.txt: what a nightly's
 * job log and a maintainer's morning mail show. */
static void print_answer(struct bisect_ctx *c, const struct hpci_bisect_search *s)
{
	g_autofree char *path = g_build_filename(c->dir, "answer.txt", NULL);
	g_autofree char *cells = hpci_strings_join(c->settings.cells, ", ");
	g_autoptr(GString) line = g_string_new("answer: ");

	switch (s->result) {
	case HPCI_BISECT_FOUND:
		g_string_append_printf(line, "%s commit %.12s \"%s\" (%s) first %s %u cell(s): "
				       "%s; confidence %.4f", c->settings.component, s->first_new,
				       subject_of(c, s->first_new),
				       hpci_json_member_string(commit_info(c, s->first_new),
							       "author"),
				       strcmp(c->settings.term_new, "bad") == 0
					       ? "broke" : c->settings.term_new,
				       c->settings.cells->len, cells, s->confidence);
		break;
	case HPCI_BISECT_AMBIGUOUS:
		g_string_append_printf(line, "ambiguous: %s", s->why);
		for (guint i = 0; s->candidates && i < s->candidates->len; i++)
			g_string_append_printf(line, "%s%.12s", i ? ", " : "; candidates ",
					       (char *)s->candidates->pdata[i]);
		break;
	default:
		g_string_append_printf(line, "cannot bisect: %s", s->why);
		break;
	}
	printf("%s\n", line->str);
	g_string_append_c(line, '\n');
	if (hpci_write_file(path, line->str, -1) < 0)
		hpci_error_print();
}

static int finish(struct bisect_ctx *c, const struct hpci_bisect_search *s)
{
	g_autofree char *log = NULL;
	g_autofree char *log_path = g_build_filename(c->dir, "bisect.log", NULL);
	g_autofree char *spent = format_duration((g_get_monotonic_time() - c->started_us) / 1000);

	if (hpci_bisect_git_log(c->git, &log) == 0)
		(void)hpci_write_file(log_path, log, -1);
	write_record(c, "done");
	switch (s->result) {
	case HPCI_BISECT_FOUND:
		print_commit(c, "first new commit:", s->first_new);
		for (guint i = 0; i < s->parents->len; i++)
			print_commit(c, "  its parent:", s->parents->pdata[i]);
		printf("confidence %.4f (failing commits held %.0f%% of their runs here)\n",
		       s->confidence, 100 * hpci_bisect_search_hold_rate(s));
		break;
	case HPCI_BISECT_AMBIGUOUS:
		printf("ambiguous: %s\n", s->why);
		for (guint i = 0; s->candidates && i < s->candidates->len; i++)
			printf("  candidate %s %s\n", (char *)s->candidates->pdata[i],
			       subject_of(c, s->candidates->pdata[i]));
		break;
	default:
		printf("cannot bisect: %s\n", s->why);
		break;
	}
	printf("%u call(s) of %u commit(s) in range, %u build(s), %u cell run(s), %s; "
	       "bisect.json and bisect.log in %s\n", s->calls, c->settings.commits, c->builds,
	       s->runs, spent, c->dir);
	printf("replay: git -C %s bisect replay %s\n", c->settings.repository, log_path);
	print_answer(c, s);
	switch (s->result) {
	case HPCI_BISECT_FOUND:
		return HPCI_EXIT_OK;
	case HPCI_BISECT_AMBIGUOUS:
		return HPCI_EXIT_AMBIGUOUS;
	default:
		return HPCI_EXIT_NO_RANGE;
	}
}

/* Bad input found after the directory was made: it goes again, so a refused
 * bisect leaves nothing behind. */
static int refuse(struct bisect_ctx *c)
{
	hpci_bisect_git_close(g_steal_pointer(&c->git));
	if (c->made_dir)
		(void)hpci_rm_rf(c->dir);
	return hpci_error_exit(HPCI_EXIT_USAGE);
}

/* The private clone of a side's repository, DIR/git-<component>, which an
 * earlier, killed bisect may have left. */
static int open_side(struct bisect_ctx *c, struct hpci_bisect_git **ret, const char *component,
		     const char *repository, const char *term_old, const char *term_new)
{
	g_autofree char *name = g_strdup_printf("git-%s", component);
	g_autofree char *clone = g_build_filename(c->dir, name, NULL);

	(void)hpci_rm_rf(clone);
	return hpci_bisect_git_open(repository, clone, term_old, term_new, ret);
}

/* One pair of the co-bisection, run `verify` times: holds, fails, or
 * untestable. */
static int run_corner(struct bisect_ctx *c, const char *const *commits,
		      enum hpci_bisect_class *ret)
{
	g_autoptr(hpci_bisect_run) r = g_new0(struct hpci_bisect_run, 1);
	json_object *o = json_object_new_object();
	int rc;

	r->commit = g_strdup(commits[0]);
	r->runs = c->search->policy.verify;
	r->dir = g_strdup_printf("runs/corner-%.12s-%.12s", commits[0], commits[1]);
	hpci_info("bisect: pair edk2 %.12s + qemu %.12s: building, then %u runs", commits[0],
		  commits[1], r->runs);
	if ((rc = build_and_run(c, commits, r->runs, r)) < 0) {
		json_object_put(o);
		return rc;
	}
	*ret = r->said.unbuildable ? HPCI_BISECT_UNTESTABLE
	       : r->said.fails ? HPCI_BISECT_FAILS
	       : r->said.holds ? HPCI_BISECT_HOLDS : HPCI_BISECT_UNTESTABLE;
	json_object_object_add(o, "edk2", json_object_new_string(commits[0]));
	json_object_object_add(o, "qemu", json_object_new_string(commits[1]));
	json_object_object_add(o, "holds", json_object_new_int(r->said.holds));
	json_object_object_add(o, "fails", json_object_new_int(r->said.fails));
	json_object_object_add(o, "class", json_object_new_string(hpci_bisect_class_name(*ret)));
	json_object_object_add(o, "dir", r->dir ? json_object_new_string(r->dir) : NULL);
	json_object_object_add(o, "build_error",
			       r->build_error ? json_object_new_string(r->build_error) : NULL);
	json_object_array_add(c->corners, o);
	write_record(c, "running");
	return 0;
}

static void swap_strings(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/*
 * Co-bisection: the good pair (edk2 A, QEMU C) must hold and the bad pair
 * (B, D) fail; the crossed pairs (A, D) and (B, C) say which side flips the
 * verdict, and that side is bisected with the other held at its good
 * revision.  When neither crossed pair fails, only the combination does: the
 * four corners are the answer.
 */
static int co_bisect_choose(struct bisect_ctx *c, const struct bisect_options *opt)
{
	struct hpci_bisect_settings *s = &c->settings;
	g_autoptr(hpci_bisect_git) qgit = NULL;
	g_autofree char *qc = NULL, *qd = NULL;
	enum hpci_bisect_class cls[4];
	unsigned qcount;
	int rc;

	if (open_side(c, &qgit, "qemu", s->pinned_repository, "good", "bad") < 0 ||
	    hpci_bisect_git_resolve(qgit, "--qemu-good", opt->qemu_good, &qc) < 0 ||
	    hpci_bisect_git_resolve(qgit, "--qemu-bad", opt->qemu_bad, &qd) < 0 ||
	    hpci_bisect_git_check_range(qgit, opt->qemu_good, qc, opt->qemu_bad, qd, &qcount) < 0)
		return refuse(c);
	{
		const char *pairs[4][2] = {
			{ s->old_commit, qc }, { s->new_commit, qd },
			{ s->old_commit, qd }, { s->new_commit, qc },
		};

		for (unsigned k = 0; k < 4; k++) {
			if ((rc = run_corner(c, pairs[k], &cls[k])) < 0)
				return rc == -EINTR || hpci_interrupted()
					? HPCI_EXIT_INTERRUPTED : hpci_error_exit(HPCI_EXIT_INFRA);
		}
	}
	printf("%-24s qemu %-17.12s qemu %-17.12s\n", "", qc, qd);
	printf("edk2 %.12s (good)  %-22s %-22s\n", s->old_commit, hpci_bisect_class_name(cls[0]),
	       hpci_bisect_class_name(cls[2]));
	printf("edk2 %.12s (bad)   %-22s %-22s\n", s->new_commit, hpci_bisect_class_name(cls[3]),
	       hpci_bisect_class_name(cls[1]));
	if (cls[0] != HPCI_BISECT_HOLDS || cls[1] != HPCI_BISECT_FAILS) {
		printf("cannot co-bisect: the good pair must hold and the bad pair fail\n");
		write_record(c, "done");
		return HPCI_EXIT_NO_RANGE;
	}
	if (cls[2] != HPCI_BISECT_FAILS && cls[3] != HPCI_BISECT_FAILS) {
		printf("only the combination fails: neither edk2 %.12s with qemu %.12s nor edk2 "
		       "%.12s with qemu %.12s does; nothing to bisect on one side\n",
		       s->new_commit, qc, s->old_commit, qd);
		write_record(c, "done");
		return HPCI_EXIT_AMBIGUOUS;
	}
	if (cls[3] == HPCI_BISECT_FAILS) {
		/* edk2 flips it (with QEMU at its good revision) */
		if (cls[2] == HPCI_BISECT_FAILS)
			hpci_info("bisect: both sides fail on their own; bisecting edk2 with qemu "
				  "at %.12s first; bisect qemu %s..%s with edk2 at %.12s next",
				  qc, opt->qemu_good, opt->qemu_bad, s->old_commit);
		s->pinned_commit = g_steal_pointer(&qc);
		return HPCI_EXIT_OK;
	}
	/* QEMU flips it: bisect C..D with edk2 held at A. */
	swap_strings(&s->component, &s->pinned_component);
	swap_strings(&s->repository, &s->pinned_repository);
	s->pinned_commit = g_strdup(s->old_commit);
	g_free(s->old_rev);
	g_free(s->new_rev);
	g_free(s->old_commit);
	g_free(s->new_commit);
	s->old_rev = g_strdup(opt->qemu_good);
	s->new_rev = g_strdup(opt->qemu_bad);
	s->old_commit = g_steal_pointer(&qc);
	s->new_commit = g_steal_pointer(&qd);
	{
		struct side t = c->sides[0];

		c->sides[0] = c->sides[1];
		c->sides[1] = t;
	}
	hpci_bisect_git_close(c->git);
	c->git = g_steal_pointer(&qgit);
	return HPCI_EXIT_OK;
}

/* ---- what regressed between two runs ---------------------------------------- */

/* first's strings, then strv's: a new strv in *strv. */
static void strv_prepend(char ***strv, const GPtrArray *first)
{
	GStrvBuilder *b = g_strv_builder_new();

	for (guint i = 0; i < first->len; i++)
		g_strv_builder_add(b, first->pdata[i]);
	if (*strv)
		g_strv_builder_addv(b, (const char **)*strv);
	g_strfreev(*strv);
	*strv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
}

/*
 * --old-report/--new-report: the cells that regressed become the filter, the
 * new run's --set options come first, and the revisions that moved under
 * those cells are the range (both moved: a co-bisection).  Returns 0 to
 * bisect, 1 when there is nothing to bisect (the answer line says why).
 */
static int from_reports(struct bisect_options *o)
{
	g_autoptr(json_object) old_report = NULL, new_report = NULL;
	g_auto(hpci_bisect_regression) r = { 0 };
	g_autofree char *sha = NULL;
	const struct hpci_bisect_moved *m;
	int rc;

	if (!o->old_report || !o->new_report)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--old-report and --new-report "
				       "go together: last night's report.json and tonight's");
	if (o->edk2 || o->qemu || o->good || o->bad || o->qemu_good || o->qemu_bad ||
	    o->filters || o->term_old)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--old-report/--new-report choose "
				       "the cells, the repository and the range from the reports; "
				       "drop --edk2, --qemu, --good, --bad, --filter and the terms");
	if ((rc = hpci_report_load(o->old_report, &old_report)) < 0 ||
	    (rc = hpci_report_load(o->new_report, &new_report)) < 0 ||
	    (rc = hpci_bisect_regression_find(old_report, o->new_report, new_report,
					      &r)) < 0)
		return rc;
	for (guint i = 0; i < r.left_out->len; i++)
		hpci_info("bisect: not bisected: %s", (char *)r.left_out->pdata[i]);
	if (r.n_moved == 0) {
		printf("answer: nothing to bisect: %s\n", r.why);
		return 1;
	}
	if (!o->matrix)
		o->matrix = g_strdup(r.matrix);
	else if (r.matrix_sha256 && hpci_sha256_file(o->matrix, &sha) == 0 &&
		 strcmp(sha, r.matrix_sha256) != 0)
		hpci_warn("bisect: %s is not the matrix file the new run read (%s); the cells "
			  "are found by their axis values", o->matrix, r.matrix);
	hpci_error_clear();
	strv_prepend(&o->sets, r.sets);
	strv_prepend(&o->filters, r.filters);
	for (unsigned i = 0; i < r.n_moved; i++) {
		m = &r.moved[i];
		if (strcmp(m->component, "edk2") == 0) {
			o->edk2 = g_strdup(m->repository);
			o->good = g_strdup(m->old_commit);
			o->bad = g_strdup(m->new_commit);
		} else if (r.n_moved == 1) {
			o->qemu = g_strdup(m->repository);
			o->good = g_strdup(m->old_commit);
			o->bad = g_strdup(m->new_commit);
		} else {
			o->qemu = g_strdup(m->repository);
			o->qemu_good = g_strdup(m->old_commit);
			o->qemu_bad = g_strdup(m->new_commit);
		}
		hpci_info("bisect: %s moved under the regressed cells: %.12s..%.12s in %s",
			  m->component, m->old_commit, m->new_commit, m->repository);
	}
	hpci_info("bisect: %u regressed cell(s) between %s and %s", r.cells->len,
		  o->old_report, o->new_report);
	return 0;
}

static int check_counts(const struct bisect_options *o)
{
	if (o->repeat < 0 || o->repeat > 20)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--repeat %d is out of range; use "
				       "1 to 20 (0: from the cells' history)", o->repeat);
	if (o->verify < 1 || o->verify > 20)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--verify %d is out of range; use "
				       "1 to 20", o->verify);
	if (o->jobs < 0 || o->jobs > 64)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--jobs %d is out of range; use "
				       "1 to 64", o->jobs);
	return 0;
}

int cmd_bisect(int argc, char **argv)
{
	g_auto(bisect_options) opt = { .verify = 3 };
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &opt.matrix,
		  "matrix whose cells are the test, e.g. matrix/full.json", "FILE" },
		{ "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &opt.filters,
		  "the cells to run, as `run --filter` (repeat to OR)", "EXPR" },
		{ "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt.sets,
		  "change a field of the matrix first, as `run --set` (the bisected source and "
		  "revision are set after it)", "PATH=VALUE" },
		{ "old-report", 0, 0, G_OPTION_ARG_FILENAME, &opt.old_report,
		  "with --new-report: bisect what regressed between two runs (a nightly's last "
		  "night and tonight): the regressed cells, the new run's --set options, and the "
		  "edk2 or QEMU commits that moved under them, from the reports", "REPORT" },
		{ "new-report", 0, 0, G_OPTION_ARG_FILENAME, &opt.new_report,
		  "the newer run's report.json (with --old-report)", "REPORT" },
		{ "edk2", 0, 0, G_OPTION_ARG_FILENAME, &opt.edk2,
		  "bisect the commits of this edk2 checkout: the cells' firmware recipes build "
		  "it, their other fields kept", "REPO" },
		{ "qemu", 0, 0, G_OPTION_ARG_FILENAME, &opt.qemu,
		  "bisect the commits of this QEMU checkout (the cells' qemu recipes)", "REPO" },
		{ "good", 0, 0, G_OPTION_ARG_STRING, &opt.good,
		  "the older revision, where the cells hold", "REV" },
		{ "old", 0, 0, G_OPTION_ARG_STRING, &opt.good, "the same as --good", "REV" },
		{ "bad", 0, 0, G_OPTION_ARG_STRING, &opt.bad,
		  "the newer revision, where a cell fails", "REV" },
		{ "new", 0, 0, G_OPTION_ARG_STRING, &opt.bad, "the same as --bad", "REV" },
		{ "qemu-good", 0, 0, G_OPTION_ARG_STRING, &opt.qemu_good,
		  "co-bisection (with --edk2 and --qemu): the QEMU revision of the good pair; "
		  "the crossed pairs tell which side to bisect", "REV" },
		{ "qemu-bad", 0, 0, G_OPTION_ARG_STRING, &opt.qemu_bad,
		  "co-bisection: the QEMU revision of the bad pair", "REV" },
		{ "term-old", 0, 0, G_OPTION_ARG_STRING, &opt.term_old,
		  "git's word for old commits (default good); with --term-new, what the old "
		  "revision shows is learned, e.g. --term-old broken --term-new fixed", "TERM" },
		{ "term-new", 0, 0, G_OPTION_ARG_STRING, &opt.term_new,
		  "git's word for new commits (default bad)", "TERM" },
		{ "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
		  "directory for bisect.json, bisect.log and every run's report (default: "
		  "reports/bisect/<date>-<component>)", "DIR" },
		{ "resume", 0, 0, G_OPTION_ARG_FILENAME, &opt.resume,
		  "continue the bisect in DIR from the runs it made", "DIR" },
		{ "repeat", 0, 0, G_OPTION_ARG_INT, &opt.repeat,
		  "runs a commit needs to be called old while nothing flaked (default: 1, "
		  "more when --history or the bisect shows the cells flake)", "N" },
		{ "verify", 0, 0, G_OPTION_ARG_INT, &opt.verify,
		  "runs of each endpoint, of the first new commit and of its parents (default 3)",
		  "N" },
		{ "history", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt.history,
		  "report.json of earlier runs of these cells: how often they flaked sets how "
		  "many runs a call needs (repeatable)", "REPORT" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs,
		  "cells at once in each run (default: run's)", "N" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &opt.accel, "tcg or kvm (default: run's)",
		  "ACCEL" },
		{ NULL }
	};
	g_auto(bisect_ctx) c = { .opt = &opt };
	g_auto(hpci_bisect_search) search = { 0 };
	g_autoptr(GPtrArray) old_runs = NULL;
	g_autofree char *accel = NULL, *reason = NULL, *clone = NULL;
	struct hpci_bisect_history history;
	struct hpci_bisect_oracle oracle = { oracle_run, oracle_called, &c };
	struct hpci_bisect_policy policy;
	int status, rc;

	if ((status = hpci_parse_options(&argc, &argv, "",
					 "Name the edk2 (or QEMU) commit between --good and --bad "
					 "that broke the selected cells: git bisect in a private "
					 "clone, each step built and run as real VMs.\n\n"
					 "Exit status: 0 found, 2 bad input, 3 infrastructure error, "
					 "4 ambiguous (only commits that do not build left, or too "
					 "flaky), 5 the endpoints do not differ, 130 interrupted.",
					 entries)))
		return status;
	c.started_us = g_get_monotonic_time();
	if ((opt.old_report || opt.new_report) && !opt.resume &&
	    (rc = from_reports(&opt)) != 0)
		return rc > 0 ? HPCI_EXIT_NO_RANGE : hpci_error_exit(HPCI_EXIT_USAGE);
	if (check_counts(&opt) < 0 || settings_from(&c, &opt, &old_runs) < 0 ||
	    hpci_resolve_accel(opt.accel, &accel, &reason) < 0 || load_matrix(&c, accel) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	c.runs = g_steal_pointer(&old_runs);
	c.info = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, json_object_unref);
	c.last_dir = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c.corners = json_object_new_array();
	c.self_exe = g_file_read_link("/proc/self/exe", NULL);
	for (guint i = 0; i < c.runs->len; i++) {
		const struct hpci_bisect_run *r = c.runs->pdata[i];

		if (r->dir)
			g_hash_table_insert(c.last_dir, g_strdup(r->commit), g_strdup(r->dir));
	}
	if (collect_recipes(&c, &c.sides[0], c.settings.component, c.settings.repository) < 0 ||
	    (c.settings.pinned_component &&
	     collect_recipes(&c, &c.sides[1], c.settings.pinned_component,
			     c.settings.pinned_repository) < 0))
		return hpci_error_exit(HPCI_EXIT_USAGE);
	c.n_sides = c.settings.pinned_component ? 2 : 1;
	c.made_dir = !hpci_is_dir(c.dir);
	if (hpci_mkdir_p(c.dir, 0755) < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	if (open_side(&c, &c.git, c.settings.component, c.settings.repository, c.settings.term_old,
		      c.settings.term_new) < 0)
		return refuse(&c);
	if (!opt.resume &&
	    (hpci_bisect_git_resolve(c.git, opt.term_old ? "--old" : "--good", c.settings.old_rev,
				     &c.settings.old_commit) < 0 ||
	     hpci_bisect_git_resolve(c.git, opt.term_old ? "--new" : "--bad", c.settings.new_rev,
				     &c.settings.new_commit) < 0))
		return refuse(&c);
	if (hpci_bisect_git_check_range(c.git, c.settings.old_rev, c.settings.old_commit,
					c.settings.new_rev, c.settings.new_commit,
					&c.settings.commits) < 0)
		return refuse(&c);

	hpci_bisect_policy_init(&policy);
	policy.verify = (unsigned)opt.verify;
	if (opt.repeat > 0)
		policy.repeat = (unsigned)opt.repeat;
	if (history_prior(opt.history, &c.settings, &policy) < 0)
		return refuse(&c);
	hpci_bisect_search_init(&search, &policy, c.settings.old_commit, c.settings.new_commit,
				true, strcmp(c.settings.term_old, "good") != 0 ||
				      strcmp(c.settings.term_new, "bad") != 0);
	c.search = &search;
	if (reason)
		hpci_info("accelerator: %s (%s)", accel, reason);
	hpci_interrupt_install();

	if (!opt.resume && c.n_sides == 2) {
		status = co_bisect_choose(&c, &opt);
		if (status != HPCI_EXIT_OK)
			return status;
		/* The chosen side's range, checked as the single one was. */
		if (hpci_bisect_git_check_range(c.git, c.settings.old_rev, c.settings.old_commit,
						c.settings.new_rev, c.settings.new_commit,
						&c.settings.commits) < 0)
			return hpci_error_exit(HPCI_EXIT_USAGE);
		hpci_bisect_search_clear(&search);
		hpci_bisect_search_init(&search, &policy, c.settings.old_commit,
					c.settings.new_commit, true, false);
	}
	hpci_info("bisect: %s %s, %u commit(s) from %s (%.12s) to %s (%.12s), %u cell(s) of "
		  "'%s'%s%s%s; about %u steps; record in %s", c.settings.component,
		  c.settings.repository, c.settings.commits, c.settings.old_rev,
		  c.settings.old_commit, c.settings.new_rev, c.settings.new_commit,
		  c.settings.cells->len, c.settings.matrix,
		  c.settings.pinned_component ? ", " : "",
		  c.settings.pinned_component ? c.settings.pinned_component : "",
		  c.settings.pinned_component ? " pinned" : "",
		  (unsigned)ceil(log2(MAX(c.settings.commits, 2))), c.dir);
	if (policy.prior_runs)
		hpci_info("bisect: history: %u of %u earlier runs of these cells held on a "
			  "flaky cell; a call needs %u hold(s)", policy.prior_holds,
			  policy.prior_runs, hpci_bisect_holds_needed(&policy,
				hpci_bisect_hold_rate(&policy, 0, 0)));

	hpci_bisect_record_replay(c.runs, &search);
	hpci_bisect_git_history(c.git, &history);
	rc = hpci_bisect_search_run(&search, &history, &oracle);
	if (rc < 0 && (rc == -EINTR || hpci_interrupted())) {
		write_record(&c, "interrupted");
		hpci_info("bisect: interrupted; continue with `hotplug-ci bisect --resume %s`",
			  c.dir);
		return HPCI_EXIT_INTERRUPTED;
	}
	if (rc < 0) {
		write_record(&c, "failed");
		return hpci_error_exit(HPCI_EXIT_INFRA);
	}
	return finish(&c, &search);
}
