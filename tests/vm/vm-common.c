/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vm-common.h"
#include "cmd.h"
#include "error.h"
#include "virt.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vm_binary(void)
{
	const char *bin = g_getenv("HOTPLUG_CI");

	if (!bin)
		fail_msg("HOTPLUG_CI is not set; run the VM tests through 'meson test --suite vm'");
	return bin;
}

char *vm_tmpdir(const char *name)
{
	g_autofree char *tmpl = g_strdup_printf("hpci-vm-%s-XXXXXX", name);
	char *dir = g_dir_make_tmp(tmpl, NULL);

	assert_non_null(dir);
	/* libvirt's QEMU must reach the cell files: keep the tree traversable. */
	g_chmod(dir, 0755);
	return dir;
}

json_object *vm_load_report(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "report.json", NULL);
	json_object *root = json_object_from_file(path);

	if (!root)
		fail_msg("'%s' is missing or not valid JSON: %s", path, json_util_get_last_err());
	return root;
}

json_object *vm_get(json_object *o, const char *path)
{
	g_auto(GStrv) keys = g_strsplit(path, ".", -1);

	for (char **k = keys; *k && o; k++) {
		if (g_ascii_isdigit(**k))
			o = json_object_array_get_idx(o, atoi(*k));
		else if (!json_object_object_get_ex(o, *k, &o))
			return NULL;
	}
	return o;
}

const char *vm_get_str(json_object *o, const char *path)
{
	json_object *v = vm_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *vm_find_cell(json_object *report, const char *axis, const char *value,
			  const char *axis2, const char *value2)
{
	json_object *cells = vm_get(report, "cells");
	g_autofree char *p1 = g_strdup_printf("axes.%s", axis);
	g_autofree char *p2 = axis2 ? g_strdup_printf("axes.%s", axis2) : NULL;

	for (size_t i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (g_strcmp0(vm_get_str(cell, p1), value) == 0 &&
		    (!axis2 || g_strcmp0(vm_get_str(cell, p2), value2) == 0))
			return cell;
	}
	return NULL;
}

bool vm_declared_known_issue(json_object *cell)
{
	json_object *issues = vm_get(cell, "expected.known_issues");

	if (strcmp(vm_get_str(cell, "verdict"), "known-issue") != 0)
		return false;
	for (size_t i = 0; issues && i < json_object_array_length(issues); i++) {
		json_object *k = json_object_array_get_idx(issues, i);

		if (strcmp(vm_get_str(k, "outcome"), vm_get_str(cell, "outcome")) == 0 &&
		    strstr(vm_get_str(k, "note"), "(evidence: "))
			return true;
	}
	return false;
}

#define EVENTS_TAIL_LINES 25

static void print_attempt(const char *label, json_object *a)
{
	fprintf(stderr, "  %s: %s (%s)\n    error: %s\n    evidence: %s\n", label,
		vm_get_str(a, "outcome"), vm_get_str(a, "verdict"), vm_get_str(a, "error"),
		vm_get_str(a, "evidence"));
}

void vm_print_cell_evidence(const char *report_dir, json_object *cell)
{
	json_object *attempts = vm_get(cell, "attempts");
	g_autofree char *events = g_build_filename(report_dir, vm_get_str(cell, "dir"),
						   "events.log", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	guint n, from;

	fprintf(stderr, "cell %s: outcome %s, verdict %s, expected %s\n", vm_get_str(cell, "id"),
		vm_get_str(cell, "outcome"), vm_get_str(cell, "verdict"),
		vm_get_str(cell, "expected.outcome"));
	if (!attempts)
		print_attempt("the one attempt", cell);
	for (size_t i = 0; attempts && i < json_object_array_length(attempts); i++) {
		json_object *a = json_object_array_get_idx(attempts, i);
		g_autofree char *label = g_strdup_printf("attempt %d",
							 json_object_get_int(vm_get(a, "attempt")));

		print_attempt(label, a);
	}
	if (!g_file_get_contents(events, &text, NULL, NULL)) {
		fprintf(stderr, "  (no %s)\n", events);
		return;
	}
	lines = g_strsplit(g_strchomp(text), "\n", -1);
	n = g_strv_length(lines);
	from = n > EVENTS_TAIL_LINES ? n - EVENTS_TAIL_LINES : 0;
	fprintf(stderr, "  last %u lines of %s:\n", n - from, events);
	for (guint i = from; i < n; i++)
		fprintf(stderr, "    %s\n", lines[i]);
}

unsigned vm_count_domains(const char *prefix)
{
	g_autoptr(hpci_virt) virt = NULL;
	g_autoptr(GPtrArray) names = NULL;

	if (hpci_virt_open("qemu:///system", &virt) < 0 ||
	    hpci_virt_list_domains(virt, prefix, &names) < 0)
		fail_msg("cannot list libvirt domains: %s", hpci_error_message());
	return names->len;
}

unsigned vm_count_files(const char *dir, const char *name)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	unsigned n = 0;

	for (const char *e; d && (e = g_dir_read_name(d));) {
		g_autofree char *path = g_build_filename(dir, e, NULL);

		if (strcmp(e, name) == 0)
			n++;
		if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
			n += vm_count_files(path, name);
	}
	return n;
}

void vm_result_release(struct vm_result *r)
{
	g_free(r->out);
	g_free(r->err);
}

#define RUN_TIMEOUT_MS (40 * 60 * 1000)

void vm_hotplug_ci_argv(struct vm_result *r, const char *const *args)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	struct hpci_cmd cmd;
	gint64 t0 = g_get_monotonic_time();

	hpci_cmd_init(&cmd, vm_binary());
	for (; *args; args++)
		hpci_cmd_add(&cmd, *args);
	cmd.timeout_ms = RUN_TIMEOUT_MS;
	(void)hpci_cmd_run(&cmd, out, err);
	r->status = cmd.exit_status;
	r->out = g_strstrip(g_strdup(out->str));
	r->err = g_strdup(err->str);
	r->ms = (g_get_monotonic_time() - t0) / 1000;
	hpci_cmd_release(&cmd);
	fprintf(stderr, "%s", r->err);
}

void vm_hotplug_ci(struct vm_result *r, const char *first, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		g_ptr_array_add(args, (gpointer)a);
	va_end(ap);
	g_ptr_array_add(args, NULL);
	vm_hotplug_ci_argv(r, (const char *const *)args->pdata);
}

void vm_sh(const char *cwd, const char *script)
{
	static const char *const git_env[][2] = {
		{ "GIT_AUTHOR_NAME", "t" }, { "GIT_AUTHOR_EMAIL", "t@invalid" },
		{ "GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z" },
		{ "GIT_COMMITTER_NAME", "t" }, { "GIT_COMMITTER_EMAIL", "t@invalid" },
		{ "GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z" },
	};
	struct hpci_cmd cmd;

	hpci_cmd_init(&cmd, "sh");
	hpci_cmd_add(&cmd, "-ec");
	hpci_cmd_add(&cmd, script);
	cmd.cwd = g_strdup(cwd);
	cmd.timeout_ms = 10 * 60 * 1000;
	for (size_t i = 0; i < G_N_ELEMENTS(git_env); i++)
		hpci_cmd_setenv(&cmd, git_env[i][0], git_env[i][1]);
	if (hpci_cmd_run(&cmd, NULL, NULL) < 0)
		fail_msg("%s", hpci_error_message());
	hpci_cmd_release(&cmd);
}

unsigned vm_count_processes(const char *needle)
{
	g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
	unsigned n = 0;

	for (const char *e; proc && (e = g_dir_read_name(proc));) {
		g_autofree char *path = NULL;
		g_autofree char *cmdline = NULL;
		gsize len = 0;

		if (!g_ascii_isdigit(*e))
			continue;
		path = g_build_filename("/proc", e, "cmdline", NULL);
		if (!g_file_get_contents(path, &cmdline, &len, NULL))
			continue; /* it ended meanwhile */
		for (gsize i = 0; i + 1 < len; i++) {
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
		}
		n += strstr(cmdline, needle) != NULL;
	}
	return n;
}
