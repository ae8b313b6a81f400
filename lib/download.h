/* SPDX-License-Identifier: MIT */
#ifndef HPCI_DOWNLOAD_H
#define HPCI_DOWNLOAD_H

#include <glib.h>
#include <stdbool.h>

/*
 * Tarball downloads through libcurl (https:// and file:// only) into the
 * download cache <hpci_cache_root()>/downloads/.  A file is stored by its
 * content: downloads/sha256/<hex>/<basename of the URL path>.  The sha256 of a
 * URL is pinned by the caller, or recorded on the first fetch in
 * downloads/urls/<sha256 of the URL string>.json ({"url":..., "sha256":...,
 * "bytes":..., "fetched_at":...}) and checked on every later fetch of that URL.
 * A pinned fetch writes the record only when there is none yet; it never
 * replaces one.
 *
 * A transfer is written to downloads/tmp/ and renamed into downloads/sha256/
 * only once its digest is verified, under an flock on downloads/urls/<urlhash>
 * .lock, so a second concurrent fetch of one URL waits and then hits.  Nothing
 * half-written stays in the cache after any failure.  Truncated transfers and
 * transient errors (connect, timeout, send/receive, empty reply, HTTP 5xx) are
 * tried 3 times in all, resuming where the last attempt stopped.
 *
 * An HTTP error's message says "HTTP <status>" after the URL.
 *
 * hpci_download_fetch() returns 0 or, with one recorded message:
 *   -EINVAL   the URL or sha256 is malformed, or the URL record is unreadable
 *   -ENOENT   HTTP 404/410, or a file:// path that does not exist
 *   -EACCES   HTTP 401/403
 *   -EBADMSG  the content's sha256 differs from the pin or the URL record
 *   -EFBIG    the file is larger than max_bytes
 *   -EINTR    hpci_interrupted() became true
 *   -EIO      any other transfer failure (after retries when transient)
 *   -errno    local file system failures
 */

#define HPCI_DOWNLOAD_DEFAULT_MAX (G_GUINT64_CONSTANT(4) << 30)

struct hpci_download {
	const char *url;        /* https://... or file:///abs/path */
	const char *sha256;     /* expected hex digest (64 lowercase hex), or NULL: use/record the URL's record */
	guint64 max_bytes;      /* 0: HPCI_DOWNLOAD_DEFAULT_MAX (4 GiB) */
	bool progress;          /* progress lines to stderr via hpci_info */
};

/* curl_global_init()/curl_global_cleanup(): main() calls these once, before
 * any thread starts and after all have finished. */
int hpci_download_global_init(void);
void hpci_download_global_cleanup(void);

/* Checks the URL's form (scheme https or file, non-empty path, a file name at
 * the end) and the sha256's form (NULL is fine); no I/O.  Returns 0 or -EINVAL
 * with a message that says what is wrong and what a good value looks like. */
int hpci_download_check(const char *url, const char *sha256);

/* Returns the cached file when present (a hit touches no network and answers
 * instantly), else downloads it.  *ret_path: absolute path of the cached file;
 * *ret_sha256: its hex digest (caller frees both). */
int hpci_download_fetch(const struct hpci_download *req, char **ret_path, char **ret_sha256);

/*
 * One uncached GET, for an API response rather than a tarball: the body goes
 * into fd (a new, empty file at fd_path, which is only for messages and for
 * re-reading after a resumed transfer).  Same limits and the same retries of
 * transient failures as hpci_download_fetch(); https only (no file://).
 * headers ("Name: value" strings, NULL-terminated, or NULL) go to the URL's
 * scheme, host and port only: a redirect elsewhere (GitLab sends artifact
 * downloads to object storage) is followed without them, as curl does for
 * its own Authorization header, so a token never leaves its server.  No
 * message ever holds a header's value.  Returns 0 or, with one recorded
 * message naming req->url, -EINVAL, -ENOENT (404/410), -EACCES (401/403),
 * -EFBIG, -EINTR, -EIO or -errno as above.  fd's content is undefined after
 * a failure.
 */
struct hpci_download_get {
	const char *url;                /* https://HOST/PATH/NAME */
	const char *const *headers;     /* "Name: value", NULL-terminated; may be NULL */
	guint64 max_bytes;              /* 0: HPCI_DOWNLOAD_DEFAULT_MAX */
};
int hpci_download_to_fd(const struct hpci_download_get *req, int fd, const char *fd_path);

/* text %-escaped for one URL component (curl_easy_escape: all but
 * A-Z a-z 0-9 - . _ ~, so '/' too); caller frees. */
char *hpci_download_escape(const char *text);

/* For tests: also accept plain http:// URLs whose host is 127.0.0.1, so unit
 * tests can serve files from a thread without TLS.  Off by default; nothing
 * outside the tests turns it on. */
void hpci_download_allow_loopback_http(bool allow);

#endif
