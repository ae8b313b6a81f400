/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FSUTIL_H
#define HPCI_FSUTIL_H

#include <glib.h>
#include <stdbool.h>

/* Every function returns 0 or a negative errno and records the error. */
int hpci_mkdir_p(const char *path, int mode);
int hpci_rm_rf(const char *path);                  /* absent path is success */
int hpci_copy_file(const char *src, const char *dst, int mode);
int hpci_read_file(const char *path, char **ret_data, gsize *ret_len);
int hpci_write_file(const char *path, const char *data, gssize len); /* atomic */
int hpci_sha256_file(const char *path, char **ret_hex);
bool hpci_is_file(const char *path);
bool hpci_is_dir(const char *path);

/*
 * Owned locals the compiler releases on every return path, as systemd's
 * _cleanup_close_ and unlink_and_freep (glib 2.76's g_autofd is not in the
 * 2.74 this builds with):
 *   hpci_autofd int fd = -1;          closed unless negative
 *   hpci_autounlink char *tmp = ...;  removed and freed unless stolen (g_steal_pointer)
 * Neither touches errno nor the error record.  hpci_steal_fd() moves a
 * descriptor out of an hpci_autofd local (systemd's TAKE_FD).
 */
void hpci_close_fd(int *fd);
void hpci_unlink_and_free(char **path);
#define hpci_autofd __attribute__((cleanup(hpci_close_fd)))
#define hpci_autounlink __attribute__((cleanup(hpci_unlink_and_free)))

static inline int hpci_steal_fd(int *fd)
{
	int taken = *fd;

	*fd = -1;
	return taken;
}

/* Incremental SHA-256 over labelled inputs, for cache keys: each input goes in
 * as "label\0" followed by its length and bytes, so no two different input
 * lists hash alike. */
struct hpci_hash {
	GChecksum *sum;
};
void hpci_hash_init(struct hpci_hash *h);
void hpci_hash_str(struct hpci_hash *h, const char *label, const char *value);
int hpci_hash_file(struct hpci_hash *h, const char *label, const char *path);
char *hpci_hash_finish(struct hpci_hash *h); /* hex digest; releases h */
/* Drops an unfinished hash (a failure half-way); a finished one is a no-op. */
void hpci_hash_release(struct hpci_hash *h);
typedef struct hpci_hash hpci_hash;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_hash, hpci_hash_release)

#endif
