/* SPDX-License-Identifier: MIT */
#ifndef HPCI_QEMU_BUILD_H
#define HPCI_QEMU_BUILD_H

#include "build-source.h"

#include <glib.h>
#include <stdbool.h>

/*
 * QEMU builds from a source (lib/source.h: local git checkout + revision,
 * https:// or file:// tarball, or the distro source package "debian:qemu"),
 * with a patch queue (lib/patch-queue.h), into the content-addressed cache
 * (lib/cache.h, kind "qemu").  The key covers the source identity (commit
 * id, tarball sha256, package version), every patch's bytes, the configure
 * arguments and the compiler version.  A cache entry holds
 * bin/qemu-system-x86_64, build.log and manifest.json.
 */
/*
 * What to build; the one request type of the CLI, the matrix (a cell's
 * recipe) and the builder.  A request on the stack may point at strings its
 * caller owns; one from hpci_qemu_request_copy() owns its strings and
 * array, and hpci_qemu_request_free() releases them.
 */
struct hpci_qemu_request {
	struct hpci_build_source src;  /* e.g. "/src/qemu", "debian:qemu" and a patch queue */
	GPtrArray *configure;          /* extra configure arguments (char *), may be NULL */
};

/* A deep copy that owns everything (configure is never NULL in it); NULL for NULL. */
struct hpci_qemu_request *hpci_qemu_request_copy(const struct hpci_qemu_request *req);
/* Frees an owning request (from hpci_qemu_request_copy or built the same way). */
void hpci_qemu_request_free(struct hpci_qemu_request *req);
typedef struct hpci_qemu_request hpci_qemu_request;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_qemu_request, hpci_qemu_request_free)

struct hpci_qemu_build {
	char *key;                 /* cache key, sha256 hex */
	char *dir;                 /* the cache entry */
	char *emulator;            /* <dir>/bin/qemu-system-x86_64 */
	char *version;             /* first line of --version */
	char *source;              /* the source described, e.g. "debian source qemu 1:7.2+dfsg-7" */
	struct hpci_source_origin origin;  /* the source this run asked for, resolved */
	char *manifest;            /* <dir>/manifest.json */
	char *log;                 /* <dir>/build.log */
	GPtrArray *patches;        /* names of the patches applied (char *) */
	bool cache_hit;
};

/* Configure arguments every build gets before the request's own: a small
 * TCG-only x86_64 system emulator that finds its ROMs in the distro's dirs. */
extern const char *const hpci_qemu_default_configure[];

/* Checks the request's form (source, options, patch queue present) without
 * building anything; for matrices and the command line. */
int hpci_qemu_check(const struct hpci_qemu_request *req);
/* Same; on failure *ret_field names the request member rejected ("source" for
 * source, rev and sha256 together, "patches" or "configure") and *ret_index
 * the configure argument (0 for the others). */
int hpci_qemu_check_field(const struct hpci_qemu_request *req, const char **ret_field,
			  guint *ret_index);

/*
 * Works out the cache key without building: resolves the source (which
 * may download a tarball or ask apt), reads the patches, asks the
 * compiler its version.  *ret_key is the hex key.
 */
int hpci_qemu_key(const struct hpci_qemu_request *req, char **ret_key);

/* Builds, or finds in the cache (a hit answers in well under a second).
 * Progress goes to stderr.  On failure the error names the step, and for a
 * failed build the log path, which stays in <cache>/qemu/failed/. */
int hpci_qemu_build(const struct hpci_qemu_request *req, struct hpci_qemu_build *ret);

void hpci_qemu_build_release(struct hpci_qemu_build *build);
/* hpci_qemu_build() is the function; the result type is spelled apart. */
typedef struct hpci_qemu_build hpci_qemu_build_result;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_qemu_build_result, hpci_qemu_build_release)

/* Our patch queue: <source root>/qemu-build/patches. */
char *hpci_qemu_default_patches(void);

#endif
