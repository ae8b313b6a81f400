/* SPDX-License-Identifier: MIT */
#include "download.h"
#include "cache.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "json-reader.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HPCI_VERSION
#define HPCI_VERSION "unknown"
#endif

#define ATTEMPTS 3
#define MAX_REDIRECTS 5L
#define CONNECT_TIMEOUT_S 30L
#define LOW_SPEED_BYTES 1024L   /* abort when slower than this ... */
#define LOW_SPEED_TIME_S 60L    /* ... for this long */
#define PROGRESS_INTERVAL_US (2 * G_USEC_PER_SEC)
#define RETRY_DELAY_MS 500      /* times the attempt number */
#define MIB (1024.0 * 1024.0)
#define GOOD_URL "https://HOST/PATH/NAME.tar.gz or file:///ABS/PATH/NAME.tar.gz"
#define GOOD_GET_URL "https://HOST/PATH/NAME"
#define GOOD_SHA256 "64 lowercase hex digits, as sha256sum prints them"

/* This file is the libcurl adapter: the easy handle's cleanup lives here. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
typedef struct curl_slist hpci_curl_slist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_curl_slist, curl_slist_free_all)

/* Set only by tests, before any download starts. */
static bool allow_loopback_http;

int hpci_download_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		return hpci_error(EIO, "cannot initialise libcurl: %s", curl_easy_strerror(rc));
	return 0;
}

void hpci_download_global_cleanup(void)
{
	curl_global_cleanup();
}

void hpci_download_allow_loopback_http(bool allow)
{
	allow_loopback_http = allow;
}

/* ---- checking the request ----------------------------------------------- */

static bool is_sha256(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	}
	return i == 64;
}

static int check_sha256(const char *sha256)
{
	size_t len = strlen(sha256);

	if (len != 64)
		return hpci_error(EINVAL, "sha256 '%s' has %zu characters: expected " GOOD_SHA256,
				  sha256, len);
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(sha256[i]) && !(sha256[i] >= 'a' && sha256[i] <= 'f'))
			return hpci_error(EINVAL, "sha256 '%s' has '%c' at position %zu: expected "
					  GOOD_SHA256, sha256, sha256[i], i + 1);
	}
	return 0;
}

/* Checks the URL; *ret_name (when not NULL) gets its last path segment.
 * Tarballs may also come from file:// URLs; a GET (hpci_download_to_fd())
 * goes to a server only. */
static int parse_url(const char *url, bool tarball, char **ret_name)
{
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) gerr = NULL;
	const char *good = tarball ? GOOD_URL : GOOD_GET_URL;
	const char *scheme, *host, *path, *name;

	if (!url || !*url)
		return hpci_error(EINVAL, "download URL is empty: expected %s", good);
	scheme = g_uri_peek_scheme(url);
	if (!scheme)
		return hpci_error(EINVAL, "download URL '%s' is not absolute: expected %s", url, good);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0 &&
	    (!tarball || strcmp(scheme, "file") != 0))
		return hpci_error(EINVAL, "download URL '%s' has unsupported scheme '%s': expected %s",
				  url, scheme, good);
	/* Encoded, so a %2F in the path can never become a '/' in the name. */
	uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, &gerr);
	if (!uri)
		return hpci_error(EINVAL, "invalid download URL '%s': %s; expected %s",
				  url, gerr->message, good);
	host = g_uri_get_host(uri);
	path = g_uri_get_path(uri);
	if (strcmp(scheme, "http") == 0 &&
	    !(allow_loopback_http && g_strcmp0(host, "127.0.0.1") == 0))
		return hpci_error(EINVAL, "download URL '%s' uses http: https is required%s", url,
				  tarball ? " (or file:///ABS/PATH for a local file)" : "");
	if (strcmp(scheme, "file") == 0) {
		if (host && *host && g_ascii_strcasecmp(host, "localhost") != 0)
			return hpci_error(EINVAL, "download URL '%s' names host '%s': a file URL "
					  "must look like file:///ABS/PATH/NAME.tar.gz", url, host);
	} else if (!host || !*host) {
		return hpci_error(EINVAL, "download URL '%s' has no host: expected %s", url, good);
	}
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return hpci_error(EINVAL, "download URL '%s' does not end in a file name: expected %s",
				  url, good);
	if (ret_name)
		*ret_name = g_strdup(name);
	return 0;
}

int hpci_download_check(const char *url, const char *sha256)
{
	int ret = parse_url(url, true, NULL);

	if (ret < 0)
		return ret;
	return sha256 ? check_sha256(sha256) : 0;
}

/* ---- the URL record ----------------------------------------------------- */

/* A record is a few hundred bytes; anything near this is not one of ours. */
#define RECORD_MAX_BYTES (64u << 10)

/* Returns 1 and the recorded digest, 0 when there is no record. */
static int read_record(const char *path, const char *url, char **ret_sha256)
{
	g_autofree char *data = NULL;
	g_autoptr(json_object) root = NULL;
	const char *sha, *problem = NULL;
	size_t line = 0;
	gsize len = 0;
	int ret;

	if (!hpci_is_file(path))
		return 0;
	if ((ret = hpci_json_read_bytes(path, RECORD_MAX_BYTES, &data, &len)) < 0) {
		hpci_error_prefix("download record of '%s' (remove it to fetch afresh)", url);
		return ret;
	}
	ret = hpci_json_parse_strict(data, len, &root, &line, &problem);
	if (ret < 0 && ret != -EINVAL)
		return ret;
	sha = hpci_json_member_string(root, "sha256");
	if (!sha || !is_sha256(sha)) {
		if (!problem)
			problem = "no \"sha256\" of 64 lowercase hex digits";
		return hpci_error(EINVAL, "invalid download record '%s': %s; remove it to fetch '%s' afresh",
				  path, problem, url);
	}
	*ret_sha256 = g_strdup(sha);
	return 1;
}

static int write_record(const char *path, const char *url, const char *sha256, guint64 bytes)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	g_autoptr(json_object) root = json_object_new_object();

	json_object_object_add(root, "url", json_object_new_string(url));
	json_object_object_add(root, "sha256", json_object_new_string(sha256));
	json_object_object_add(root, "bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(root, "fetched_at", json_object_new_string(stamp));
	return hpci_write_file(path, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE),
			       -1);
}

/* ---- one transfer ------------------------------------------------------- */

struct transfer {
	CURL *curl;             /* during curl_easy_perform() only, for the callbacks */
	char errbuf[CURL_ERROR_SIZE];   /* outlives every handle that uses it */
	const char *url;
	const char *name;
	/* hpci_download_to_fd(): no file://, and redirects are followed here,
	 * not by curl, so the request headers (a token) can be dropped on the
	 * way to another origin; curl would send them anywhere (see
	 * CURLOPT_HTTPHEADER), object storage included. */
	bool get;
	struct curl_slist *headers;     /* sent to the URL's origin only */
	bool progress;
	guint64 max_bytes;
	int fd;                 /* the temporary file */
	GChecksum *sum;         /* over the bytes in the temporary file */
	guint64 written;        /* bytes in the temporary file */
	guint64 offset;         /* where the current attempt started */
	gint64 total;           /* announced size of the whole file, -1 unknown */
	gint64 next_progress_us;
	int write_errno;
	bool too_big;
	bool interrupted;
};

/* Notes the size the server (or file) announces for the current response. */
static void note_size(struct transfer *t, curl_off_t announced)
{
	long code = 0;

	if (announced < 0)
		return;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 200)
		t->total = announced;
	else if (code == 206 || code == 0)      /* 0: file:// */
		t->total = (gint64)(t->offset + announced);
	else
		return;                         /* a redirect's or an error's body */
	if ((guint64)t->total > t->max_bytes)
		t->too_big = true;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *opaque)
{
	struct transfer *t = opaque;
	size_t len = size * nitems;
	curl_off_t announced = -1;

	/* The empty line ends a response's headers: its length is known now. */
	if (len == 0 || buf[0] == '\r' || buf[0] == '\n') {
		if (curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				      &announced) == CURLE_OK)
			note_size(t, announced);
		if (t->too_big)
			return 0;
	}
	return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct transfer *t = opaque;
	size_t len = size * nmemb, done = 0;

	/* A redirect's own body, when this file follows them: not the file. */
	if (t->get) {
		long code = 0;

		curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 300 && code < 400)
			return len;
	}
	if (t->written + len > t->max_bytes) {
		t->too_big = true;
		return 0;
	}
	while (done < len) {
		ssize_t n = write(t->fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			t->write_errno = n < 0 ? errno : ENOSPC;
			return 0;
		}
		done += n;
	}
	g_checksum_update(t->sum, (const guchar *)data, len);
	t->written += len;
	return len;
}

static int on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = opaque;
	gint64 now;

	if (hpci_interrupted()) {
		t->interrupted = true;
		return 1;
	}
	if (dltotal > 0) {
		note_size(t, dltotal);
		if (t->too_big)
			return 1;
	}
	if (!t->progress)
		return 0;
	now = g_get_monotonic_time();
	if (now < t->next_progress_us)
		return 0;
	t->next_progress_us = now + PROGRESS_INTERVAL_US;
	if (t->total > 0)
		hpci_info("download: %s: %.1f of %.1f MiB (%d%%)", t->name, t->written / MIB,
			  t->total / MIB, (int)(t->written * 100 / (guint64)t->total));
	else
		hpci_info("download: %s: %.1f MiB", t->name, t->written / MIB);
	return 0;
}

#define SETOPT(opt, val) \
	do { \
		if ((rc = curl_easy_setopt(curl, opt, val)) != CURLE_OK) \
			return rc; \
	} while (0)

/* url: t->url, or where a redirect led; with_headers: send t->headers. */
static CURLcode set_options(CURL *curl, struct transfer *t, const char *url, bool with_headers)
{
	const char *protocols = t->get ? "https" : "https,file";
	CURLcode rc;

	if (allow_loopback_http)
		protocols = t->get ? "http,https" : "http,https,file";
	SETOPT(CURLOPT_ERRORBUFFER, t->errbuf);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, protocols);
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, allow_loopback_http ? "http,https" : "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, t->get ? 0L : 1L);
	SETOPT(CURLOPT_HTTPHEADER, with_headers ? t->headers : NULL);
	SETOPT(CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	SETOPT(CURLOPT_FAILONERROR, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	SETOPT(CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	SETOPT(CURLOPT_USERAGENT, "hotplug-ci/" HPCI_VERSION);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(CURLOPT_WRITEDATA, t);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, t);
	SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(CURLOPT_XFERINFODATA, t);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	if (t->offset > 0)
		SETOPT(CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->offset);
	return CURLE_OK;
}

static int default_port(const char *scheme)
{
	return g_ascii_strcasecmp(scheme, "https") == 0 ? 443 : 80;
}

/* Whether both URLs name one scheme, host and port (RFC 6454's origin). */
static bool same_origin(const char *a, const char *b)
{
	g_autoptr(GUri) ua = g_uri_parse(a, G_URI_FLAGS_ENCODED, NULL);
	g_autoptr(GUri) ub = g_uri_parse(b, G_URI_FLAGS_ENCODED, NULL);
	int pa, pb;

	if (!ua || !ub || !g_uri_get_host(ua) || !g_uri_get_host(ub) ||
	    g_ascii_strcasecmp(g_uri_get_scheme(ua), g_uri_get_scheme(ub)) != 0 ||
	    g_ascii_strcasecmp(g_uri_get_host(ua), g_uri_get_host(ub)) != 0)
		return false;
	pa = g_uri_get_port(ua);
	pb = g_uri_get_port(ub);
	if (pa < 0)
		pa = default_port(g_uri_get_scheme(ua));
	if (pb < 0)
		pb = default_port(g_uri_get_scheme(ub));
	return pa == pb;
}

/* One attempt, appending to the temporary file from t->offset on.  t->curl
 * is the handle while the callbacks may run.  For a GET, redirects are
 * followed here, and the headers go no further than the URL's origin. */
static CURLcode run_attempt(struct transfer *t, long *ret_http)
{
	g_autoptr(CURL) curl = curl_easy_init();
	g_autofree char *next = NULL;
	const char *url = t->url;
	bool with_headers = t->headers != NULL;
	CURLcode rc;

	*ret_http = 0;
	t->errbuf[0] = '\0';
	if (!curl)
		return CURLE_OUT_OF_MEMORY;
	for (long hops = 0;; hops++) {
		char *location = NULL;

		if ((rc = set_options(curl, t, url, with_headers)) != CURLE_OK)
			return rc;
		t->curl = curl;
		rc = curl_easy_perform(curl);
		t->curl = NULL;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_http);
		if (rc != CURLE_OK || !t->get || *ret_http < 300 || *ret_http >= 400)
			return rc;
		if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) != CURLE_OK ||
		    !location) {
			g_snprintf(t->errbuf, sizeof(t->errbuf), "HTTP %ld without a Location",
				   *ret_http);
			return CURLE_WEIRD_SERVER_REPLY;
		}
		if (hops == MAX_REDIRECTS) {
			g_snprintf(t->errbuf, sizeof(t->errbuf), "more than %ld redirects",
				   MAX_REDIRECTS);
			return CURLE_TOO_MANY_REDIRECTS;
		}
		with_headers = with_headers && same_origin(url, location);
		/* location belongs to the handle until its next transfer. */
		g_free(next);
		next = g_strdup(location);
		url = next;
	}
}

#undef SETOPT

static bool is_transient(CURLcode rc, long http)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM:
		return true;
	case CURLE_HTTP_RETURNED_ERROR:
		return http >= 500;
	default:
		return false;
	}
}

static int error_code(CURLcode rc, long http)
{
	if (rc == CURLE_FILE_COULDNT_READ_FILE || rc == CURLE_REMOTE_FILE_NOT_FOUND ||
	    (rc == CURLE_HTTP_RETURNED_ERROR && (http == 404 || http == 410)))
		return ENOENT;
	if (rc == CURLE_HTTP_RETURNED_ERROR && (http == 401 || http == 403))
		return EACCES;
	return EIO;
}

/* The error's detail: "HTTP <status>" for an HTTP error, so callers and
 * people see the status in the same words whatever curl's version says. */
static const char *curl_detail(struct transfer *t, CURLcode rc, long http)
{
	if (rc == CURLE_HTTP_RETURNED_ERROR && http > 0)
		g_snprintf(t->errbuf, sizeof(t->errbuf), "HTTP %ld", http);
	g_strchomp(t->errbuf);
	return *t->errbuf ? t->errbuf : curl_easy_strerror(rc);
}

/* Empties the temporary file for a transfer from the first byte. */
static int restart(struct transfer *t, const char *tmp_path)
{
	if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
		return hpci_error_errno(errno, "cannot truncate '%s'", tmp_path);
	g_checksum_reset(t->sum);
	t->written = 0;
	return 0;
}

/* Waits before the next attempt; false when interrupted meanwhile. */
static bool retry_delay(int attempt)
{
	for (int waited = 0; waited < RETRY_DELAY_MS * attempt; waited += 100) {
		if (hpci_interrupted())
			return false;
		g_usleep(100 * 1000);
	}
	return !hpci_interrupted();
}

static int size_error(const struct transfer *t)
{
	if (t->total > 0 && (guint64)t->total > t->max_bytes)
		return hpci_error(EFBIG, "download of '%s' exceeds the size limit of %" G_GUINT64_FORMAT
				  " bytes: it is %" G_GINT64_FORMAT " bytes", t->url, t->max_bytes,
				  t->total);
	return hpci_error(EFBIG, "download of '%s' exceeds the size limit of %" G_GUINT64_FORMAT
			  " bytes: more than that arrived", t->url, t->max_bytes);
}

/* Fills the temporary file, retrying transient failures; *ret_sha256 is the
 * digest of what the file holds afterwards. */
static int download(struct transfer *t, const char *tmp_path, char **ret_sha256)
{
	bool may_resume = true, resumed = false;
	CURLcode rc;
	long http = 0;
	int ret;

	for (int attempt = 1;;) {
		if (hpci_interrupted())
			return hpci_error(EINTR, "download of '%s' interrupted", t->url);
		if (t->written == 0 || !may_resume) {
			if ((ret = restart(t, tmp_path)) < 0)
				return ret;
			resumed = false;
		} else {
			resumed = true;
		}
		t->offset = t->written;
		rc = run_attempt(t, &http);
		if (rc == CURLE_OK)
			break;
		if (t->interrupted)
			return hpci_error(EINTR, "download of '%s' interrupted", t->url);
		if (t->too_big)
			return size_error(t);
		if (t->write_errno)
			return hpci_error_errno(t->write_errno, "cannot write '%s'", tmp_path);
		if (rc == CURLE_RANGE_ERROR && t->offset > 0) {
			/* The server cannot resume: start over, once, uncounted. */
			may_resume = false;
			continue;
		}
		if (!is_transient(rc, http))
			return hpci_error(error_code(rc, http), "download of '%s' failed: %s",
					  t->url, curl_detail(t, rc, http));
		if (attempt == ATTEMPTS) {
			g_autofree char *of = t->total >= 0 ?
				g_strdup_printf(" of %" G_GINT64_FORMAT, t->total) : g_strdup("");

			return hpci_error(EIO, "download of '%s' failed after %d attempts: transferred "
					  "%" G_GUINT64_FORMAT "%s bytes: %s", t->url, ATTEMPTS,
					  t->written, of, curl_detail(t, rc, http));
		}
		if (!retry_delay(attempt))
			return hpci_error(EINTR, "download of '%s' interrupted", t->url);
		attempt++;
	}
	/* A resumed file is hashed again from disk, so the digest describes
	 * exactly the bytes that will go into the cache. */
	if (resumed)
		return hpci_sha256_file(tmp_path, ret_sha256);
	*ret_sha256 = g_strdup(g_checksum_get_string(t->sum));
	return 0;
}

/* ---- the cache ---------------------------------------------------------- */

/* Works out the expected digest (the pin, else the URL record, else none) and
 * whether the file with that digest is cached.  Returns 1 on a hit, 0 on a
 * miss; *ret_expected may be NULL, *ret_final is set on a hit only. */
static int lookup(const struct hpci_download *req, const char *dir, const char *name,
		  const char *record, char **ret_expected, bool *ret_from_record,
		  char **ret_final)
{
	g_autofree char *expected = NULL;
	g_autofree char *final = NULL;
	bool from_record = false;
	int ret;

	if (req->sha256) {
		expected = g_strdup(req->sha256);
	} else {
		if ((ret = read_record(record, req->url, &expected)) < 0)
			return ret;
		from_record = ret > 0;
	}
	if (expected)
		final = g_build_filename(dir, "sha256", expected, name, NULL);
	*ret_from_record = from_record;
	*ret_expected = g_steal_pointer(&expected);
	if (final && hpci_is_file(final)) {
		*ret_final = g_steal_pointer(&final);
		return 1;
	}
	return 0;
}

static int lock_url(const char *lock_path, const char *url, int *ret_fd)
{
	hpci_autofd int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return hpci_error_errno(errno, "cannot open download lock '%s'", lock_path);
	while (flock(fd, LOCK_EX) < 0) {
		int saved = errno;

		if (saved == EINTR && !hpci_interrupted())
			continue;
		if (saved == EINTR)
			return hpci_error(EINTR, "download of '%s' interrupted", url);
		return hpci_error_errno(saved, "cannot lock '%s'", lock_path);
	}
	*ret_fd = hpci_steal_fd(&fd);
	return 0;
}

/* Hands a cached file (a hit or what was just fetched) to the caller. */
static int found(char **final, char **sha256, char **ret_path, char **ret_sha256)
{
	*ret_path = g_steal_pointer(final);
	*ret_sha256 = g_steal_pointer(sha256);
	return 0;
}

int hpci_download_fetch(const struct hpci_download *req, char **ret_path, char **ret_sha256)
{
	/* Declared first, so the lock is dropped last, after the temporary file
	 * is closed and, unless it went into the cache, removed. */
	hpci_autofd int lock_fd = -1;
	hpci_autounlink char *tmp_path = NULL;
	hpci_autofd int fd = -1;
	g_autofree char *name = NULL;
	g_autofree char *root = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *urls_dir = NULL;
	g_autofree char *tmp_dir = NULL;
	g_autofree char *url_hash = NULL;
	g_autofree char *record = NULL;
	g_autofree char *lock_path = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *final = NULL;
	g_autofree char *final_dir = NULL;
	g_autofree char *sha = NULL;
	g_autoptr(GChecksum) sum = NULL;
	struct transfer t;
	bool from_record = false;
	int ret;

	if ((ret = parse_url(req->url, true, &name)) < 0 ||
	    (req->sha256 && (ret = check_sha256(req->sha256)) < 0))
		return ret;
	root = hpci_cache_root();
	if (!g_path_is_absolute(root)) {
		char *abs = g_canonicalize_filename(root, NULL);

		g_free(root);
		root = abs;
	}
	dir = g_build_filename(root, "downloads", NULL);
	urls_dir = g_build_filename(dir, "urls", NULL);
	tmp_dir = g_build_filename(dir, "tmp", NULL);
	url_hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, req->url, -1);
	record = g_strdup_printf("%s/%s.json", urls_dir, url_hash);
	lock_path = g_strdup_printf("%s/%s.lock", urls_dir, url_hash);

	/* Finished files only ever appear by rename, so a hit needs no lock. */
	if ((ret = lookup(req, dir, name, record, &expected, &from_record, &final)) != 0)
		return ret < 0 ? ret : found(&final, &expected, ret_path, ret_sha256);
	g_clear_pointer(&expected, g_free);
	if ((ret = hpci_mkdir_p(urls_dir, 0755)) < 0 ||
	    (ret = lock_url(lock_path, req->url, &lock_fd)) < 0)
		return ret;
	/* Whoever held the lock may have fetched it meanwhile. */
	if ((ret = lookup(req, dir, name, record, &expected, &from_record, &final)) != 0)
		return ret < 0 ? ret : found(&final, &expected, ret_path, ret_sha256);

	if ((ret = hpci_mkdir_p(tmp_dir, 0755)) < 0)
		return ret;
	tmp_path = g_strdup_printf("%s/%.16s.XXXXXX", tmp_dir, url_hash);
	fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0) {
		ret = hpci_error_errno(errno, "cannot create a temporary file in '%s'", tmp_dir);
		g_clear_pointer(&tmp_path, g_free);
		return ret;
	}
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	memset(&t, 0, sizeof(t));
	t.url = req->url;
	t.name = name;
	t.progress = req->progress;
	t.max_bytes = req->max_bytes ? req->max_bytes : HPCI_DOWNLOAD_DEFAULT_MAX;
	t.fd = fd;
	t.sum = sum;
	t.total = -1;
	t.next_progress_us = g_get_monotonic_time() + PROGRESS_INTERVAL_US;
	if ((ret = download(&t, tmp_path, &sha)) < 0)
		return ret;
	if (expected && strcmp(sha, expected) != 0) {
		if (from_record)
			return hpci_error(EBADMSG, "content of '%s' changed since first fetch: "
					  "recorded sha256 %s, now %s; pass --sha256 to pin the "
					  "new content or remove '%s'", req->url, expected, sha,
					  record);
		return hpci_error(EBADMSG, "download of '%s' has sha256 %s, expected %s; check "
				  "the --sha256 pin or the URL", req->url, sha, expected);
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		return hpci_error_errno(errno, "cannot write '%s'", tmp_path);
	final_dir = g_build_filename(dir, "sha256", sha, NULL);
	final = g_build_filename(final_dir, name, NULL);
	if ((ret = hpci_mkdir_p(final_dir, 0755)) < 0)
		return ret;
	if (rename(tmp_path, final) < 0)
		return hpci_error_errno(errno, "cannot move '%s' into the download cache as '%s'",
					tmp_path, final);
	g_clear_pointer(&tmp_path, g_free);   /* in the cache now: not to be removed */
	if (!hpci_is_file(record) && (ret = write_record(record, req->url, sha, t.written)) < 0)
		return ret;
	return found(&final, &sha, ret_path, ret_sha256);
}

/* ---- one GET to a file descriptor --------------------------------------- */

int hpci_download_to_fd(const struct hpci_download_get *req, int fd, const char *fd_path)
{
	g_autoptr(hpci_curl_slist) headers = NULL;
	g_autoptr(GChecksum) sum = NULL;
	g_autofree char *name = NULL;
	g_autofree char *sha = NULL;
	struct transfer t;
	int ret;

	if ((ret = parse_url(req->url, false, &name)) < 0)
		return ret;
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *more = curl_slist_append(headers, *h);

		if (!more)
			return hpci_error(ENOMEM, "cannot add a request header for '%s'", req->url);
		headers = more;
	}
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	memset(&t, 0, sizeof(t));
	t.url = req->url;
	t.name = name;
	t.get = true;
	t.headers = headers;
	t.max_bytes = req->max_bytes ? req->max_bytes : HPCI_DOWNLOAD_DEFAULT_MAX;
	t.fd = fd;
	t.sum = sum;
	t.total = -1;
	t.next_progress_us = g_get_monotonic_time() + PROGRESS_INTERVAL_US;
	return download(&t, fd_path, &sha);
}

char *hpci_download_escape(const char *text)
{
	g_autoptr(CURL) curl = curl_easy_init();
	char *escaped = curl ? curl_easy_escape(curl, text, 0) : NULL;
	char *copy;

	/* Only out of memory fails, which glib aborts on everywhere else. */
	if (!escaped)
		g_error("cannot URL-escape a string: out of memory");
	copy = g_strdup(escaped);
	curl_free(escaped);
	return copy;
}
