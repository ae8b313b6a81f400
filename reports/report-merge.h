/* SPDX-License-Identifier: MIT */
#ifndef HPCI_REPORT_MERGE_H
#define HPCI_REPORT_MERGE_H

#include "report-load.h"

/*
 * Joins shard reports of one matrix into one: cells from every input in
 * matrix order (a cell two inputs both ran is an error; a ran cell replaces
 * a not-run one), identities de-duplicated by role and path, summary
 * recounted, earliest start, longest duration, interrupted if any was, and
 * "merged_from" listing the inputs.  "run" is the first input's with every
 * input's connections, "shard": null and "merged_shards".  Cell and attempt
 * dirs are rewritten relative to out_path's directory.  Inputs of different
 * matrices (matrix.sha256), of different --set options (run.sets), of
 * different run.filters, or that are not distinct shards K/N of one N
 * (run.shard) are an error naming both files.
 */
int hpci_report_merge(const char *out_path, const char *const *inputs, guint n_inputs,
		      json_object **ret);

#endif
