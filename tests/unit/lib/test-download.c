/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "download.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "http-server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The loopback server of http-server.h stands in for the download site; each
 * test's setup starts one and its teardown stops it.  Behaviours by path:
 *   /ok.tar             200 with the body, or 206 for "Range: bytes=N-"
 *   /big.tar            announces the full length, sends TRUNC_AT bytes, closes
 *   /trunc.tar          announces the full length, sends TRUNC_AT bytes, closes
 *   /flaky.tar          like /trunc.tar on the first request, then like /ok.tar
 *   /norange.tar        like /trunc.tar first, then 200 with the body, ignoring Range
 *   /nolength.tar       200 with the body and no Content-Length
 *   /slow.tar           like /ok.tar after a pause of SLOW_MS
 *   /redirect.tar       302 to /ok.tar
 *   /unavailable.tar    503
 *   /interrupt.tar      sends TRUNC_AT bytes, raises the interrupt flag, and
 *                       waits for the client to close
 *   anything else       404
 */
#define BODY_LEN 100000
#define TRUNC_AT 3000
#define SLOW_MS 300
#define LIMIT 50000

struct server {
	struct http_server http;
	GMutex lock;
	GBytes *body;           /* under lock: the test changes it */
	int flaky_seen;         /* server thread only */
	int norange_seen;
};

struct fixture {
	char *cache;
	struct server srv;
};

#define assert_ok(expr) \
	do { \
		int rc_ = (expr); \
		if (rc_ != 0) \
			print_error("unexpected failure %d: %s\n", rc_, hpci_error_message()); \
		assert_int_equal(rc_, 0); \
	} while (0)

#define assert_message_has(text) \
	do { \
		if (!strstr(hpci_error_message(), (text))) \
			print_error("message '%s' lacks '%s'\n", hpci_error_message(), (text)); \
		assert_non_null(strstr(hpci_error_message(), (text))); \
	} while (0)

static GBytes *make_body(guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	guint8 *data = g_malloc(BODY_LEN);

	for (gsize i = 0; i < BODY_LEN; i++)
		data[i] = (guint8)g_rand_int_range(rand, 0, 256);
	return g_bytes_new_take(data, BODY_LEN);
}

static char *sha_of(GBytes *bytes)
{
	return g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
}

/* ---- the server --------------------------------------------------------- */

/* Sends the body (from range_start when honour_range), at most limit bytes of it. */
static void send_body(int fd, GBytes *body, guint64 range_start, bool honour_range, gsize limit,
		      bool with_length)
{
	gsize len;
	const char *data = g_bytes_get_data(body, &len);
	g_autofree char *head = NULL;
	guint64 start = 0;

	if (honour_range && range_start > 0 && range_start < len) {
		start = range_start;
		head = g_strdup_printf("HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
				       "Content-Range: bytes %" G_GUINT64_FORMAT "-%zu/%zu\r\n"
				       "Connection: close\r\n\r\n", (size_t)(len - start), start,
				       len - 1, len);
	} else if (with_length) {
		head = g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				       "Connection: close\r\n\r\n", len);
	} else {
		head = g_strdup("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	}
	http_send_text(fd, head);
	http_send_all(fd, data + start, MIN(len - start, limit));
}

/* The http_server_handler: answers by path (see the top of this file). */
static void serve_one(int fd, const char *path, const char *request, void *opaque)
{
	struct server *s = opaque;
	g_autoptr(GBytes) body = NULL;
	guint64 range = 0;
	const char *r;

	r = strcasestr(request, "\r\nRange: bytes=");
	if (r)
		range = g_ascii_strtoull(r + strlen("\r\nRange: bytes="), NULL, 10);
	g_mutex_lock(&s->lock);
	body = g_bytes_ref(s->body);
	g_mutex_unlock(&s->lock);

	if (strcmp(path, "/ok.tar") == 0) {
		send_body(fd, body, range, true, G_MAXSIZE, true);
	} else if (strcmp(path, "/big.tar") == 0) {
		/* Only the announced length can tell the client it is too big. */
		send_body(fd, body, range, true, TRUNC_AT, true);
	} else if (strcmp(path, "/trunc.tar") == 0) {
		send_body(fd, body, range, true, TRUNC_AT, true);
	} else if (strcmp(path, "/flaky.tar") == 0) {
		send_body(fd, body, range, true, s->flaky_seen++ ? G_MAXSIZE : TRUNC_AT, true);
	} else if (strcmp(path, "/norange.tar") == 0) {
		if (s->norange_seen++)
			send_body(fd, body, 0, false, G_MAXSIZE, true);
		else
			send_body(fd, body, range, true, TRUNC_AT, true);
	} else if (strcmp(path, "/nolength.tar") == 0) {
		send_body(fd, body, 0, false, G_MAXSIZE, false);
	} else if (strcmp(path, "/slow.tar") == 0) {
		g_usleep(SLOW_MS * 1000);
		send_body(fd, body, range, true, G_MAXSIZE, true);
	} else if (strcmp(path, "/redirect.tar") == 0) {
		http_send_text(fd, "HTTP/1.1 302 Found\r\nLocation: /ok.tar\r\n"
			       "Content-Length: 0\r\nConnection: close\r\n\r\n");
	} else if (strcmp(path, "/unavailable.tar") == 0) {
		http_send_response(fd, "503 Service Unavailable", "busy");
	} else if (strcmp(path, "/interrupt.tar") == 0) {
		char drain[256];

		send_body(fd, body, 0, false, TRUNC_AT, true);
		hpci_interrupt_raise();
		/* Keep the connection open: only the client's own check ends it. */
		while (recv(fd, drain, sizeof(drain), 0) > 0)
			;
	} else {
		http_send_response(fd, "404 Not Found", "not found");
	}
}

static void server_start(struct server *s, GBytes *body)
{
	memset(s, 0, sizeof(*s));
	g_mutex_init(&s->lock);
	s->body = g_bytes_ref(body);
	http_server_start(&s->http, serve_one, s);
}

static void server_stop(struct server *s)
{
	http_server_stop(&s->http);
	g_bytes_unref(s->body);
	g_mutex_clear(&s->lock);
}

static void server_set_body(struct server *s, GBytes *body)
{
	g_mutex_lock(&s->lock);
	g_bytes_unref(s->body);
	s->body = g_bytes_ref(body);
	g_mutex_unlock(&s->lock);
}

/* ---- fixtures and helpers ----------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	g_autoptr(GBytes) body = make_body(1);

	f->cache = g_dir_make_tmp("hpci-download-XXXXXX", NULL);
	assert_non_null(f->cache);
	g_setenv("HPCI_CACHE_DIR", f->cache, TRUE);
	hpci_download_allow_loopback_http(true);
	server_start(&f->srv, body);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	server_stop(&f->srv);
	hpci_download_allow_loopback_http(false);
	assert_int_equal(hpci_rm_rf(f->cache), 0);
	g_unsetenv("HPCI_CACHE_DIR");
	g_free(f->cache);
	g_free(f);
	return 0;
}

static char *url_for(struct fixture *f, const char *path)
{
	return g_strdup_printf("http://127.0.0.1:%d%s", f->srv.http.port, path);
}

static int fetch(struct fixture *f, const char *path, const char *sha256, guint64 max_bytes,
		 char **ret_path, char **ret_sha256)
{
	g_autofree char *url = url_for(f, path);
	struct hpci_download req = { .url = url, .sha256 = sha256, .max_bytes = max_bytes };

	return hpci_download_fetch(&req, ret_path, ret_sha256);
}

static char *cache_path(struct fixture *f, const char *sub)
{
	return g_build_filename(f->cache, "downloads", sub, NULL);
}

static char *record_path(struct fixture *f, const char *url)
{
	g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
	g_autofree char *name = g_strdup_printf("%s.json", hash);

	return g_build_filename(f->cache, "downloads", "urls", name, NULL);
}

/* Regular files below dir, recursively; 0 when dir does not exist. */
static int count_files(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	int n = 0;

	if (!d)
		return 0;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (hpci_is_dir(path))
			n += count_files(path);
		else
			n++;
	}
	return n;
}

/* Nothing half-written or unverified in the cache. */
static void assert_nothing_cached(struct fixture *f)
{
	g_autofree char *tmp = cache_path(f, "tmp");
	g_autofree char *sha = cache_path(f, "sha256");

	assert_int_equal(count_files(tmp), 0);
	assert_int_equal(count_files(sha), 0);
}

static void assert_file_holds(const char *path, GBytes *body)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	assert_ok(hpci_read_file(path, &data, &len));
	assert_int_equal(len, g_bytes_get_size(body));
	assert_memory_equal(data, g_bytes_get_data(body, NULL), len);
}

/* ---- tests -------------------------------------------------------------- */

static void test_fetch_then_hit(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	g_autofree char *url = url_for(f, "/ok.tar");
	g_autofree char *record = record_path(f, url);
	g_autofree char *path = NULL, *sha = NULL, *path2 = NULL, *sha2 = NULL;
	g_autofree char *expect_path = NULL;
	g_autofree char *tmp = cache_path(f, "tmp");
	g_autofree char *data = NULL;

	assert_ok(fetch(f, "/ok.tar", NULL, 0, &path, &sha));
	assert_true(g_path_is_absolute(path));
	expect_path = g_build_filename(f->cache, "downloads", "sha256", want, "ok.tar", NULL);
	assert_string_equal(path, expect_path);
	assert_file_holds(path, body);
	assert_string_equal(sha, want);
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	/* The record names the URL and the digest. */
	assert_true(hpci_is_file(record));
	assert_ok(hpci_read_file(record, &data, NULL));
	assert_non_null(strstr(data, want));
	assert_non_null(strstr(data, url));
	assert_non_null(strstr(data, "\"bytes\":100000"));
	assert_non_null(strstr(data, "\"fetched_at\""));
	assert_int_equal(count_files(tmp), 0);

	/* The second fetch is a hit: the server sees no new request. */
	assert_ok(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2));
	assert_string_equal(path2, path);
	assert_string_equal(sha2, want);
	assert_int_equal(http_server_requests(&f->srv.http), 1);
}

static void test_pinned_sha256(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	g_autofree char *wrong = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "other", -1);
	g_autofree char *url = url_for(f, "/ok.tar");
	g_autofree char *record = record_path(f, url);
	g_autofree char *path = NULL, *sha = NULL;

	/* A wrong pin fails with both digests and leaves nothing behind. */
	assert_int_equal(fetch(f, "/ok.tar", wrong, 0, &path, &sha), -EBADMSG);
	assert_null(path);
	assert_null(sha);
	assert_message_has(want);
	assert_message_has(wrong);
	assert_message_has("check the --sha256 pin");
	assert_nothing_cached(f);
	assert_false(hpci_is_file(record));

	assert_ok(fetch(f, "/ok.tar", want, 0, &path, &sha));
	assert_string_equal(sha, want);
	assert_file_holds(path, body);
	assert_int_equal(http_server_requests(&f->srv.http), 2);
	/* A pinned fetch records the URL when it has no record yet. */
	assert_true(hpci_is_file(record));
}

static void test_truncated_every_time(void **state)
{
	struct fixture *f = *state;
	g_autofree char *path = NULL, *sha = NULL;

	assert_int_equal(fetch(f, "/trunc.tar", NULL, 0, &path, &sha), -EIO);
	assert_null(path);
	assert_message_has("failed after 3 attempts");
	/* Each attempt resumed where the last stopped. */
	assert_message_has("transferred 9000 of 100000 bytes");
	assert_int_equal(http_server_requests(&f->srv.http), 3);
	assert_nothing_cached(f);
}

static void test_server_error_is_retried(void **state)
{
	struct fixture *f = *state;
	g_autofree char *path = NULL, *sha = NULL;

	assert_int_equal(fetch(f, "/unavailable.tar", NULL, 0, &path, &sha), -EIO);
	assert_message_has("failed after 3 attempts");
	assert_message_has("503");
	assert_int_equal(http_server_requests(&f->srv.http), 3);
	assert_nothing_cached(f);
}

static void test_flaky_resumes(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	g_autofree char *path = NULL, *sha = NULL;

	assert_ok(fetch(f, "/flaky.tar", NULL, 0, &path, &sha));
	assert_string_equal(sha, want);
	assert_file_holds(path, body);
	assert_int_equal(http_server_requests(&f->srv.http), 2);
}

static void test_flaky_without_range_support_restarts(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	g_autofree char *path = NULL, *sha = NULL;

	/* Truncated, then a 200 to the range request (refused by libcurl),
	 * then a clean restart from the first byte. */
	assert_ok(fetch(f, "/norange.tar", NULL, 0, &path, &sha));
	assert_string_equal(sha, want);
	assert_file_holds(path, body);
	assert_int_equal(http_server_requests(&f->srv.http), 3);
}

static void test_not_found_is_not_retried(void **state)
{
	struct fixture *f = *state;
	g_autofree char *path = NULL, *sha = NULL;

	assert_int_equal(fetch(f, "/missing.tar", NULL, 0, &path, &sha), -ENOENT);
	assert_null(path);
	assert_message_has("404");
	assert_message_has("/missing.tar'");
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	assert_nothing_cached(f);
}

static void test_size_limit(void **state)
{
	struct fixture *f = *state;
	g_autofree char *path = NULL, *sha = NULL;

	/* Refused from the announced length, at once, not retried ... */
	assert_int_equal(fetch(f, "/big.tar", NULL, LIMIT, &path, &sha), -EFBIG);
	assert_null(path);
	assert_message_has("size limit of 50000 bytes: it is 100000 bytes");
	assert_message_has("/big.tar'");
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	assert_nothing_cached(f);
	/* ... and, without one, while writing. */
	assert_int_equal(fetch(f, "/nolength.tar", NULL, LIMIT, &path, &sha), -EFBIG);
	assert_message_has("size limit of 50000 bytes");
	assert_message_has("/nolength.tar'");
	assert_nothing_cached(f);
	assert_int_equal(http_server_requests(&f->srv.http), 2);
	/* A limit the body fits in is fine. */
	assert_ok(fetch(f, "/nolength.tar", NULL, BODY_LEN, &path, &sha));
}

static void test_file_url(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(7);
	g_autofree char *want = sha_of(body);
	g_autofree char *dir = g_build_filename(f->cache, "src", NULL);   /* teardown removes it */
	g_autofree char *src = g_build_filename(dir, "local.tar.gz", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing.tar.gz", NULL);
	g_autofree char *url = g_filename_to_uri(src, NULL, NULL);
	g_autofree char *missing_url = g_filename_to_uri(missing, NULL, NULL);
	g_autofree char *tmp = cache_path(f, "tmp");
	g_autofree char *sha_dir = cache_path(f, "sha256");
	g_autofree char *path = NULL, *sha = NULL;
	struct hpci_download req = { .url = url };

	assert_ok(hpci_mkdir_p(dir, 0755));
	assert_ok(hpci_write_file(src, g_bytes_get_data(body, NULL), BODY_LEN));
	assert_ok(hpci_download_fetch(&req, &path, &sha));
	assert_string_equal(sha, want);
	assert_file_holds(path, body);
	assert_string_equal(strrchr(path, '/'), "/local.tar.gz");
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&sha, g_free);

	req.url = missing_url;
	assert_int_equal(hpci_download_fetch(&req, &path, &sha), -ENOENT);
	assert_null(path);
	assert_message_has(missing_url);

	/* The size limit holds for files as well. */
	g_clear_pointer(&url, g_free);
	g_free(g_steal_pointer(&src));
	src = g_build_filename(dir, "other.tar", NULL);
	url = g_filename_to_uri(src, NULL, NULL);
	assert_ok(hpci_write_file(src, g_bytes_get_data(body, NULL), BODY_LEN));
	req.url = url;
	req.max_bytes = LIMIT;
	assert_int_equal(hpci_download_fetch(&req, &path, &sha), -EFBIG);
	assert_message_has("size limit of 50000 bytes");
	assert_int_equal(count_files(tmp), 0);
	assert_int_equal(count_files(sha_dir), 1);     /* local.tar.gz only */
}

static void check_rejects(const char *url, const char *sha256, const char *names, const char *says)
{
	hpci_error_clear();
	assert_int_equal(hpci_download_check(url, sha256), -EINVAL);
	assert_message_has(names);
	assert_message_has(says);
}

static void test_check(void **state)
{
	static const char good_sha[] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	hpci_download_allow_loopback_http(false);
	check_rejects("ftp://x/y.tar", NULL, "'ftp://x/y.tar'", "expected https://");
	check_rejects("ftp://x/y.tar", NULL, "'ftp'", "unsupported scheme");
	check_rejects("https://", NULL, "'https://'", "expected https://");
	check_rejects("http://x/y.tar", NULL, "'http://x/y.tar'", "https is required");
	check_rejects("http://127.0.0.1:1/y.tar", NULL, "'http://127.0.0.1:1/y.tar'",
		      "https is required");
	check_rejects("foo.tar", NULL, "'foo.tar'", "not absolute");
	check_rejects("", NULL, "download URL is empty", "expected https://");
	check_rejects("https://example.org/dir/", NULL, "'https://example.org/dir/'",
		      "does not end in a file name");
	check_rejects("https://example.org", NULL, "'https://example.org'",
		      "does not end in a file name");
	check_rejects("file://host/tmp/x.tar", NULL, "'host'", "file:///ABS/PATH");
	check_rejects("https://example.org/x.tar", "abc123", "'abc123'", "has 6 characters");
	check_rejects("https://example.org/x.tar", "abc123", "'abc123'", "64 lowercase hex digits");
	check_rejects("https://example.org/x.tar",
		      "0123456789abcdef0123456789abcdeg0123456789abcdef0123456789abcdef",
		      "'0123456789abcdef0123456789abcdeg0123456789abcdef0123456789abcdef'",
		      "has 'g' at position 32");
	check_rejects("https://example.org/x.tar",
		      "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		      "'0123456789ABCDEF", "64 lowercase hex digits");

	assert_int_equal(hpci_download_check("https://example.org/a/b.tar.gz", NULL), 0);
	assert_int_equal(hpci_download_check("https://example.org/a/b.tar.gz?x=1", good_sha), 0);
	assert_int_equal(hpci_download_check("file:///tmp/x.tar", good_sha), 0);
	assert_int_equal(hpci_download_check("file://localhost/tmp/x.tar", NULL), 0);
	/* Plain http to the loopback address only when tests allow it. */
	hpci_download_allow_loopback_http(true);
	assert_int_equal(hpci_download_check("http://127.0.0.1:1/y.tar", NULL), 0);
	check_rejects("http://x/y.tar", NULL, "'http://x/y.tar'", "https is required");
}

static void test_recorded_sha256_changes(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autoptr(GBytes) changed = make_body(2);
	g_autofree char *old_sha = sha_of(body);
	g_autofree char *new_sha = sha_of(changed);
	g_autofree char *url = url_for(f, "/ok.tar");
	g_autofree char *record = record_path(f, url);
	g_autofree char *path = NULL, *sha = NULL, *path2 = NULL, *sha2 = NULL;
	g_autofree char *before = NULL, *after = NULL;

	assert_ok(fetch(f, "/ok.tar", NULL, 0, &path, &sha));
	assert_ok(hpci_read_file(record, &before, NULL));
	assert_int_equal(unlink(path), 0);
	server_set_body(&f->srv, changed);
	assert_int_equal(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2), -EBADMSG);
	assert_null(path2);
	assert_message_has("changed since first fetch");
	assert_message_has(old_sha);
	assert_message_has(new_sha);
	assert_message_has(record);
	assert_nothing_cached(f);
	/* The record is untouched; a pin of the new content is accepted. */
	assert_ok(hpci_read_file(record, &after, NULL));
	assert_string_equal(before, after);
	assert_ok(fetch(f, "/ok.tar", new_sha, 0, &path2, &sha2));
	assert_string_equal(sha2, new_sha);
	assert_file_holds(path2, changed);
}

/* A damaged or oversized URL record is an error that says to remove it,
 * never a fetch that ignores it; the record is read with a size cap. */
static void test_bad_record(void **state)
{
	struct fixture *f = *state;
	g_autofree char *url = url_for(f, "/ok.tar");
	g_autofree char *record = record_path(f, url);
	g_autofree char *path = NULL, *sha = NULL, *path2 = NULL, *sha2 = NULL;
	g_autofree char *good = NULL;
	g_autofree char *big = g_strnfill(100 * 1024, ' ');

	assert_ok(fetch(f, "/ok.tar", NULL, 0, &path, &sha));
	assert_ok(hpci_read_file(record, &good, NULL));
	assert_ok(hpci_write_file(record, "{\"sha256\":", -1));
	assert_int_equal(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2), -EINVAL);
	assert_message_has("invalid download record");
	assert_message_has("unexpected end of data");
	assert_message_has("remove it to fetch");
	assert_ok(hpci_write_file(record, "{\"sha256\":\"abc\"}", -1));
	assert_int_equal(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2), -EINVAL);
	assert_message_has("no \"sha256\" of 64 lowercase hex digits");
	assert_ok(hpci_write_file(record, big, -1));
	assert_int_equal(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2), -EFBIG);
	assert_message_has("download record of");
	assert_message_has("remove it to fetch afresh");
	assert_null(path2);
	assert_ok(hpci_write_file(record, good, -1));
	assert_ok(fetch(f, "/ok.tar", NULL, 0, &path2, &sha2));
	assert_string_equal(sha2, sha);
}

struct racer {
	struct fixture *f;
	int rc;
	char *path;
	char *sha;
	char *message;
};

static void *race(void *opaque)
{
	struct racer *r = opaque;

	r->rc = fetch(r->f, "/slow.tar", NULL, 0, &r->path, &r->sha);
	r->message = g_strdup(hpci_error_message());
	return NULL;
}

static void test_concurrent_fetches_download_once(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	struct racer r[2] = { { .f = f }, { .f = f } };
	pthread_t threads[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 2; i++) {
		if (r[i].rc)
			print_error("racer %d: %s\n", i, r[i].message);
		assert_int_equal(r[i].rc, 0);
		assert_string_equal(r[i].sha, want);
	}
	assert_string_equal(r[0].path, r[1].path);
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	for (int i = 0; i < 2; i++) {
		g_free(r[i].path);
		g_free(r[i].sha);
		g_free(r[i].message);
	}
}

static void test_redirect(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GBytes) body = make_body(1);
	g_autofree char *want = sha_of(body);
	g_autofree char *path = NULL, *sha = NULL;

	assert_ok(fetch(f, "/redirect.tar", NULL, 0, &path, &sha));
	assert_string_equal(sha, want);
	assert_string_equal(strrchr(path, '/'), "/redirect.tar");
	assert_int_equal(http_server_requests(&f->srv.http), 2);
}

/* Must run last: the interrupt flag cannot be cleared. */
static void test_interrupt(void **state)
{
	struct fixture *f = *state;
	g_autofree char *path = NULL, *sha = NULL;
	struct hpci_download req = { .progress = true };
	g_autofree char *url = url_for(f, "/interrupt.tar");
	gint64 t0 = g_get_monotonic_time();

	req.url = url;
	assert_int_equal(hpci_download_fetch(&req, &path, &sha), -EINTR);
	/* Stopped by the progress callback, not by the server's timeout. */
	assert_true(g_get_monotonic_time() - t0 <
		    (HTTP_SERVER_SOCKET_TIMEOUT_S - 2) * G_USEC_PER_SEC);
	assert_null(path);
	assert_message_has("download of '");
	assert_message_has("/interrupt.tar' interrupted");
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	assert_nothing_cached(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fetch_then_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_every_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_error_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flaky_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flaky_without_range_support_restarts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_found_is_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_url, setup, teardown),
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_recorded_sha256_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_fetches_download_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
		/* last: the interrupt flag stays set */
		cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
	};
	int rc;

	if (hpci_download_global_init() < 0) {
		hpci_error_print();
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hpci_download_global_cleanup();
	return rc;
}
