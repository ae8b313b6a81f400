/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "error.h"
#include "host.h"
#include "matrix.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int cmd_list(int argc, char **argv)
{
	g_autofree char *matrix_path = NULL;
	g_autofree char *accel_opt = NULL;
	g_autofree char *accel = NULL;
	g_autofree char *reason = NULL;
	g_autoptr(hpci_matrix) matrix = NULL;
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &matrix_path,
		  "matrix file to validate and expand (required)", "FILE" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &accel_opt,
		  "evaluate host-conditional expectations for tcg or kvm (default: probe this host)",
		  "ACCEL" },
		{ NULL }
	};
	struct hpci_matrix_host host;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "", "Validate a matrix and print its cells, "
				     "one per line: index, expected outcome, cell id.", entries)))
		return rc;
	if (!matrix_path) {
		fprintf(stderr, "hotplug-ci: error: --matrix FILE is required "
				"(e.g. --matrix matrix/smoke.json)\n");
		return HPCI_EXIT_USAGE;
	}
	if (hpci_resolve_accel(accel_opt, &accel, &reason) < 0) {
		hpci_error_print();
		return HPCI_EXIT_USAGE;
	}
	host.accel = accel;
	if (hpci_matrix_load(matrix_path, &host, &matrix) < 0) {
		hpci_error_print();
		return HPCI_EXIT_USAGE;
	}
	printf("# matrix '%s' (%s), %u cells, expectations for accel %s\n", matrix->name,
	       matrix_path, matrix->cells->len, accel);
	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);

		printf("%3u  %-13s %s\n", i + 1, hpci_outcome_name(cell->expect.outcome), cell->id);
		if (cell->expect.reason)
			printf("     %-13s why: %s\n", "", cell->expect.reason);
		if (cell->expect.known_issue)
			printf("     %-13s known issue, may end %s: %s\n", "",
			       hpci_outcome_name(cell->expect.known_outcome), cell->expect.known_issue);
	}
	return HPCI_EXIT_OK;
}
