/* SPDX-License-Identifier: MIT */
#ifndef HPCI_XML_H
#define HPCI_XML_H

#include <glib.h>
#include <libxml/tree.h>

/*
 * Building XML and HTML documents with libxml2's tree, which escapes text
 * and attribute values on output.  Every text and value goes through
 * hpci_xml_text() first, so what a guest printed cannot make a document
 * that does not parse.
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlChar, xmlFree)

/*
 * Text as XML allows it: invalid UTF-8 repaired, control characters other
 * than tab and newline replaced by '?'; NULL is "".  Serial consoles carry
 * terminal escapes and, after a reset, binary noise.
 */
char *hpci_xml_text(const char *text);

/* A new element as doc's root. */
xmlNodePtr hpci_xml_root(xmlDoc *doc, const char *name);

/* A new element at the end of parent's children, in parent's namespace,
 * holding text when text is not NULL (an empty text node for ""). */
xmlNodePtr hpci_xml_child(xmlNodePtr parent, const char *name, const char *text);
/* Same, its text printf-formatted. */
xmlNodePtr hpci_xml_childf(xmlNodePtr parent, const char *name, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* Appends text to node's children. */
void hpci_xml_add_text(xmlNodePtr node, const char *text);

/* Sets an attribute (NULL value: ""). */
void hpci_xml_attr(xmlNodePtr node, const char *name, const char *value);
/* Same, its value printf-formatted. */
void hpci_xml_attrf(xmlNodePtr node, const char *name, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/*
 * The document as indented XML text: with encoding (e.g. "UTF-8") in the
 * declaration, or without one (characters beyond ASCII as references).
 * NULL when libxml2 runs out of memory.
 */
char *hpci_xml_to_string(xmlDoc *doc, const char *encoding);
/* The document as indented HTML text, NULL when out of memory. */
char *hpci_html_to_string(xmlDoc *doc);

/*
 * Reading and editing documents other programs wrote (libvirt's domain XML).
 * hpci_xml_parse() records an error naming `what` when text does not parse
 * (no network access, no entity expansion).
 */
int hpci_xml_parse(const char *text, const char *what, xmlDoc **ret_doc);
/* The text of the root's first child element `name`; NULL when there is
 * none.  The caller frees it. */
char *hpci_xml_root_child_text(xmlDoc *doc, const char *name);
/* Makes text the whole content of the root's first child element `name`,
 * adding that element at the end of the root when there is none. */
void hpci_xml_set_root_child_text(xmlDoc *doc, const char *name, const char *text);

#endif
