/* SPDX-License-Identifier: MIT */
/*
 * The guest's initramfs: a newc cpio written here directly, so ownership
 * (root), timestamps (0) and device nodes do not depend on who builds it,
 * then compressed by gzip or zstd through the child-process module.
 */
#include "image-private.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPIO_TRAILER "TRAILER!!!"
#define TOOL_TIMEOUT_MS (5 * 60 * 1000)

void hpci_cpio_init(struct hpci_cpio *cpio)
{
	cpio->data = g_byte_array_new();
	cpio->next_ino = 1;
}

void hpci_cpio_release(struct hpci_cpio *cpio)
{
	if (cpio->data)
		g_byte_array_unref(cpio->data);
	cpio->data = NULL;
}

static void pad4(GByteArray *a)
{
	static const guint8 zeros[4];

	if (a->len % 4)
		g_byte_array_append(a, zeros, 4 - a->len % 4);
}

/* name is relative ("bin/busybox"); mode carries the file type bits. */
void hpci_cpio_add(struct hpci_cpio *cpio, const char *name, unsigned mode, unsigned rdev_major,
		   unsigned rdev_minor, const void *data, gsize len)
{
	char header[6 + 13 * 8 + 1];
	gsize namesize = strlen(name) + 1;

	g_snprintf(header, sizeof(header),
		   "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		   cpio->next_ino++, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (unsigned)len,
		   0u, 0u, rdev_major, rdev_minor, (unsigned)namesize, 0u);
	g_byte_array_append(cpio->data, (const guint8 *)header, sizeof(header) - 1);
	g_byte_array_append(cpio->data, (const guint8 *)name, namesize);
	pad4(cpio->data);
	if (len) {
		g_byte_array_append(cpio->data, data, len);
		pad4(cpio->data);
	}
}

void hpci_cpio_finish(struct hpci_cpio *cpio)
{
	cpio->next_ino = 0;
	hpci_cpio_add(cpio, CPIO_TRAILER, 0, 0, 0, NULL, 0);
}

/* One member of the archive, before it is written. */
struct member {
	unsigned mode;  /* type and permission bits */
	char *host;     /* file content comes from here, or */
	GBytes *bytes;  /* from here (generated files, symlink targets) */
	unsigned rdev_major, rdev_minor;
};

static void member_free(gpointer p)
{
	struct member *m = p;

	g_free(m->host);
	if (m->bytes)
		g_bytes_unref(m->bytes);
	g_free(m);
}

struct tree {
	GHashTable *members; /* guest path -> struct member * */
};

static void add_parents(struct tree *t, const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0 ||
	    g_hash_table_contains(t->members, dir))
		return;
	add_parents(t, dir);
	struct member *m = g_new0(struct member, 1);
	m->mode = S_IFDIR | 0755;
	g_hash_table_insert(t->members, g_steal_pointer(&dir), m);
}

/* Adds a member; a second, different one at the same path is an error. */
static int add(struct tree *t, const char *path, struct member *m)
{
	struct member *old = g_hash_table_lookup(t->members, path);

	if (old) {
		bool same = S_ISDIR(old->mode) && S_ISDIR(m->mode);

		same |= old->host && m->host && strcmp(old->host, m->host) == 0;
		member_free(m);
		if (same)
			return 0;
		return hpci_error(EEXIST, "two different inputs for '%s' in the initramfs", path);
	}
	add_parents(t, path);
	g_hash_table_insert(t->members, g_strdup(path), m);
	return 0;
}

static int add_host(struct tree *t, const char *path, const char *host, unsigned perm)
{
	struct member *m = g_new0(struct member, 1);

	m->mode = S_IFREG | perm;
	m->host = g_strdup(host);
	return add(t, path, m);
}

static int add_text(struct tree *t, const char *path, const char *text, unsigned perm)
{
	struct member *m = g_new0(struct member, 1);

	m->mode = S_IFREG | perm;
	m->bytes = g_bytes_new(text, strlen(text));
	return add(t, path, m);
}

static int add_symlink(struct tree *t, const char *path, const char *target)
{
	struct member *m = g_new0(struct member, 1);

	m->mode = S_IFLNK | 0777;
	m->bytes = g_bytes_new(target, strlen(target));
	return add(t, path, m);
}

static int add_node(struct tree *t, const char *path, unsigned type_perm, unsigned major,
		    unsigned minor)
{
	struct member *m = g_new0(struct member, 1);

	m->mode = type_perm;
	m->rdev_major = major;
	m->rdev_minor = minor;
	return add(t, path, m);
}

static void add_dir(struct tree *t, const char *path, unsigned perm)
{
	struct member *m = g_new0(struct member, 1);

	m->mode = S_IFDIR | perm;
	(void)add(t, path, m); /* directories never conflict */
}

/* Loads a module, decompressing .ko.xz/.ko.zst/.ko.gz: busybox insmod only
 * takes plain ELF objects in every configuration. */
static int load_module(const char *host, GBytes **ret)
{
	static const struct {
		const char *suffix, *tool;
	} codecs[] = { { ".ko.xz", "xz" }, { ".ko.zst", "zstd" }, { ".ko.gz", "gzip" } };
	char *data = NULL;
	gsize len = 0;
	int rc;

	for (size_t i = 0; i < G_N_ELEMENTS(codecs); i++) {
		g_autoptr(GString) out = NULL;
		g_auto(hpci_cmd) cmd = { 0 };

		if (!g_str_has_suffix(host, codecs[i].suffix))
			continue;
		out = g_string_new(NULL);
		hpci_cmd_init(&cmd, codecs[i].tool);
		hpci_cmd_add(&cmd, "-dc");
		hpci_cmd_add(&cmd, host);
		cmd.timeout_ms = TOOL_TIMEOUT_MS;
		rc = hpci_cmd_run(&cmd, out, NULL);
		if (rc < 0)
			return rc;
		*ret = g_bytes_new(out->str, out->len);
		return 0;
	}
	if ((rc = hpci_read_file(host, &data, &len)) < 0)
		return rc;
	*ret = g_bytes_new_take(data, len);
	return 0;
}

static int member_bytes(const char *path, const struct member *m, GBytes **ret)
{
	char *data = NULL;
	gsize len = 0;
	int rc;

	if (m->bytes) {
		*ret = g_bytes_ref(m->bytes);
		return 0;
	}
	if (!m->host) {
		*ret = g_bytes_new_static("", 0);
		return 0;
	}
	if (g_str_has_prefix(path, "/lib/modules/"))
		return load_module(m->host, ret);
	if ((rc = hpci_read_file(m->host, &data, &len)) < 0)
		return rc;
	*ret = g_bytes_new_take(data, len);
	return 0;
}

static int build_tree(const struct hpci_image_plan *plan, const GPtrArray *built, struct tree *t)
{
	g_autoptr(GString) modules = g_string_new(NULL);
	g_autofree char *release = NULL;
	int rc;

	add_dir(t, "/dev", 0755);
	add_dir(t, "/proc", 0555);
	add_dir(t, "/sys", 0555);
	add_dir(t, "/run", 0755);
	add_dir(t, "/tmp", 01777);
	add_dir(t, "/root", 0700);
	add_dir(t, "/etc/hpci", 0755);
	/* The kernel opens /dev/console before /init can mount devtmpfs. */
	if ((rc = add_node(t, "/dev/console", S_IFCHR | 0600, 5, 1)) < 0 ||
	    (rc = add_symlink(t, "/var/run", "../run")) < 0)
		return rc;

	for (guint i = 0; i < plan->inputs->len; i++) {
		const struct hpci_image_input *in = plan->inputs->pdata[i];

		/* The kernel and the boot loader go on the ESP, not in here. */
		if (!in->guest || strcmp(in->role, "kernel") == 0 ||
		    strcmp(in->role, "bootloader") == 0)
			continue;
		if ((rc = add_host(t, in->guest, in->host, in->mode)) < 0)
			return rc;
	}
	for (guint i = 0; built && i < built->len; i++) {
		const struct hpci_image_input *in = built->pdata[i];

		if ((rc = add_host(t, in->guest, in->host, in->mode)) < 0)
			return rc;
	}
	/* Applet links last: a real file at the same path wins. */
	for (guint i = 0; i < plan->applets->len; i++) {
		const char *path = plan->applets->pdata[i];

		if (!g_hash_table_contains(t->members, path) &&
		    (rc = add_symlink(t, path, "/bin/busybox")) < 0)
			return rc;
	}

	for (guint i = 0; i < plan->module_order->len; i++)
		g_string_append_printf(modules, "%s\n", (char *)plan->module_order->pdata[i]);
	release = g_strdup_printf("recipe=%s\nkey=%s\nkernel=%s\ncmdline=%s\n",
				  plan->recipe.name, plan->key, plan->kernel_version,
				  plan->recipe.cmdline);
	if ((rc = add_text(t, "/etc/hpci/modules", modules->str, 0644)) < 0 ||
	    (rc = add_text(t, "/etc/hpci/image", release, 0644)) < 0)
		return rc;
	return 0;
}

static int cmp_path(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int compress(enum hpci_compression c, const char *raw, const char *path)
{
	g_autofree char *gz = g_strdup_printf("%s.gz", raw);
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	switch (c) {
	case HPCI_COMPRESS_NONE:
		if (rename(raw, path) < 0)
			return hpci_error_errno(errno, "cannot rename '%s'", raw);
		return 0;
	case HPCI_COMPRESS_GZIP:
		hpci_cmd_init(&cmd, "gzip");
		hpci_cmd_add(&cmd, "-n");
		hpci_cmd_add(&cmd, "-9");
		hpci_cmd_add(&cmd, "-f");
		hpci_cmd_add(&cmd, raw);
		break;
	case HPCI_COMPRESS_ZSTD:
		hpci_cmd_init(&cmd, "zstd");
		hpci_cmd_add(&cmd, "-q");
		hpci_cmd_add(&cmd, "-19");
		hpci_cmd_add(&cmd, "-f");
		hpci_cmd_add(&cmd, "--rm");
		hpci_cmd_add(&cmd, raw);
		hpci_cmd_add(&cmd, "-o");
		hpci_cmd_add(&cmd, path);
		break;
	default:
		return hpci_error(EINVAL, "unknown initramfs compression %d", (int)c);
	}
	cmd.timeout_ms = TOOL_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, NULL, NULL);
	if (rc < 0)
		return rc;
	if (c == HPCI_COMPRESS_GZIP && rename(gz, path) < 0)
		return hpci_error_errno(errno, "cannot rename '%s'", gz);
	return 0;
}

/* The archive at `raw`, then compressed to `path`. */
static int write_archive(const struct hpci_image_plan *plan, const GPtrArray *built,
			 const char *raw, const char *path)
{
	g_autoptr(GHashTable) members =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, member_free);
	struct tree t = { members };
	g_autoptr(GPtrArray) paths = g_ptr_array_new();
	g_auto(hpci_cpio) cpio = { 0 };
	GHashTableIter iter;
	gpointer key;
	int rc;

	hpci_cpio_init(&cpio);
	if ((rc = build_tree(plan, built, &t)) < 0)
		return rc;
	g_hash_table_iter_init(&iter, t.members);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(paths, key);
	/* Sorted, every directory comes before what it holds. */
	g_ptr_array_sort(paths, cmp_path);
	for (guint i = 0; i < paths->len; i++) {
		const char *p = paths->pdata[i];
		const struct member *m = g_hash_table_lookup(t.members, p);
		g_autoptr(GBytes) bytes = NULL;
		gsize len = 0;
		const void *data;

		if (!S_ISDIR(m->mode) && !S_ISCHR(m->mode) && (rc = member_bytes(p, m, &bytes)) < 0)
			return rc;
		data = bytes ? g_bytes_get_data(bytes, &len) : NULL;
		hpci_cpio_add(&cpio, p + 1, m->mode, m->rdev_major, m->rdev_minor, data, len);
	}
	hpci_cpio_finish(&cpio);
	if ((rc = hpci_write_file(raw, (const char *)cpio.data->data, cpio.data->len)) < 0)
		return rc;
	return compress(plan->recipe.compression, raw, path);
}

int hpci_initramfs_write(const struct hpci_image_plan *plan, const GPtrArray *built,
			 const char *path)
{
	g_autofree char *raw = g_strdup_printf("%s.cpio", path);
	int rc = write_archive(plan, built, raw, path);

	if (rc < 0) {
		/* Nothing half-written stays behind; the first error is kept. */
		g_autoptr(hpci_error_saved) saved = hpci_error_save();
		g_autofree char *gz = g_strdup_printf("%s.gz", raw);

		(void)unlink(raw);
		(void)unlink(gz);
		hpci_error_restore(g_steal_pointer(&saved));
	}
	return rc;
}
