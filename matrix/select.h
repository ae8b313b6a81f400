/* SPDX-License-Identifier: MIT */
#ifndef HPCI_SELECT_H
#define HPCI_SELECT_H

#include "matrix.h"

/*
 * Choosing the cells of a run from a loaded matrix, before any VM starts.
 *
 * A filter expression is a comma-separated list of terms that must all hold:
 *   AXIS=PATTERN[|PATTERN...]    the cell's value of AXIS matches a pattern
 *   AXIS!=PATTERN[|PATTERN...]   it matches none of them
 * Patterns are shell globs (`*`, `?`, `[...]`) over value names, e.g.
 *   --filter 'qemu=patched,smi=full|machine-*,ops!=*cycle*'
 * Several filters select the cells any of them selects.  A term naming an
 * unknown axis, or a pattern that no value of the matrix matches, is an
 * error (a typo would otherwise select nothing, silently).
 *
 * A shard K/N keeps every Nth selected cell starting with the Kth, so the N
 * shards of one selection are disjoint, cover it, and differ in size by at
 * most one cell; the split depends only on the matrix and the filters.
 */

/* Keeps the cells that one of the filters selects (all cells when n == 0).
 * Fails with -EINVAL and the error recorded, naming `what` (e.g. "--filter"),
 * on a malformed or unmatched term, or when nothing is left. */
int hpci_matrix_filter(struct hpci_matrix *matrix, const char *const *filters, guint n,
		       const char *what);

/* Parses "K/N" (1 <= K <= N <= 1024).  -EINVAL with the error recorded. */
int hpci_shard_parse(const char *text, const char *what, unsigned *ret_k, unsigned *ret_n);

/* Keeps shard k of n; fails when the shard is empty. */
int hpci_matrix_shard(struct hpci_matrix *matrix, unsigned k, unsigned n);

#endif
