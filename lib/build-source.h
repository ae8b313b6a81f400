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
void hpci_build_source_clear(struct hpci_build_source *src);
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

/* A builder's check of its request's own members: on failure *field names the
 * member rejected and *index its element (left alone for a member that is
 * not a list). */
typedef int (*hpci_request_check_fn)(const void *req, const char **field, guint *index);

/*
 * The whole check of a build request: hpci_build_source_check(), then
 * check_rest(req, ...).  On failure *ret_field and *ret_index (each when
 * non-NULL) name the member rejected and its element (0 for the others).
 */
int hpci_build_request_check(const struct hpci_build_source *from, const char *package,
			     hpci_request_check_fn check_rest, const void *req,
			     const char **ret_field, guint *ret_index);

#endif
