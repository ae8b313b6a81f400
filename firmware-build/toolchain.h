/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FIRMWARE_TOOLCHAIN_H
#define HPCI_FIRMWARE_TOOLCHAIN_H

#include "cmd.h"

/*
 * The GCC5 toolchain of an OVMF build, behind caches that change how fast
 * it builds, never what (so neither is part of a firmware key): ccache
 * around gcc for the compiles when ccache is installed, and hpci-ld-cache
 * (ld-cache.h) around the -flto links, where most of the work is.  What
 * this relies on in edk2's toolchain files: docs/facts.md §11.
 */

/* The link cache's directory under the cache root. */
char *hpci_firmware_ld_cache_dir(void);

/*
 * Makes the edk2 tree's Conf/tools_def.txt from BaseTools' template with
 * CC_PATH (when ccache is on PATH), DLINK_PATH and RC_PATH of GCC5 IA32 and
 * X64 replaced, and puts the settings into cmd's environment: CC_PATH names
 * a `gcc` that is ccache, DLINK_PATH hpci-ld-cache, and RC_PATH and
 * NASM_PREFIX an objcopy and a nasm that are given their files by relative
 * names (so their objects, and the links reading them, are the same in
 * every work directory).  work_dir is the build's work directory, which
 * holds the tree: the caches see paths under it as relative, and the
 * wrappers are made in work_dir/tools, to be removed with the tree.
 * compiler is `gcc --version`'s first line.  Returns 1 when the compiles
 * go through ccache, 0 when they do not, or a negative errno.
 */
int hpci_firmware_toolchain_setup(struct hpci_cmd *cmd, const char *work_dir, const char *tree,
				  const char *compiler);

/*
 * The interpreter `python3` on PATH runs, found by asking it: edk2 starts
 * Python for every Trim and for GenFds, and a version manager's shim in
 * front of it (pyenv's bash script) costs about 0.1 s a start.  "python3"
 * when it cannot say.
 */
char *hpci_firmware_python(void);

#endif
