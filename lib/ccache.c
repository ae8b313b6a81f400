/* SPDX-License-Identifier: MIT */
#include "ccache.h"
#include "cache.h"

char *hpci_ccache_find(void)
{
	return g_find_program_in_path("ccache");
}

bool hpci_cmd_add_ccache_env(struct hpci_cmd *cmd, const char *base_dir)
{
	g_autofree char *ccache = hpci_ccache_find();
	g_autofree char *root = NULL;
	g_autofree char *dir = NULL;

	if (!ccache)
		return false;
	root = hpci_cache_root();
	dir = g_build_filename(root, "ccache", NULL);
	hpci_cmd_setenv(cmd, "CCACHE_DIR", dir);
	/* Each build has a work directory of its own: with the paths under it
	 * made relative, and the current directory left out of the hash (it
	 * only names the work directory too), near revisions share objects. */
	hpci_cmd_setenv(cmd, "CCACHE_BASEDIR", base_dir);
	hpci_cmd_setenv(cmd, "CCACHE_NOHASHDIR", "1");
	return true;
}
