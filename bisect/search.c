/* SPDX-License-Identifier: MIT */
#include "search.h"
#include "error.h"

#include <errno.h>
#include <string.h>

/* Runs a search may ask for, however flaky: a guard, not a setting. */
#define MAX_RUNS 2000

void hpci_bisect_next_clear(struct hpci_bisect_next *n)
{
	g_free(n->commit);
	if (n->candidates)
		g_ptr_array_unref(n->candidates);
	memset(n, 0, sizeof(*n));
}

static void commit_free(struct hpci_bisect_commit *c)
{
	g_free(c->commit);
	g_free(c);
}

static void mark_clear(struct hpci_bisect_mark_entry *m)
{
	g_free(m->commit);
}

void hpci_bisect_search_init(struct hpci_bisect_search *s, const struct hpci_bisect_policy *p,
			     const char *old_commit, const char *new_commit, bool old_holds,
			     bool learn_terms)
{
	memset(s, 0, sizeof(*s));
	s->policy = *p;
	s->old_commit = g_strdup(old_commit);
	s->new_commit = g_strdup(new_commit);
	s->old_holds = old_holds;
	s->learn_terms = learn_terms;
	s->max_widenings = 8;
	s->commits = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					   (GDestroyNotify)commit_free);
	s->marks = g_array_new(FALSE, TRUE, sizeof(struct hpci_bisect_mark_entry));
	g_array_set_clear_func(s->marks, (GDestroyNotify)mark_clear);
}

void hpci_bisect_search_clear(struct hpci_bisect_search *s)
{
	g_free(s->old_commit);
	g_free(s->new_commit);
	if (s->commits)
		g_hash_table_unref(s->commits);
	if (s->marks)
		g_array_unref(s->marks);
	g_free(s->first_new);
	if (s->parents)
		g_ptr_array_unref(s->parents);
	if (s->candidates)
		g_ptr_array_unref(s->candidates);
	g_free(s->why);
	memset(s, 0, sizeof(*s));
}

struct hpci_bisect_commit *hpci_bisect_search_commit(struct hpci_bisect_search *s,
						     const char *commit)
{
	struct hpci_bisect_commit *c = g_hash_table_lookup(s->commits, commit);

	if (!c) {
		c = g_new0(struct hpci_bisect_commit, 1);
		c->commit = g_strdup(commit);
		g_hash_table_insert(s->commits, c->commit, c);
	}
	return c;
}

enum hpci_bisect_mark hpci_bisect_search_mark_of(const struct hpci_bisect_search *s,
						 enum hpci_bisect_class c)
{
	if (c == HPCI_BISECT_UNTESTABLE || c == HPCI_BISECT_UNDECIDED)
		return HPCI_BISECT_MARK_SKIP;
	return (c == HPCI_BISECT_HOLDS) == s->old_holds ? HPCI_BISECT_MARK_OLD
							: HPCI_BISECT_MARK_NEW;
}

/* Only the commits already called count, so a resumed search, which has
 * every tally from the start, computes the same rates at the same calls. */
static void fails_evidence(const struct hpci_bisect_search *s, unsigned *holds, unsigned *runs)
{
	GHashTableIter it;
	gpointer value;

	*holds = *runs = 0;
	g_hash_table_iter_init(&it, s->commits);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct hpci_bisect_commit *c = value;

		if (c->class != HPCI_BISECT_FAILS)
			continue;
		*holds += c->tally.holds;
		*runs += c->tally.holds + c->tally.fails;
	}
}

double hpci_bisect_search_hold_rate(const struct hpci_bisect_search *s)
{
	unsigned holds, runs;

	fails_evidence(s, &holds, &runs);
	return hpci_bisect_hold_rate(&s->policy, holds, runs);
}

static int ask_oracle(struct hpci_bisect_search *s, const struct hpci_bisect_oracle *o,
		      const char *commit, unsigned runs, enum hpci_bisect_purpose why,
		      struct hpci_bisect_tally *tally)
{
	if (s->runs + runs > MAX_RUNS)
		return hpci_error(E2BIG, "the bisect asked for more than %u runs; the cells are "
				  "too flaky to bisect (see their reports)", MAX_RUNS);
	s->runs += runs;
	return o->run(o->self, commit, runs, why, tally);
}

/*
 * Runs the commit until its tally calls it.  An endpoint gets `verify` runs
 * at least, which tell early whether the cells flake; the one expected to
 * fail is believed to hold only after check_max runs.
 */
static int call_commit(struct hpci_bisect_search *s, const struct hpci_bisect_oracle *o,
		       const char *commit, enum hpci_bisect_purpose why, bool expect_fail,
		       enum hpci_bisect_class *ret)
{
	struct hpci_bisect_commit *c = hpci_bisect_search_commit(s, commit);
	int rc;

	if (c->order == 0)
		c->purpose = why;
	for (;;) {
		unsigned need = hpci_bisect_holds_needed(&s->policy,
							 hpci_bisect_search_hold_rate(s));
		unsigned answered = c->tally.holds + c->tally.fails;
		unsigned more;
		enum hpci_bisect_class cls = hpci_bisect_judge(&s->policy, &c->tally, need,
							       expect_fail, &more);

		if (why == HPCI_BISECT_ENDPOINT && cls != HPCI_BISECT_UNTESTABLE &&
		    answered < s->policy.verify) {
			cls = HPCI_BISECT_UNDECIDED;
			more = s->policy.verify - answered;
		}
		if (cls != HPCI_BISECT_UNDECIDED) {
			c->class = cls;
			if (c->order == 0)
				c->order = ++s->calls;
			/* Learned terms: the old endpoint says what old means, before
			 * anyone is told its mark. */
			if (s->learn_terms && why == HPCI_BISECT_ENDPOINT &&
			    strcmp(commit, s->old_commit) == 0)
				s->old_holds = cls == HPCI_BISECT_HOLDS;
			if (o->called)
				o->called(o->self, s, commit);
			*ret = cls;
			return 0;
		}
		if ((rc = ask_oracle(s, o, commit, more, why, &c->tally)) < 0)
			return rc;
	}
}

static void add_mark(struct hpci_bisect_search *s, const char *commit, enum hpci_bisect_mark m)
{
	struct hpci_bisect_mark_entry e = { g_strdup(commit), m };

	g_array_append_val(s->marks, e);
}

static int check_endpoints(struct hpci_bisect_search *s, const struct hpci_bisect_oracle *o)
{
	enum hpci_bisect_class old_cls, new_cls;
	int rc;

	if ((rc = call_commit(s, o, s->old_commit, HPCI_BISECT_ENDPOINT, false, &old_cls)) < 0)
		return rc;
	if (s->learn_terms)
		s->old_holds = old_cls == HPCI_BISECT_HOLDS;
	if (old_cls == HPCI_BISECT_UNTESTABLE) {
		s->why = g_strdup_printf("the old endpoint %.12s cannot be tested (its build "
					 "failed, or only infrastructure errors)", s->old_commit);
	} else if (hpci_bisect_search_mark_of(s, old_cls) != HPCI_BISECT_MARK_OLD) {
		s->why = g_strdup_printf("the old endpoint %.12s does not hold: its cells fail "
					 "there too, so the regression is older; give an older "
					 "old/good revision", s->old_commit);
	} else {
		if ((rc = call_commit(s, o, s->new_commit, HPCI_BISECT_ENDPOINT,
				      s->old_holds, &new_cls)) < 0)
			return rc;
		if (new_cls == HPCI_BISECT_UNTESTABLE)
			s->why = g_strdup_printf("the new endpoint %.12s cannot be tested (its "
						 "build failed, or only infrastructure errors)",
						 s->new_commit);
		else if (new_cls == old_cls)
			s->why = g_strdup_printf("the new endpoint %.12s %s like the old one: "
						 "nothing to bisect between them with these cells",
						 s->new_commit, new_cls == HPCI_BISECT_HOLDS ? "holds"
											   : "fails");
	}
	if (s->why) {
		s->result = HPCI_BISECT_BAD_ENDPOINTS;
		return 0;
	}
	add_mark(s, s->new_commit, HPCI_BISECT_MARK_NEW);
	add_mark(s, s->old_commit, HPCI_BISECT_MARK_OLD);
	return 0;
}

/*
 * The commit's runs now say `mark`, against the mark it had (or, for a
 * commit never marked, against what git inferred): drops the marks that
 * made impossible (OLD marks on it or after it for a NEW one, NEW marks on
 * it or before it for an OLD one) and marks it, and the search goes on from
 * the corrected marks.
 */
static int flip_mark(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
		     struct hpci_bisect_commit *c, enum hpci_bisect_class cls)
{
	enum hpci_bisect_mark mark = hpci_bisect_search_mark_of(s, cls);
	enum hpci_bisect_mark other = mark == HPCI_BISECT_MARK_NEW ? HPCI_BISECT_MARK_OLD
								  : HPCI_BISECT_MARK_NEW;

	for (guint i = s->marks->len; i-- > 0;) {
		struct hpci_bisect_mark_entry *m = &g_array_index(s->marks, struct hpci_bisect_mark_entry, i);
		int rc;

		if (m->mark != other)
			continue;
		rc = mark == HPCI_BISECT_MARK_NEW ? h->is_ancestor(h->self, c->commit, m->commit)
						  : h->is_ancestor(h->self, m->commit, c->commit);
		if (rc < 0)
			return rc;
		if (rc)
			g_array_remove_index(s->marks, i);
	}
	c->class = cls;
	add_mark(s, c->commit, mark);
	s->widenings++;
	return 0;
}

static bool has_mark(const struct hpci_bisect_search *s, enum hpci_bisect_mark mark)
{
	for (guint i = 0; i < s->marks->len; i++)
		if (g_array_index(s->marks, struct hpci_bisect_mark_entry, i).mark == mark)
			return true;
	return false;
}

/* The class of a commit by all its runs, the verification's included. */
static enum hpci_bisect_class verified_class(const struct hpci_bisect_search *s,
					     const struct hpci_bisect_commit *c)
{
	struct hpci_bisect_tally all = {
		.holds = c->tally.holds + c->verify_tally.holds,
		.fails = c->tally.fails + c->verify_tally.fails,
		.silent = c->tally.silent + c->verify_tally.silent,
		.unbuildable = c->tally.unbuildable || c->verify_tally.unbuildable,
	};
	unsigned more;
	/* Verification runs have been made: judge on what there is. */
	enum hpci_bisect_class cls = hpci_bisect_judge(&s->policy, &all, 1, false, &more);

	return cls == HPCI_BISECT_UNDECIDED ? c->class : cls;
}

static int verify_runs(struct hpci_bisect_search *s, const struct hpci_bisect_oracle *o,
		       const char *commit)
{
	struct hpci_bisect_commit *c = hpci_bisect_search_commit(s, commit);
	unsigned done = c->verify_tally.holds + c->verify_tally.fails + c->verify_tally.silent;

	if (c->verify_tally.unbuildable || done >= s->policy.verify)
		return 0;
	return ask_oracle(s, o, commit, s->policy.verify - done, HPCI_BISECT_VERIFY,
			  &c->verify_tally);
}

/* The chance the answer is right: every commit of the answer that was called
 * HOLDS could be a failing one that happened to hold. */
static double confidence(const struct hpci_bisect_search *s)
{
	unsigned holds, runs;
	double rate, p = 1.0;

	fails_evidence(s, &holds, &runs);
	/* Laplace's rule: never zero, so a clean history still leaves a doubt
	 * that shrinks with each run. */
	rate = (double)(s->policy.prior_holds + holds + 1) / (s->policy.prior_runs + runs + 2);
	for (guint i = 0; i <= s->parents->len; i++) {
		const char *commit = i < s->parents->len ? s->parents->pdata[i] : s->first_new;
		const struct hpci_bisect_commit *c = g_hash_table_lookup(s->commits, commit);

		if (c && verified_class(s, c) == HPCI_BISECT_HOLDS)
			p *= 1.0 - hpci_bisect_false_hold(c->tally.holds + c->verify_tally.holds,
							  rate);
	}
	return p;
}

/*
 * Runs the first new commit and its parents again.  Returns 1 when they
 * reproduce old -> new, 0 when a mark was contradicted (and replaced: the
 * search goes on), negative on error.
 */
static int verify(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
		  const struct hpci_bisect_oracle *o, const char *found, GPtrArray *parents)
{
	struct hpci_bisect_commit *c;
	enum hpci_bisect_class cls;
	int rc;

	if ((rc = verify_runs(s, o, found)) < 0)
		return rc;
	for (guint i = 0; i < parents->len; i++)
		if ((rc = verify_runs(s, o, parents->pdata[i])) < 0)
			return rc;

	c = hpci_bisect_search_commit(s, found);
	cls = verified_class(s, c);
	if (hpci_bisect_search_mark_of(s, cls) == HPCI_BISECT_MARK_OLD)
		return flip_mark(s, h, c, cls);
	for (guint i = 0; i < parents->len; i++) {
		c = hpci_bisect_search_commit(s, parents->pdata[i]);
		cls = verified_class(s, c);
		if (hpci_bisect_search_mark_of(s, cls) == HPCI_BISECT_MARK_NEW)
			return flip_mark(s, h, c, cls);
	}
	return 1;
}

/*
 * Once the cells are seen to flake, a commit called HOLDS on fewer runs than
 * the new rate wants gets them before the search goes on: a false holds
 * call sends git the wrong way for every later step.  A commit that fails
 * now changes its mark.  Returns 0, or negative on error.
 */
static int audit_holds(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
		       const struct hpci_bisect_oracle *o)
{
	g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(g_free);
	unsigned need = hpci_bisect_holds_needed(&s->policy, hpci_bisect_search_hold_rate(s));
	int rc;

	for (guint i = 0; i < s->marks->len; i++) {
		const struct hpci_bisect_mark_entry *m =
			&g_array_index(s->marks, struct hpci_bisect_mark_entry, i);
		const struct hpci_bisect_commit *c = g_hash_table_lookup(s->commits, m->commit);

		if (c && c->class == HPCI_BISECT_HOLDS && c->tally.holds < need)
			g_ptr_array_add(held, g_strdup(m->commit));
	}
	for (guint i = 0; i < held->len; i++) {
		struct hpci_bisect_commit *c = hpci_bisect_search_commit(s, held->pdata[i]);
		enum hpci_bisect_class cls;

		if ((rc = call_commit(s, o, c->commit, c->purpose, false, &cls)) < 0)
			return rc;
		if (cls == HPCI_BISECT_FAILS)
			return flip_mark(s, h, c, cls);
	}
	return 0;
}

/*
 * Before saying that only skipped commits are left, the old commits next to
 * them get the verification a found commit's parents get: a false old call
 * there would blame untestable commits for a regression that is older.
 * Returns 1 when they hold, 0 when one was flipped, negative on error.
 */
static int verify_boundary(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
			   const struct hpci_bisect_oracle *o, GPtrArray *candidates)
{
	g_autoptr(GHashTable) inside = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) boundary = g_ptr_array_new_with_free_func(g_free);
	int rc;

	for (guint i = 0; i < candidates->len; i++)
		g_hash_table_add(inside, candidates->pdata[i]);
	for (guint i = 0; i < candidates->len; i++) {
		g_autoptr(GPtrArray) parents = NULL;

		if ((rc = h->parents(h->self, candidates->pdata[i], &parents)) < 0)
			return rc;
		for (guint k = 0; k < parents->len; k++)
			if (!g_hash_table_contains(inside, parents->pdata[k]))
				g_ptr_array_add(boundary, g_strdup(parents->pdata[k]));
	}
	for (guint i = 0; i < boundary->len; i++) {
		struct hpci_bisect_commit *c;
		enum hpci_bisect_class cls;

		if ((rc = verify_runs(s, o, boundary->pdata[i])) < 0)
			return rc;
		c = hpci_bisect_search_commit(s, boundary->pdata[i]);
		cls = verified_class(s, c);
		if (hpci_bisect_search_mark_of(s, cls) == HPCI_BISECT_MARK_NEW)
			return flip_mark(s, h, c, cls);
	}
	return 1;
}

static void finish_ambiguous(struct hpci_bisect_search *s, GPtrArray *candidates, char *why)
{
	s->result = HPCI_BISECT_AMBIGUOUS;
	s->candidates = candidates ? g_ptr_array_ref(candidates)
				   : g_ptr_array_new_with_free_func(g_free);
	s->why = why;
}

int hpci_bisect_search_run(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
			   const struct hpci_bisect_oracle *o)
{
	int rc;

	if (s->marks->len == 0) {
		if ((rc = check_endpoints(s, o)) < 0 || s->result != HPCI_BISECT_RUNNING)
			return rc;
	}
	while (s->result == HPCI_BISECT_RUNNING) {
		struct hpci_bisect_next next = { 0 };
		g_autoptr(GPtrArray) parents = NULL;
		enum hpci_bisect_class cls;

		if ((rc = audit_holds(s, h, o)) < 0)
			return rc;
		if (!has_mark(s, HPCI_BISECT_MARK_OLD) || !has_mark(s, HPCI_BISECT_MARK_NEW)) {
			finish_ambiguous(s, NULL, g_strdup(
				"later runs contradicted an endpoint: the cells are too flaky "
				"at these revisions to bisect"));
			break;
		}
		if (s->widenings > s->max_widenings) {
			finish_ambiguous(s, NULL, g_strdup_printf(
				"later runs contradicted the search %u times: the cells are "
				"too flaky to bisect", s->widenings));
			break;
		}
		if ((rc = h->next(h->self, s->marks, &next)) < 0)
			return rc;
		switch (next.kind) {
		case HPCI_BISECT_NEXT_TEST:
			s->steps++;
			rc = call_commit(s, o, next.commit, HPCI_BISECT_STEP, false, &cls);
			if (rc == 0)
				add_mark(s, next.commit, hpci_bisect_search_mark_of(s, cls));
			break;
		case HPCI_BISECT_NEXT_ONLY_SKIPPED:
			rc = verify_boundary(s, h, o, next.candidates);
			if (rc == 1) {
				finish_ambiguous(s, next.candidates, g_strdup(
					"only commits that could not be tested are left: the "
					"first new commit is one of the candidates"));
				rc = 0;
			}
			break;
		case HPCI_BISECT_NEXT_FOUND:
			if ((rc = h->parents(h->self, next.commit, &parents)) < 0)
				break;
			rc = verify(s, h, o, next.commit, parents);
			if (rc == 1) {
				s->result = HPCI_BISECT_FOUND;
				s->first_new = g_strdup(next.commit);
				s->parents = g_steal_pointer(&parents);
				s->confidence = confidence(s);
				rc = 0;
			}
			break;
		}
		hpci_bisect_next_clear(&next);
		if (rc < 0)
			return rc;
	}
	return 0;
}

const char *hpci_bisect_purpose_name(enum hpci_bisect_purpose p)
{
	switch (p) {
	case HPCI_BISECT_ENDPOINT:
		return "endpoint";
	case HPCI_BISECT_STEP:
		return "step";
	case HPCI_BISECT_VERIFY:
		return "verify";
	}
	return "?";
}

const char *hpci_bisect_result_name(enum hpci_bisect_result r)
{
	switch (r) {
	case HPCI_BISECT_FOUND:
		return "found";
	case HPCI_BISECT_AMBIGUOUS:
		return "ambiguous";
	case HPCI_BISECT_BAD_ENDPOINTS:
		return "bad-endpoints";
	case HPCI_BISECT_RUNNING:
		break;
	}
	return "running";
}
