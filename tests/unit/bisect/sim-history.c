/* SPDX-License-Identifier: MIT */
#include "sim-history.h"

#include <stdlib.h>
#include <string.h>

static void set_bit(guint64 *bits, unsigned i)
{
	bits[i / 64] |= G_GUINT64_CONSTANT(1) << (i % 64);
}

static bool has_bit(const guint64 *bits, unsigned i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static void add_commit(struct sim_history *h, unsigned p1, int p2)
{
	GArray *ps = g_array_new(FALSE, FALSE, sizeof(unsigned));
	unsigned i = h->parents->len;
	guint64 *bits = g_new0(guint64, h->words);

	g_array_append_val(ps, p1);
	if (p2 >= 0) {
		unsigned q = (unsigned)p2;

		g_array_append_val(ps, q);
	}
	for (guint k = 0; k < ps->len; k++) {
		const guint64 *pb = h->ancestors[g_array_index(ps, unsigned, k)];

		for (unsigned w = 0; w < h->words; w++)
			bits[w] |= pb[w];
	}
	set_bit(bits, i);
	h->ancestors[i] = bits;
	g_array_append_val(h->parents, ps);
}

struct sim_history *sim_history_new(unsigned commits, bool merges, unsigned skips,
				    double hold_rate, guint32 seed)
{
	struct sim_history *h = g_new0(struct sim_history, 1);
	unsigned main_tip = 0;
	int side = -1;

	h->n = commits + 1;
	h->words = (h->n + 63) / 64;
	h->parents = g_array_new(FALSE, FALSE, sizeof(GArray *));
	h->ancestors = g_new0(guint64 *, h->n);
	h->unbuildable = g_new0(bool, h->n);
	h->built = g_new0(bool, h->n);
	h->hold_rate = hold_rate;
	h->rand = g_rand_new_with_seed(seed);
	h->ancestors[0] = g_new0(guint64, h->words);
	set_bit(h->ancestors[0], 0);
	{
		GArray *none = g_array_new(FALSE, FALSE, sizeof(unsigned));

		g_array_append_val(h->parents, none);
	}
	for (unsigned i = 1; i < h->n; i++) {
		double r = g_rand_double(h->rand);
		bool last = i == h->n - 1;

		if (side >= 0 && (last || r < 0.3)) {
			add_commit(h, main_tip, side);   /* the merge */
			main_tip = i;
			side = -1;
		} else if (side >= 0 && r < 0.6) {
			add_commit(h, (unsigned)side, -1);
			side = (int)i;
		} else if (merges && !last && i + 2 < h->n && r < 0.2) {
			add_commit(h, main_tip, -1);   /* a side branch starts */
			side = (int)i;
		} else {
			add_commit(h, main_tip, -1);
			main_tip = i;
		}
	}
	for (unsigned s = 0; s < skips && h->n > 2; s++)
		h->unbuildable[1 + g_rand_int_range(h->rand, 0, (gint32)h->n - 2)] = true;
	h->unbuildable[h->n - 1] = false;
	return h;
}

void sim_history_plant(struct sim_history *h, unsigned planted)
{
	GArray *ps = g_array_index(h->parents, GArray *, planted);

	h->planted = planted;
	h->unbuildable[planted] = false;
	for (guint k = 0; k < ps->len; k++)
		h->unbuildable[g_array_index(ps, unsigned, k)] = false;
}

void sim_history_free(struct sim_history *h)
{
	if (!h)
		return;
	for (guint i = 0; i < h->parents->len; i++)
		g_array_unref(g_array_index(h->parents, GArray *, i));
	g_array_unref(h->parents);
	for (unsigned i = 0; i < h->n; i++)
		g_free(h->ancestors[i]);
	g_free(h->ancestors);
	g_free(h->unbuildable);
	g_free(h->built);
	g_rand_free(h->rand);
	g_free(h);
}

unsigned sim_history_index(const char *commit)
{
	return (unsigned)strtoul(commit + 1, NULL, 10);
}

char *sim_history_name(unsigned index)
{
	return g_strdup_printf("c%u", index);
}

static bool fails(const struct sim_history *h, unsigned i)
{
	return has_bit(h->ancestors[i], h->planted) != h->inverted;
}

/* git's find_bisection: among the candidates (ancestors of the bad commit
 * that no good commit reaches), the one whose own ancestors among them are
 * closest to half; skipped ones are never chosen. */
static int sim_next(void *self, const GArray *marks, struct hpci_bisect_next *ret)
{
	struct sim_history *h = self;
	g_autofree guint64 *cand = g_new0(guint64, h->words);
	g_autofree bool *skipped = g_new0(bool, h->n);
	unsigned bad = 0, count = 0, best = 0, testable = 0;
	int best_value = -1;

	for (guint i = 0; i < marks->len; i++) {
		const struct hpci_bisect_mark_entry *m =
			&g_array_index(marks, struct hpci_bisect_mark_entry, i);

		if (m->mark == HPCI_BISECT_MARK_NEW)
			bad = sim_history_index(m->commit);
		else if (m->mark == HPCI_BISECT_MARK_SKIP)
			skipped[sim_history_index(m->commit)] = true;
	}
	memcpy(cand, h->ancestors[bad], h->words * sizeof(guint64));
	for (guint i = 0; i < marks->len; i++) {
		const struct hpci_bisect_mark_entry *m =
			&g_array_index(marks, struct hpci_bisect_mark_entry, i);

		if (m->mark != HPCI_BISECT_MARK_OLD)
			continue;
		for (unsigned w = 0; w < h->words; w++)
			cand[w] &= ~h->ancestors[sim_history_index(m->commit)][w];
	}
	for (unsigned i = 0; i < h->n; i++)
		count += has_bit(cand, i);
	memset(ret, 0, sizeof(*ret));
	if (count <= 1) {
		ret->kind = HPCI_BISECT_NEXT_FOUND;
		ret->commit = sim_history_name(bad);
		return 0;
	}
	for (unsigned i = h->n; i-- > 0;) {
		unsigned weight = 0;
		int value;

		if (!has_bit(cand, i) || i == bad || skipped[i])
			continue;
		testable++;
		for (unsigned w = 0; w < h->words; w++)
			weight += __builtin_popcountll(h->ancestors[i][w] & cand[w]);
		value = (int)MIN(weight, count - weight);
		if (value > best_value) {
			best_value = value;
			best = i;
		}
	}
	if (testable == 0) {
		ret->kind = HPCI_BISECT_NEXT_ONLY_SKIPPED;
		ret->candidates = g_ptr_array_new_with_free_func(g_free);
		for (unsigned i = 0; i < h->n; i++)
			if (has_bit(cand, i))
				g_ptr_array_add(ret->candidates, sim_history_name(i));
		return 0;
	}
	ret->kind = HPCI_BISECT_NEXT_TEST;
	ret->commit = sim_history_name(best);
	ret->left = count - 2;
	return 0;
}

static int sim_parents(void *self, const char *commit, GPtrArray **ret)
{
	struct sim_history *h = self;
	GArray *ps = g_array_index(h->parents, GArray *, sim_history_index(commit));

	*ret = g_ptr_array_new_with_free_func(g_free);
	for (guint k = 0; k < ps->len; k++)
		g_ptr_array_add(*ret, sim_history_name(g_array_index(ps, unsigned, k)));
	return 0;
}

static int sim_is_ancestor(void *self, const char *a, const char *b)
{
	struct sim_history *h = self;

	return has_bit(h->ancestors[sim_history_index(b)], sim_history_index(a));
}

static int sim_run(void *self, const char *commit, unsigned runs,
		   enum hpci_bisect_purpose why, struct hpci_bisect_tally *tally)
{
	struct sim_history *h = self;
	unsigned i = sim_history_index(commit);

	if (!h->built[i]) {
		h->built[i] = true;
		h->builds++;
	}
	if (h->unbuildable[i]) {
		tally->unbuildable = true;
		return 0;
	}
	for (unsigned r = 0; r < runs; r++) {
		h->oracle_runs++;
		if (fails(h, i) && g_rand_double(h->rand) >= h->hold_rate)
			tally->fails++;
		else
			tally->holds++;
	}
	return 0;
}

void sim_history_ops(struct sim_history *h, struct hpci_bisect_history *ops,
		     struct hpci_bisect_oracle *oracle)
{
	*ops = (struct hpci_bisect_history){ sim_next, sim_parents, sim_is_ancestor, h };
	*oracle = (struct hpci_bisect_oracle){ sim_run, NULL, h };
}
