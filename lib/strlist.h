/* SPDX-License-Identifier: MIT */
#ifndef HPCI_STRLIST_H
#define HPCI_STRLIST_H

#include <glib.h>

/*
 * Lists of owned strings as the project keeps them: a GPtrArray of char *
 * that frees its elements.  NULL stands for the empty list everywhere.
 */

/* The strings joined by sep; "" for an empty list.  The list is unchanged. */
char *hpci_strings_join(const GPtrArray *strings, const char *sep);

/* A deep copy (an empty list for NULL). */
GPtrArray *hpci_strings_copy(const GPtrArray *strings);

/* The strings of a NULL-terminated vector, copied (an empty list for NULL). */
GPtrArray *hpci_strings_from_strv(char *const *strv);

#endif
