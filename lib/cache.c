/* SPDX-License-Identifier: MIT */
#include "cache.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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
	if (hpci_is_dir(txn->final_dir))
		return 1;

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
	return 0;
}

void hpci_cache_end(struct hpci_cache_txn *txn)
{
	if (txn->work_dir) {
		g_autofree char *saved = hpci_error_save();

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
