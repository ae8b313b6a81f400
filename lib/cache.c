/* SPDX-License-Identifier: MIT */
#include "cache.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *hpci_cache_root(void)
{
	const char *override = g_getenv("HPCI_CACHE_DIR");

	if (override && *override)
		return g_strdup(override);
	return g_build_filename(g_get_user_cache_dir(), "hotplug-ci", NULL);
}

int hpci_cache_lookup(const char *kind, const char *key, char **ret_dir)
{
	g_autofree char *root = hpci_cache_root();
	g_autofree char *dir = g_build_filename(root, kind, key, NULL);

	if (!hpci_is_dir(dir))
		return 0;
	*ret_dir = g_steal_pointer(&dir);
	return 1;
}

const char *const hpci_cache_kinds[] = { "images", "qemu", "firmware", "basetools", "states",
					 NULL };

/* An entry's mtime says when it was last used, for gc. */
static void mark_used(const char *dir)
{
	(void)utimensat(AT_FDCWD, dir, NULL, 0);
}

int hpci_cache_begin(const char *kind, const char *key, struct hpci_cache_txn *txn)
{
	g_autofree char *root = hpci_cache_root();
	g_autofree char *kind_dir = g_build_filename(root, kind, NULL);
	g_autofree char *lock_path = NULL;
	g_autofree char *work_name = NULL;
	int ret;

	memset(txn, 0, sizeof(*txn));
	txn->lock_fd = -1;
	if ((ret = hpci_mkdir_p(kind_dir, 0755)) < 0)
		return ret;
	lock_path = g_strdup_printf("%s/%s.lock", kind_dir, key);
	txn->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (txn->lock_fd < 0)
		return hpci_error_errno(errno, "cannot open cache lock '%s'", lock_path);
	while (flock(txn->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			ret = hpci_error_errno(errno, "cannot lock '%s'", lock_path);
			hpci_cache_end(txn);
			return ret;
		}
	}
	txn->final_dir = g_build_filename(kind_dir, key, NULL);
	if (hpci_is_dir(txn->final_dir)) {
		mark_used(txn->final_dir);
		return 1;
	}

	work_name = g_strdup_printf(".tmp-%s-%d", key, (int)getpid());
	txn->work_dir = g_build_filename(kind_dir, work_name, NULL);
	if ((ret = hpci_rm_rf(txn->work_dir)) < 0 ||
	    (ret = hpci_mkdir_p(txn->work_dir, 0755)) < 0) {
		hpci_cache_end(txn);
		return ret;
	}
	return 0;
}

int hpci_cache_commit(struct hpci_cache_txn *txn)
{
	if (rename(txn->work_dir, txn->final_dir) < 0)
		return hpci_error_errno(errno, "cannot move cache entry '%s' into place",
					txn->final_dir);
	g_clear_pointer(&txn->work_dir, g_free);
	mark_used(txn->final_dir);
	return 0;
}

void hpci_cache_end(struct hpci_cache_txn *txn)
{
	if (txn->work_dir) {
		g_autoptr(hpci_error_saved) saved = hpci_error_save();

		(void)hpci_rm_rf(txn->work_dir);
		hpci_error_restore(g_steal_pointer(&saved));
	}
	if (txn->lock_fd >= 0)
		close(txn->lock_fd);
	g_free(txn->work_dir);
	g_free(txn->final_dir);
	memset(txn, 0, sizeof(*txn));
	txn->lock_fd = -1;
}

void hpci_cache_entry_free(struct hpci_cache_entry *entry)
{
	if (!entry)
		return;
	g_free(entry->kind);
	g_free(entry->key);
	g_free(entry->dir);
	g_free(entry);
}

/* Bytes on disk below `path`, not following links. */
static guint64 disk_usage(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	struct stat st;
	guint64 total;
	const char *name;

	if (lstat(path, &st) < 0)
		return 0;
	total = (guint64)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || !(dir = g_dir_open(path, 0, NULL)))
		return total;
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		total += disk_usage(child);
	}
	return total;
}

static bool is_key(const char *name)
{
	return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

static gint by_use(gconstpointer a, gconstpointer b)
{
	const struct hpci_cache_entry *ea = *(struct hpci_cache_entry *const *)a;
	const struct hpci_cache_entry *eb = *(struct hpci_cache_entry *const *)b;

	return ea->used_s < eb->used_s ? -1 : ea->used_s > eb->used_s;
}

int hpci_cache_list(const char *kind, GPtrArray **ret_entries)
{
	g_autofree char *root = hpci_cache_root();
	GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cache_entry_free);

	for (const char *const *k = hpci_cache_kinds; *k; k++) {
		g_autofree char *kind_dir = g_build_filename(root, *k, NULL);
		g_autoptr(GDir) dir = NULL;
		const char *name;

		if (kind && strcmp(kind, *k) != 0)
			continue;
		if (!(dir = g_dir_open(kind_dir, 0, NULL)))
			continue;
		while ((name = g_dir_read_name(dir))) {
			struct hpci_cache_entry *e;
			struct stat st;
			g_autofree char *path = g_build_filename(kind_dir, name, NULL);

			if (!is_key(name) || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			e = g_new0(struct hpci_cache_entry, 1);
			e->kind = g_strdup(*k);
			e->key = g_strdup(name);
			e->dir = g_steal_pointer(&path);
			e->used_s = st.st_mtim.tv_sec;
			e->bytes = disk_usage(e->dir);
			g_ptr_array_add(entries, e);
		}
	}
	g_ptr_array_sort(entries, by_use);
	*ret_entries = entries;
	return 0;
}

/* Takes <kind>/<name>.lock without waiting; -EWOULDBLOCK when it is held. */
static int try_lock(const char *kind_dir, const char *name, int *ret_fd)
{
	g_autofree char *lock_path = g_strdup_printf("%s/%s.lock", kind_dir, name);
	hpci_autofd int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return hpci_error_errno(errno, "cannot open cache lock '%s'", lock_path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EWOULDBLOCK
					    : hpci_error_errno(errno, "cannot lock '%s'", lock_path);
	*ret_fd = hpci_steal_fd(&fd);
	return 0;
}

int hpci_cache_remove(const char *kind, const char *key)
{
	g_autofree char *root = hpci_cache_root();
	g_autofree char *kind_dir = g_build_filename(root, kind, NULL);
	g_autofree char *dir = g_build_filename(kind_dir, key, NULL);
	hpci_autofd int fd = -1;
	int rc;

	if ((rc = try_lock(kind_dir, key, &fd)) == -EWOULDBLOCK)
		return 0;
	if (rc < 0)
		return rc;
	if ((rc = hpci_rm_rf(dir)) < 0)
		return rc;
	return 1;
}

int hpci_cache_remove_stale(const char *kind, unsigned *ret_removed)
{
	g_autofree char *root = hpci_cache_root();
	g_autofree char *kind_dir = g_build_filename(root, kind, NULL);
	g_autoptr(GDir) dir = g_dir_open(kind_dir, 0, NULL);
	unsigned removed = 0;
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		/* ".tmp-<key>-<pid>": its builder held <key>.lock while alive. */
		g_autofree char *key = NULL;
		g_autofree char *path = NULL;
		hpci_autofd int fd = -1;
		int rc;

		if (!g_str_has_prefix(name, ".tmp-") || strlen(name) < 5 + 64)
			continue;
		key = g_strndup(name + 5, 64);
		if (!is_key(key) || (rc = try_lock(kind_dir, key, &fd)) == -EWOULDBLOCK)
			continue;
		if (rc < 0)
			return rc;
		path = g_build_filename(kind_dir, name, NULL);
		if ((rc = hpci_rm_rf(path)) < 0)
			return rc;
		removed++;
	}
	*ret_removed = removed;
	return 0;
}

char *hpci_cache_keep_failed_log(const char *kind, const char *work_dir, const char *key)
{
	g_autofree char *root = hpci_cache_root();
	g_autofree char *failed = g_build_filename(root, kind, "failed", NULL);
	g_autofree char *from = g_build_filename(work_dir, "build.log", NULL);
	g_autofree char *name = g_strdup_printf("%s.log", key);
	char *to = g_build_filename(failed, name, NULL);
	g_autoptr(hpci_error_saved) saved = hpci_error_save();

	if (!hpci_is_file(from) || hpci_mkdir_p(failed, 0755) < 0 ||
	    hpci_copy_file(from, to, 0644) < 0)
		g_clear_pointer(&to, g_free);
	hpci_error_restore(g_steal_pointer(&saved));
	return to;
}

int hpci_cache_build(const char *kind, const char *key, const char *what,
		     hpci_cache_build_fn build, void *opaque, char **ret_dir, bool *ret_hit)
{
	g_auto(hpci_cache_txn) txn = HPCI_CACHE_TXN_INIT;
	int rc = hpci_cache_begin(kind, key, &txn);

	if (rc < 0)
		return rc;
	*ret_hit = rc == 1;
	if (rc == 0 && (rc = build(txn.work_dir, txn.final_dir, opaque)) < 0) {
		g_autofree char *log = hpci_cache_keep_failed_log(kind, txn.work_dir, key);

		if (log && rc != -EINTR)
			hpci_error_prefix("%s build %.12s failed (log '%s')", what, key, log);
		return rc;
	}
	if (rc == 0 && (rc = hpci_cache_commit(&txn)) < 0)
		return rc;
	*ret_dir = g_strdup(txn.final_dir);
	return 0;
}
