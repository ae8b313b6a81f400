/* SPDX-License-Identifier: MIT */
#ifndef HPCI_IMAGE_H
#define HPCI_IMAGE_H

#include <glib.h>
#include <stdbool.h>

/*
 * Guest images, built through libguestfs from a recipe directory
 * images/<recipe>/ and cached by a hash of the recipe and every input
 * (kernel, modules, binaries, libraries, boot loader).  Only images/gfs.h
 * includes guestfs.h, and only image.c, overlay.c and selftest.c use it.
 */
struct hpci_image {
	char *recipe;          /* "minimal" */
	char *key;             /* cache key, sha256 hex */
	char *path;            /* base qcow2 inside the cache entry */
	char *manifest;        /* manifest.json inside the cache entry */
	char *kernel_version;  /* e.g. "6.1.0-56-amd64" */
	bool cache_hit;
};

/* Directory holding the recipes: $HPCI_IMAGES_DIR, else <source>/images. */
char *hpci_image_recipes_dir(void);

/* Builds the recipe, or finds it in the cache. Progress goes to stderr. */
int hpci_image_build(const char *recipe, struct hpci_image *ret);

/* Creates a qcow2 overlay at `path` whose backing file is the image. */
int hpci_image_overlay(const struct hpci_image *image, const char *path);
/* The same on any qcow2 file, e.g. a saved boot state's disk (whose own
 * backing chain ends at an image). */
int hpci_overlay_on(const char *backing_file, const char *path);

void hpci_image_release(struct hpci_image *image);
typedef struct hpci_image hpci_image;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_image, hpci_image_release)

/* Starts and stops the libguestfs appliance (forced to TCG) on a scratch
 * disk; for `hotplug-ci doctor`.  *ret_version gets libguestfs's version. */
int hpci_image_selftest(char **ret_version);

#endif
