/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CCACHE_H
#define HPCI_CCACHE_H

#include "cmd.h"

#include <stdbool.h>

/*
 * ccache for the builders (QEMU and OVMF): one ccache directory under the
 * cache root that every build shares.  ccache changes how fast a build is,
 * not what it makes, so it is never part of a cache key.
 */

/* The ccache on PATH, or NULL when it is not installed. */
char *hpci_ccache_find(void);

/*
 * When ccache is on PATH, puts the shared settings into cmd's environment
 * (CCACHE_DIR=<cache root>/ccache, CCACHE_BASEDIR=base_dir,
 * CCACHE_NOHASHDIR=1) and returns true; otherwise leaves cmd alone and
 * returns false.  base_dir is the build's work directory: paths under it are
 * hashed relative to the compiler's directory, so two builds of near
 * revisions, each in a work directory of its own, share their objects.
 */
bool hpci_cmd_add_ccache_env(struct hpci_cmd *cmd, const char *base_dir);

#endif
