/* SPDX-License-Identifier: MIT */
/* Building XML and HTML documents with libxml2. */
#include "xml.h"
#include "error.h"

#include <errno.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>
#include <string.h>

char *hpci_xml_text(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	GString *clean = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* XML 1.0 allows tab, newline and carriage return below 0x20, and
		 * neither of the two non-characters at the top of the BMP. */
		if ((c < 0x20 && c != '\t' && c != '\n') || c == '\r' || c == 0xfffe || c == 0xffff)
			g_string_append_c(clean, '?');
		else
			g_string_append_unichar(clean, c);
	}
	return g_string_free(clean, FALSE);
}

/* xmlNewDocText and xmlSetProp take their text literally (no entity
 * parsing); the serializer escapes it. */
void hpci_xml_add_text(xmlNodePtr node, const char *text)
{
	g_autofree char *clean = hpci_xml_text(text);

	xmlAddChild(node, xmlNewDocText(node->doc, BAD_CAST clean));
}

xmlNodePtr hpci_xml_root(xmlDoc *doc, const char *name)
{
	xmlNodePtr root = xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);

	xmlDocSetRootElement(doc, root);
	return root;
}

xmlNodePtr hpci_xml_child(xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr node = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

	if (text)
		hpci_xml_add_text(node, text);
	return node;
}

xmlNodePtr hpci_xml_childf(xmlNodePtr parent, const char *name, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_xml_child(parent, name, text);
}

void hpci_xml_attr(xmlNodePtr node, const char *name, const char *value)
{
	g_autofree char *clean = hpci_xml_text(value);

	xmlSetProp(node, BAD_CAST name, BAD_CAST clean);
}

void hpci_xml_attrf(xmlNodePtr node, const char *name, const char *fmt, ...)
{
	g_autofree char *value = NULL;
	va_list ap;

	va_start(ap, fmt);
	value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	hpci_xml_attr(node, name, value);
}

char *hpci_xml_to_string(xmlDoc *doc, const char *encoding)
{
	g_autoptr(xmlChar) mem = NULL;
	int len = 0;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, encoding, 1);
	return mem ? g_strndup((const char *)mem, (gsize)len) : NULL;
}

char *hpci_html_to_string(xmlDoc *doc)
{
	g_autoptr(xmlChar) mem = NULL;
	int len = 0;

	htmlDocDumpMemoryFormat(doc, &mem, &len, 1);
	return mem ? g_strndup((const char *)mem, (gsize)len) : NULL;
}

int hpci_xml_parse(const char *text, const char *what, xmlDoc **ret_doc)
{
	xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	const xmlError *err = doc ? NULL : xmlGetLastError();
	g_autofree char *detail = g_strdup(err && err->message ? err->message : "no root element");

	if (!doc || !xmlDocGetRootElement(doc)) {
		if (doc)
			xmlFreeDoc(doc);
		return hpci_error(EPROTO, "cannot parse %s: %s", what, g_strchomp(detail));
	}
	*ret_doc = doc;
	return 0;
}

static xmlNodePtr root_child(xmlDoc *doc, const char *name)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	}
	return NULL;
}

char *hpci_xml_root_child_text(xmlDoc *doc, const char *name)
{
	xmlNodePtr node = root_child(doc, name);
	g_autoptr(xmlChar) text = node ? xmlNodeGetContent(node) : NULL;

	return text ? g_strdup((const char *)text) : NULL;
}

void hpci_xml_set_root_child_text(xmlDoc *doc, const char *name, const char *text)
{
	xmlNodePtr node = root_child(doc, name);
	g_autofree char *clean = hpci_xml_text(text);
	g_autoptr(xmlChar) escaped = NULL;

	if (!node) {
		hpci_xml_child(xmlDocGetRootElement(doc), name, text);
		return;
	}
	/* xmlNodeSetContent parses entities; its text must be escaped first. */
	escaped = xmlEncodeSpecialChars(doc, BAD_CAST clean);
	xmlNodeSetContent(node, escaped);
}
