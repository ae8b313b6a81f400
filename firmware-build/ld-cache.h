/* SPDX-License-Identifier: MIT */
#ifndef HPCI_LD_CACHE_H
#define HPCI_LD_CACHE_H

#include <glib.h>
#include <stdbool.h>

/*
 * A cache for the links of an OVMF build, as ccache is for its compiles.
 * GCC5 builds DEBUG and RELEASE with -flto, so the code is generated when a
 * module links: the 118 links are most of a build's work, and ccache does
 * not cache links.  edk2's tools_def.txt points DLINK_PATH at the
 * hpci-ld-cache program, which calls hpci_ld_cache_link().
 *
 * The key is the tools' identity, the link's arguments and directory with
 * the build's work directory replaced by a placeholder, and the contents of
 * every file the link reads: the archives and objects, the response files
 * that list them (their text with the same placeholder) and the linker
 * script.  A link the parser does not understand in full (a library found
 * by search, an option that writes a file it does not know, a compile) runs
 * as it would without the cache.  A hit copies the linked file, the map and
 * what the linker printed on stderr, with the placeholder turned back into
 * this build's work directory.  Whatever goes wrong in the cache itself
 * only costs the link being run.
 */

/* How the firmware builder hands the settings to the program, through
 * edk2's `build` and make. */
#define HPCI_LD_CACHE_ENV_DIR "HPCI_LD_CACHE_DIR"         /* the cache; unset: no caching */
#define HPCI_LD_CACHE_ENV_BASEDIR "HPCI_LD_CACHE_BASEDIR" /* the build's work directory */
#define HPCI_LD_CACHE_ENV_LINKER "HPCI_LD_CACHE_LINKER"   /* the real gcc, an absolute path */
#define HPCI_LD_CACHE_ENV_TOOLS "HPCI_LD_CACHE_TOOLS"     /* gcc's and ld's identity */

/* Each cached or cacheable link prints "hpci-ld-cache: hit|miss KEY OUTPUT"
 * on stderr, which the builder counts. */
#define HPCI_LD_CACHE_LINE_PREFIX "hpci-ld-cache: "

struct hpci_ld_cache_config {
	const char *dir;
	const char *base_dir;
	const char *linker;
	const char *tools;
};

/* Reads the settings from the environment; linker is NULL when unset. */
void hpci_ld_cache_config_from_env(struct hpci_ld_cache_config *config);

enum hpci_ld_cache_result {
	HPCI_LD_CACHE_UNCACHED,   /* not a link it can cache, or caching is off */
	HPCI_LD_CACHE_MISS,       /* linked, and kept when the link succeeded */
	HPCI_LD_CACHE_HIT,        /* the outputs came from the cache */
};

/*
 * Runs `linker argv[1..]` or gives its outputs from the cache, and returns
 * the exit status the program should end with (the linker's, 0 on a hit,
 * 127 when the linker cannot be run).  *ret_result (may be NULL) says which.
 */
int hpci_ld_cache_link(const struct hpci_ld_cache_config *config, int argc, char **argv,
		       enum hpci_ld_cache_result *ret_result);

/*
 * Removes the entries used longest ago until the cache holds at most
 * max_bytes, and work directories of stores that died.  Returns 0 or a
 * negative errno; *ret_removed (may be NULL) counts the entries removed.
 */
int hpci_ld_cache_trim(const char *dir, guint64 max_bytes, unsigned *ret_removed);

#endif
