/* SPDX-License-Identifier: MIT */
#include "bisect-html.h"
#include "html-page.h"
#include "error.h"
#include "json-reader.h"
#include "manifest.h"

#include <errno.h>
#include <libxml/HTMLtree.h>
#include <stdbool.h>

static const char page_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\n"
	"table{border-collapse:collapse}\n"
	"th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\n"
	"th{background:#f4f4f4}\n"
	"#bisect-answer{border:2px solid #444;padding:.5em 1em;margin:1em 0}\n"
	"#bisect-answer.found{background:#f7e0c4}\n"
	"#bisect-answer.ambiguous,#bisect-answer.bad-endpoints{background:#e6e6e6}\n"
	"code{font:13px monospace}\n"
	".class-holds{background:#c9efc9}.class-fails{background:#f7c4c4}\n"
	".class-untestable{background:#c9d4e4}\n";

static const char *str(json_object *o, const char *key)
{
	const char *s = hpci_json_member_string(o, key);

	return s ? s : "";
}

static char *count_text(json_object *o, const char *key)
{
	json_object *t = hpci_json_member(o, key);

	if (!t)
		return g_strdup("-");
	if (json_object_get_boolean(hpci_json_member(t, "unbuildable")))
		return g_strdup("does not build");
	return g_strdup_printf("%d held, %d failed", json_object_get_int(hpci_json_member(t, "holds")),
			       json_object_get_int(hpci_json_member(t, "fails")));
}

static char *link_into(const char *dir_link, const char *rel)
{
	if (!dir_link || !*dir_link || g_str_equal(dir_link, "."))
		return g_strdup(rel);
	return g_build_filename(dir_link, rel, NULL);
}

static void add_row(xmlNodePtr table, const char *name, const char *value)
{
	xmlNodePtr tr = hpci_html_element(table, "tr", NULL);

	hpci_html_text_element(tr, "th", NULL, name);
	hpci_html_text_element(tr, "td", NULL, value);
}

static void add_commit(xmlNodePtr parent, json_object *c, const char *dir_link)
{
	json_object *files = hpci_json_member(c, "files");
	json_object *cells;
	xmlNodePtr p = hpci_html_element(parent, "p", NULL);
	g_autofree char *runs = count_text(c, "runs");
	g_autofree char *verify = count_text(c, "verify_runs");
	g_autofree char *counts = g_strdup_printf("runs: %s; verification: %s", runs, verify);
	xmlNodePtr ul;

	hpci_html_text_element(p, "code", NULL, str(c, "commit"));
	hpci_xml_add_text(p, " ");
	hpci_html_text_element(p, "strong", NULL, str(c, "subject"));
	p = hpci_html_element(parent, "p", NULL);
	hpci_xml_add_text(p, str(c, "author"));
	hpci_xml_add_text(p, ", ");
	hpci_xml_add_text(p, str(c, "date"));
	hpci_html_text_element(parent, "p", NULL, counts);
	if (hpci_json_member_string(c, "last_run")) {
		g_autofree char *rel = g_build_filename(str(c, "last_run"), "report.json", NULL);
		g_autofree char *href = link_into(dir_link, rel);

		hpci_html_link(hpci_html_element(parent, "p", NULL), href, "its latest run's report");
	}
	cells = hpci_json_member(c, "cells");
	ul = hpci_html_element(parent, "ul", "cells");
	for (size_t i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		g_autofree char *text = g_strdup_printf("%s: %s (%s) ", str(cell, "id"),
							str(cell, "outcome"), str(cell, "verdict"));
		xmlNodePtr li = hpci_html_text_element(ul, "li", NULL, text);

		if (hpci_json_member_string(cell, "dir")) {
			g_autofree char *href = link_into(dir_link, str(cell, "dir"));

			hpci_html_link(li, href, "logs");
		}
	}
	ul = hpci_html_element(parent, "ul", "files");
	for (size_t i = 0; files && i < json_object_array_length(files); i++)
		hpci_html_text_element(ul, "li", NULL,
				       json_object_get_string(json_object_array_get_idx(files, i)));
}

static void add_answer(xmlNodePtr body, json_object *rec, const char *dir_link)
{
	const char *result = str(rec, "result");
	xmlNodePtr div = hpci_html_element(body, "div", result);
	json_object *arr;

	hpci_xml_attr(div, "id", "bisect-answer");
	if (g_str_equal(result, "found")) {
		g_autofree char *conf = g_strdup_printf(
			"confidence %.4f", json_object_get_double(hpci_json_member(rec, "confidence")));

		hpci_html_text_element(div, "h2", NULL, "First new commit");
		add_commit(div, hpci_json_member(rec, "first_new"), dir_link);
		hpci_html_text_element(div, "p", NULL, conf);
		arr = hpci_json_member(rec, "parents");
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			hpci_html_text_element(div, "h3", NULL, "Its parent");
			add_commit(div, json_object_array_get_idx(arr, i), dir_link);
		}
		return;
	}
	hpci_html_text_element(div, "h2", NULL, g_str_equal(result, "ambiguous") ? "Ambiguous"
					: g_str_equal(result, "bad-endpoints") ? "Cannot bisect"
					: "Not finished");
	hpci_html_text_element(div, "p", NULL, str(rec, "why"));
	arr = hpci_json_member(rec, "candidates");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		add_commit(div, json_object_array_get_idx(arr, i), dir_link);
}

static void add_info(xmlNodePtr body, json_object *rec)
{
	xmlNodePtr table = hpci_html_element(body, "table", NULL);
	json_object *terms = hpci_json_member(rec, "terms");
	json_object *old = hpci_json_member(rec, "old"), *new = hpci_json_member(rec, "new");
	g_autofree char *o = g_strdup_printf("%s (%s): %s", str(old, "rev"), str(terms, "old"),
					     str(old, "commit"));
	g_autofree char *n = g_strdup_printf("%s (%s): %s", str(new, "rev"), str(terms, "new"),
					     str(new, "commit"));
	g_autofree char *counts = g_strdup_printf(
		"%d commits in range, %d builds, %d cell runs",
		json_object_get_int(hpci_json_member(rec, "commits_in_range")),
		json_object_get_int(hpci_json_member(rec, "builds")),
		json_object_get_int(hpci_json_member(rec, "cell_runs")));
	g_autofree char *took = hpci_html_duration(
		json_object_get_int64(hpci_json_member(rec, "duration_ms")));
	json_object *pinned = hpci_json_member(rec, "pinned");

	hpci_xml_attr(table, "id", "bisect-info");
	add_row(table, "component", str(rec, "component"));
	add_row(table, "repository", str(rec, "repository"));
	add_row(table, "old", o);
	add_row(table, "new", n);
	if (pinned && json_object_is_type(pinned, json_type_object)) {
		g_autofree char *p = g_strdup_printf("%s %s at %s", str(pinned, "component"),
						     str(pinned, "repository"), str(pinned, "commit"));

		add_row(table, "held still", p);
	}
	add_row(table, "matrix", str(rec, "matrix"));
	add_row(table, "filters", json_object_to_json_string(hpci_json_member(rec, "filters")));
	add_row(table, "cells", json_object_to_json_string(hpci_json_member(rec, "cells")));
	add_row(table, "work", counts);
	add_row(table, "wall time", took);
	add_row(table, "state", str(rec, "state"));
}

static void add_steps(xmlNodePtr body, json_object *rec, const char *dir_link)
{
	json_object *steps = hpci_json_member(rec, "steps");
	xmlNodePtr table, tr;

	hpci_html_text_element(body, "h2", NULL, "Commits called");
	table = hpci_html_element(body, "table", NULL);
	hpci_xml_attr(table, "id", "bisect-steps");
	tr = hpci_html_element(table, "tr", NULL);
	for (const char *const *h = (const char *const[]){ "#", "commit", "subject", "why",
							    "class", "mark", "runs",
							    "verification", "report", NULL }; *h; h++)
		hpci_html_text_element(tr, "th", NULL, *h);
	for (size_t i = 0; steps && i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		g_autofree char *order = g_strdup_printf("%d", json_object_get_int(
								 hpci_json_member(s, "order")));
		g_autofree char *cls = g_strdup_printf("class-%s", str(s, "class"));
		g_autofree char *runs = count_text(s, "runs");
		g_autofree char *verify = count_text(s, "verify_runs");
		g_autofree char *shortid = g_strndup(str(s, "commit"), 12);
		xmlNodePtr td;

		tr = hpci_html_element(table, "tr", cls);
		hpci_html_text_element(tr, "td", NULL, order);
		hpci_html_text_element(hpci_html_element(tr, "td", NULL), "code", NULL, shortid);
		hpci_html_text_element(tr, "td", NULL, str(s, "subject"));
		hpci_html_text_element(tr, "td", NULL, str(s, "purpose"));
		hpci_html_text_element(tr, "td", NULL, str(s, "class"));
		hpci_html_text_element(tr, "td", NULL, str(s, "mark"));
		hpci_html_text_element(tr, "td", NULL, runs);
		hpci_html_text_element(tr, "td", NULL, verify);
		td = hpci_html_element(tr, "td", NULL);
		if (hpci_json_member_string(s, "last_run")) {
			g_autofree char *rel = g_build_filename(str(s, "last_run"), "report.json", NULL);
			g_autofree char *href = link_into(dir_link, rel);

			hpci_html_link(td, href, "report.json");
		}
	}
}

static void add_runs(xmlNodePtr body, json_object *rec, const char *dir_link)
{
	json_object *runs = hpci_json_member(rec, "runs");
	xmlNodePtr table, tr;

	hpci_html_text_element(body, "h2", NULL, "Runs");
	table = hpci_html_element(body, "table", NULL);
	hpci_xml_attr(table, "id", "bisect-runs");
	tr = hpci_html_element(table, "tr", NULL);
	for (const char *const *h = (const char *const[]){ "commit", "why", "asked", "said",
							    "build", "run", "directory", NULL };
	     *h; h++)
		hpci_html_text_element(tr, "th", NULL, *h);
	for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		g_autofree char *asked = g_strdup_printf("%d", json_object_get_int(
								 hpci_json_member(r, "runs")));
		g_autofree char *said = count_text(r, "said");
		g_autofree char *build = hpci_html_duration(json_object_get_int64(
			hpci_json_member(r, "build_ms")));
		g_autofree char *run = hpci_html_duration(json_object_get_int64(
			hpci_json_member(r, "run_ms")));
		g_autofree char *shortid = g_strndup(str(r, "commit"), 12);
		xmlNodePtr td;

		tr = hpci_html_element(table, "tr", NULL);
		hpci_html_text_element(hpci_html_element(tr, "td", NULL), "code", NULL, shortid);
		hpci_html_text_element(tr, "td", NULL, str(r, "purpose"));
		hpci_html_text_element(tr, "td", NULL, asked);
		hpci_html_text_element(tr, "td", NULL, said);
		hpci_html_text_element(tr, "td", NULL, hpci_json_member_string(r, "build_error")
						       ? str(r, "build_error") : build);
		hpci_html_text_element(tr, "td", NULL, run);
		td = hpci_html_element(tr, "td", NULL);
		if (hpci_json_member_string(r, "dir")) {
			g_autofree char *href = link_into(dir_link, str(r, "dir"));

			hpci_html_link(td, href, str(r, "dir"));
		}
	}
}

static void add_corners(xmlNodePtr body, json_object *rec)
{
	json_object *corners = hpci_json_member(rec, "corners");
	xmlNodePtr table, tr;

	if (!corners || json_object_array_length(corners) == 0)
		return;
	hpci_html_text_element(body, "h2", NULL, "Co-bisection: the four pairs");
	table = hpci_html_element(body, "table", NULL);
	hpci_xml_attr(table, "id", "bisect-corners");
	tr = hpci_html_element(table, "tr", NULL);
	for (const char *const *h = (const char *const[]){ "edk2", "qemu", "class", NULL }; *h; h++)
		hpci_html_text_element(tr, "th", NULL, *h);
	for (size_t i = 0; i < json_object_array_length(corners); i++) {
		json_object *c = json_object_array_get_idx(corners, i);
		g_autofree char *cls = g_strdup_printf("class-%s", str(c, "class"));

		tr = hpci_html_element(table, "tr", cls);
		hpci_html_text_element(tr, "td", NULL, str(c, "edk2"));
		hpci_html_text_element(tr, "td", NULL, str(c, "qemu"));
		hpci_html_text_element(tr, "td", NULL, str(c, "class"));
	}
}

bool hpci_bisect_html_is_record(json_object *doc)
{
	return hpci_json_member(doc, "component") && hpci_json_member(doc, "steps") &&
	       hpci_json_member(doc, "runs");
}

int hpci_bisect_html(json_object *record, const char *dir_link, char **ret_html)
{
	g_autoptr(xmlDoc) doc = htmlNewDocNoDtD(NULL, NULL);
	g_autofree char *title = g_strdup_printf("hotplug-ci bisect: %s %s", str(record, "component"),
						 str(record, "repository"));
	xmlNodePtr html, head, body;

	xmlCreateIntSubset(doc, BAD_CAST "html", NULL, NULL);
	html = hpci_xml_root(doc, "html");
	hpci_xml_attr(html, "lang", "en");
	head = hpci_html_element(html, "head", NULL);
	hpci_xml_attr(hpci_html_element(head, "meta", NULL), "charset", "utf-8");
	hpci_html_text_element(head, "title", NULL, title);
	hpci_html_text_element(head, "style", NULL, page_style);
	body = hpci_html_element(html, "body", NULL);
	hpci_html_text_element(body, "h1", NULL, title);
	add_answer(body, record, dir_link);
	add_info(body, record);
	add_corners(body, record);
	add_steps(body, record, dir_link);
	add_runs(body, record, dir_link);
	if (!(*ret_html = hpci_html_to_string(doc)))
		return hpci_error(ENOMEM, "cannot serialise the HTML page");
	return 0;
}
