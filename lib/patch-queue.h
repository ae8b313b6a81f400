/* SPDX-License-Identifier: MIT */
#ifndef HPCI_PATCH_QUEUE_H
#define HPCI_PATCH_QUEUE_H

#include "fsutil.h"

#include <glib.h>

/*
 * A patch queue: the *.patch files of one directory (git format-patch
 * output), applied in name order with `patch -p1`, as qemu-build/patches/
 * and firmware-build/patches/ hold them.  Their bytes go into build keys.
 */
struct hpci_patch {
	char *name;     /* file name, e.g. "0001-target-i386-....patch" */
	char *path;     /* absolute */
	char *sha256;   /* of the file's bytes */
	char *subject;  /* the "Subject:" line without "[PATCH n/m]", or the name */
};

struct hpci_patch_queue {
	char *dir;          /* absolute; NULL for "no patches" */
	GPtrArray *patches; /* struct hpci_patch *, in application order */
};

/* Loads the queue in `dir` (NULL: an empty queue).  A missing directory, or
 * one without any *.patch, is an error naming it. */
int hpci_patch_queue_load(const char *dir, struct hpci_patch_queue *ret);

/* Adds every patch's name and bytes to a cache key. */
void hpci_patch_queue_hash(const struct hpci_patch_queue *queue, struct hpci_hash *h);

/* Applies the queue to the tree at `tree`; output goes to `log`.  A patch
 * that does not apply is an error naming the patch file and patch's own
 * complaint (the hunks and files that failed); nothing of it is applied. */
int hpci_patch_queue_apply(const struct hpci_patch_queue *queue, const char *tree,
			   const char *log);

void hpci_patch_queue_release(struct hpci_patch_queue *queue);
typedef struct hpci_patch_queue hpci_patch_queue;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_patch_queue, hpci_patch_queue_release)

#endif
