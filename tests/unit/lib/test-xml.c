/* SPDX-License-Identifier: MIT */
/* lib/xml.h: the libxml2 helpers the domain XML, JUnit and HTML writers share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "xml.h"

#include <libxml/HTMLtree.h>
#include <string.h>

static void test_text_drops_control_characters(void **state)
{
	g_autofree char *clean = hpci_xml_text("a\x1b[0m\tb\r\nc\x01\xff");
	g_autofree char *none = hpci_xml_text(NULL);

	(void)state;
	assert_string_equal(clean, "a?[0m\tb?\nc?\xef\xbf\xbd");
	assert_string_equal(none, "");
}

/* A document root holding one child of each kind. */
static xmlDoc *sample(void)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = hpci_xml_root(doc, "r");
	xmlNodePtr node;

	node = hpci_xml_child(root, "plain", "a < b & \"c\"");
	hpci_xml_attr(node, "v", "x'\"<&>");
	hpci_xml_attrf(node, "n", "%u-%s", 42u, "ok");
	hpci_xml_childf(root, "f", "+%u:+%u", 1000u, 100u);
	hpci_xml_child(root, "empty", NULL);
	node = hpci_xml_child(root, "noise", "bell\a");
	hpci_xml_attr(node, "null", NULL);
	hpci_xml_add_text(node, " more\x1b");
	hpci_xml_child(root, "utf8", "\xc3\xa9");
	return doc;
}

static void test_xml_document(void **state)
{
	g_autoptr(xmlDoc) doc = sample();
	g_autofree char *utf8 = hpci_xml_to_string(doc, "UTF-8");
	g_autofree char *ascii = hpci_xml_to_string(doc, NULL);

	(void)state;
	assert_string_equal(utf8,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<r>\n"
		"  <plain v=\"x'&quot;&lt;&amp;&gt;\" n=\"42-ok\">a &lt; b &amp; \"c\"</plain>\n"
		"  <f>+1000:+100</f>\n"
		"  <empty/>\n"
		"  <noise null=\"\">bell? more?</noise>\n"
		"  <utf8>\xc3\xa9</utf8>\n"
		"</r>\n");
	/* Without an encoding, characters beyond ASCII become references. */
	assert_non_null(strstr(ascii, "<?xml version=\"1.0\"?>\n<r>\n"));
	assert_non_null(strstr(ascii, "<utf8>&#xE9;</utf8>"));
}

/* A set attribute replaces the old value; a child inherits its parent's
 * namespace (the domain XML's qemu:arg under qemu:commandline). */
static void test_attr_replaces_and_ns_inherits(void **state)
{
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = hpci_xml_root(doc, "r");
	xmlNsPtr ns;
	xmlNodePtr cmdline;
	g_autofree char *text = NULL;

	(void)state;
	ns = xmlNewNs(root, BAD_CAST "urn:q", BAD_CAST "q");
	hpci_xml_attr(root, "a", "1");
	hpci_xml_attrf(root, "a", "%d", 2);
	cmdline = hpci_xml_child(root, "cmd", NULL);
	xmlSetNs(cmdline, ns);
	hpci_xml_attr(hpci_xml_child(cmdline, "arg", NULL), "value", "-x");
	text = hpci_xml_to_string(doc, NULL);
	assert_string_equal(text, "<?xml version=\"1.0\"?>\n"
				  "<r xmlns:q=\"urn:q\" a=\"2\">\n"
				  "  <q:cmd>\n"
				  "    <q:arg value=\"-x\"/>\n"
				  "  </q:cmd>\n"
				  "</r>\n");
}

static void test_html_document(void **state)
{
	g_autoptr(xmlDoc) doc = htmlNewDocNoDtD(NULL, NULL);
	xmlNodePtr body;
	g_autofree char *text = NULL;

	(void)state;
	xmlCreateIntSubset(doc, BAD_CAST "html", NULL, NULL);
	body = hpci_xml_child(hpci_xml_root(doc, "html"), "body", NULL);
	hpci_xml_attr(hpci_xml_child(body, "p", "1 < 2"), "class", "a&b");
	hpci_xml_child(body, "td", "");
	text = hpci_html_to_string(doc);
	assert_non_null(text);
	assert_non_null(strstr(text, "<!DOCTYPE html>"));
	assert_non_null(strstr(text, "<p class=\"a&amp;b\">1 &lt; 2</p>"));
	assert_non_null(strstr(text, "<td></td>"));
}

/* Editing a document another program wrote: libvirt's domain XML. */
static void test_parse_and_edit_root_children(void **state)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(xmlDoc) bad = NULL;
	g_autofree char *name = NULL;
	g_autofree char *none = NULL;
	g_autofree char *out = NULL;

	(void)state;
	assert_int_equal(hpci_xml_parse("<domain type='qemu'><name>a</name><devices>"
					"<name>inner</name></devices></domain>", "test XML", &doc), 0);
	name = hpci_xml_root_child_text(doc, "name");
	none = hpci_xml_root_child_text(doc, "uuid");
	assert_string_equal(name, "a");
	assert_null(none);
	hpci_xml_set_root_child_text(doc, "name", "b&<c>");
	hpci_xml_set_root_child_text(doc, "uuid", "6260a8d8-b1c3-4722-a592-744feb6fbacf");
	out = hpci_xml_to_string(doc, NULL);
	assert_non_null(strstr(out, "<name>b&amp;&lt;c&gt;</name>"));
	assert_non_null(strstr(out, "<uuid>6260a8d8-b1c3-4722-a592-744feb6fbacf</uuid>"));
	assert_non_null(strstr(out, "<name>inner</name>"));
	assert_true(hpci_xml_parse("<domain><name>", "test XML", &bad) < 0);
	assert_null(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_drops_control_characters),
		cmocka_unit_test(test_xml_document),
		cmocka_unit_test(test_attr_replaces_and_ns_inherits),
		cmocka_unit_test(test_html_document),
		cmocka_unit_test(test_parse_and_edit_root_children),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
