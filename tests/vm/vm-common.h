/* SPDX-License-Identifier: MIT */
#ifndef HPCI_VM_COMMON_H
#define HPCI_VM_COMMON_H

/*
 * Helpers for the VM tests: they run the real hotplug-ci binary against the
 * real libvirtd and read what it wrote, so they check the product end to end.
 */
#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

/* $HOTPLUG_CI, set by meson to the built binary. */
const char *vm_binary(void);
/* A fresh directory under $TMPDIR for one test's report. */
char *vm_tmpdir(const char *name);
/* Loads DIR/report.json; fails the test when it is missing or not JSON. */
json_object *vm_load_report(const char *dir);
/* The cell object with the given axis value, or NULL. */
json_object *vm_find_cell(json_object *report, const char *axis, const char *value,
			  const char *axis2, const char *value2);
json_object *vm_get(json_object *o, const char *path);
const char *vm_get_str(json_object *o, const char *path);
/* The cell's verdict is known-issue, its outcome is one the matrix declared
 * as a known issue, and the declaration names evidence kept in the
 * repository: a product bug the matrix found, not a surprise. */
bool vm_declared_known_issue(json_object *cell);
/* Prints to stderr what the run recorded about a cell that did not go as
 * expected: every attempt's outcome, error and evidence, and the end of the
 * deciding attempt's events.log, so a CI log keeps the evidence after the
 * report directory is gone. */
void vm_print_cell_evidence(const char *report_dir, json_object *cell);
/* Domains of the libvirt connection whose name starts with prefix. */
unsigned vm_count_domains(const char *prefix);
/* Processes whose command line contains needle. */
unsigned vm_count_processes(const char *needle);
/* Files named `name` anywhere below dir. */
unsigned vm_count_files(const char *dir, const char *name);

/* What one run of the hotplug-ci binary printed and returned. */
struct vm_result {
	int status;     /* exit status */
	char *out;      /* stdout, stripped */
	char *err;      /* stderr, also echoed to the test's stderr */
	gint64 ms;
};
void vm_result_release(struct vm_result *r);

/* Runs hotplug-ci with the arguments (up to 40 minutes, builds included). */
void vm_hotplug_ci(struct vm_result *r, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* Same, with a NULL-terminated argument vector. */
void vm_hotplug_ci_argv(struct vm_result *r, const char *const *args);

/* Runs a shell script in cwd; git commits it makes get a fixed author and
 * date, so a repository made the same way has the same commit ids (and the
 * builds of its revisions stay in the cache from one test run to the next). */
void vm_sh(const char *cwd, const char *script);

#endif
