/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "cache.h"
#include "error.h"

#include <glib.h>
#include <stdio.h>

#define DEFAULT_DAYS 30
/* Saved boot states (harness/boot-state.h) are big (about 140 MiB each, one
 * per configuration and build) and cost one boot to make again. */
#define STATES_DAYS 3

int cmd_gc(int argc, char **argv)
{
	int days = DEFAULT_DAYS;
	gboolean dry_run = FALSE;
	GOptionEntry entries[] = {
		{ "older-than", 0, 0, G_OPTION_ARG_INT, &days,
		  "remove entries not used for this many days (default: 30; 0: all)", "DAYS" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
		  "only say what would be removed", NULL },
		{ NULL }
	};
	g_autoptr(GPtrArray) cached = NULL;
	gint64 cutoff, now_s;
	guint64 freed = 0;
	unsigned removed = 0, busy = 0, stale = 0;
	g_autofree char *freed_text = NULL;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "",
				     "Remove cache entries (images, QEMU and firmware builds) not "
				     "used for DAYS days, saved boot states older than 3 days (or "
				     "DAYS, if fewer), and the work directories of builds that "
				     "died.  Entries being built are left alone.", entries)))
		return rc;
	if (days < 0)
		return hpci_usage_error("gc", "--older-than takes 0 or more days");
	if (argc != 1)
		return hpci_usage_error("gc", "gc takes no arguments");
	if (hpci_cache_list(NULL, &cached) < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	now_s = g_get_real_time() / G_USEC_PER_SEC;
	cutoff = now_s - (gint64)days * 24 * 3600;
	for (guint i = 0; i < cached->len; i++) {
		const struct hpci_cache_entry *e = cached->pdata[i];

		gint64 limit = g_strcmp0(e->kind, "states") == 0
				       ? MAX(cutoff, now_s - (gint64)MIN(days, STATES_DAYS) * 24 * 3600)
				       : cutoff;

		if (e->used_s > limit)
			continue;
		if (!dry_run && (rc = hpci_cache_remove(e->kind, e->key)) < 0)
			return hpci_error_exit(HPCI_EXIT_INFRA);
		if (!dry_run && rc == 0) {
			busy++;
			continue;
		}
		printf("%s %s/%.12s (%s)\n", dry_run ? "would remove" : "removed", e->kind, e->key,
		       e->dir);
		removed++;
		freed += e->bytes;
	}
	for (const char *const *k = hpci_cache_kinds; *k && !dry_run; k++) {
		unsigned n = 0;

		if (hpci_cache_remove_stale(*k, &n) < 0)
			return hpci_error_exit(HPCI_EXIT_INFRA);
		stale += n;
	}
	freed_text = g_format_size(freed);
	printf("%s %u entr%s (%s), %u left alone while in use, %u dead build director%s\n",
	       dry_run ? "would remove" : "removed", removed, removed == 1 ? "y" : "ies",
	       freed_text, busy, stale, stale == 1 ? "y" : "ies");
	return HPCI_EXIT_OK;
}
