/* SPDX-License-Identifier: MIT */
#ifndef HPCI_TEST_FIXTURE_H
#define HPCI_TEST_FIXTURE_H

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads tests/fixtures/<rel> (the directory comes from $HPCI_FIXTURES). */
static inline char *fixture_read(const char *rel)
{
	const char *dir = g_getenv("HPCI_FIXTURES");
	g_autofree char *path = g_build_filename(dir ? dir : "tests/fixtures", rel, NULL);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL)) {
		fprintf(stderr, "fixture '%s' missing\n", path);
		abort();
	}
	return data;
}

#endif
