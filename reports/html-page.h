/* SPDX-License-Identifier: MIT */
#ifndef HPCI_HTML_PAGE_H
#define HPCI_HTML_PAGE_H

#include "xml.h"

#include <glib.h>

/*
 * The small tree helpers of the HTML pages (report-html.c, bisect-html.c):
 * lib/xml.h with a class attribute and text.
 */
xmlNodePtr hpci_html_element(xmlNodePtr parent, const char *name, const char *cls);
/* An element with text (NULL: empty). */
xmlNodePtr hpci_html_text_element(xmlNodePtr parent, const char *name, const char *cls,
				  const char *text);
xmlNodePtr hpci_html_link(xmlNodePtr parent, const char *href, const char *text);
/* "250 ms", "12.3 s" or "5 min 18 s", whatever the locale; "-" for a negative. */
char *hpci_html_duration(gint64 ms);

#endif
