/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_RECORD_H
#define HPCI_BISECT_RECORD_H

#include "search.h"

#include <glib.h>
#include <json-c/json.h>

/*
 * DIR/bisect.json (reports/README.md, "bisect.json"): what was asked, every
 * run made and what it said, and the answer.  It is written after every run,
 * so an interrupted bisect leaves the runs it made, and `bisect --resume DIR`
 * rebuilds the commits' tallies from them.
 */

/* One `hotplug-ci run` of one commit (or its failed build). */
struct hpci_bisect_run {
	char *commit;
	enum hpci_bisect_purpose purpose;
	unsigned runs;                   /* --repeat asked */
	struct hpci_bisect_tally said;   /* what those runs said */
	char *dir;                       /* the run's report directory, relative to DIR */
	char *build_error;               /* the build failed: its message (names the log) */
	gint64 build_ms;
	gint64 run_ms;
};

void hpci_bisect_run_free(struct hpci_bisect_run *r);
typedef struct hpci_bisect_run hpci_bisect_run;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_bisect_run, hpci_bisect_run_free)

/* What the command was asked, checked again on --resume. */
struct hpci_bisect_settings {
	char *component;       /* "edk2" or "qemu" */
	char *repository;      /* absolute */
	char *term_old, *term_new;
	char *old_rev, *old_commit;
	char *new_rev, *new_commit;
	char *matrix;          /* as given */
	GPtrArray *filters;    /* char * */
	GPtrArray *sets;       /* char *, `--set` options applied to the matrix first */
	GPtrArray *cells;      /* char *, the selected cell ids */
	unsigned commits;      /* in old..new */
	/* Co-bisection: the other component, held at one commit; NULL when none. */
	char *pinned_component;
	char *pinned_repository;
	char *pinned_commit;
};

void hpci_bisect_settings_clear(struct hpci_bisect_settings *s);
typedef struct hpci_bisect_settings hpci_bisect_settings;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_bisect_settings, hpci_bisect_settings_clear)

/* The record's own description of a commit (subject, author...): commit ->
 * json_object, filled by the caller for the commits it names. */
json_object *hpci_bisect_record_json(const struct hpci_bisect_settings *settings,
				     const struct hpci_bisect_search *search,
				     const GPtrArray *runs, GHashTable *commit_info,
				     const char *state, gint64 duration_ms, unsigned builds);

/* Reads DIR/bisect.json back: its settings and runs. */
int hpci_bisect_record_load(const char *path, struct hpci_bisect_settings *ret_settings,
			    GPtrArray **ret_runs);

/* Adds each run's answers to its commit's tally in the search. */
void hpci_bisect_record_replay(const GPtrArray *runs, struct hpci_bisect_search *search);

#endif
