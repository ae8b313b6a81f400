/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CACHE_H
#define HPCI_CACHE_H

#include <glib.h>
#include <stdbool.h>

/*
 * The content-addressed cache shared by image, QEMU and firmware builds:
 * ${XDG_CACHE_HOME:-~/.cache}/hotplug-ci/<kind>/<key>/ holds one finished
 * entry (its outputs plus manifest.json).  An entry is built in a private
 * temporary directory beside it and renamed into place, under an flock on
 * <kind>/<key>.lock, so concurrent builders of one key never see or leave a
 * half-written entry: the second waits and then finds the first's result.
 */
struct hpci_cache_txn {
	char *final_dir;   /* where the entry lives once committed */
	char *work_dir;    /* where the builder writes; NULL on a hit */
	int lock_fd;
};

/* The cache root; HPCI_CACHE_DIR overrides the XDG location (tests use it). */
char *hpci_cache_root(void);

/* Returns 1 and sets *ret_dir when <kind>/<key> is complete, 0 when absent. */
int hpci_cache_lookup(const char *kind, const char *key, char **ret_dir);

/*
 * Takes the key's lock.  Returns 1 when the entry is already complete (txn->
 * final_dir is set, nothing to build), 0 when the caller must build into
 * txn->work_dir and then call hpci_cache_commit(), negative on error.
 */
int hpci_cache_begin(const char *kind, const char *key, struct hpci_cache_txn *txn);
int hpci_cache_commit(struct hpci_cache_txn *txn);
/* Drops the lock and, when the build did not commit, removes its work dir. */
void hpci_cache_end(struct hpci_cache_txn *txn);
#define HPCI_CACHE_TXN_INIT { .lock_fd = -1 }
typedef struct hpci_cache_txn hpci_cache_txn;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_cache_txn, hpci_cache_end)

/* The kinds of entry the cache holds, NULL-terminated. */
extern const char *const hpci_cache_kinds[];

struct hpci_cache_entry {
	char *kind;
	char *key;
	char *dir;
	gint64 used_s;       /* last built or found (a hit), seconds since the epoch */
	guint64 bytes;       /* disk usage of the entry */
};

/* Every finished entry of `kind` (NULL: of every kind), oldest use first. */
int hpci_cache_list(const char *kind, GPtrArray **ret_entries);
void hpci_cache_entry_free(struct hpci_cache_entry *entry);
typedef struct hpci_cache_entry hpci_cache_entry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_cache_entry, hpci_cache_entry_free)

/*
 * Removes an entry unless a builder holds its lock (returns 0 then, 1 when
 * removed).  Work directories of builders that died (".tmp-KEY-PID" whose
 * lock is free) go the same way through hpci_cache_remove_stale().
 */
int hpci_cache_remove(const char *kind, const char *key);
int hpci_cache_remove_stale(const char *kind, unsigned *ret_removed);

/*
 * The whole life of one entry: finds <kind>/<key>, or calls build(work_dir,
 * final_dir, opaque) to make it and commits it.  A build that fails keeps
 * its build.log (hpci_cache_keep_failed_log) and the error names it as
 * "<what> build KEY12 failed (log '...')".  *ret_dir is the entry's
 * directory; *ret_hit says whether it was there already.
 */
typedef int (*hpci_cache_build_fn)(const char *work_dir, const char *final_dir, void *opaque);
int hpci_cache_build(const char *kind, const char *key, const char *what,
		     hpci_cache_build_fn build, void *opaque, char **ret_dir, bool *ret_hit);

/* Copies a failed build's <work_dir>/build.log to <kind>/failed/<key>.log,
 * which outlives the work directory; returns its path, or NULL when there
 * was no log (the error in flight is kept either way). */
char *hpci_cache_keep_failed_log(const char *kind, const char *work_dir, const char *key);

#endif
