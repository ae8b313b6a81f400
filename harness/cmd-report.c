/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "error.h"
#include "fsutil.h"
#include "gitlab-fetch.h"
#include "json-reader.h"
#include "report-diff.h"
#include "report-html.h"
#include "bisect-html.h"
#include "json-reader.h"
#include "report-junit.h"
#include "report-merge.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

struct report_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
};

/* Output goes to the file, atomically, or to stdout without one.  CI jobs
 * name files in artifact directories that do not exist yet. */
static int emit(const char *out_path, const char *text)
{
	g_autofree char *out_dir = NULL;

	if (!out_path) {
		fputs(text, stdout);
		return HPCI_EXIT_OK;
	}
	out_dir = g_path_get_dirname(out_path);
	if (hpci_mkdir_p(out_dir, 0755) < 0 || hpci_write_file(out_path, text, -1) < 0) {
		hpci_error_print();
		return HPCI_EXIT_INFRA;
	}
	return HPCI_EXIT_OK;
}

static int usage_error(const char *message, const char *usage)
{
	return hpci_usage_error("report", "%s; usage: hotplug-ci report %s", message, usage);
}

static int load_or_fail(const char *path, json_object **ret)
{
	if (hpci_report_load(path, ret) < 0) {
		hpci_error_print();
		return HPCI_EXIT_USAGE;
	}
	return HPCI_EXIT_OK;
}

static void print_merge_summary(const char *out_path, int n_inputs, json_object *merged)
{
	struct hpci_verdict_counts counts;
	g_autofree char *text = NULL;

	hpci_report_count_verdicts(hpci_report_cells(merged), &counts);
	text = hpci_verdict_counts_text(&counts);
	printf("merged %d report%s into %s: %s\n", n_inputs, n_inputs == 1 ? "" : "s", out_path,
	       text);
}

static int report_merge(int argc, char **argv)
{
	static const char usage[] = "merge OUT.json IN.json...";
	GOptionEntry entries[] = { { NULL } };
	g_autoptr(json_object) merged = NULL;
	const char *json_text;
	g_autofree char *text = NULL;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "OUT.json IN.json...",
				     "Join the report.json files of shards of one matrix (same "
				     "matrix.sha256, run.sets and run.filters, distinct run.shard "
				     "K/N of one N) into OUT.json: cells in matrix order, a cell "
				     "that ran replacing one that did not, summary recounted, cell "
				     "and attempt directories relative to OUT.json's directory.",
				     entries)))
		return rc;
	if (argc < 3)
		return usage_error("merge takes an output file and at least one report", usage);
	if (hpci_report_merge(argv[1], (const char *const *)argv + 2, (guint)argc - 2,
			      &merged) < 0) {
		hpci_error_print();
		return HPCI_EXIT_USAGE;
	}
	json_text = json_object_to_json_string_ext(merged, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	text = g_strconcat(json_text, "\n", NULL);
	rc = emit(argv[1], text);
	if (rc == HPCI_EXIT_OK)
		print_merge_summary(argv[1], argc - 2, merged);
	return rc;
}

static int report_junit(int argc, char **argv)
{
	static const char usage[] = "junit REPORT.json [-o OUT.xml]";
	g_autofree char *out_path = NULL, *report_dir = NULL, *xml = NULL;
	GOptionEntry entries[] = {
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
		  "write the XML to FILE (default: standard output)", "FILE" },
		{ NULL }
	};
	g_autoptr(json_object) report = NULL;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "REPORT.json",
				     "Write the report as JUnit XML for GitLab's test report: one "
				     "testcase per cell; fail and flaky are failures, infra-error "
				     "an error, with the error, evidence, firmware problems, each "
				     "attempt and the serial.log tail; not-run and known-issue are "
				     "skipped.",
				     entries)))
		return rc;
	if (argc != 2)
		return usage_error("junit takes one report", usage);
	if ((rc = load_or_fail(argv[1], &report)))
		return rc;
	report_dir = g_path_get_dirname(argv[1]);
	if (hpci_report_junit(report, report_dir, &xml) < 0) {
		hpci_error_print();
		rc = HPCI_EXIT_INFRA;
	} else {
		rc = emit(out_path, xml);
	}
	return rc;
}

static int report_html(int argc, char **argv)
{
	static const char usage[] = "html REPORT.json|bisect.json [-o OUT.html]";
	g_autofree char *out_path = NULL, *report_dir = NULL, *link = NULL, *html = NULL;
	GOptionEntry entries[] = {
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
		  "write the page to FILE; its links lead from FILE's directory to the cells "
		  "(default: standard output, links as from the report's directory)", "FILE" },
		{ NULL }
	};
	g_autoptr(json_object) report = NULL;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "REPORT.json",
				     "Write the report as one static HTML page: the run, the "
				     "matrix as a grid of verdicts linking to each cell's (and "
				     "each attempt's) logs, the failures, flaky cells, "
				     "infrastructure errors and known issues, and charts of boot "
				     "time and plug latency.  Given a bisect.json, the bisect: "
				     "the answer, every commit called and every run.",
				     entries)))
		return rc;
	if (argc != 2)
		return usage_error("html takes one report", usage);
	report_dir = g_path_get_dirname(argv[1]);
	if (out_path) {
		g_autofree char *out_dir = g_path_get_dirname(out_path);

		link = hpci_report_relative_path(report_dir, out_dir);
	}
	/* A bisect.json gets its own page. */
	if (hpci_json_load(argv[1], &report) == 0 && hpci_bisect_html_is_record(report)) {
		if (hpci_bisect_html(report, link, &html) < 0) {
			hpci_error_print();
			return HPCI_EXIT_INFRA;
		}
		return emit(out_path, html);
	}
	hpci_error_clear();
	g_clear_pointer(&report, json_object_put);
	if ((rc = load_or_fail(argv[1], &report)))
		return rc;
	if (hpci_report_html(report, report_dir, link, &html) < 0) {
		hpci_error_print();
		rc = HPCI_EXIT_INFRA;
	} else {
		rc = emit(out_path, html);
	}
	return rc;
}

static void print_diff_json(const char *old_path, const char *new_path,
			    const struct hpci_diff_thresholds *t, json_object *findings)
{
	g_autoptr(json_object) out = json_object_new_object();

	json_object_object_add(out, "old", json_object_new_string(old_path));
	json_object_object_add(out, "new", json_object_new_string(new_path));
	json_object_object_add(out, "threshold_pct", json_object_new_int(t->pct));
	json_object_object_add(out, "threshold_ms", json_object_new_int64(t->ms));
	json_object_object_add(out, "regressions",
			       json_object_new_int((int)hpci_diff_regressions(findings)));
	json_object_object_add(out, "findings", json_object_get(findings));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int report_diff(int argc, char **argv)
{
	static const char usage[] = "diff OLD.json NEW.json [--threshold-pct N] "
				    "[--threshold-ms MS] [--json]";
	int pct = HPCI_DIFF_DEFAULT_PCT, ms = HPCI_DIFF_DEFAULT_MS;
	gboolean as_json = FALSE;
	GOptionEntry entries[] = {
		{ "threshold-pct", 0, 0, G_OPTION_ARG_INT, &pct,
		  "a time moved when it changed by more than N % of the old value "
		  "(and more than --threshold-ms; default: 25)", "N" },
		{ "threshold-ms", 0, 0, G_OPTION_ARG_INT, &ms,
		  "the floor: a time moved only when it changed by more than MS milliseconds "
		  "too (default: 2000)", "MS" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "print the findings as JSON", NULL },
		{ NULL }
	};
	g_autoptr(json_object) old_report = NULL;
	g_autoptr(json_object) new_report = NULL;
	g_autoptr(json_object) findings = NULL;
	struct hpci_diff_thresholds t;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "OLD.json NEW.json",
				     "List the cells that regressed (pass -> fail), became flaky "
				     "(pass -> flaky), recovered, went to or from infra-error "
				     "(infra), changed outcome, appeared or disappeared, and the "
				     "boot and plug times that moved by more than max(N % of the "
				     "old value, MS).  Exits 1 when a cell regressed or became "
				     "flaky.", entries)))
		return rc;
	if (argc != 3)
		return usage_error("diff takes two reports", usage);
	if (pct < 0 || ms < 0)
		return usage_error("thresholds are 0 or more", usage);
	if ((rc = load_or_fail(argv[1], &old_report)) ||
	    (rc = load_or_fail(argv[2], &new_report)))
		return rc;
	t = (struct hpci_diff_thresholds){ .pct = pct, .ms = ms };
	findings = hpci_report_diff(old_report, new_report, &t);
	if (as_json) {
		print_diff_json(argv[1], argv[2], &t, findings);
	} else {
		g_autofree char *text = hpci_diff_text(findings);

		fputs(text, stdout);
	}
	return hpci_diff_regressions(findings) ? HPCI_EXIT_FAILURES : HPCI_EXIT_OK;
}

static int report_fetch_gitlab(int argc, char **argv)
{
	static const char usage[] = "fetch-gitlab --job NAME --path ARTIFACT_PATH -o FILE "
				    "[--ref REF]";
	g_autofree char *job = NULL, *path = NULL, *out_path = NULL, *ref = NULL;
	GOptionEntry entries[] = {
		{ "job", 0, 0, G_OPTION_ARG_STRING, &job,
		  "the job whose artifacts hold the report (its latest successful run on REF)",
		  "NAME" },
		{ "path", 0, 0, G_OPTION_ARG_STRING, &path,
		  "the report's path inside that job's artifacts", "ARTIFACT_PATH" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
		  "write the report to FILE (atomically; missing directories are created)",
		  "FILE" },
		{ "ref", 0, 0, G_OPTION_ARG_STRING, &ref,
		  "the branch or tag (default: $CI_COMMIT_REF_NAME)", "REF" },
		{ NULL }
	};
	struct hpci_gitlab_fetch req = { 0 };
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "",
				     "Inside a GitLab CI job, download an earlier report.json "
				     "from the job-artifacts API: GET $CI_API_V4_URL/projects/"
				     "$CI_PROJECT_ID/jobs/artifacts/REF/raw/ARTIFACT_PATH?job=NAME "
				     "with the header JOB-TOKEN: $CI_JOB_TOKEN (the latest "
				     "successful NAME job on REF).  https only, at most 64 MiB, "
				     "transient failures tried 3 times.  FILE is written only "
				     "when the body is a report.json, and never touched "
				     "otherwise.\n\n"
				     "Exit status: 0 fetched, 2 usage error, a CI_* variable "
				     "missing, or the artifact is not a report, 3 the job token "
				     "cannot read the artifacts (HTTP 401/403) or another "
				     "transfer or file error, 5 no earlier artifact (HTTP 404: "
				     "the first night has nothing to compare with), 130 "
				     "interrupted.",
				     entries)))
		return rc;
	if (argc != 1)
		return usage_error("fetch-gitlab takes no arguments", usage);
	if (!job || !path || !out_path)
		return usage_error(!job ? "fetch-gitlab needs --job" :
				   !path ? "fetch-gitlab needs --path" : "fetch-gitlab needs -o",
				   usage);
	req.job = job;
	req.path = path;
	req.out = out_path;
	req.ref = ref;
	if (hpci_gitlab_fetch_env(&req) < 0)
		return hpci_usage_error("report fetch-gitlab", "%s", hpci_error_message());
	rc = hpci_gitlab_fetch(&req);
	if (rc == HPCI_GITLAB_NO_ARTIFACT) {
		printf("no earlier artifact: %s %s on %s (the first night has nothing to compare "
		       "with)\n", req.job, req.path, req.ref);
		return HPCI_EXIT_NO_EARLIER;
	}
	if (rc == 0) {
		printf("fetched %s %s on %s into %s\n", req.job, req.path, req.ref, req.out);
		return HPCI_EXIT_OK;
	}
	if (rc == -EINTR)
		return hpci_error_exit(HPCI_EXIT_INTERRUPTED);
	switch (hpci_error_last_kind()) {
	case HPCI_ERR_USAGE:
		return hpci_usage_error("report fetch-gitlab", "%s", hpci_error_message());
	case HPCI_ERR_INPUT:
		return hpci_error_exit(HPCI_EXIT_USAGE);
	default:
		return hpci_error_exit(HPCI_EXIT_INFRA);
	}
}

static const struct report_verb verbs[] = {
	{ "merge", report_merge, "merge OUT.json IN.json...", "join shard reports of one matrix" },
	{ "junit", report_junit, "junit REPORT.json [-o OUT.xml]", "JUnit XML for GitLab" },
	{ "html", report_html, "html REPORT.json|bisect.json [-o OUT.html]",
	  "one static HTML page" },
	{ "diff", report_diff, "diff OLD.json NEW.json [--json]", "what changed between two runs" },
	{ "fetch-gitlab", report_fetch_gitlab, "fetch-gitlab --job J --path P -o FILE",
	  "an earlier report from GitLab's artifacts" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage:\n  hotplug-ci report VERB ...\n\n"
		     "Read report.json files written by 'hotplug-ci run'.\n\nverbs:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		fprintf(out, "  %-34s %s\n", verbs[i].synopsis, verbs[i].summary);
	fprintf(out, "\n'hotplug-ci report VERB --help' describes each verb.\n%s\n",
		HPCI_EXIT_STATUS_HELP);
}

int cmd_report(int argc, char **argv)
{
	g_autofree char *prog = NULL;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return HPCI_EXIT_OK;
	}
	for (size_t i = 0; argc >= 2 && i < G_N_ELEMENTS(verbs); i++) {
		if (strcmp(argv[1], verbs[i].name) == 0) {
			/* The verb sees "hotplug-ci report <verb>" as its program name,
			 * which --help's usage line shows. */
			prog = g_strdup_printf("hotplug-ci report %s", verbs[i].name);
			argv[1] = prog;
			g_set_prgname(prog);
			return verbs[i].fn(argc - 1, argv + 1);
		}
	}
	if (argc < 2)
		return hpci_usage_error("report", "'report' takes a verb: merge, junit, html, "
					"diff or fetch-gitlab");
	return hpci_usage_error("report", "unknown report verb '%s'; use merge, junit, html, "
				"diff or fetch-gitlab", argv[1]);
}
