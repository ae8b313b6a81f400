/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FIRMWARE_BUILD_H
#define HPCI_FIRMWARE_BUILD_H

#include "build-source.h"

#include <glib.h>
#include <stdbool.h>

/*
 * OVMF builds from an edk2 source (lib/source.h: local git checkout +
 * revision with its submodules, tarball URL, or "debian:edk2" with the
 * distro's patch series), with a patch queue, into the content-addressed
 * cache (lib/cache.h, kind "firmware").  The platform is
 * OvmfPkg/OvmfPkgIa32X64.dsc with GCC5: 32-bit PEI, 64-bit DXE and SMM, as
 * distributions ship it.  BaseTools are built once per source (kind
 * "basetools") and copied into every build of that source.  The compiles
 * go through ccache and the links through hpci-ld-cache (toolchain.h),
 * which make builds faster and are not part of the key.
 *
 * An entry holds OVMF_CODE.fd, OVMF_VARS.fd, firmware.json (a descriptor
 * in the format of QEMU's docs/interop/firmware.json), build.log and
 * manifest.json (source, patches, build type, every -D and PCD, toolchain,
 * compiler, duration).
 */
/*
 * What to build; the one request type of the CLI, the matrix (a cell's
 * recipe) and the builder.  A request on the stack may point at strings its
 * caller owns; one from hpci_firmware_request_copy() owns its strings and
 * arrays, and hpci_firmware_request_free() releases them.
 */
struct hpci_firmware_request {
	struct hpci_build_source src; /* e.g. "/src/edk2", "debian:edk2" and a patch queue */
	char *build_type;      /* DEBUG (default), RELEASE or NOOPT */
	GPtrArray *defines;    /* "NAME=VALUE" (char *), over the defaults */
	GPtrArray *pcds;       /* "TokenSpaceGuid.PcdName=VALUE" (char *), over the defaults */
};

/* A deep copy that owns everything (defines and pcds are never NULL in it);
 * NULL for NULL. */
struct hpci_firmware_request *hpci_firmware_request_copy(const struct hpci_firmware_request *req);
/* Frees an owning request (from hpci_firmware_request_copy or built the same way). */
void hpci_firmware_request_free(struct hpci_firmware_request *req);
typedef struct hpci_firmware_request hpci_firmware_request;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_firmware_request, hpci_firmware_request_free)

struct hpci_firmware_build {
	char *key;
	char *dir;          /* the cache entry */
	char *code;         /* <dir>/OVMF_CODE.fd */
	char *vars;         /* <dir>/OVMF_VARS.fd, the template copied per cell */
	char *descriptor;   /* <dir>/firmware.json */
	char *manifest;
	char *log;
	char *source;       /* "debian source edk2 2022.11-6+deb12u2" */
	struct hpci_source_origin origin;  /* the source this run asked for, resolved */
	char *build_type;
	char *version;      /* one line for reports: "OVMF DEBUG (build KEY of SOURCE; ...)" */
	GPtrArray *patches; /* names of the patches applied (char *) */
	bool smm;           /* SMM_REQUIRE=TRUE */
	bool cache_hit;
};

/* What every build gets unless the request overrides the same name. */
extern const char *const hpci_firmware_default_defines[];
extern const char *const hpci_firmware_default_pcds[];

/* Checks the request's form (source, build type, -D and PCD syntax, patch
 * queue present) without I/O beyond the patch directory. */
int hpci_firmware_check(const struct hpci_firmware_request *req);
/* Same; on failure *ret_field names the request member rejected ("source" for
 * source, rev and sha256 together, "patches", "build_type", "defines" or
 * "pcds") and *ret_index the element of a list (0 for the others). */
int hpci_firmware_check_field(const struct hpci_firmware_request *req, const char **ret_field,
			      guint *ret_index);

/* True when the request, after defaults, builds with SMM_REQUIRE=TRUE. */
bool hpci_firmware_request_smm(const struct hpci_firmware_request *req);

/* Works out the cache key without building (resolves the source). */
int hpci_firmware_key(const struct hpci_firmware_request *req, char **ret_key);

/* Builds, or finds in the cache.  Progress goes to stderr; a failed build's
 * log stays in <cache>/firmware/failed/<key>.log and the error names it. */
int hpci_firmware_build(const struct hpci_firmware_request *req, struct hpci_firmware_build *ret);

void hpci_firmware_build_release(struct hpci_firmware_build *build);
/* hpci_firmware_build() is the function; the result type is spelled apart. */
typedef struct hpci_firmware_build hpci_firmware_build_result;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_firmware_build_result, hpci_firmware_build_release)

#endif
