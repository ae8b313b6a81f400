/* SPDX-License-Identifier: MIT */
#include "html-page.h"

/* ---- the tree: lib/xml.h, with the page's classes ----------------------- */

xmlNodePtr hpci_html_element(xmlNodePtr parent, const char *name, const char *cls)
{
	xmlNodePtr node = hpci_xml_child(parent, name, NULL);

	if (cls)
		hpci_xml_attr(node, "class", cls);
	return node;
}

xmlNodePtr hpci_html_text_element(xmlNodePtr parent, const char *name, const char *cls,
				   const char *text)
{
	xmlNodePtr node = hpci_html_element(parent, name, cls);

	hpci_xml_add_text(node, text ? text : "");
	return node;
}

xmlNodePtr hpci_html_link(xmlNodePtr parent, const char *href, const char *text)
{
	xmlNodePtr a = hpci_html_text_element(parent, "a", NULL, text);

	hpci_xml_attr(a, "href", href);
	return a;
}

/* ---- formatting ----------------------------------------------------------- */

/* "250 ms", "12.3 s" or "5 min 18 s"; no printf %f, whose decimal point is
 * the locale's. */
char *hpci_html_duration(gint64 ms)
{
	if (ms < 0)
		return g_strdup("-");
	if (ms < 1000)
		return g_strdup_printf("%" G_GINT64_FORMAT " ms", ms);
	if (ms >= 60000)
		return g_strdup_printf("%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s",
				       ms / 60000, (ms % 60000) / 1000);
	ms = (ms + 50) / 100;
	return g_strdup_printf("%" G_GINT64_FORMAT ".%d s", ms / 10, (int)(ms % 10));
}

