/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for images/: recipe parsing and its errors, the newc writer,
 * the cache key and the cache-hit path.  No libguestfs appliance is launched:
 * the tests that need the host's guest inputs (kernel, busybox, qemu-ga) skip
 * when they are missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "image-private.h"
#include "image.h"

#define MINIMAL_SRC HPCI_SOURCE_ROOT "/images/minimal"

struct tmp {
	char *root;    /* scratch directory */
	char *recipes; /* $HPCI_IMAGES_DIR */
	char *cache;   /* $HPCI_CACHE_DIR */
};

static int setup(void **state)
{
	struct tmp *t = g_new0(struct tmp, 1);

	t->root = g_dir_make_tmp("hpci-test-images-XXXXXX", NULL);
	assert_non_null(t->root);
	t->recipes = g_build_filename(t->root, "recipes", NULL);
	t->cache = g_build_filename(t->root, "cache", NULL);
	assert_int_equal(g_mkdir(t->recipes, 0755), 0);
	g_setenv("HPCI_IMAGES_DIR", t->recipes, TRUE);
	g_setenv("HPCI_CACHE_DIR", t->cache, TRUE);
	hpci_error_clear();
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(hpci_rm_rf(t->root), 0);
	g_unsetenv("HPCI_IMAGES_DIR");
	g_unsetenv("HPCI_CACHE_DIR");
	g_free(t->root);
	g_free(t->recipes);
	g_free(t->cache);
	g_free(t);
	hpci_error_clear();
	return 0;
}

static void put(const struct tmp *t, const char *recipe, const char *name, const char *text,
		int mode)
{
	g_autofree char *dir = g_build_filename(t->recipes, recipe, NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);

	assert_int_equal(hpci_mkdir_p(dir, 0755), 0);
	assert_int_equal(hpci_write_file(path, text, -1), 0);
	assert_int_equal(chmod(path, mode), 0);
}

#define GOOD_RECIPE                                                                        \
	"{\n"                                                                              \
	"  \"description\": \"test\",\n"                                                   \
	"  \"cmdline\": \"console=ttyS0 panic=-1\",\n"                                     \
	"  \"modules\": [\"virtio_pci\", \"efivarfs\"],\n"                                 \
	"  \"busybox\": \"/bin/busybox\",\n"                                               \
	"  \"binaries\": [\"/usr/sbin/qemu-ga\"],\n"                                       \
	"  \"files\": {\"/init\": \"init\", \"/bin/hpci-smi\": \"smi\"},\n"               \
	"  \"bootloader\": \"/usr/lib/systemd/boot/efi/systemd-bootx64.efi\"\n"            \
	"}\n"

static void put_good(const struct tmp *t, const char *recipe, const char *json)
{
	put(t, recipe, "recipe.json", json, 0644);
	put(t, recipe, "init", "#!/bin/sh\n", 0755);
	put(t, recipe, "smi", "#!/bin/sh\n", 0755);
}

static void test_recipes_dir(void **state)
{
	g_autofree char *dir = hpci_image_recipes_dir();
	struct tmp *t = *state;

	assert_string_equal(dir, t->recipes);
	g_unsetenv("HPCI_IMAGES_DIR");
	g_free(dir);
	dir = hpci_image_recipes_dir();
	assert_string_equal(dir, HPCI_SOURCE_ROOT "/images");
	g_setenv("HPCI_IMAGES_DIR", t->recipes, TRUE);
}

static void test_recipe_good(void **state)
{
	struct tmp *t = *state;
	struct hpci_recipe r = { 0 };
	const struct hpci_recipe_file *f;

	put_good(t, "good", GOOD_RECIPE);
	assert_int_equal(hpci_recipe_load(t->recipes, "good", &r), 0);
	assert_string_equal(r.name, "good");
	assert_string_equal(r.kernel, "newest");
	assert_string_equal(r.cmdline, "console=ttyS0 panic=-1");
	assert_int_equal(r.modules->len, 2);
	assert_string_equal(g_ptr_array_index(r.modules, 0), "virtio_pci");
	assert_int_equal(r.binaries->len, 1);
	assert_int_equal(r.disk_mib, 128);
	assert_int_equal(r.compression, HPCI_COMPRESS_GZIP);
	/* Sorted by guest path. */
	assert_int_equal(r.files->len, 2);
	f = g_ptr_array_index(r.files, 0);
	assert_string_equal(f->guest, "/bin/hpci-smi");
	assert_true(g_str_has_suffix(f->source, "/good/smi"));
	f = g_ptr_array_index(r.files, 1);
	assert_string_equal(f->guest, "/init");
	hpci_recipe_release(&r);
	hpci_recipe_release(&r); /* twice is harmless */
}

static void test_recipe_minimal_parses(void **state)
{
	struct hpci_recipe r = { 0 };

	(void)state;
	assert_int_equal(hpci_recipe_load(HPCI_SOURCE_ROOT "/images", "minimal", &r), 0);
	assert_int_equal(r.disk_mib, 128);
	assert_non_null(strstr(r.cmdline, "console=ttyS0,115200"));
	assert_non_null(strstr(r.cmdline, "panic=-1"));
	assert_null(strstr(r.cmdline, "quiet"));
	hpci_recipe_release(&r);
}

/* Loads a recipe made of `json` and checks the error mentions each needle. */
static void expect_bad(const struct tmp *t, const char *json, int code, const char *needle1,
		       const char *needle2)
{
	g_autofree char *dir = g_build_filename(t->recipes, "bad", NULL);
	struct hpci_recipe r = { 0 };
	const char *msg;
	int rc;

	assert_int_equal(hpci_rm_rf(dir), 0);
	put_good(t, "bad", json);
	hpci_error_clear();
	rc = hpci_recipe_load(t->recipes, "bad", &r);
	msg = hpci_error_message();
	if (rc != -code || !strstr(msg, needle1) || (needle2 && !strstr(msg, needle2)))
		fail_msg("recipe %s\n gave %d '%s', want %d with '%s' and '%s'", json, rc, msg,
			 -code, needle1, needle2 ? needle2 : "");
	assert_null(r.name); /* untouched on failure */
}

static void test_recipe_errors(void **state)
{
	struct tmp *t = *state;
	g_autofree char *path = g_build_filename(t->recipes, "bad", "recipe.json", NULL);

	expect_bad(t, "{\"cmdline\":\"x\",\"bogus\":1}", EINVAL, path, "unknown key 'bogus'");
	expect_bad(t, "{\"cmdline\":\"x\",", EINVAL, path, "unexpected end");
	expect_bad(t, "{\"cmdline\":\"x\"} {}", EINVAL, path, "trailing");
	expect_bad(t, "[1]", EINVAL, path, "object");
	expect_bad(t, "{\"modules\":\"virtio_pci\"}", EINVAL, path, "'modules'");
	expect_bad(t, "{\"modules\":[\"../evil\"]}", EINVAL, path, "'../evil'");
	expect_bad(t, "{\"modules\":[\"a\",\"a\"]}", EINVAL, path, "twice");
	expect_bad(t, "{\"binaries\":[\"qemu-ga\"]}", EINVAL, path, "absolute");
	expect_bad(t, "{\"busybox\":\"/bin/../busybox\"}", EINVAL, path, "'busybox'");
	expect_bad(t, "{\"disk_mib\":\"128\"}", EINVAL, path, "'disk_mib'");
	expect_bad(t, "{\"disk_mib\":1}", EINVAL, path, "between");
	expect_bad(t, "{\"compression\":\"lz4\"}", EINVAL, path, "'compression'");
	expect_bad(t, "{\"cmdline\":\"\"}", EINVAL, path, "'cmdline'");
	expect_bad(t, "{\"cmdline\":\"a\\nb\"}", EINVAL, path, "'cmdline'");
	expect_bad(t, "{\"kernel\":\"6.1 bad\"}", EINVAL, path, "'kernel'");
	expect_bad(t, "{\"files\":{\"init\":\"init\"}}", EINVAL, path, "absolute guest path");
	expect_bad(t, "{\"files\":{\"/init\":\"../init\"}}", EINVAL, path, "recipe directory");
	expect_bad(t, "{\"files\":{\"/init\":\"missing\"}}", ENOENT, path, "'missing'");
	expect_bad(t, "{\"files\":{\"/init\":3}}", EINVAL, path, "'/init'");
	/* Required keys. */
	expect_bad(t, "{\"busybox\":\"/b\",\"bootloader\":\"/l\",\"files\":{\"/init\":\"init\"}}",
		   EINVAL, path, "'cmdline' is missing");
	expect_bad(t, "{\"cmdline\":\"x\",\"bootloader\":\"/l\",\"files\":{\"/init\":\"init\"}}",
		   EINVAL, path, "'busybox' is missing");
	expect_bad(t, "{\"cmdline\":\"x\",\"busybox\":\"/b\",\"files\":{\"/init\":\"init\"}}",
		   EINVAL, path, "'bootloader' is missing");
	expect_bad(t, "{\"cmdline\":\"x\",\"busybox\":\"/b\",\"bootloader\":\"/l\"}", EINVAL,
		   path, "'/init'");
}

static void test_recipe_name_errors(void **state)
{
	struct tmp *t = *state;
	struct hpci_recipe r = { 0 };

	assert_int_equal(hpci_recipe_load(t->recipes, "../etc", &r), -EINVAL);
	assert_non_null(strstr(hpci_error_message(), "'../etc'"));
	assert_int_equal(hpci_recipe_load(t->recipes, "", &r), -EINVAL);
	assert_int_equal(hpci_recipe_load(t->recipes, "absent", &r), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "'absent'"));
}

/* ---- newc ---------------------------------------------------------------- */

struct newc_entry {
	char *name;
	unsigned mode, rdev_major, rdev_minor;
	GBytes *data;
};

static guint32 hex8(const guint8 *p)
{
	char buf[9];

	memcpy(buf, p, 8);
	buf[8] = '\0';
	return (guint32)g_ascii_strtoull(buf, NULL, 16);
}

/* Parses a newc archive; fails the test on any format error. */
static GHashTable *newc_parse(const guint8 *p, gsize len)
{
	GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
	gsize off = 0;

	for (;;) {
		struct newc_entry *e = g_new0(struct newc_entry, 1);
		guint32 namesize, filesize;

		assert_true(off + 110 <= len);
		assert_memory_equal(p + off, "070701", 6);
		assert_int_equal(hex8(p + off + 6 + 8 * 2), 0);  /* uid */
		assert_int_equal(hex8(p + off + 6 + 8 * 3), 0);  /* gid */
		assert_int_equal(hex8(p + off + 6 + 8 * 5), 0);  /* mtime */
		e->mode = hex8(p + off + 6 + 8 * 1);
		filesize = hex8(p + off + 6 + 8 * 6);
		e->rdev_major = hex8(p + off + 6 + 8 * 9);
		e->rdev_minor = hex8(p + off + 6 + 8 * 10);
		namesize = hex8(p + off + 6 + 8 * 11);
		off += 110;
		assert_true(off + namesize <= len);
		assert_int_equal(p[off + namesize - 1], '\0');
		e->name = g_strdup((const char *)p + off);
		off = (off + namesize + 3) & ~(gsize)3;
		assert_true(off + filesize <= len);
		e->data = g_bytes_new(p + off, filesize);
		off = (off + filesize + 3) & ~(gsize)3;
		if (strcmp(e->name, "TRAILER!!!") == 0) {
			g_free(e->name);
			g_bytes_unref(e->data);
			g_free(e);
			break;
		}
		/* Parents come first, so the kernel can create each member. */
		if (strchr(e->name, '/')) {
			g_autofree char *parent = g_path_get_dirname(e->name);

			assert_non_null(g_hash_table_lookup(h, parent));
		}
		g_hash_table_insert(h, e->name, e);
	}
	assert_int_equal(off % 4, 0);
	return h;
}

static void newc_free(GHashTable *h)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct newc_entry *e = v;

		g_free(e->name);
		g_bytes_unref(e->data);
		g_free(e);
	}
	g_hash_table_unref(h);
}

static void test_cpio_writer(void **state)
{
	struct hpci_cpio c;
	GHashTable *h;
	struct newc_entry *e;

	(void)state;
	hpci_cpio_init(&c);
	hpci_cpio_add(&c, "bin", S_IFDIR | 0755, 0, 0, NULL, 0);
	hpci_cpio_add(&c, "bin/hello", S_IFREG | 0755, 0, 0, "hello", 5);
	hpci_cpio_add(&c, "bin/sh", S_IFLNK | 0777, 0, 0, "/bin/busybox", 12);
	hpci_cpio_add(&c, "console", S_IFCHR | 0600, 5, 1, NULL, 0);
	hpci_cpio_finish(&c);
	h = newc_parse(c.data->data, c.data->len);
	assert_int_equal(g_hash_table_size(h), 4);
	e = g_hash_table_lookup(h, "bin/hello");
	assert_int_equal(e->mode, S_IFREG | 0755);
	assert_int_equal(g_bytes_get_size(e->data), 5);
	assert_memory_equal(g_bytes_get_data(e->data, NULL), "hello", 5);
	e = g_hash_table_lookup(h, "bin/sh");
	assert_true(S_ISLNK(e->mode));
	assert_memory_equal(g_bytes_get_data(e->data, NULL), "/bin/busybox", 12);
	e = g_hash_table_lookup(h, "console");
	assert_true(S_ISCHR(e->mode));
	assert_int_equal(e->rdev_major, 5);
	assert_int_equal(e->rdev_minor, 1);
	newc_free(h);
	hpci_cpio_release(&c);
}

/* ---- plans, keys and the initramfs (need the host's guest inputs) -------- */

static bool have_guest_inputs(void)
{
	struct hpci_recipe r = { 0 };
	bool ok;

	if (hpci_recipe_load(HPCI_SOURCE_ROOT "/images", "minimal", &r) < 0)
		return false;
	ok = hpci_is_file(r.busybox) && hpci_is_file(r.bootloader);
	for (guint i = 0; ok && i < r.binaries->len; i++)
		ok = hpci_is_file(r.binaries->pdata[i]);
	hpci_recipe_release(&r);
	return ok && g_file_test("/lib/modules", G_FILE_TEST_IS_DIR);
}

/* Copies the tree at src to dst (the recipe and its module sources). */
static void copy_tree(const char *src, const char *dst)
{
	g_autoptr(GDir) d = g_dir_open(src, 0, NULL);
	const char *f;

	assert_non_null(d);
	assert_int_equal(hpci_mkdir_p(dst, 0755), 0);
	while ((f = g_dir_read_name(d))) {
		g_autofree char *from = g_build_filename(src, f, NULL);
		g_autofree char *to = g_build_filename(dst, f, NULL);
		struct stat st;

		assert_int_equal(stat(from, &st), 0);
		if (S_ISDIR(st.st_mode))
			copy_tree(from, to);
		else
			assert_int_equal(hpci_copy_file(from, to, st.st_mode & 0777), 0);
	}
}

/* Copies images/minimal into the scratch recipes dir as `name`. */
static void copy_minimal(const struct tmp *t, const char *name)
{
	g_autofree char *dst = g_build_filename(t->recipes, name, NULL);

	copy_tree(MINIMAL_SRC, dst);
}

static char *key_of(const char *recipe)
{
	struct hpci_image_plan plan = { 0 };
	char *key;

	if (hpci_image_plan_make(recipe, &plan) < 0)
		fail_msg("plan of '%s' failed: %s", recipe, hpci_error_message());
	key = g_strdup(plan.key);
	hpci_image_plan_release(&plan);
	return key;
}

static void test_key_stability(void **state)
{
	struct tmp *t = *state;
	g_autofree char *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL, *k5 = NULL;
	g_autofree char *k6 = NULL, *init = NULL, *init_path = NULL;
	gsize len = 0;

	if (!have_guest_inputs())
		skip();
	copy_minimal(t, "minimal");
	k1 = key_of("minimal");
	k2 = key_of("minimal");
	assert_int_equal(strlen(k1), 64);
	assert_string_equal(k1, k2);

	/* One byte of one recipe file changes the key, and back again. */
	init_path = g_build_filename(t->recipes, "minimal", "init", NULL);
	assert_int_equal(hpci_read_file(init_path, &init, &len), 0);
	init[len - 2] ^= 1;
	assert_int_equal(hpci_write_file(init_path, init, len), 0);
	k3 = key_of("minimal");
	assert_string_not_equal(k1, k3);
	init[len - 2] ^= 1;
	assert_int_equal(hpci_write_file(init_path, init, len), 0);
	assert_int_equal(chmod(init_path, 0755), 0);
	k4 = key_of("minimal");
	assert_string_equal(k1, k4);

	/* So do the executable bit and a new file in the recipe directory. */
	assert_int_equal(chmod(init_path, 0644), 0);
	k5 = key_of("minimal");
	assert_string_not_equal(k1, k5);
	assert_int_equal(chmod(init_path, 0755), 0);
	put(t, "minimal", "NOTES", "x", 0644);
	k6 = key_of("minimal");
	assert_string_not_equal(k1, k6);
}

static void test_plan_contents(void **state)
{
	struct tmp *t = *state;
	struct hpci_image_plan plan = { 0 };
	bool loader = false, qga = false, init = false, efi = false, recipe_json = false;

	if (!have_guest_inputs())
		skip();
	copy_minimal(t, "minimal");
	assert_int_equal(hpci_image_plan_make("minimal", &plan), 0);
	assert_non_null(plan.kernel_version);
	assert_true(g_str_has_suffix(plan.vmlinuz, plan.kernel_version));
	/* efivarfs and virtio_console are modules in Debian's kernel. */
	assert_true(plan.module_order->len >= 2);
	for (guint i = 0; i < plan.module_order->len; i++)
		assert_true(g_str_has_suffix(plan.module_order->pdata[i], ".ko"));
	assert_true(plan.applets->len > 50);
	for (guint i = 0; i < plan.inputs->len; i++) {
		const struct hpci_image_input *in = plan.inputs->pdata[i];

		loader |= strcmp(in->role, "library") == 0 && strstr(in->guest, "ld-linux");
		qga |= strcmp(in->role, "binary") == 0 && g_str_has_suffix(in->guest, "/qemu-ga");
		init |= strcmp(in->role, "file") == 0 && strcmp(in->guest, "/init") == 0;
		efi |= strcmp(in->role, "bootloader") == 0 &&
		       strcmp(in->guest, "/EFI/BOOT/BOOTX64.EFI") == 0;
		recipe_json |= strcmp(in->role, "recipe") == 0 &&
			       g_str_has_suffix(in->host, "/recipe.json");
	}
	assert_true(loader && qga && init && efi && recipe_json);
	hpci_image_plan_release(&plan);
}

static void test_initramfs_contents(void **state)
{
	struct tmp *t = *state;
	struct hpci_image_plan plan = { 0 };
	g_autofree char *out = g_build_filename(t->root, "initramfs.img", NULL);
	g_autofree char *data = NULL;
	const struct newc_entry *e;
	GHashTable *h;
	gsize len = 0;

	if (!have_guest_inputs())
		skip();
	copy_minimal(t, "minimal");
	assert_int_equal(hpci_image_plan_make("minimal", &plan), 0);
	plan.recipe.compression = HPCI_COMPRESS_NONE;
	if (hpci_initramfs_write(&plan, NULL, out) < 0)
		fail_msg("initramfs: %s", hpci_error_message());
	assert_int_equal(hpci_read_file(out, &data, &len), 0);
	h = newc_parse((const guint8 *)data, len);

	e = g_hash_table_lookup(h, "init");
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFREG | 0755);
	assert_non_null(g_hash_table_lookup(h, "bin/hpci-smi"));
	assert_non_null(g_hash_table_lookup(h, "bin/hpci-cpu-watch"));
	assert_non_null(g_hash_table_lookup(h, "usr/sbin/qemu-ga"));
	assert_non_null(g_hash_table_lookup(h, "lib64/ld-linux-x86-64.so.2"));
	e = g_hash_table_lookup(h, "bin/sh");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode));
	e = g_hash_table_lookup(h, "dev/console");
	assert_non_null(e);
	assert_true(S_ISCHR(e->mode));
	/* The module list names files that are in the archive, in order. */
	e = g_hash_table_lookup(h, "etc/hpci/modules");
	assert_non_null(e);
	{
		g_autofree char *text = g_strndup(g_bytes_get_data(e->data, NULL),
						  g_bytes_get_size(e->data));
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

		assert_int_equal(g_strv_length(lines) - 1, plan.module_order->len);
		for (char **l = lines; *l && **l; l++)
			assert_non_null(g_hash_table_lookup(h, *l + 1));
	}
	newc_free(h);
	hpci_image_plan_release(&plan);
}

/* A complete entry in the cache is returned as is, without libguestfs. */
static void test_cache_hit(void **state)
{
	struct tmp *t = *state;
	struct hpci_image img = { 0 };
	g_autofree char *key = NULL, *entry = NULL, *disk = NULL;
	struct stat before, after;

	if (!have_guest_inputs())
		skip();
	copy_minimal(t, "minimal");
	key = key_of("minimal");
	entry = g_build_filename(t->cache, "images", key, NULL);
	disk = g_build_filename(entry, "disk.qcow2", NULL);
	assert_int_equal(hpci_mkdir_p(entry, 0755), 0);
	assert_int_equal(hpci_write_file(disk, "", 0), 0);

	assert_int_equal(stat(disk, &before), 0);
	if (hpci_image_build("minimal", &img) < 0)
		fail_msg("build: %s", hpci_error_message());
	/* A hit hands back the entry as it is: the placeholder disk was not
	 * rebuilt (same inode, still empty).  Not a time bound, which a loaded
	 * host breaks; bench/ measures speed. */
	assert_true(img.cache_hit);
	assert_int_equal(stat(disk, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	assert_int_equal(after.st_size, 0);
	assert_string_equal(img.key, key);
	assert_string_equal(img.recipe, "minimal");
	assert_true(g_path_is_absolute(img.path));
	assert_true(g_str_has_suffix(img.path, "/disk.qcow2"));
	assert_true(g_str_has_suffix(img.manifest, "/manifest.json"));
	assert_non_null(img.kernel_version);
	hpci_image_release(&img);
	hpci_image_release(&img);

	/* An entry without its disk is reported, not returned. */
	assert_int_equal(unlink(disk), 0);
	assert_int_equal(hpci_image_build("minimal", &img), -ENOENT);
	assert_non_null(strstr(hpci_error_message(), "disk.qcow2"));
	assert_null(img.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recipes_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipe_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipe_minimal_parses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipe_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipe_name_errors, setup, teardown),
		cmocka_unit_test(test_cpio_writer),
		cmocka_unit_test_setup_teardown(test_key_stability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initramfs_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit, setup, teardown),
	};

	return cmocka_run_group_tests_name("images", tests, NULL, NULL);
}
