/* SPDX-License-Identifier: MIT */
#ifndef HPCI_BISECT_GIT_HISTORY_H
#define HPCI_BISECT_GIT_HISTORY_H

#include "search.h"

#include <glib.h>

/*
 * git's own bisect machinery for bisect/search.h, in a private clone that
 * shares the user's objects (`git clone --shared --no-checkout`): the user's
 * checkout, index, refs and any bisect of theirs are never touched.  Each
 * question replays the marks into `git bisect --no-checkout` and asks
 * `git bisect next`, so merges and skips are git's, and `git bisect log` of
 * the clone is a log `git bisect replay` accepts in the user's repository.
 */
struct hpci_bisect_git {
	char *repo;       /* the user's repository */
	char *clone;      /* the private clone */
	char *term_old;   /* "good" by default */
	char *term_new;   /* "bad" */
};

/* Checks `repo` is a git repository and clones it into `clone` (which must
 * not exist). */
int hpci_bisect_git_open(const char *repo, const char *clone, const char *term_old,
			 const char *term_new, struct hpci_bisect_git **ret);
/* Removes the clone. */
void hpci_bisect_git_close(struct hpci_bisect_git *g);
typedef struct hpci_bisect_git hpci_bisect_git;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_bisect_git, hpci_bisect_git_close)

/* The commit id of a revision of the user's repository; `option` names where
 * it came from in the error ("--good"). */
int hpci_bisect_git_resolve(const struct hpci_bisect_git *g, const char *option,
			    const char *rev, char **ret_commit);

/* old must be an ancestor of new, with the history between them present
 * (not cut by a shallow clone); *ret_count: commits in old..new. */
int hpci_bisect_git_check_range(const struct hpci_bisect_git *g, const char *old_rev,
				const char *old_commit, const char *new_rev,
				const char *new_commit, unsigned *ret_count);

/* The history operations search.h asks for. */
void hpci_bisect_git_history(struct hpci_bisect_git *g, struct hpci_bisect_history *ops);

/* `git bisect log` of the clone, after a search. */
int hpci_bisect_git_log(const struct hpci_bisect_git *g, char **ret_text);

/* What people want to know of a commit. */
struct hpci_commit_info {
	char *commit;
	char *subject;
	char *author;     /* "Name <mail>" */
	char *date;       /* author date, ISO 8601 */
	GPtrArray *files; /* char *, against the first parent */
};

int hpci_bisect_git_info(const struct hpci_bisect_git *g, const char *commit,
			 struct hpci_commit_info *ret);
void hpci_commit_info_clear(struct hpci_commit_info *info);
typedef struct hpci_commit_info hpci_commit_info;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_commit_info, hpci_commit_info_clear)

#endif
