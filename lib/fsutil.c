/* SPDX-License-Identifier: MIT */
#define _XOPEN_SOURCE 700
#include "fsutil.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int hpci_mkdir_p(const char *path, int mode)
{
	if (g_mkdir_with_parents(path, mode) < 0)
		return hpci_error_errno(errno, "cannot create directory '%s'", path);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

int hpci_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : hpci_error_errno(errno, "cannot remove '%s'", path);
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return hpci_error_errno(errno, "cannot remove '%s'", path);
	return 0;
}

void hpci_close_fd(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

void hpci_unlink_and_free(char **path)
{
	if (*path) {
		int saved = errno;

		(void)unlink(*path);
		errno = saved;
		g_clear_pointer(path, g_free);
	}
}

int hpci_copy_file(const char *src, const char *dst, int mode)
{
	char buf[1 << 16];
	hpci_autofd int in = open(src, O_RDONLY | O_CLOEXEC);
	hpci_autofd int out = -1;
	ssize_t n;
	int rc;

	if (in < 0)
		return hpci_error_errno(errno, "cannot open '%s'", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return hpci_error_errno(errno, "cannot create '%s'", dst);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return hpci_error_errno(errno, "cannot read '%s'", src);
		}
		if (write(out, buf, n) != n)
			return hpci_error_errno(errno ? errno : ENOSPC, "cannot write '%s'", dst);
	}
	if (fchmod(out, mode) < 0)
		return hpci_error_errno(errno, "cannot set the mode of '%s'", dst);
	/* The last write errors show up at close. */
	rc = close(hpci_steal_fd(&out));
	if (rc < 0)
		return hpci_error_errno(errno, "cannot write '%s'", dst);
	return 0;
}

int hpci_read_file(const char *path, char **ret_data, gsize *ret_len)
{
	g_autoptr(GError) gerr = NULL;
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &gerr))
		return hpci_error(gerr->domain == G_FILE_ERROR && gerr->code == G_FILE_ERROR_NOENT ?
				  ENOENT : EIO, "cannot read '%s': %s", path, gerr->message);
	*ret_data = data;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int hpci_write_file(const char *path, const char *data, gssize len)
{
	g_autoptr(GError) gerr = NULL;

	if (!g_file_set_contents(path, data, len, &gerr))
		return hpci_error(EIO, "cannot write '%s': %s", path, gerr->message);
	return 0;
}

bool hpci_is_file(const char *path)
{
	return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

bool hpci_is_dir(const char *path)
{
	return g_file_test(path, G_FILE_TEST_IS_DIR);
}

static int checksum_file(GChecksum *sum, const char *path)
{
	char buf[1 << 16];
	ssize_t n;
	hpci_autofd int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hpci_error_errno(errno, "cannot open '%s'", path);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return hpci_error_errno(errno, "cannot read '%s'", path);
		}
		g_checksum_update(sum, (const guchar *)buf, n);
	}
	return 0;
}

int hpci_sha256_file(const char *path, char **ret_hex)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	int ret = checksum_file(sum, path);

	if (ret < 0)
		return ret;
	*ret_hex = g_strdup(g_checksum_get_string(sum));
	return 0;
}

void hpci_hash_init(struct hpci_hash *h)
{
	h->sum = g_checksum_new(G_CHECKSUM_SHA256);
}

static void hash_label(struct hpci_hash *h, const char *label, guint64 len)
{
	g_checksum_update(h->sum, (const guchar *)label, strlen(label) + 1);
	g_checksum_update(h->sum, (const guchar *)&len, sizeof(len));
}

void hpci_hash_str(struct hpci_hash *h, const char *label, const char *value)
{
	value = value ? value : "";
	hash_label(h, label, strlen(value));
	g_checksum_update(h->sum, (const guchar *)value, strlen(value));
}

int hpci_hash_file(struct hpci_hash *h, const char *label, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return hpci_error_errno(errno, "cannot hash '%s'", path);
	hash_label(h, label, st.st_size);
	return checksum_file(h->sum, path);
}

char *hpci_hash_finish(struct hpci_hash *h)
{
	char *hex = g_strdup(g_checksum_get_string(h->sum));

	hpci_hash_release(h);
	return hex;
}

void hpci_hash_release(struct hpci_hash *h)
{
	g_clear_pointer(&h->sum, g_checksum_free);
}
