/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_SEARCH_H
#define HPCI_BISECT_SEARCH_H

#include "policy.h"

#include <glib.h>

/*
 * The bisect loop, apart from git and from VMs: a history (bisect/git.h, or a
 * model of git in the unit tests) says which commit to test next given the
 * marks so far, exactly as `git bisect` would; an oracle runs a commit's
 * cells.  The loop checks both endpoints, calls every commit git asks for
 * (policy.h), verifies the first new commit against its parents and, when
 * the verification contradicts a mark, drops that mark and searches again
 * instead of naming a wrong commit.
 *
 * Every decision is a pure function of the commits' tallies, taken in the
 * order they were made, so a search started again with the tallies of an
 * interrupted one (bisect.json) makes the same marks without running them.
 */

enum hpci_bisect_mark {
	HPCI_BISECT_MARK_OLD,
	HPCI_BISECT_MARK_NEW,
	HPCI_BISECT_MARK_SKIP,
};

struct hpci_bisect_mark_entry {
	char *commit;
	enum hpci_bisect_mark mark;
};

enum hpci_bisect_next_kind {
	HPCI_BISECT_NEXT_TEST,          /* commit: the one to test */
	HPCI_BISECT_NEXT_FOUND,         /* commit: the first new one */
	HPCI_BISECT_NEXT_ONLY_SKIPPED,  /* candidates: what the first new one could be */
};

struct hpci_bisect_next {
	enum hpci_bisect_next_kind kind;
	char *commit;
	GPtrArray *candidates;   /* char * */
	unsigned left;           /* revisions left to test after this one (git's count) */
};

void hpci_bisect_next_clear(struct hpci_bisect_next *n);

struct hpci_bisect_history {
	/* What git bisect does after these marks (struct hpci_bisect_mark_entry,
	 * in order; the first two are the new and the old endpoint). */
	int (*next)(void *self, const GArray *marks, struct hpci_bisect_next *ret);
	/* The commit's parents (char *), in order. */
	int (*parents)(void *self, const char *commit, GPtrArray **ret);
	/* 1 when a is b or an ancestor of b, 0 when not, negative on error. */
	int (*is_ancestor)(void *self, const char *a, const char *b);
	void *self;
};

enum hpci_bisect_purpose {
	HPCI_BISECT_ENDPOINT,
	HPCI_BISECT_STEP,
	HPCI_BISECT_VERIFY,
};

const char *hpci_bisect_purpose_name(enum hpci_bisect_purpose p);

struct hpci_bisect_search;

struct hpci_bisect_oracle {
	/* Builds the commit (when needed) and runs its cells `runs` times,
	 * adding the answers to *tally, or sets tally->unbuildable.  A negative
	 * return stops the search (an interrupt, a host that went away). */
	int (*run)(void *self, const char *commit, unsigned runs, enum hpci_bisect_purpose why,
		   struct hpci_bisect_tally *tally);
	/* Told after each call, for progress and for saving the state; may be NULL. */
	void (*called)(void *self, const struct hpci_bisect_search *s, const char *commit);
	void *self;
};

/* One commit's evidence and call. */
struct hpci_bisect_commit {
	char *commit;
	struct hpci_bisect_tally tally;         /* endpoint and step runs */
	struct hpci_bisect_tally verify_tally;  /* the verification's fresh runs */
	enum hpci_bisect_class class;
	enum hpci_bisect_purpose purpose;       /* why it was first run */
	unsigned order;                         /* 1-based order of its call, 0: none */
};

enum hpci_bisect_result {
	HPCI_BISECT_RUNNING,
	HPCI_BISECT_FOUND,
	HPCI_BISECT_AMBIGUOUS,      /* only skipped commits left, or verification kept failing */
	HPCI_BISECT_BAD_ENDPOINTS,  /* the old endpoint does not act old, or the new one new */
};

struct hpci_bisect_search {
	struct hpci_bisect_policy policy;
	char *old_commit;
	char *new_commit;
	/* true: an old commit is one whose cells hold (git's good/bad); false:
	 * one whose cells fail (--term-old broken --term-new fixed).  Learned
	 * from the old endpoint when learn_terms. */
	bool old_holds;
	bool learn_terms;
	unsigned max_widenings;

	GHashTable *commits;     /* commit -> struct hpci_bisect_commit * (owned) */
	GArray *marks;           /* struct hpci_bisect_mark_entry, what git is told */
	unsigned calls;          /* commits called so far */
	unsigned steps;          /* commits git asked for */
	unsigned runs;           /* cell runs (every cell once) asked of the oracle */
	unsigned widenings;      /* verifications that sent the search back */

	enum hpci_bisect_result result;
	char *first_new;         /* FOUND */
	GPtrArray *parents;      /* FOUND: its parents (char *) */
	GPtrArray *candidates;   /* AMBIGUOUS: what git could not tell apart */
	double confidence;       /* FOUND: the chance the answer is right, by the model */
	char *why;               /* AMBIGUOUS, BAD_ENDPOINTS: for people */
};

/* A search from old to new (commit ids) with the policy. */
void hpci_bisect_search_init(struct hpci_bisect_search *s, const struct hpci_bisect_policy *p,
			     const char *old_commit, const char *new_commit, bool old_holds,
			     bool learn_terms);
void hpci_bisect_search_clear(struct hpci_bisect_search *s);
typedef struct hpci_bisect_search hpci_bisect_search;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_bisect_search, hpci_bisect_search_clear)

/* The commit's evidence, created empty when new: how a resumed search gets
 * the tallies of the runs already made. */
struct hpci_bisect_commit *hpci_bisect_search_commit(struct hpci_bisect_search *s,
						     const char *commit);

/* Runs the search to a result (s->result) or to the first negative return
 * of the history or the oracle, which it returns. */
int hpci_bisect_search_run(struct hpci_bisect_search *s, const struct hpci_bisect_history *h,
			   const struct hpci_bisect_oracle *o);

/* The mark a class of commit gets under the search's terms. */
enum hpci_bisect_mark hpci_bisect_search_mark_of(const struct hpci_bisect_search *s,
						 enum hpci_bisect_class c);

/* The rate at which the commits classed FAILS so far held a run. */
double hpci_bisect_search_hold_rate(const struct hpci_bisect_search *s);

const char *hpci_bisect_result_name(enum hpci_bisect_result r);

#endif
