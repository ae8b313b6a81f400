/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "download.h"
#include "error.h"
#include "fsutil.h"
#include "gitlab-fetch.h"
#include "http-server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A GitLab stand-in: the loopback server of http-server.h, which records each
 * request's target (path and query) and its JOB-TOKEN header.  By the
 * artifact path, the part after API/raw/:
 *   missing.json       404
 *   forbidden.json     403
 *   unavailable.json   503
 *   notreport.json     200, an HTML sign-in page
 *   elsewhere/...      302 to http://localhost:PORT/storage/report.json (another origin)
 *   same/...           302 to /storage/report.json (this origin)
 *   anything else      200, REPORT
 * and /storage/report.json is 200, REPORT.
 */
#define TOKEN "glpat-Secret-Token-123"
#define PROJECT "42"
#define REPORT "{\"schema\": 1, \"cells\": [{\"id\": \"topology=a\"}]}\n"
#define NOT_REPORT "<html><body>Sign in</body></html>\n"
#define API_PATH "/api/v4/projects/" PROJECT "/jobs/artifacts/"

struct request {
	char *target;
	char *token;            /* NULL: no JOB-TOKEN header */
};

struct server {
	struct http_server http;
	GMutex lock;
	GArray *requests;       /* of struct request, under lock */
};

struct fixture {
	char *dir;
	char *api;
	struct server srv;
};

#define assert_contains(haystack, needle) \
	do { \
		if (!strstr((haystack), (needle))) \
			print_error("'%s' lacks '%s'\n", (haystack), (needle)); \
		assert_non_null(strstr((haystack), (needle))); \
	} while (0)

/* ---- the server --------------------------------------------------------- */

/* The JOB-TOKEN header's value, or NULL. */
static char *header_token(const char *request)
{
	const char *h = strcasestr(request, "\r\nJOB-TOKEN:");
	const char *end;

	if (!h)
		return NULL;
	h += strlen("\r\nJOB-TOKEN:");
	while (*h == ' ')
		h++;
	end = strstr(h, "\r\n");
	return g_strndup(h, end - h);
}

/* The http_server_handler: records the request, answers by path (see above). */
static void serve_one(int fd, const char *target, const char *request, void *opaque)
{
	struct server *s = opaque;
	struct request req;
	const char *raw;

	req.target = g_strdup(target);
	req.token = header_token(request);
	g_mutex_lock(&s->lock);
	g_array_append_val(s->requests, req);
	g_mutex_unlock(&s->lock);

	raw = strstr(target, "/raw/");
	raw = raw ? raw + strlen("/raw/") : "";
	if (g_str_has_prefix(target, "/storage/")) {
		http_send_response(fd, "200 OK", REPORT);
	} else if (g_str_has_prefix(raw, "missing.json")) {
		http_send_response(fd, "404 Not Found", "{\"message\":\"404 Not Found\"}");
	} else if (g_str_has_prefix(raw, "forbidden.json")) {
		http_send_response(fd, "403 Forbidden", "{\"message\":\"403 Forbidden\"}");
	} else if (g_str_has_prefix(raw, "unavailable.json")) {
		http_send_response(fd, "503 Service Unavailable", "busy");
	} else if (g_str_has_prefix(raw, "notreport.json")) {
		http_send_response(fd, "200 OK", NOT_REPORT);
	} else if (g_str_has_prefix(raw, "elsewhere/")) {
		g_autofree char *head = g_strdup_printf(
			"HTTP/1.1 302 Found\r\nLocation: http://localhost:%d/storage/report.json"
			"\r\nContent-Length: 5\r\nConnection: close\r\n\r\nmoved", s->http.port);

		http_send_text(fd, head);
	} else if (g_str_has_prefix(raw, "same/")) {
		http_send_text(fd, "HTTP/1.1 302 Found\r\nLocation: /storage/report.json\r\n"
			       "Content-Length: 5\r\nConnection: close\r\n\r\nmoved");
	} else {
		http_send_response(fd, "200 OK", REPORT);
	}
}

static void request_clear(gpointer p)
{
	struct request *r = p;

	g_free(r->target);
	g_free(r->token);
}

static void server_start(struct server *s)
{
	memset(s, 0, sizeof(*s));
	g_mutex_init(&s->lock);
	s->requests = g_array_new(FALSE, TRUE, sizeof(struct request));
	g_array_set_clear_func(s->requests, request_clear);
	http_server_start(&s->http, serve_one, s);
}

static void server_stop(struct server *s)
{
	http_server_stop(&s->http);
	g_array_unref(s->requests);
	g_mutex_clear(&s->lock);
}

/* Request i's target and token (copies, or NULL for no token). */
static void server_request(struct server *s, guint i, char **target, char **token)
{
	struct request *r;

	g_mutex_lock(&s->lock);
	assert_true(i < s->requests->len);
	r = &g_array_index(s->requests, struct request, i);
	*target = g_strdup(r->target);
	*token = g_strdup(r->token);
	g_mutex_unlock(&s->lock);
}

/* ---- fixtures and helpers ----------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->dir = g_dir_make_tmp("hpci-gitlab-XXXXXX", NULL);
	assert_non_null(f->dir);
	hpci_download_allow_loopback_http(true);
	server_start(&f->srv);
	f->api = g_strdup_printf("http://127.0.0.1:%d/api/v4", f->srv.http.port);
	hpci_error_clear();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	server_stop(&f->srv);
	hpci_download_allow_loopback_http(false);
	assert_int_equal(hpci_rm_rf(f->dir), 0);
	g_free(f->api);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static struct hpci_gitlab_fetch request_for(struct fixture *f, const char *path, const char *out)
{
	return (struct hpci_gitlab_fetch){
		.api_url = f->api, .project_id = PROJECT, .job_token = TOKEN, .ref = "main",
		.job = "nightly", .path = path, .out = out,
	};
}

/* The names in dir, sorted, joined by spaces ("" when empty). */
static char *dir_listing(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	if (!d)
		return g_strdup("");
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (char **)names->pdata);
}

static char *read_text(const char *path)
{
	g_autofree char *text = NULL;

	assert_int_equal(hpci_read_file(path, &text, NULL), 0);
	return g_steal_pointer(&text);
}

/* ---- tests -------------------------------------------------------------- */

static void test_fetch_writes_the_report(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out_dir = g_build_filename(f->dir, "last night", NULL);
	g_autofree char *out = g_build_filename(out_dir, "report.json", NULL);
	g_autofree char *text = NULL, *listing = NULL, *target = NULL, *token = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "reports/night ly/report.json", out);

	req.ref = "feature/cpu+hotplug";
	req.job = "nightly tcg&x=1";
	assert_int_equal(hpci_gitlab_fetch(&req), 0);
	text = read_text(out);
	assert_string_equal(text, REPORT);
	/* The temporary file went into place: nothing else is left. */
	listing = dir_listing(out_dir);
	assert_string_equal(listing, "report.json");
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	server_request(&f->srv, 0, &target, &token);
	/* '/' between path segments stays; in ref and job it is escaped. */
	assert_string_equal(target, API_PATH "feature%2Fcpu%2Bhotplug/raw/reports/night%20ly/"
			    "report.json?job=nightly%20tcg%26x%3D1");
	assert_string_equal(token, TOKEN);
}

static void test_artifact_url(void **state)
{
	struct hpci_gitlab_fetch req = {
		.api_url = "https://gitlab.example.com/api/v4/", .project_id = "7",
		.job_token = TOKEN, .ref = "main", .job = "merge", .path = "a/b c/report.json",
	};
	g_autofree char *url = NULL;

	(void)state;
	assert_int_equal(hpci_gitlab_artifact_url(&req, &url), 0);
	assert_string_equal(url, "https://gitlab.example.com/api/v4/projects/7/jobs/artifacts/"
			    "main/raw/a/b%20c/report.json?job=merge");
}

static void test_bad_path_is_a_usage_error(void **state)
{
	static const char *const bad[] = { "", "/abs/report.json", "a//report.json",
					   "../report.json", "a/./report.json", "dir/" };
	struct hpci_gitlab_fetch req = {
		.api_url = "https://gitlab.example.com/api/v4", .project_id = "7",
		.job_token = TOKEN, .ref = "main", .job = "merge",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *url = NULL;
		g_autofree char *quoted = g_strdup_printf("--path '%s' ", bad[i]);

		req.path = bad[i];
		assert_int_equal(hpci_gitlab_artifact_url(&req, &url), -EINVAL);
		assert_null(url);
		assert_int_equal(hpci_error_last_kind(), HPCI_ERR_USAGE);
		assert_contains(hpci_error_message(), quoted);
	}
}

static void test_404_is_no_artifact(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *listing = NULL, *target = NULL, *token = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "missing.json", out);

	assert_int_equal(hpci_gitlab_fetch(&req), HPCI_GITLAB_NO_ARTIFACT);
	assert_string_equal(hpci_error_message(), "");
	listing = dir_listing(f->dir);
	assert_string_equal(listing, "");
	/* Not retried: a 404 is an answer. */
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	server_request(&f->srv, 0, &target, &token);
	assert_string_equal(target, API_PATH "main/raw/missing.json?job=nightly");
}

static void test_403_names_the_token_settings(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *url = g_strdup_printf("'%s/projects/42/jobs/artifacts/main/raw/"
					       "forbidden.json?job=nightly'", f->api);
	g_autofree char *expected = g_strdup_printf(
		"the job token cannot read the artifacts of job 'nightly' on 'main' of project "
		"42: download of %s failed: HTTP 403; check the project's Settings > CI/CD > "
		"Job token permissions (a token from another project must be allowed there) "
		"and the job's artifacts:access", url);
	g_autofree char *listing = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "forbidden.json", out);

	assert_int_equal(hpci_gitlab_fetch(&req), -EACCES);
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_HOST);
	assert_string_equal(hpci_error_message(), expected);
	assert_null(strstr(hpci_error_message(), TOKEN));
	assert_int_equal(http_server_requests(&f->srv.http), 1);
	listing = dir_listing(f->dir);
	assert_string_equal(listing, "");
}

static void test_not_a_report_is_refused(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *expected = g_strdup_printf(
		"artifact 'notreport.json' of job 'nightly' on 'main': '%s/projects/42/jobs/"
		"artifacts/main/raw/notreport.json?job=nightly' is not JSON: ", f->api);
	g_autofree char *listing = NULL, *text = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "notreport.json", out);

	/* A file already there stays as it was. */
	assert_int_equal(hpci_write_file(out, "old\n", -1), 0);
	assert_int_equal(hpci_gitlab_fetch(&req), -EINVAL);
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_INPUT);
	assert_true(g_str_has_prefix(hpci_error_message(), expected));
	text = read_text(out);
	assert_string_equal(text, "old\n");
	listing = dir_listing(f->dir);
	assert_string_equal(listing, "report.json");
}

static void test_server_error_is_infra(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *expected = g_strdup_printf(
		"cannot fetch 'unavailable.json' of job 'nightly' on 'main': download of "
		"'%s/projects/42/jobs/artifacts/main/raw/unavailable.json?job=nightly' failed "
		"after 3 attempts: transferred 0 bytes: HTTP 503", f->api);
	g_autofree char *listing = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "unavailable.json", out);

	assert_int_equal(hpci_gitlab_fetch(&req), -EIO);
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_GENERIC);
	assert_string_equal(hpci_error_message(), expected);
	/* The download policy: transient failures are tried 3 times in all. */
	assert_int_equal(http_server_requests(&f->srv.http), 3);
	listing = dir_listing(f->dir);
	assert_string_equal(listing, "");
}

static void test_redirect_elsewhere_drops_the_token(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *text = NULL, *target = NULL, *token = NULL;
	g_autofree char *target2 = NULL, *token2 = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "elsewhere/report.json", out);

	assert_int_equal(hpci_gitlab_fetch(&req), 0);
	text = read_text(out);
	assert_string_equal(text, REPORT);      /* not the redirect's "moved" */
	assert_int_equal(http_server_requests(&f->srv.http), 2);
	server_request(&f->srv, 0, &target, &token);
	assert_string_equal(token, TOKEN);
	server_request(&f->srv, 1, &target2, &token2);
	assert_string_equal(target2, "/storage/report.json");
	assert_null(token2);
}

static void test_redirect_on_the_same_origin_keeps_the_token(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *text = NULL, *target = NULL, *token = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "same/report.json", out);

	assert_int_equal(hpci_gitlab_fetch(&req), 0);
	text = read_text(out);
	assert_string_equal(text, REPORT);
	assert_int_equal(http_server_requests(&f->srv.http), 2);
	server_request(&f->srv, 1, &target, &token);
	assert_string_equal(target, "/storage/report.json");
	assert_string_equal(token, TOKEN);
}

static void test_plain_http_is_refused(void **state)
{
	struct fixture *f = *state;
	g_autofree char *out = g_build_filename(f->dir, "report.json", NULL);
	g_autofree char *listing = NULL;
	struct hpci_gitlab_fetch req = request_for(f, "report.json", out);

	hpci_download_allow_loopback_http(false);
	assert_int_equal(hpci_gitlab_fetch(&req), -EINVAL);
	assert_contains(hpci_error_message(), "uses http: https is required");
	assert_int_equal(http_server_requests(&f->srv.http), 0);
	listing = dir_listing(f->dir);
	assert_string_equal(listing, "");
}

static void test_missing_env(void **state)
{
	static const char *const vars[] = { "CI_API_V4_URL", "CI_PROJECT_ID", "CI_JOB_TOKEN",
					    "CI_COMMIT_REF_NAME" };
	g_autoptr(GPtrArray) saved = g_ptr_array_new_with_free_func(g_free);
	struct hpci_gitlab_fetch req = { 0 };

	(void)state;
	/* Inside a GitLab job these are set: keep them for afterwards. */
	for (size_t i = 0; i < G_N_ELEMENTS(vars); i++)
		g_ptr_array_add(saved, g_strdup(g_getenv(vars[i])));
	g_setenv("CI_API_V4_URL", "https://gitlab.example.com/api/v4", TRUE);
	g_setenv("CI_PROJECT_ID", "7", TRUE);
	g_unsetenv("CI_JOB_TOKEN");
	g_setenv("CI_COMMIT_REF_NAME", "main", TRUE);

	assert_int_equal(hpci_gitlab_fetch_env(&req), -EINVAL);
	assert_int_equal(hpci_error_last_kind(), HPCI_ERR_USAGE);
	assert_string_equal(hpci_error_message(),
			    "CI_JOB_TOKEN is not set: 'report fetch-gitlab' runs inside a GitLab "
			    "CI job, which sets CI_API_V4_URL, CI_PROJECT_ID, CI_JOB_TOKEN and "
			    "CI_COMMIT_REF_NAME (give --ref outside a branch or tag pipeline)");

	/* Empty is missing too; --ref stands in for CI_COMMIT_REF_NAME. */
	g_setenv("CI_JOB_TOKEN", TOKEN, TRUE);
	g_setenv("CI_COMMIT_REF_NAME", "", TRUE);
	assert_int_equal(hpci_gitlab_fetch_env(&req), -EINVAL);
	assert_true(g_str_has_prefix(hpci_error_message(), "CI_COMMIT_REF_NAME is empty: "));
	req = (struct hpci_gitlab_fetch){ .ref = "release" };
	assert_int_equal(hpci_gitlab_fetch_env(&req), 0);
	assert_string_equal(req.api_url, "https://gitlab.example.com/api/v4");
	assert_string_equal(req.project_id, "7");
	assert_string_equal(req.job_token, TOKEN);
	assert_string_equal(req.ref, "release");

	for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
		const char *value = g_ptr_array_index(saved, i);

		if (value)
			g_setenv(vars[i], value, TRUE);
		else
			g_unsetenv(vars[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fetch_writes_the_report, setup, teardown),
		cmocka_unit_test(test_artifact_url),
		cmocka_unit_test(test_bad_path_is_a_usage_error),
		cmocka_unit_test_setup_teardown(test_404_is_no_artifact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_403_names_the_token_settings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_a_report_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_error_is_infra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_elsewhere_drops_the_token, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redirect_on_the_same_origin_keeps_the_token,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_http_is_refused, setup, teardown),
		cmocka_unit_test(test_missing_env),
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
