/* SPDX-License-Identifier: MIT */
#ifndef HPCI_IMAGE_PRIVATE_H
#define HPCI_IMAGE_PRIVATE_H

/*
 * Inside the image builder: the recipe (images/<name>/recipe.json, pure
 * data), the plan made from it (every host input resolved, and the cache key
 * over them), and the initramfs writer.  Only images/ and its unit tests
 * include this header.
 */
#include <glib.h>
#include <stdbool.h>

/* Bump when the builder changes what it produces from the same inputs. */
#define HPCI_IMAGE_FORMAT "hotplug-ci image format 1"
#define HPCI_IMAGE_DISK "disk.qcow2"
#define HPCI_IMAGE_INITRAMFS "initramfs.img"
#define HPCI_IMAGE_MANIFEST "manifest.json"
/* The EFI system partition type, as parted/sgdisk spell it. */
#define HPCI_ESP_TYPE_GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

enum hpci_compression {
	HPCI_COMPRESS_NONE,
	HPCI_COMPRESS_GZIP,
	HPCI_COMPRESS_ZSTD,
};

struct hpci_recipe_file {
	char *guest;  /* absolute path in the initramfs */
	char *source; /* the file in the recipe directory */
};

struct hpci_recipe {
	char *name;          /* "minimal" */
	char *dir;           /* images/minimal */
	char *path;          /* images/minimal/recipe.json */
	char *description;
	char *kernel;        /* "newest", or a version with /boot/vmlinuz-<v> */
	char *cmdline;
	GPtrArray *modules;  /* module names, loaded in this order (deps first) */
	char *busybox;       /* host path of a static busybox */
	GPtrArray *binaries; /* host paths, copied with their libraries */
	GPtrArray *files;    /* struct hpci_recipe_file *, sorted by guest path */
	/* Kernel modules built from source against the image's kernel:
	 * struct hpci_recipe_file *, guest path of the .ko -> a directory of
	 * the recipe holding a Kbuild file; sorted by guest path. */
	GPtrArray *kmods;
	char *bootloader;    /* host path of systemd-bootx64.efi */
	unsigned disk_mib;
	enum hpci_compression compression;
};

/* Reads <recipes_dir>/<name>/recipe.json.  Unknown keys, wrong types and
 * missing files are errors that name the recipe file. */
int hpci_recipe_load(const char *recipes_dir, const char *name, struct hpci_recipe *ret);
void hpci_recipe_release(struct hpci_recipe *recipe);
typedef struct hpci_recipe hpci_recipe;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_recipe, hpci_recipe_release)
const char *hpci_compression_name(enum hpci_compression c);

/* One host file that goes into the image. */
struct hpci_image_input {
	char *role;  /* recipe, kernel, module, busybox, binary, library, file, bootloader */
	char *host;  /* path on the build host */
	char *guest; /* path in the initramfs, or on the ESP for the kernel and the
		      * boot loader; NULL for the recipe's own files */
	unsigned mode;
};

struct hpci_image_plan {
	struct hpci_recipe recipe;
	char *kernel_version;
	char *vmlinuz;
	GPtrArray *inputs;       /* struct hpci_image_input *, in key order */
	GPtrArray *module_order; /* guest paths of the .ko files, load order */
	GPtrArray *applets;      /* guest paths of the busybox applet links */
	char *key;               /* sha256 hex over everything above */
};

/* Resolves every input of the recipe (kernel, modules through modprobe,
 * libraries through ldd) and computes the cache key; reads but never
 * writes. */
int hpci_image_plan_make(const char *recipe, struct hpci_image_plan *ret);
void hpci_image_plan_release(struct hpci_image_plan *plan);
typedef struct hpci_image_plan hpci_image_plan;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_image_plan, hpci_image_plan_release)

/*
 * Builds each of the recipe's kmods against the plan's kernel (its headers:
 * /lib/modules/<version>/build) in a copy under work_dir, logging to
 * log_path, and appends a struct hpci_image_input (role "kmod", owned by
 * `built`, which frees them) for each .ko.
 */
int hpci_kmods_build(const struct hpci_image_plan *plan, const char *work_dir,
		     const char *log_path, GPtrArray *built);
/* Checks that the plan's kernel has its headers when the recipe builds kmods. */
int hpci_kmods_check(const struct hpci_image_plan *plan);
void hpci_image_input_free(gpointer input);

/* Writes the plan's initramfs (newc cpio, compressed as the recipe says),
 * with the files `built` at image-build time (struct hpci_image_input *;
 * may be NULL). */
int hpci_initramfs_write(const struct hpci_image_plan *plan, const GPtrArray *built,
			 const char *path);

/* libguestfs's message without the debugging advice it appends after the
 * first line; NULL gives a generic text. */
char *hpci_gfs_message(const char *last_error);

/* A newc archive built in memory; exposed for the unit tests. */
struct hpci_cpio {
	GByteArray *data;
	unsigned next_ino;
};
void hpci_cpio_init(struct hpci_cpio *cpio);
void hpci_cpio_add(struct hpci_cpio *cpio, const char *name, unsigned mode, unsigned rdev_major,
		   unsigned rdev_minor, const void *data, gsize len);
void hpci_cpio_finish(struct hpci_cpio *cpio);
void hpci_cpio_release(struct hpci_cpio *cpio);
typedef struct hpci_cpio hpci_cpio;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_cpio, hpci_cpio_release)

#endif
