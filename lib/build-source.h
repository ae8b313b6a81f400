/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BUILD_SOURCE_H
#define HPCI_BUILD_SOURCE_H

#include "patch-queue.h"
#include "source.h"

#include <glib.h>

/*
 * What a build request (qemu-build/, firmware-build/) builds from, as the
 * CLI and the matrix give it: a source with its options (lib/source.h) and
 * a patch queue (lib/patch-queue.h).  One on the stack may point at strings
 * its caller owns; one from hpci_build_source_copy() owns its strings, and
 * hpci_build_source_clear() frees them.
 */
struct hpci_build_source {
	char *source;   /* "/src/qemu", "https://…/qemu-8.2.0.tar.xz", "debian:qemu" */
	char *rev;      /* git only; default HEAD */
	char *sha256;   /* tarball pin; NULL: recorded on first fetch, checked after */
	char *patches;  /* directory of *.patch applied in name order; NULL: none */
};

/* A copy that owns its strings. */
struct hpci_build_source hpci_build_source_copy(const struct hpci_build_source *from);
/* Frees an owning one's strings and zeroes it. */
void hpci_build_source_clear(struct hpci_build_source *from);
typedef struct hpci_build_source hpci_build_source;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_build_source, hpci_build_source_clear)

/*
 * Parses the source (`package` as for hpci_source_parse()) into *ret_source
 * and loads the patch queue into *ret_queue, without resolving anything.
 * On failure *ret_field, when ret_field is non-NULL, names the member
 * rejected: "source" (for source, rev and sha256 together) or "patches".
 */
int hpci_build_source_load(const struct hpci_build_source *from, const char *package,
			   struct hpci_source *ret_source, struct hpci_patch_queue *ret_queue,
			   const char **ret_field);

/* Checks the same and keeps nothing. */
int hpci_build_source_check(const struct hpci_build_source *from, const char *package,
			    const char **ret_field);

#endif
