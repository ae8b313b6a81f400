/* SPDX-License-Identifier: MIT */
#ifndef HPCI_GITLAB_FETCH_H
#define HPCI_GITLAB_FETCH_H

#include <glib.h>

/*
 * `report fetch-gitlab`: an earlier night's report.json from GitLab's
 * job-artifacts API, the nightly pipeline's fallback when its cache is empty
 * (a new runner, a cleared cache).  One GET of
 *	{CI_API_V4_URL}/projects/{CI_PROJECT_ID}/jobs/artifacts/{ref}/raw/{path}?job={job}
 * with the header "JOB-TOKEN: {CI_JOB_TOKEN}" ("Download a single artifact
 * file from a reference's latest successful job").  ref, job and each segment
 * of path are %-escaped; the '/' between path segments stays.
 */

/* A report is a few MiB at most; anything this large is not one. */
#define HPCI_GITLAB_MAX_BYTES (G_GUINT64_CONSTANT(64) << 20)

/* hpci_gitlab_fetch()'s "GitLab has no such artifact" (HTTP 404). */
#define HPCI_GITLAB_NO_ARTIFACT 1

struct hpci_gitlab_fetch {
	const char *api_url;    /* CI_API_V4_URL: https://HOST/api/v4 */
	const char *project_id; /* CI_PROJECT_ID */
	const char *job_token;  /* CI_JOB_TOKEN: sent as JOB-TOKEN, never printed */
	const char *ref;        /* --ref, else CI_COMMIT_REF_NAME */
	const char *job;        /* --job: the job that kept the artifact */
	const char *path;       /* --path: the file's path inside the job's artifacts */
	const char *out;        /* -o: where it goes */
};

/*
 * Fills api_url, project_id and job_token from the environment, and ref when
 * it is NULL.  Values point into the environment.  A variable that is unset
 * or empty is -EINVAL of kind HPCI_ERR_USAGE, with a message that names it
 * and says the verb runs inside a GitLab CI job.
 */
int hpci_gitlab_fetch_env(struct hpci_gitlab_fetch *req);

/*
 * The artifact file's URL (caller frees).  -EINVAL of kind HPCI_ERR_USAGE
 * for a path that is absolute or has an empty, "." or ".." segment, or an
 * empty job or ref.
 */
int hpci_gitlab_artifact_url(const struct hpci_gitlab_fetch *req, char **ret_url);

/*
 * Downloads the artifact and, once it has been read back as a report
 * (hpci_report_load_buffer()), renames it into req->out; parent directories
 * of req->out are created.  req->out is never touched otherwise: on every
 * failure the temporary file next to it is removed.  Returns 0 when
 * fetched, HPCI_GITLAB_NO_ARTIFACT for HTTP 404 (no message recorded), or
 * with one recorded message:
 *   -EINVAL  kind HPCI_ERR_USAGE: as hpci_gitlab_artifact_url();
 *            kind HPCI_ERR_INPUT: the body is not a report (names the URL)
 *   -EACCES  kind HPCI_ERR_HOST: HTTP 401/403, the job token cannot read it
 *   -EINTR   interrupted
 *   other    the transfer failed (names the URL and the HTTP status) or
 *            a local file could not be written
 */
int hpci_gitlab_fetch(const struct hpci_gitlab_fetch *req);

#endif
