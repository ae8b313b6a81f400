/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "error.h"
#include "host.h"
#include "matrix.h"
#include "select.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static void print_known_issues(const GArray *issues)
{
	for (guint i = 0; issues && i < issues->len; i++) {
		const struct hpci_known_issue *ki =
			&g_array_index(issues, struct hpci_known_issue, i);

		printf("     %-13s known issue, may end %s: %s\n", "",
		       hpci_outcome_name(ki->outcome), ki->note);
	}
}

int cmd_list(int argc, char **argv)
{
	g_autofree char *matrix_path = NULL;
	g_autofree char *accel_opt = NULL;
	g_autofree char *accel = NULL;
	g_autofree char *reason = NULL;
	g_autoptr(hpci_matrix) matrix = NULL;
	g_auto(GStrv) filters = NULL;
	g_auto(GStrv) sets = NULL;
	g_autofree char *shard = NULL;
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &matrix_path,
		  "matrix file to validate and expand (required)", "FILE" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &accel_opt,
		  "evaluate host-conditional expectations for tcg or kvm (default: probe this host)",
		  "ACCEL" },
		{ "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters,
		  "list only the cells `run --filter EXPR` would run", "EXPR" },
		{ "shard", 0, 0, G_OPTION_ARG_STRING, &shard,
		  "list only the cells `run --shard K/N` would run", "K/N" },
		{ "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
		  "change a field of the matrix as `run --set` does, e.g. "
		  "'axes.count:=[1,\"all\"]'", "PATH=VALUE" },
		{ NULL }
	};
	struct hpci_matrix_host host;
	unsigned total, k = 0, n = 0;
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "", "Validate a matrix and print its cells, "
				     "one per line: index, expected outcome, cell id.", entries)))
		return rc;
	if (!matrix_path)
		return hpci_usage_error("list", "--matrix FILE is required, e.g. matrix/smoke.json");
	if (hpci_resolve_accel(accel_opt, &accel, &reason) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	host.accel = accel;
	if ((shard && hpci_shard_parse(shard, "--shard", &k, &n) < 0) ||
	    hpci_matrix_load_with(matrix_path, &host, (const char *const *)sets,
				  sets ? g_strv_length(sets) : 0, &matrix) < 0)
		return hpci_error_exit(HPCI_EXIT_USAGE);
	total = matrix->cells->len;
	if ((filters && hpci_matrix_filter(matrix, (const char *const *)filters,
					   g_strv_length(filters), "--filter") < 0) ||
	    (shard && hpci_matrix_shard(matrix, k, n) < 0))
		return hpci_error_exit(HPCI_EXIT_USAGE);
	if (matrix->cells->len != total)
		printf("# matrix '%s' (%s), %u of %u cells selected, expectations for accel %s\n",
		       matrix->name, matrix_path, matrix->cells->len, total, accel);
	else
		printf("# matrix '%s' (%s), %u cells, expectations for accel %s\n", matrix->name,
		       matrix_path, matrix->cells->len, accel);
	for (guint i = 0; i < matrix->sets->len; i++)
		printf("# --set %s\n", (const char *)g_ptr_array_index(matrix->sets, i));
	for (guint i = 0; i < matrix->cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(matrix->cells, i);
		g_autofree char *expected = hpci_expect_outcomes(&cell->expect);

		printf("%3u  %-13s %s\n", i + 1, expected, cell->id);
		if (cell->expect.reason)
			printf("     %-13s why: %s\n", "", cell->expect.reason);
		print_known_issues(cell->expect.known_issues);
	}
	return HPCI_EXIT_OK;
}
