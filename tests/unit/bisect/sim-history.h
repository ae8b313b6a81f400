/* SPDX-License-Identifier: MIT */
#ifndef HPCI_TEST_SIM_HISTORY_H
#define HPCI_TEST_SIM_HISTORY_H

#include "search.h"

#include <glib.h>
#include <stdbool.h>

/*
 * A history in memory with git bisect's choice of the next commit (the
 * candidate that splits the remaining ones most evenly, skipped ones left
 * out, "only skipped left" when nothing else is), and an oracle over it:
 * the commits that descend from the planted one fail, holding a run with
 * hold_rate; the unbuildable ones cannot be built.  Commits are named
 * "c<index>"; c0 is the old endpoint, the last one the new endpoint.
 */
struct sim_history {
	unsigned n;              /* commits */
	GArray *parents;         /* per commit: GArray of unsigned */
	guint64 **ancestors;     /* per commit: bitset, itself included */
	unsigned words;
	unsigned planted;        /* the first failing commit */
	bool *unbuildable;
	double hold_rate;        /* a failing commit holds a run this often */
	bool inverted;           /* the planted commit fixes: the ones before it fail */
	GRand *rand;
	unsigned oracle_runs;
	unsigned builds;         /* distinct commits the oracle was asked to build */
	bool *built;
};

/* `commits` after c0; merges: about one commit in five on a side branch
 * merged back.  skips: that many unbuildable commits, never the planted one,
 * its parents or the endpoints. */
struct sim_history *sim_history_new(unsigned commits, bool merges, unsigned skips,
				    double hold_rate, guint32 seed);
/* Plants the first failing commit (1..n-1). */
void sim_history_plant(struct sim_history *h, unsigned planted);
void sim_history_free(struct sim_history *h);

unsigned sim_history_index(const char *commit);
char *sim_history_name(unsigned index);

void sim_history_ops(struct sim_history *h, struct hpci_bisect_history *ops,
		     struct hpci_bisect_oracle *oracle);

#endif
