/* SPDX-License-Identifier: MIT */
#include "gitlab-fetch.h"
#include "download.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "report-load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The variables GitLab sets in every CI job (its "predefined variables"). */
static int need_env(const char *name, const char **ret)
{
	const char *value = g_getenv(name);

	if (!value || !*value)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL,
				       "%s is %s: 'report fetch-gitlab' runs inside a GitLab CI "
				       "job, which sets CI_API_V4_URL, CI_PROJECT_ID, CI_JOB_TOKEN "
				       "and CI_COMMIT_REF_NAME (give --ref outside a branch or tag "
				       "pipeline)", name, value ? "empty" : "not set");
	*ret = value;
	return 0;
}

int hpci_gitlab_fetch_env(struct hpci_gitlab_fetch *req)
{
	int ret;

	if ((ret = need_env("CI_API_V4_URL", &req->api_url)) < 0 ||
	    (ret = need_env("CI_PROJECT_ID", &req->project_id)) < 0 ||
	    (ret = need_env("CI_JOB_TOKEN", &req->job_token)) < 0)
		return ret;
	if (!req->ref && (ret = need_env("CI_COMMIT_REF_NAME", &req->ref)) < 0)
		return ret;
	return 0;
}

/* path's segments, each escaped, joined by '/' again. */
static int escape_path(const char *path, char **ret)
{
	g_auto(GStrv) segments = NULL;
	g_autoptr(GString) out = g_string_new(NULL);

	if (!*path || path[0] == '/')
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--path '%s' is not a path inside "
				       "the job's artifacts: expected a relative path such as "
				       "reports/nightly/report.json", path);
	segments = g_strsplit(path, "/", -1);
	for (size_t i = 0; segments[i]; i++) {
		g_autofree char *escaped = NULL;

		/* GitLab would resolve or refuse these; say so here instead. */
		if (!*segments[i] || !strcmp(segments[i], ".") || !strcmp(segments[i], ".."))
			return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--path '%s' has an empty, "
					       "'.' or '..' segment: expected a plain relative "
					       "path such as reports/nightly/report.json", path);
		escaped = hpci_download_escape(segments[i]);
		g_string_append_printf(out, "%s%s", i ? "/" : "", escaped);
	}
	*ret = g_string_free(g_steal_pointer(&out), FALSE);
	return 0;
}

int hpci_gitlab_artifact_url(const struct hpci_gitlab_fetch *req, char **ret_url)
{
	g_autofree char *api = NULL;
	g_autofree char *project = NULL;
	g_autofree char *ref = NULL;
	g_autofree char *path = NULL;
	g_autofree char *job = NULL;
	int ret;

	if (!req->job || !*req->job)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--job is empty: expected the name "
				       "of the job whose artifacts hold the report");
	if (!req->ref || !*req->ref)
		return hpci_error_kind(HPCI_ERR_USAGE, EINVAL, "--ref is empty: expected a branch "
				       "or tag name");
	if ((ret = escape_path(req->path ? req->path : "", &path)) < 0)
		return ret;
	/* CI_API_V4_URL has no trailing '/' today; one would double up. */
	api = g_strdup(req->api_url);
	while (g_str_has_suffix(api, "/"))
		api[strlen(api) - 1] = '\0';
	project = hpci_download_escape(req->project_id);
	ref = hpci_download_escape(req->ref);
	job = hpci_download_escape(req->job);
	*ret_url = g_strdup_printf("%s/projects/%s/jobs/artifacts/%s/raw/%s?job=%s", api, project,
				   ref, path, job);
	return 0;
}

/* A temporary file next to out, so the final rename stays on one file system. */
static int make_temp(const char *out, char **ret_path, int *ret_fd)
{
	g_autofree char *dir = g_path_get_dirname(out);
	g_autofree char *base = g_path_get_basename(out);
	g_autofree char *path = NULL;
	int ret, fd;

	if ((ret = hpci_mkdir_p(dir, 0755)) < 0)
		return ret;
	path = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return hpci_error_errno(errno, "cannot create a temporary file in '%s'", dir);
	*ret_path = g_steal_pointer(&path);
	*ret_fd = fd;
	return 0;
}

int hpci_gitlab_fetch(const struct hpci_gitlab_fetch *req)
{
	hpci_autounlink char *tmp_path = NULL;
	hpci_autofd int fd = -1;
	g_autofree char *url = NULL;
	g_autofree char *token_header = NULL;
	g_autofree char *text = NULL;
	g_autoptr(json_object) report = NULL;
	const char *headers[] = { NULL, NULL };
	struct hpci_download_get get;
	gsize len = 0;
	int ret;

	if ((ret = hpci_gitlab_artifact_url(req, &url)) < 0)
		return ret;
	if ((ret = make_temp(req->out, &tmp_path, &fd)) < 0)
		return ret;
	token_header = g_strdup_printf("JOB-TOKEN: %s", req->job_token);
	headers[0] = token_header;
	get = (struct hpci_download_get){ .url = url, .headers = headers,
					  .max_bytes = HPCI_GITLAB_MAX_BYTES };
	ret = hpci_download_to_fd(&get, fd, tmp_path);
	/* The token is not needed any more; keep it out of later core dumps. */
	explicit_bzero(token_header, strlen(token_header));
	if (ret == -ENOENT) {
		hpci_error_clear();
		return HPCI_GITLAB_NO_ARTIFACT;
	}
	if (ret == -EACCES) {
		g_autofree char *detail = g_strdup(hpci_error_message());

		return hpci_error_kind(HPCI_ERR_HOST, EACCES, "the job token cannot read the "
				       "artifacts of job '%s' on '%s' of project %s: %s; check the "
				       "project's Settings > CI/CD > Job token permissions (a token "
				       "from another project must be allowed there) and the job's "
				       "artifacts:access", req->job, req->ref, req->project_id,
				       detail);
	}
	if (ret < 0) {
		hpci_error_prefix("cannot fetch '%s' of job '%s' on '%s'", req->path, req->job,
				  req->ref);
		return ret;
	}
	if ((ret = hpci_read_file(tmp_path, &text, &len)) < 0)
		return ret;
	if ((ret = hpci_report_load_buffer(url, text, len, &report)) < 0) {
		hpci_error_prefix("artifact '%s' of job '%s' on '%s'", req->path, req->job,
				  req->ref);
		return ret;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		return hpci_error_errno(errno, "cannot write '%s'", tmp_path);
	if (rename(tmp_path, req->out) < 0)
		return hpci_error_errno(errno, "cannot rename '%s' to '%s'", tmp_path, req->out);
	g_clear_pointer(&tmp_path, g_free);     /* it is req->out now */
	return 0;
}
