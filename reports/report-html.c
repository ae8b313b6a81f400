/* SPDX-License-Identifier: MIT */
#include "report-html.h"
#include "html-page.h"
#include "report-load.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"
#include "xml.h"

#include <errno.h>
#include <libxml/HTMLtree.h>
#include <stdbool.h>
#include <string.h>

/* Rows of the grid are the first GRID_ROW_AXES axes (topology, smi,
 * firmware, qemu), columns the rest (count, ops): matrices vary those two
 * least, so the table stays narrower than it is long. */
#define GRID_ROW_AXES 4

/* Chart geometry, in SVG user units (pixels at 100 %). */
#define CHART_LABEL_W 340
#define CHART_BAR_W 520
#define CHART_VALUE_W 140
#define CHART_W (CHART_LABEL_W + CHART_BAR_W + CHART_VALUE_W)
#define CHART_ROW_H 18
#define CHART_BAR_H 12
#define CHART_TOP 8
#define CHART_AXIS_H 28

/* Where the page finds the report's files. */
struct page {
	const char *report_dir;     /* from the current directory; NULL: unknown */
	const char *report_link;    /* from the page's directory */
};

/* No '<', '>' or '&': the HTML serializer writes <style> text raw.  flaky
 * is striped (it passed sometimes), infra-error grey-blue (not the
 * product's colours), a breach white on dark red, in a heavy frame. */
static const char page_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\n"
	"table{border-collapse:collapse}\n"
	"th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\n"
	"#run-info th{background:#f4f4f4}\n"
	"#grid td{min-width:8em}\n"
	"#grid td.absent{background:#fafafa}\n"
	"#grid .outcome{font-weight:600}\n"
	"#grid .expected,#grid .logs{font-size:12px}\n"
	".logs a{margin-right:.6em}\n"
	".verdict-pass{background:#c9efc9}\n"
	".verdict-fail{background:#f7c4c4}\n"
	".verdict-flaky{background:repeating-linear-gradient(135deg,#fbd3a0 0 6px,"
	"#f5b46a 6px 12px)}\n"
	".verdict-known-issue{background:#f9e4a9}\n"
	".verdict-infra-error{background:#c9d4e4;color:#2c3b50}\n"
	".verdict-not-run{background:#e6e6e6;color:#555}\n"
	".breach-banner{background:#6b0000;color:#fff;border:4px solid #000;padding:.4em 1em;"
	"margin-bottom:1em}\n"
	".breach-banner h2{margin:.3em 0;font-size:1.4em;letter-spacing:.04em}\n"
	".breach-banner table{background:#fff;color:#222}\n"
	".breach-banner a{color:#6b0000}\n"
	"td.breach,li.breach{background:#6b0000;color:#fff;outline:3px solid #000}\n"
	"td.breach a,li.breach a{color:#fff}\n"
	".attempts{margin:.3em 0 0;padding-left:1.6em;font-size:12px;white-space:normal}\n"
	".attempts li{margin:1px 0;padding:0 3px;white-space:nowrap}\n"
	".count{padding:2px 8px;margin-right:.5em;border-radius:3px}\n"
	".problems td{max-width:40em;white-space:pre-wrap;word-break:break-word}\n"
	"svg.chart{display:block;margin:.5em 0}\n"
	"svg.chart text{font:11px monospace;fill:#222}\n"
	"svg.chart rect.verdict-pass{fill:#3f9b3f}\n"
	"svg.chart rect.verdict-fail{fill:#c63c3c}\n"
	"svg.chart rect.verdict-flaky{fill:#e07b1a}\n"
	"svg.chart rect.verdict-known-issue{fill:#d39b1f}\n"
	"svg.chart rect.verdict-infra-error{fill:#6b82a3}\n"
	"svg.chart rect.verdict-not-run{fill:#999}\n"
	"svg.chart line.axis{stroke:#888}\n"
	"svg.chart line.grid{stroke:#e2e2e2}\n"
	"svg.chart line.seen{stroke:#111;stroke-width:2}\n";

static const char *string_or_dash(json_object *o, const char *path)
{
	const char *s = hpci_json_get_string(o, path);

	return s ? s : "-";
}

static char *verdict_class(const char *verdict)
{
	g_autofree char *name = g_strdup(verdict);

	/* Verdicts are words; keep a stray value from inventing odd classes. */
	g_strcanon(name, "abcdefghijklmnopqrstuvwxyz-", '-');
	return g_strconcat("verdict verdict-", name, NULL);
}

/* A cell's (or attempt's) box: its verdict's classes, and breach for an
 * unexpected breach. */
static char *box_class(json_object *cell)
{
	g_autofree char *cls = verdict_class(hpci_report_verdict_name(cell));

	if (!hpci_report_breach(cell))
		return g_steal_pointer(&cls);
	return g_strconcat(cls, " breach", NULL);
}

/* A cell as a chart label: its axis values, shorter than its id. */
static char *short_label(json_object *cell)
{
	GString *label = g_string_new(NULL);

	for (unsigned a = 0; a < HPCI_REPORT_AXES; a++)
		g_string_append_printf(label, "%s%s", a ? " " : "", hpci_report_axis(cell, a));
	return g_string_free(label, FALSE);
}

/* A relative URL to a cell's file.  Percent-encoded here, because libxml2's
 * HTML serializer leaves '&' in href raw; ':' too, so no first segment
 * reads as a scheme.  Cell ids keep their ',' and '='. */
static char *link_to(const struct page *page, const char *dir, const char *file)
{
	const char *report_link = page->report_link;
	g_autofree char *path = NULL;

	if (!report_link || !*report_link || strcmp(report_link, ".") == 0 ||
	    g_path_is_absolute(dir))
		path = g_strconcat(dir, "/", file, NULL);
	else
		path = g_strconcat(report_link, "/", dir, "/", file, NULL);
	return g_uri_escape_string(path, "/,=+@", FALSE);
}

/* Whether a cell's (or attempt's) file is there; any is when the page does
 * not know where the report is. */
static bool file_present(const struct page *page, const char *dir, const char *file)
{
	g_autofree char *path = NULL;

	if (!page->report_dir)
		return true;
	if (g_path_is_absolute(dir))
		path = g_build_filename(dir, file, NULL);
	else
		path = g_build_filename(page->report_dir, dir, file, NULL);
	return hpci_is_file(path);
}

/* ---- header ----------------------------------------------------------------- */

static void add_info_row(xmlNodePtr table, const char *name, const char *value)
{
	xmlNodePtr tr = hpci_html_element(table, "tr", NULL);

	hpci_html_text_element(tr, "th", NULL, name);
	hpci_html_text_element(tr, "td", NULL, value);
}

static void add_json_row(xmlNodePtr table, const char *name, json_object *value)
{
	if (value)
		add_info_row(table, name, json_object_to_json_string_ext(
				     value, JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* How the run ran its cells ("run"), when the report says. */
static void add_run_settings(xmlNodePtr table, json_object *report)
{
	static const char *const counts[][2] = {
		{ "jobs", "jobs" },
		{ "repeat", "repeat" },
		{ "retries", "retries" },
		{ "infra_retries", "infra retries" },
	};
	json_object *run = NULL, *value = NULL;
	g_autoptr(GString) policy = g_string_new(NULL);

	if (!json_object_object_get_ex(report, "run", &run) ||
	    !json_object_is_type(run, json_type_object))
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		gint64 n = hpci_report_ms(run, counts[i][0]);

		if (n >= 0)
			g_string_append_printf(policy, "%s%s %" G_GINT64_FORMAT,
					       policy->len ? ", " : "", counts[i][1], n);
	}
	if (policy->len)
		add_info_row(table, "attempts", policy->str);
	add_json_row(table, "filters", hpci_report_array(run, "filters"));
	add_json_row(table, "sets", hpci_report_array(run, "sets"));
	if (json_object_object_get_ex(run, "shard", &value) && value)
		add_info_row(table, "shard", json_object_get_string(value));
	add_json_row(table, "merged shards", hpci_report_array(run, "merged_shards"));
	add_json_row(table, "connections", hpci_report_array(run, "connections"));
}

static void add_run_info(xmlNodePtr body, json_object *report)
{
	xmlNodePtr table = hpci_html_element(body, "table", NULL);
	g_autofree char *matrix = g_strdup_printf("%s (%s, sha256 %.12s)",
		string_or_dash(report, "matrix.name"),
		string_or_dash(report, "matrix.path"),
		string_or_dash(report, "matrix.sha256"));
	g_autofree char *duration = hpci_html_duration(hpci_report_ms(report, "duration_ms"));
	json_object *merged = NULL;

	hpci_xml_attr(table, "id", "run-info");
	add_info_row(table, "matrix", matrix);
	add_info_row(table, "host", string_or_dash(report, "host.kernel"));
	add_info_row(table, "cpu", string_or_dash(report, "host.cpu"));
	add_info_row(table, "accel", string_or_dash(report, "host.accel"));
	add_info_row(table, "libvirt", string_or_dash(report, "host.libvirt"));
	add_info_row(table, "started", string_or_dash(report, "started_at"));
	add_info_row(table, "duration", duration);
	add_info_row(table, "tool", string_or_dash(report, "tool_version"));
	add_run_settings(table, report);
	if (json_object_object_get_ex(report, "merged_from", &merged) && merged) {
		const char *inputs = json_object_to_json_string_ext(
			merged, JSON_C_TO_STRING_NOSLASHESCAPE);

		add_info_row(table, "merged from", inputs);
	}
}

/* One count per verdict, in the verdict's colours: the page's legend. */
static void add_summary(xmlNodePtr body, json_object *cells, bool interrupted)
{
	xmlNodePtr p = hpci_html_element(body, "p", NULL);
	struct hpci_verdict_counts counts;

	hpci_xml_attr(p, "id", "summary");
	hpci_report_count_verdicts(cells, &counts);
	for (unsigned v = 0; v < HPCI_VERDICT__COUNT; v++) {
		g_autofree char *cls = verdict_class(hpci_verdict_name(v));
		g_autofree char *full_cls = g_strconcat("count ", cls, NULL);
		g_autofree char *text = g_strdup_printf("%u %s", counts.of[v], hpci_verdict_name(v));

		hpci_html_text_element(p, "span", full_cls, text);
	}
	if (interrupted)
		hpci_html_text_element(p, "strong", "interrupted",
				 "the run was interrupted: not-run cells never started");
}

static void add_header(xmlNodePtr body, json_object *report)
{
	const char *name = hpci_json_get_string(report, "matrix.name");
	g_autofree char *title = g_strdup_printf("hotplug-ci: %s", name ? name : "report");
	json_object *flag = NULL;

	hpci_html_text_element(body, "h1", NULL, title);
	add_run_info(body, report);
	json_object_object_get_ex(report, "interrupted", &flag);
	add_summary(body, hpci_report_cells(report), json_object_get_boolean(flag));
}

/* ---- the grid ----------------------------------------------------------- */

struct grid {
	struct hpci_axis_order order;
	GPtrArray *rows;    /* json_object *: the first cell of each row */
	GPtrArray *cols;    /* json_object *: the first cell of each column */
};

static bool has_key(GPtrArray *keys, const struct hpci_axis_order *order, json_object *cell,
		    unsigned first, unsigned last)
{
	for (guint i = 0; i < keys->len; i++) {
		if (hpci_axis_order_compare(order, keys->pdata[i], cell, first, last) == 0)
			return true;
	}
	return false;
}

static gint compare_rows(gconstpointer a, gconstpointer b, gpointer order)
{
	return hpci_axis_order_compare(order, *(json_object *const *)a, *(json_object *const *)b,
				       0, GRID_ROW_AXES);
}

static gint compare_cols(gconstpointer a, gconstpointer b, gpointer order)
{
	return hpci_axis_order_compare(order, *(json_object *const *)a, *(json_object *const *)b,
				       GRID_ROW_AXES, HPCI_REPORT_AXES);
}

static void grid_init(struct grid *g, json_object *report)
{
	json_object *cells = hpci_report_cells(report);

	hpci_axis_order_init(&g->order, &report, 1);
	g->rows = g_ptr_array_new();
	g->cols = g_ptr_array_new();
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (!has_key(g->rows, &g->order, cell, 0, GRID_ROW_AXES))
			g_ptr_array_add(g->rows, cell);
		if (!has_key(g->cols, &g->order, cell, GRID_ROW_AXES, HPCI_REPORT_AXES))
			g_ptr_array_add(g->cols, cell);
	}
	g_ptr_array_sort_with_data(g->rows, compare_rows, &g->order);
	g_ptr_array_sort_with_data(g->cols, compare_cols, &g->order);
}

static void grid_release(struct grid *g)
{
	hpci_axis_order_release(&g->order);
	g_ptr_array_free(g->rows, TRUE);
	g_ptr_array_free(g->cols, TRUE);
}

static void add_grid_head(xmlNodePtr table, const struct grid *g)
{
	xmlNodePtr tr = hpci_html_element(hpci_html_element(table, "thead", NULL), "tr", NULL);

	for (unsigned a = 0; a < GRID_ROW_AXES; a++)
		hpci_html_text_element(tr, "th", "axis", hpci_report_axis_names[a]);
	for (guint c = 0; c < g->cols->len; c++) {
		xmlNodePtr th = hpci_html_element(tr, "th", "column");

		for (unsigned a = GRID_ROW_AXES; a < HPCI_REPORT_AXES; a++) {
			g_autofree char *text = g_strdup_printf("%s=%s", hpci_report_axis_names[a],
				hpci_report_axis(g->cols->pdata[c], a));

			if (a > GRID_ROW_AXES)
				hpci_html_element(th, "br", NULL);
			hpci_xml_add_text(th, text);
		}
	}
}

/* Links to the logs a cell or attempt directory holds. */
static void add_logs(xmlNodePtr parent, const struct page *page, const char *dir)
{
	static const char *const logs[][2] = {
		{ "serial.log", "serial" },
		{ "firmware.log", "firmware" },
		{ "events.log", "events" },
		{ "qemu.log", "qemu" },
	};
	xmlNodePtr div = hpci_html_element(parent, "div", "logs");

	for (size_t i = 0; i < G_N_ELEMENTS(logs); i++) {
		g_autofree char *href = NULL;

		if (!file_present(page, dir, logs[i][0]))
			continue;
		href = link_to(page, dir, logs[i][0]);
		hpci_html_link(div, href, logs[i][1]);
	}
}

/* An outcome (or, without one, what stands for it) linking to its
 * directory when it has one. */
static void add_outcome(xmlNodePtr parent, const struct page *page, const char *dir,
			const char *text)
{
	g_autofree char *href = dir ? link_to(page, dir, "") : NULL;

	if (href)
		hpci_xml_attr(hpci_html_link(parent, href, text), "class", "outcome");
	else
		hpci_html_text_element(parent, "span", "outcome", text);
}

/* A cell that ran more than once: each attempt in run order, coloured by
 * its own verdict, its outcome linking to its directory, and its logs.  A
 * single attempt is the cell itself. */
static void add_attempts(xmlNodePtr parent, const struct page *page, json_object *cell)
{
	json_object *attempts = hpci_report_attempts(cell);
	xmlNodePtr ol;

	if (!attempts || json_object_array_length(attempts) < 2)
		return;
	ol = hpci_html_element(parent, "ol", "attempts");
	for (size_t i = 0; i < json_object_array_length(attempts); i++) {
		json_object *a = json_object_array_get_idx(attempts, i);
		const char *outcome = hpci_json_get_string(a, "outcome");
		const char *dir = hpci_json_get_string(a, "dir");
		g_autofree char *cls = box_class(a);
		g_autofree char *li_cls = g_strconcat("attempt ", cls, NULL);
		g_autofree char *duration = hpci_html_duration(hpci_report_ms(a, "duration_ms"));
		g_autofree char *text = g_strdup_printf(" (%s)", duration);
		xmlNodePtr li = hpci_html_element(ol, "li", li_cls);

		hpci_xml_attrf(li, "value", "%" G_GINT64_FORMAT, hpci_report_ms(a, "attempt"));
		add_outcome(li, page, dir, outcome ? outcome : "none");
		hpci_xml_add_text(li, text);
		if (dir)
			add_logs(li, page, dir);
	}
}

/* One cell: its verdict as the box's colour, its outcome linking to its
 * directory, the expectation when it differs, its logs and its attempts. */
static void add_grid_cell(xmlNodePtr tr, json_object *cell, size_t index,
			  const struct page *page)
{
	const char *verdict = hpci_report_verdict_name(cell);
	const char *outcome = hpci_json_get_string(cell, "outcome");
	const char *expected = hpci_json_get_string(cell, "expected.outcome");
	const char *dir = hpci_json_get_string(cell, "dir");
	g_autofree char *cls = box_class(cell);
	g_autofree char *anchor = g_strdup_printf("cell-%zu", index + 1);
	xmlNodePtr td = hpci_html_element(tr, "td", cls);

	hpci_xml_attr(td, "id", anchor);
	hpci_xml_attr(td, "title", hpci_json_get_string(cell, "id"));
	hpci_xml_attr(td, "data-cell", hpci_json_get_string(cell, "id"));
	add_outcome(td, page, dir, outcome ? outcome : dir ? verdict : "not run");
	if (expected && (!outcome || strcmp(outcome, expected) != 0)) {
		bool known = hpci_report_verdict_is(cell, HPCI_VERDICT_KNOWN_ISSUE);
		g_autofree char *text = g_strdup_printf("expected %s%s", expected,
							known ? "; known issue" : "");

		hpci_html_text_element(td, "div", "expected", text);
	}
	if (dir)
		add_logs(td, page, dir);
	add_attempts(td, page, cell);
}

/* The cell of a row and a column, as its index in cells; -1 for none. */
static gssize find_cell(const struct grid *g, json_object *cells, json_object *row_key,
			json_object *col_key)
{
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (hpci_axis_order_compare(&g->order, cell, row_key, 0, GRID_ROW_AXES) == 0 &&
		    hpci_axis_order_compare(&g->order, cell, col_key, GRID_ROW_AXES,
					    HPCI_REPORT_AXES) == 0)
			return (gssize)i;
	}
	return -1;
}

static void add_grid_row(xmlNodePtr tbody, const struct grid *g, json_object *row_key,
			 json_object *cells, const struct page *page)
{
	xmlNodePtr tr = hpci_html_element(tbody, "tr", NULL);

	for (unsigned a = 0; a < GRID_ROW_AXES; a++)
		hpci_html_text_element(tr, "th", NULL, hpci_report_axis(row_key, a));
	for (guint c = 0; c < g->cols->len; c++) {
		gssize i = find_cell(g, cells, row_key, g->cols->pdata[c]);

		if (i >= 0)
			add_grid_cell(tr, json_object_array_get_idx(cells, (size_t)i), (size_t)i,
				      page);
		else
			hpci_html_element(tr, "td", "absent");
	}
}

static void add_grid(xmlNodePtr body, json_object *report, const struct page *page)
{
	json_object *cells = hpci_report_cells(report);
	xmlNodePtr table, tbody;
	struct grid g;

	hpci_html_text_element(body, "h2", NULL, "Matrix");
	hpci_html_text_element(body, "p", "note", "Rows: topology, smi, firmware, qemu; columns: "
			 "count and ops.  Each box links to the cell's directory and logs, and "
			 "lists the attempts of a cell that ran more than once.");
	table = hpci_html_element(body, "table", NULL);
	hpci_xml_attr(table, "id", "grid");
	grid_init(&g, report);
	add_grid_head(table, &g);
	tbody = hpci_html_element(table, "tbody", NULL);
	for (guint r = 0; r < g.rows->len; r++)
		add_grid_row(tbody, &g, g.rows->pdata[r], cells, page);
	grid_release(&g);
}

/* ---- failures, flaky cells, infrastructure errors and known issues ---------- */

static void add_problems_cell(xmlNodePtr tr, json_object *cell)
{
	json_object *problems = hpci_report_array(cell, "firmware_problems");
	xmlNodePtr td = hpci_html_element(tr, "td", "firmware-problems");
	xmlNodePtr ul;

	if (!problems || json_object_array_length(problems) == 0)
		return;
	ul = hpci_html_element(td, "ul", NULL);
	for (size_t i = 0; i < json_object_array_length(problems); i++)
		hpci_html_text_element(ul, "li", NULL, json_object_get_string(
					 json_object_array_get_idx(problems, i)));
}

static void add_problem_row(xmlNodePtr tbody, json_object *cell, size_t index,
			    const struct page *page)
{
	xmlNodePtr tr = hpci_html_element(tbody, "tr", "problem");
	g_autofree char *href = g_strdup_printf("#cell-%zu", index + 1);
	const char *note = hpci_report_known_issue(cell, hpci_json_get_string(cell, "outcome"));
	g_autofree char *expected = g_strdup_printf("%s%s%s",
		string_or_dash(cell, "expected.outcome"),
		note ? "; known issue: " : "", note ? note : "");

	hpci_html_link(hpci_html_element(tr, "td", "cell"), href, hpci_json_get_string(cell, "id"));
	hpci_html_text_element(tr, "td", "outcome", string_or_dash(cell, "outcome"));
	hpci_html_text_element(tr, "td", "expected", expected);
	add_attempts(hpci_html_element(tr, "td", "attempts"), page, cell);
	hpci_html_text_element(tr, "td", "error", hpci_json_get_string(cell, "error"));
	hpci_html_text_element(tr, "td", "evidence", hpci_json_get_string(cell, "evidence"));
	add_problems_cell(tr, cell);
}

static const char *const problem_heads[] = {
	"cell", "outcome", "expected", "attempts", "error", "evidence", "firmware problems",
};

/* A table of problem rows, with id table_id and its head: its body. */
static xmlNodePtr add_problem_head(xmlNodePtr parent, const char *table_id)
{
	xmlNodePtr table = hpci_html_element(parent, "table", "problems");
	xmlNodePtr tr;

	hpci_xml_attr(table, "id", table_id);
	tr = hpci_html_element(hpci_html_element(table, "thead", NULL), "tr", NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(problem_heads); i++)
		hpci_html_text_element(tr, "th", NULL, problem_heads[i]);
	return hpci_html_element(table, "tbody", NULL);
}

/* The cells with one verdict, as a table with id table_id. */
static void add_problem_table(xmlNodePtr body, json_object *cells, enum hpci_verdict verdict,
			      const char *table_id, const char *title, const struct page *page)
{
	xmlNodePtr tbody;
	unsigned rows = 0;

	hpci_html_text_element(body, "h2", NULL, title);
	tbody = add_problem_head(body, table_id);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (hpci_report_verdict_is(cell, verdict)) {
			add_problem_row(tbody, cell, i, page);
			rows++;
		}
	}
	if (rows == 0) {
		xmlNodePtr td = hpci_html_text_element(hpci_html_element(tbody, "tr", "none"), "td", NULL,
						 "none");

		hpci_xml_attrf(td, "colspan", "%zu", G_N_ELEMENTS(problem_heads));
	}
}

/* The unexpected breaches, above everything else on the page, when there
 * are any: guest code ran in SMM or the guest read SMRAM, a failure before
 * every other. */
static void add_breaches(xmlNodePtr body, json_object *cells, const struct page *page)
{
	size_t n = json_object_array_length(cells);
	g_autofree char *title = NULL;
	xmlNodePtr banner, tbody;
	unsigned breaches = 0;

	for (size_t i = 0; i < n; i++)
		breaches += hpci_report_breach(json_object_array_get_idx(cells, i));
	if (breaches == 0)
		return;
	banner = hpci_html_element(body, "div", "breach-banner");
	hpci_xml_attr(banner, "id", "breaches");
	title = g_strdup_printf("BREACH: %u cell(s) ran guest code in SMM or exposed SMRAM",
				breaches);
	hpci_html_text_element(banner, "h2", NULL, title);
	tbody = add_problem_head(banner, "breach-cells");
	for (size_t i = 0; i < n; i++) {
		json_object *cell = json_object_array_get_idx(cells, i);

		if (hpci_report_breach(cell))
			add_problem_row(tbody, cell, i, page);
	}
}

/* ---- charts --------------------------------------------------------------- */

/* A round tick step, 1-2-5 times a power of ten, for at most 6 ticks. */
static gint64 tick_step(gint64 max_ms)
{
	static const int mantissa[] = { 1, 2, 5 };
	gint64 scale = 1;

	for (;;) {
		for (size_t i = 0; i < G_N_ELEMENTS(mantissa); i++) {
			if (max_ms / (mantissa[i] * scale) <= 5)
				return mantissa[i] * scale;
		}
		scale *= 10;
	}
}

static gint64 bar_width(gint64 ms, gint64 max_ms)
{
	return max_ms > 0 ? MAX(1, ms * CHART_BAR_W / max_ms) : 1;
}

static xmlNodePtr add_chart(xmlNodePtr body, const char *id, const char *label, guint rows)
{
	xmlNodePtr svg = hpci_html_element(body, "svg", "chart");
	gint64 height = CHART_TOP + (gint64)rows * CHART_ROW_H + CHART_AXIS_H;
	g_autofree char *view_box = g_strdup_printf("0 0 %d %" G_GINT64_FORMAT, CHART_W, height);

	hpci_xml_attr(svg, "id", id);
	hpci_xml_attr(svg, "xmlns", "http://www.w3.org/2000/svg");
	hpci_xml_attrf(svg, "width", "%d", CHART_W);
	hpci_xml_attrf(svg, "height", "%" G_GINT64_FORMAT, height);
	hpci_xml_attr(svg, "viewBox", view_box);
	hpci_xml_attr(svg, "role", "img");
	hpci_xml_attr(svg, "aria-label", label);
	return svg;
}

static void add_svg_text(xmlNodePtr parent, gint64 x, gint64 y, const char *anchor,
			 const char *cls, const char *text)
{
	xmlNodePtr node = hpci_html_text_element(parent, "text", cls, text);

	hpci_xml_attrf(node, "x", "%" G_GINT64_FORMAT, x);
	hpci_xml_attrf(node, "y", "%" G_GINT64_FORMAT, y);
	if (anchor)
		hpci_xml_attr(node, "text-anchor", anchor);
}

static void add_svg_line(xmlNodePtr parent, const char *cls, gint64 x1, gint64 y1, gint64 x2,
			 gint64 y2)
{
	xmlNodePtr line = hpci_html_element(parent, "line", cls);

	hpci_xml_attrf(line, "x1", "%" G_GINT64_FORMAT, x1);
	hpci_xml_attrf(line, "y1", "%" G_GINT64_FORMAT, y1);
	hpci_xml_attrf(line, "x2", "%" G_GINT64_FORMAT, x2);
	hpci_xml_attrf(line, "y2", "%" G_GINT64_FORMAT, y2);
}

/* Vertical grid lines and their times, drawn before the bars so they
 * stay behind them. */
static void add_time_axis(xmlNodePtr svg, guint rows, gint64 max_ms)
{
	gint64 bottom = CHART_TOP + (gint64)rows * CHART_ROW_H;
	gint64 step = tick_step(max_ms);
	xmlNodePtr g = hpci_html_element(svg, "g", "time-axis");

	for (gint64 t = 0; t <= max_ms; t += step) {
		gint64 x = CHART_LABEL_W + bar_width(t, max_ms) - (t == 0);
		g_autofree char *label = hpci_html_duration(t);

		add_svg_line(g, "grid", x, CHART_TOP, x, bottom);
		add_svg_text(g, x, bottom + 16, "middle", "tick", label);
	}
	add_svg_line(g, "axis", CHART_LABEL_W, bottom, CHART_LABEL_W + CHART_BAR_W, bottom);
}

/* One bar: a group titled with the cell id, its label, the rect, its value. */
static xmlNodePtr add_bar(xmlNodePtr svg, guint row, json_object *cell, const char *label,
			  gint64 ms, gint64 max_ms, const char *value, const char *title)
{
	gint64 y = CHART_TOP + (gint64)row * CHART_ROW_H;
	g_autofree char *cls = verdict_class(hpci_report_verdict_name(cell));
	g_autofree char *bar_cls = g_strconcat("bar ", cls, NULL);
	xmlNodePtr g = hpci_html_element(svg, "g", "bar-row");
	xmlNodePtr rect;

	hpci_html_text_element(g, "title", NULL, title);
	add_svg_text(g, CHART_LABEL_W - 6, y + CHART_BAR_H - 2, "end", "label", label);
	rect = hpci_html_element(g, "rect", bar_cls);
	hpci_xml_attrf(rect, "x", "%d", CHART_LABEL_W);
	hpci_xml_attrf(rect, "y", "%" G_GINT64_FORMAT, y);
	hpci_xml_attrf(rect, "width", "%" G_GINT64_FORMAT, bar_width(ms, max_ms));
	hpci_xml_attrf(rect, "height", "%d", CHART_BAR_H);
	add_svg_text(g, CHART_LABEL_W + bar_width(ms, max_ms) + 6, y + CHART_BAR_H - 2, NULL,
		     "value", value);
	return g;
}

static void add_boot_chart(xmlNodePtr body, json_object *cells)
{
	gint64 max_ms = 0;
	guint rows = 0, row = 0;
	xmlNodePtr svg;

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		gint64 ms = hpci_report_ms(json_object_array_get_idx(cells, i), "timings.boot_ms");

		rows += ms >= 0;
		max_ms = MAX(max_ms, ms);
	}
	hpci_html_text_element(body, "h2", NULL, "Boot time per cell");
	hpci_html_text_element(body, "p", "note", "From resuming the domain to the guest's "
			 "HPCI-READY line; cells that never booted have no bar.");
	svg = add_chart(body, "boot-chart", "boot time per cell", rows);
	add_time_axis(svg, rows, max_ms);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		gint64 ms = hpci_report_ms(cell, "timings.boot_ms");
		g_autofree char *label = NULL, *value = NULL, *title = NULL;

		if (ms < 0)
			continue;
		label = short_label(cell);
		value = hpci_html_duration(ms);
		title = g_strdup_printf("%s: boot %s", hpci_json_get_string(cell, "id"), value);
		add_bar(svg, row++, cell, label, ms, max_ms, value, title);
	}
}

/* A plug drawn in the plug chart: requested, and the guest brought it online. */
static bool plug_charted(json_object *plug)
{
	return hpci_report_ms(plug, "request_ms") >= 0 && hpci_report_ms(plug, "online_ms") >= 0;
}

static void add_plug_bar(xmlNodePtr svg, guint row, json_object *cell, json_object *plug,
			 gint64 max_ms)
{
	gint64 request = hpci_report_ms(plug, "request_ms");
	gint64 online = hpci_report_ms(plug, "online_ms") - request;
	gint64 seen = hpci_report_ms(plug, "seen_ms");
	g_autofree char *cell_label = short_label(cell);
	g_autofree char *label = g_strdup_printf("%s vCPU %" G_GINT64_FORMAT, cell_label,
						 hpci_report_ms(plug, "vcpu"));
	g_autofree char *online_text = hpci_html_duration(online);
	g_autofree char *seen_text = hpci_html_duration(seen >= 0 ? seen - request : -1);
	g_autofree char *value = g_strdup_printf("%s (seen %s)", online_text, seen_text);
	g_autofree char *title = g_strdup_printf(
		"%s vCPU %" G_GINT64_FORMAT ": online %s, seen %s after the request",
		hpci_json_get_string(cell, "id"), hpci_report_ms(plug, "vcpu"), online_text,
		seen_text);
	xmlNodePtr g = add_bar(svg, row, cell, label, online, max_ms, value, title);
	gint64 y = CHART_TOP + (gint64)row * CHART_ROW_H;

	/* The guest's "CPU added" line: a tick inside the bar. */
	if (seen >= request) {
		gint64 x = CHART_LABEL_W + bar_width(MIN(seen - request, online), max_ms);

		add_svg_line(g, "seen", x, y - 1, x, y + CHART_BAR_H + 1);
	}
}

static void add_plug_chart(xmlNodePtr body, json_object *cells)
{
	gint64 max_ms = 0;
	guint rows = 0, row = 0;
	xmlNodePtr svg;

	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *plugs = hpci_report_array(json_object_array_get_idx(cells, i),
							"timings.plugs");

		for (size_t p = 0; plugs && p < json_object_array_length(plugs); p++) {
			json_object *plug = json_object_array_get_idx(plugs, p);

			if (!plug_charted(plug))
				continue;
			rows++;
			max_ms = MAX(max_ms, hpci_report_ms(plug, "online_ms") -
					     hpci_report_ms(plug, "request_ms"));
		}
	}
	hpci_html_text_element(body, "h2", NULL, "Plug latency per hot-added CPU");
	hpci_html_text_element(body, "p", "note", "Bar: from the plug request to the guest's "
			 "HPCI-CPU-ONLINE (online_ms - request_ms); tick: the guest's "
			 "HPCI-CPU-ADDED (seen_ms - request_ms).  Plugs that never came online "
			 "have no bar.");
	svg = add_chart(body, "plug-chart", "plug latency per hot-added CPU", rows);
	add_time_axis(svg, rows, max_ms);
	for (size_t i = 0; i < json_object_array_length(cells); i++) {
		json_object *cell = json_object_array_get_idx(cells, i);
		json_object *plugs = hpci_report_array(cell, "timings.plugs");

		for (size_t p = 0; plugs && p < json_object_array_length(plugs); p++) {
			if (plug_charted(json_object_array_get_idx(plugs, p)))
				add_plug_bar(svg, row++, cell, json_object_array_get_idx(plugs, p),
					     max_ms);
		}
	}
}

/* ---- the page --------------------------------------------------------------- */

static xmlNodePtr add_head(xmlNodePtr html, json_object *report)
{
	xmlNodePtr head = hpci_html_element(html, "head", NULL);
	const char *name = hpci_json_get_string(report, "matrix.name");
	g_autofree char *title = g_strdup_printf("hotplug-ci: %s", name ? name : "report");

	hpci_xml_attr(hpci_html_element(head, "meta", NULL), "charset", "utf-8");
	hpci_html_text_element(head, "title", NULL, title);
	hpci_html_text_element(head, "style", NULL, page_style);
	return head;
}

int hpci_report_html(json_object *report, const char *report_dir, const char *report_link,
		     char **ret_html)
{
	const struct page page = { report_dir, report_link };
	g_autoptr(xmlDoc) doc = htmlNewDocNoDtD(NULL, NULL);
	json_object *cells = hpci_report_cells(report);
	xmlNodePtr html, body;

	/* <!DOCTYPE html>: standards mode. */
	xmlCreateIntSubset(doc, BAD_CAST "html", NULL, NULL);
	html = hpci_xml_root(doc, "html");
	hpci_xml_attr(html, "lang", "en");
	add_head(html, report);
	body = hpci_html_element(html, "body", NULL);
	add_breaches(body, cells, &page);
	add_header(body, report);
	add_grid(body, report, &page);
	add_problem_table(body, cells, HPCI_VERDICT_FAIL, "failures", "Failures", &page);
	add_problem_table(body, cells, HPCI_VERDICT_FLAKY, "flaky", "Flaky", &page);
	add_problem_table(body, cells, HPCI_VERDICT_INFRA_ERROR, "infra-errors",
			  "Infrastructure errors", &page);
	add_problem_table(body, cells, HPCI_VERDICT_KNOWN_ISSUE, "known-issues", "Known issues",
			  &page);
	add_boot_chart(body, cells);
	add_plug_chart(body, cells);
	if (!(*ret_html = hpci_html_to_string(doc)))
		return hpci_error(ENOMEM, "cannot serialise the HTML page");
	return 0;
}
