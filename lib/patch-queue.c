/* SPDX-License-Identifier: MIT */
#include "patch-queue.h"
#include "cmd.h"
#include "error.h"
#include "own.h"

#include <errno.h>
#include <string.h>

#define PATCH_TIMEOUT_MS (5 * 60 * 1000)

static void patch_free(gpointer p)
{
	struct hpci_patch *patch = p;

	g_free(patch->name);
	g_free(patch->path);
	g_free(patch->sha256);
	g_free(patch->subject);
	g_free(patch);
}

void hpci_patch_queue_release(struct hpci_patch_queue *queue)
{
	if (!queue)
		return;
	g_free(queue->dir);
	if (queue->patches)
		g_ptr_array_unref(queue->patches);
	memset(queue, 0, sizeof(*queue));
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	const struct hpci_patch *pa = *(struct hpci_patch *const *)a;
	const struct hpci_patch *pb = *(struct hpci_patch *const *)b;

	return strcmp(pa->name, pb->name);
}

/* "Subject: [PATCH 1/2] target/i386: ..." -> "target/i386: ..." */
static char *subject_of(const char *text, const char *fallback)
{
	const char *s = strstr(text, "\nSubject: ");
	const char *end;

	if (!s)
		return g_strdup(fallback);
	s += strlen("\nSubject: ");
	if (*s == '[' && (end = strchr(s, ']')))
		s = end + 1;
	while (*s == ' ')
		s++;
	end = strchr(s, '\n');
	return end ? g_strndup(s, end - s) : g_strdup(s);
}

int hpci_patch_queue_load(const char *dir, struct hpci_patch_queue *ret)
{
	g_auto(hpci_patch_queue) q = { 0 };
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) gerr = NULL;
	const char *name;
	int rc;

	q.patches = g_ptr_array_new_with_free_func(patch_free);
	if (!dir) {
		*ret = HPCI_STEAL_STRUCT(q);
		return 0;
	}
	q.dir = g_canonicalize_filename(dir, NULL);
	d = g_dir_open(q.dir, 0, &gerr);
	if (!d)
		return hpci_error(ENOENT, "patch queue '%s' cannot be read: %s; give a directory "
				  "of *.patch files", q.dir, gerr->message);
	while ((name = g_dir_read_name(d))) {
		struct hpci_patch *patch;
		g_autofree char *text = NULL;

		if (!g_str_has_suffix(name, ".patch"))
			continue;
		patch = g_new0(struct hpci_patch, 1);
		patch->name = g_strdup(name);
		patch->path = g_build_filename(q.dir, name, NULL);
		g_ptr_array_add(q.patches, patch);
		if ((rc = hpci_read_file(patch->path, &text, NULL)) < 0)
			return rc;
		if (!strstr(text, "\n--- ") && !g_str_has_prefix(text, "--- "))
			return hpci_error(EINVAL, "patch '%s' holds no diff (no '--- ' line); "
					  "make it with git format-patch", patch->path);
		patch->sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
		patch->subject = subject_of(text, name);
	}
	if (q.patches->len == 0)
		return hpci_error(ENOENT, "patch queue '%s' holds no *.patch file; "
				  "leave the patches out for none", q.dir);
	g_ptr_array_sort(q.patches, by_name);
	*ret = HPCI_STEAL_STRUCT(q);
	return 0;
}

void hpci_patch_queue_hash(const struct hpci_patch_queue *queue, struct hpci_hash *h)
{
	for (guint i = 0; i < queue->patches->len; i++) {
		const struct hpci_patch *patch = queue->patches->pdata[i];

		hpci_hash_str(h, "patch-name", patch->name);
		hpci_hash_str(h, "patch-sha256", patch->sha256);
	}
}

/* patch(1)'s lines that say what went wrong. */
static char *complaints(const char *out)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_autoptr(GString) s = g_string_new(NULL);
	unsigned kept = 0;

	for (char **l = lines; *l && kept < 8; l++) {
		if (strstr(*l, "FAILED") || strstr(*l, "can't find file") ||
		    strstr(*l, "Reversed") || strstr(*l, "malformed") ||
		    strstr(*l, "No file to patch") || strstr(*l, "Only garbage")) {
			g_string_append_printf(s, "%s%s", kept ? "; " : "", *l);
			kept++;
		}
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static int run_patch(const char *tree, const char *file, bool dry_run, const char *log,
		     GString *out)
{
	g_auto(hpci_cmd) cmd = { 0 };

	hpci_cmd_init(&cmd, "patch");
	hpci_cmd_addl(&cmd, "-p1", "--batch", "--forward", "--no-backup-if-mismatch", NULL);
	if (dry_run)
		hpci_cmd_add(&cmd, "--dry-run");
	hpci_cmd_addl(&cmd, "-i", file, NULL);
	cmd.cwd = g_strdup(tree);
	cmd.timeout_ms = PATCH_TIMEOUT_MS;
	cmd.log_path = g_strdup(log);
	return hpci_cmd_run(&cmd, out, out);
}

int hpci_patch_queue_apply(const struct hpci_patch_queue *queue, const char *tree,
			   const char *log)
{
	for (guint i = 0; i < queue->patches->len; i++) {
		const struct hpci_patch *patch = queue->patches->pdata[i];
		g_autoptr(GString) out = g_string_new(NULL);
		int rc;

		hpci_info("applying %s", patch->name);
		/* A dry run first, so a failing patch leaves the tree as it was. */
		rc = run_patch(tree, patch->path, true, log, out);
		if (rc == -EINTR)
			return rc;
		if (rc < 0) {
			g_autofree char *why = complaints(out->str);

			return hpci_error(EINVAL, "patch '%s' (%u of %u) does not apply: %s; "
					  "rebase it onto this source or leave it out of the queue",
					  patch->path, i + 1, queue->patches->len,
					  *why ? why : "see the build log");
		}
		g_string_truncate(out, 0);
		if ((rc = run_patch(tree, patch->path, false, log, out)) < 0) {
			hpci_error_prefix("patch '%s'", patch->path);
			return rc;
		}
	}
	return 0;
}
