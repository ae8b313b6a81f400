/* SPDX-License-Identifier: MIT */
#ifndef HPCI_SOURCE_H
#define HPCI_SOURCE_H

#include <glib.h>

/*
 * Where a build's source tree comes from, shared by qemu-build/ and
 * firmware-build/:
 *   - a local git checkout and a revision, exported with `git archive` (the
 *     user's checkout, index and worktrees are never touched; populated
 *     submodules are exported at the commit the revision records);
 *   - an https:// or file:// tarball, fetched through lib/download.h;
 *   - "debian:PKG" or "debian:PKG=VERSION", the distro source package
 *     through `apt-get source`, with the distro's own patch series applied.
 * Parsing does no I/O, so a matrix or a command line is checked before
 * anything starts; resolving pins the identity the cache key is made of.
 */
enum hpci_source_kind {
	HPCI_SOURCE_GIT,
	HPCI_SOURCE_TARBALL,
	HPCI_SOURCE_DEBIAN,
};

struct hpci_source {
	enum hpci_source_kind kind;
	char *spec;        /* as given */
	char *location;    /* git: absolute checkout path; tarball: URL; debian: package */
	char *rev;         /* git: the revision asked for ("HEAD" by default);
			    * debian: the version asked for, or NULL for apt's choice */
	char *sha256;      /* tarball: the pin, or NULL */
	/* Set by hpci_source_resolve(): */
	char *identity;    /* git: commit id; tarball: sha256; debian: the version */
	char *describe;    /* for people: "git /src/qemu 1a2b3c4d5e6f (v7.2.0-5-g1a2b3c4)" */
	char *tarball;     /* tarball: the file in the download cache */
};

const char *hpci_source_kind_name(enum hpci_source_kind kind);

/* What kind of source `spec` names, by its form alone (no I/O): "debian:PKG"
 * is Debian, a URL ("scheme://") a tarball, anything else a local git
 * checkout, whose path may be relative to the current directory. */
enum hpci_source_kind hpci_source_kind_of(const char *spec);

/*
 * Checks the form of a source and its options: rev only with git (or as
 * debian:PKG=VERSION), sha256 only with a tarball, a URL of an accepted
 * scheme.  `package`, when non-NULL, is the only Debian package allowed
 * ("qemu", "edk2").  Returns 0 or -EINVAL with a message that says what
 * is wrong and what is accepted.
 */
int hpci_source_parse(const char *spec, const char *rev, const char *sha256,
		      const char *package, struct hpci_source *ret);

/* Pins the identity: `git rev-parse`, the tarball download, or the version
 * `apt-get source` would fetch (adding deb-src entries when there are none
 * and we are root). */
int hpci_source_resolve(struct hpci_source *src);

/* Writes the resolved source tree into `dest`, which must not exist.
 * Commands append their output to `log`. */
int hpci_source_export(const struct hpci_source *src, const char *dest, const char *log);

void hpci_source_release(struct hpci_source *src);
typedef struct hpci_source hpci_source;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_source, hpci_source_release)

/*
 * Where a build came from, as the run asked for it (not as the cache entry
 * first recorded it: one entry serves every checkout of the same commit):
 * what a report's identities carry so a nightly can bisect between two
 * runs' revisions.  The three strings are owned.
 */
struct hpci_source_origin {
	char *kind;       /* "git", "tarball" or "debian" */
	char *location;   /* git: absolute checkout; tarball: URL; debian: package */
	char *revision;   /* git: commit id; tarball: sha256; debian: version */
};

/* From a resolved source. */
void hpci_source_origin_set(struct hpci_source_origin *origin, const struct hpci_source *src);
void hpci_source_origin_copy(struct hpci_source_origin *to, const struct hpci_source_origin *from);
void hpci_source_origin_clear(struct hpci_source_origin *origin);

#endif
