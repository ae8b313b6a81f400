/* SPDX-License-Identifier: MIT */
#include "strlist.h"

char *hpci_strings_join(const GPtrArray *strings, const char *sep)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; strings && i < strings->len; i++)
		g_string_append_printf(s, "%s%s", i ? sep : "",
				       (const char *)g_ptr_array_index(strings, i));
	return g_string_free(s, FALSE);
}

GPtrArray *hpci_strings_copy(const GPtrArray *strings)
{
	GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; strings && i < strings->len; i++)
		g_ptr_array_add(copy, g_strdup(g_ptr_array_index(strings, i)));
	return copy;
}

GPtrArray *hpci_strings_from_strv(char *const *strv)
{
	GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

	for (char *const *s = strv; s && *s; s++)
		g_ptr_array_add(copy, g_strdup(*s));
	return copy;
}
