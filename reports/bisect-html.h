/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_HTML_H
#define HPCI_BISECT_HTML_H

#include <json-c/json.h>
#include <stdbool.h>

/*
 * A bisect.json (reports/README.md) as one static HTML page: the answer
 * (div#bisect-answer: the first new commit with its subject, author, date
 * and files, or the candidates, and the confidence), what was asked
 * (table#bisect-info), every commit called (table#bisect-steps, linking each
 * to its latest run's report), every run (table#bisect-runs) and, for a
 * co-bisection, the four pairs (table#bisect-corners).  dir_link is the path
 * from the page's directory to the bisect directory ("" or "." beside it).
 */
int hpci_bisect_html(json_object *record, const char *dir_link, char **ret_html);

/* Whether a JSON document is a bisect.json rather than a report.json. */
bool hpci_bisect_html_is_record(json_object *doc);

#endif
