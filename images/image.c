/* SPDX-License-Identifier: MIT */
/*
 * Guest images: resolve a recipe into host inputs, key the cache on them,
 * and on a miss build the initramfs and a GPT disk with one EFI system
 * partition through libguestfs (forced to TCG: the appliance hangs with
 * this machine's KVM).
 */
#include "image.h"
#include "image-private.h"
#include "cache.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "gfs.h"
#include "json-reader.h"
#include "own.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#ifndef HPCI_SOURCE_ROOT
#error "HPCI_SOURCE_ROOT must name the source tree (set by meson.build)"
#endif
#ifndef HPCI_VERSION
#define HPCI_VERSION "unknown"
#endif

#define BOOT_DIR "/boot"
#define MODULES_DIR "/lib/modules"
#define PROBE_TIMEOUT_MS (60 * 1000)
#define LOG_TAIL_BYTES 8192

char *hpci_image_recipes_dir(void)
{
	const char *dir = g_getenv("HPCI_IMAGES_DIR");

	if (dir && *dir)
		return g_strdup(dir);
	return g_strdup(HPCI_SOURCE_ROOT "/images");
}

/* ---- plan: every input resolved, and the key ---------------------------- */

void hpci_image_input_free(gpointer p)
{
	struct hpci_image_input *in = p;

	g_free(in->role);
	g_free(in->host);
	g_free(in->guest);
	g_free(in);
}

void hpci_image_plan_release(struct hpci_image_plan *plan)
{
	if (!plan)
		return;
	hpci_recipe_release(&plan->recipe);
	g_free(plan->kernel_version);
	g_free(plan->vmlinuz);
	if (plan->inputs)
		g_ptr_array_unref(plan->inputs);
	if (plan->module_order)
		g_ptr_array_unref(plan->module_order);
	if (plan->applets)
		g_ptr_array_unref(plan->applets);
	g_free(plan->key);
	memset(plan, 0, sizeof(*plan));
}

static int add_input(struct hpci_image_plan *plan, const char *role, const char *host,
		     const char *guest)
{
	struct hpci_image_input *in;
	struct stat st;

	if (stat(host, &st) < 0)
		return hpci_error_errno(errno, "image input '%s' (%s)", host, role);
	if (!S_ISREG(st.st_mode))
		return hpci_error(EINVAL, "image input '%s' (%s) is not a regular file", host, role);
	in = g_new0(struct hpci_image_input, 1);
	in->role = g_strdup(role);
	in->host = g_strdup(host);
	in->guest = g_strdup(guest);
	in->mode = st.st_mode & 0777;
	g_ptr_array_add(plan->inputs, in);
	return 0;
}

static bool has_guest(const struct hpci_image_plan *plan, const char *guest)
{
	for (guint i = 0; i < plan->inputs->len; i++) {
		const struct hpci_image_input *in = plan->inputs->pdata[i];

		if (in->guest && strcmp(in->guest, guest) == 0)
			return true;
	}
	return false;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every file under dir, as paths relative to it, sorted. */
static int list_tree(const char *dir, const char *rel, GPtrArray *out)
{
	g_autofree char *path = rel ? g_build_filename(dir, rel, NULL) : g_strdup(dir);
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GDir) d = g_dir_open(path, 0, &gerr);
	const char *name;
	int rc;

	if (!d)
		return hpci_error(EIO, "cannot list '%s': %s", path, gerr->message);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *sub = rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
		g_autofree char *full = g_build_filename(dir, sub, NULL);

		if (g_file_test(full, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(full, G_FILE_TEST_IS_SYMLINK)) {
			if ((rc = list_tree(dir, sub, out)) < 0)
				return rc;
		} else {
			g_ptr_array_add(out, g_steal_pointer(&sub));
		}
	}
	if (!rel)
		g_ptr_array_sort(out, cmp_str);
	return 0;
}

static int find_kernel(struct hpci_image_plan *plan)
{
	const char *want = plan->recipe.kernel;
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GDir) d = NULL;
	g_autofree char *best = NULL;
	const char *name;

	if (strcmp(want, "newest") != 0) {
		g_autofree char *vmlinuz = g_strdup_printf(BOOT_DIR "/vmlinuz-%s", want);
		g_autofree char *dep = g_strdup_printf(MODULES_DIR "/%s/modules.dep", want);

		if (!hpci_is_file(vmlinuz) || !hpci_is_file(dep))
			return hpci_error(ENOENT, "recipe '%s' wants kernel '%s', but '%s' or '%s' "
					  "is missing", plan->recipe.path, want, vmlinuz, dep);
		plan->kernel_version = g_strdup(want);
		plan->vmlinuz = g_steal_pointer(&vmlinuz);
		return 0;
	}
	d = g_dir_open(BOOT_DIR, 0, &gerr);
	if (!d)
		return hpci_error(ENOENT, "cannot list '" BOOT_DIR "' for a guest kernel: %s",
				  gerr->message);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *dep = NULL;
		const char *version;

		if (!g_str_has_prefix(name, "vmlinuz-"))
			continue;
		version = name + strlen("vmlinuz-");
		dep = g_strdup_printf(MODULES_DIR "/%s/modules.dep", version);
		if (!hpci_is_file(dep))
			continue;
		if (!best || strverscmp(version, best) > 0) {
			g_free(best);
			best = g_strdup(version);
		}
	}
	if (!best)
		return hpci_error(ENOENT, "no guest kernel: need " BOOT_DIR "/vmlinuz-<version> with "
				  MODULES_DIR "/<version>/modules.dep (apt-get install "
				  "linux-image-amd64)");
	plan->vmlinuz = g_strdup_printf(BOOT_DIR "/vmlinuz-%s", best);
	plan->kernel_version = g_steal_pointer(&best);
	return 0;
}

static const char *sbin_tool(const char *name, char **owned)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin" };

	*owned = g_find_program_in_path(name);
	if (*owned)
		return *owned;
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		*owned = g_build_filename(dirs[i], name, NULL);
		if (g_file_test(*owned, G_FILE_TEST_IS_EXECUTABLE))
			return *owned;
		g_clear_pointer(owned, g_free);
	}
	return name;
}

static char *strip_module_suffix(const char *path)
{
	static const char *const suffixes[] = { ".ko.xz", ".ko.zst", ".ko.gz" };

	for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++)
		if (g_str_has_suffix(path, suffixes[i]))
			return g_strndup(path, strlen(path) - strlen(suffixes[i]) + 3);
	return g_strdup(path);
}

/* Modules and their dependencies in load order, as modprobe would insmod
 * them; built-in ones drop out. */
static int resolve_modules(struct hpci_image_plan *plan)
{
	g_autofree char *owned = NULL;
	const char *modprobe = sbin_tool("modprobe", &owned);

	for (guint i = 0; i < plan->recipe.modules->len; i++) {
		const char *mod = plan->recipe.modules->pdata[i];
		g_autoptr(GString) out = g_string_new(NULL);
		g_auto(GStrv) lines = NULL;
		g_auto(hpci_cmd) cmd = { 0 };
		int rc;

		hpci_cmd_init(&cmd, modprobe);
		hpci_cmd_add(&cmd, "--show-depends");
		hpci_cmd_add(&cmd, "-S");
		hpci_cmd_add(&cmd, plan->kernel_version);
		hpci_cmd_add(&cmd, mod);
		cmd.timeout_ms = PROBE_TIMEOUT_MS;
		rc = hpci_cmd_run(&cmd, out, NULL);
		if (rc < 0) {
			hpci_error_prefix("cannot resolve module '%s' of recipe '%s' for kernel '%s'",
					  mod, plan->recipe.name, plan->kernel_version);
			return rc;
		}
		lines = g_strsplit(out->str, "\n", -1);
		for (char **l = lines; *l; l++) {
			g_auto(GStrv) words = NULL;
			g_autofree char *guest = NULL;

			if (!g_str_has_prefix(*l, "insmod "))
				continue; /* "builtin <name>": nothing to load */
			words = g_strsplit(*l + strlen("insmod "), " ", 2);
			guest = strip_module_suffix(words[0]);
			if (has_guest(plan, guest))
				continue;
			if ((rc = add_input(plan, "module", words[0], guest)) < 0)
				return rc;
			g_ptr_array_add(plan->module_order, g_steal_pointer(&guest));
		}
	}
	return 0;
}

/* The shared objects a binary loads, the dynamic loader included, as paths
 * that the loader in the guest will look up. */
static int resolve_libraries(struct hpci_image_plan *plan, const char *binary)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	g_auto(GStrv) lines = NULL;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	hpci_cmd_init(&cmd, "ldd");
	hpci_cmd_add(&cmd, binary);
	cmd.timeout_ms = PROBE_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, out, err);
	if (rc < 0 && (strstr(out->str, "not a dynamic executable") ||
		       strstr(err->str, "not a dynamic executable"))) {
		hpci_error_clear();
		return 0; /* static */
	}
	if (rc < 0) {
		hpci_error_prefix("cannot list the libraries of '%s'", binary);
		return rc;
	}
	lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_autofree char *path = NULL;
		char *line = g_strstrip(*l);
		char *arrow = strstr(line, "=> ");
		char *paren;

		if (!*line || strstr(line, "statically linked"))
			continue;
		if (strstr(line, "not found"))
			return hpci_error(ENOENT, "'%s' needs a library this host lacks: %s", binary,
					  line);
		path = g_strdup(arrow ? arrow + 3 : line);
		if ((paren = strstr(path, " (")))
			*paren = '\0';
		if (path[0] != '/')
			continue; /* linux-vdso.so.1 */
		if (has_guest(plan, path))
			continue;
		if ((rc = add_input(plan, "library", path, path)) < 0)
			return rc;
	}
	return 0;
}

static int busybox_applets(struct hpci_image_plan *plan)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(GStrv) lines = NULL;
	g_auto(hpci_cmd) cmd = { 0 };
	int rc;

	hpci_cmd_init(&cmd, plan->recipe.busybox);
	hpci_cmd_add(&cmd, "--list-full");
	cmd.timeout_ms = PROBE_TIMEOUT_MS;
	rc = hpci_cmd_run(&cmd, out, NULL);
	if (rc < 0) {
		hpci_error_prefix("cannot list the applets of busybox '%s'", plan->recipe.busybox);
		return rc;
	}
	lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++) {
		char *name = g_strstrip(*l);

		if (*name && !strstr(name, ".."))
			g_ptr_array_add(plan->applets, g_strconcat("/", name, NULL));
	}
	if (plan->applets->len == 0)
		return hpci_error(EINVAL, "busybox '%s' lists no applets", plan->recipe.busybox);
	return 0;
}

static int hash_inputs(struct hpci_image_plan *plan, GPtrArray *recipe_files)
{
	g_auto(hpci_hash) h = { 0 };
	int rc;

	hpci_hash_init(&h);
	hpci_hash_str(&h, "format", HPCI_IMAGE_FORMAT);
	for (guint i = 0; i < recipe_files->len; i++) {
		const struct hpci_image_input *in = recipe_files->pdata[i];
		const char *rel = in->host + strlen(plan->recipe.dir) + 1;
		g_autofree char *label = g_strdup_printf("%s %s", rel,
							 in->mode & 0111 ? "exec" : "data");

		hpci_hash_str(&h, "recipe-file", label);
		if ((rc = hpci_hash_file(&h, "recipe-data", in->host)) < 0)
			return rc;
	}
	hpci_hash_str(&h, "kernel-version", plan->kernel_version);
	for (guint i = 0; i < plan->inputs->len; i++) {
		const struct hpci_image_input *in = plan->inputs->pdata[i];
		g_autofree char *label = NULL;

		if (strcmp(in->role, "recipe") == 0)
			continue;
		label = g_strdup_printf("%s %s %04o", in->role, in->guest, in->mode);
		hpci_hash_str(&h, "input", label);
		if ((rc = hpci_hash_file(&h, "input-data", in->host)) < 0)
			return rc;
	}
	for (guint i = 0; i < plan->recipe.kmods->len; i++) {
		const struct hpci_recipe_file *k = plan->recipe.kmods->pdata[i];

		/* The sources are recipe files, hashed above; built against
		 * kernel-version's headers. */
		hpci_hash_str(&h, "kmod", k->guest);
	}
	hpci_hash_str(&h, "cmdline", plan->recipe.cmdline);
	plan->key = hpci_hash_finish(&h);
	return 0;
}

int hpci_image_plan_make(const char *recipe, struct hpci_image_plan *ret)
{
	g_auto(hpci_image_plan) plan = { 0 };
	g_autofree char *dir = hpci_image_recipes_dir();
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) recipe_files = g_ptr_array_new();
	int rc;

	plan.inputs = g_ptr_array_new_with_free_func(hpci_image_input_free);
	plan.module_order = g_ptr_array_new_with_free_func(g_free);
	plan.applets = g_ptr_array_new_with_free_func(g_free);
	if ((rc = hpci_recipe_load(dir, recipe, &plan.recipe)) < 0)
		return rc;

	if ((rc = list_tree(plan.recipe.dir, NULL, names)) < 0)
		return rc;
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(plan.recipe.dir, names->pdata[i], NULL);

		if ((rc = add_input(&plan, "recipe", path, NULL)) < 0)
			return rc;
		g_ptr_array_add(recipe_files, plan.inputs->pdata[plan.inputs->len - 1]);
	}

	if ((rc = find_kernel(&plan)) < 0)
		return rc;
	if ((rc = add_input(&plan, "kernel", plan.vmlinuz, "/hpci/vmlinuz")) < 0 ||
	    (rc = resolve_modules(&plan)) < 0 ||
	    (rc = add_input(&plan, "busybox", plan.recipe.busybox, "/bin/busybox")) < 0 ||
	    (rc = resolve_libraries(&plan, plan.recipe.busybox)) < 0 ||
	    (rc = busybox_applets(&plan)) < 0)
		return rc;
	for (guint i = 0; i < plan.recipe.binaries->len; i++) {
		const char *bin = plan.recipe.binaries->pdata[i];

		if ((rc = add_input(&plan, "binary", bin, bin)) < 0 ||
		    (rc = resolve_libraries(&plan, bin)) < 0)
			return rc;
	}
	for (guint i = 0; i < plan.recipe.files->len; i++) {
		const struct hpci_recipe_file *f = plan.recipe.files->pdata[i];

		if (has_guest(&plan, f->guest))
			return hpci_error(EEXIST, "invalid recipe '%s': '%s' is both a recipe file "
					  "and a binary or library", plan.recipe.path, f->guest);
		if ((rc = add_input(&plan, "file", f->source, f->guest)) < 0)
			return rc;
	}
	for (guint i = 0; i < plan.recipe.kmods->len; i++) {
		const struct hpci_recipe_file *k = plan.recipe.kmods->pdata[i];

		if (has_guest(&plan, k->guest))
			return hpci_error(EEXIST, "invalid recipe '%s': '%s' is both a kernel module "
					  "built from source and another input", plan.recipe.path,
					  k->guest);
	}
	if ((rc = hpci_kmods_check(&plan)) < 0 ||
	    (rc = add_input(&plan, "bootloader", plan.recipe.bootloader,
			    "/EFI/BOOT/BOOTX64.EFI")) < 0 ||
	    (rc = hash_inputs(&plan, recipe_files)) < 0)
		return rc;
	*ret = HPCI_STEAL_STRUCT(plan);
	return 0;
}

/* ---- the disk, through libguestfs --------------------------------------- */

/* The appliance's log, kept for error messages and the entry's build.log. */
struct gfs_log {
	GString *all;
};

static void gfs_event(guestfs_h *g, void *opaque, uint64_t event, int event_handle, int flags,
		      const char *buf, size_t buf_len, const uint64_t *array, size_t array_len)
{
	struct gfs_log *log = opaque;

	g_string_append_len(log->all, buf, buf_len);
	if (buf_len && buf[buf_len - 1] != '\n' && event != GUESTFS_EVENT_APPLIANCE)
		g_string_append_c(log->all, '\n');
}

/* The last lines of the log, about 1 KiB of them. */
static char *log_tail(const struct gfs_log *log)
{
	const char *s = log->all->str;
	gsize len = log->all->len;

	if (len > 1200) {
		const char *nl;

		s += len - 1200;
		if ((nl = strchr(s, '\n')))
			s = nl + 1;
	}
	return g_strdup(s);
}

char *hpci_gfs_message(const char *last_error)
{
	const char *nl;

	if (!last_error || !*last_error)
		return g_strdup("no error message from libguestfs");
	nl = strchr(last_error, '\n');
	return nl ? g_strndup(last_error, nl - last_error) : g_strdup(last_error);
}

/* Translates a libguestfs failure into the project's error record. */
static int gfs_fail(guestfs_h *g, const struct gfs_log *log, const char *what,
		    const char *recipe)
{
	g_autofree char *detail = hpci_gfs_message(guestfs_last_error(g));
	g_autofree char *tail = log ? log_tail(log) : NULL;

	return hpci_error(EIO, "libguestfs: %s for image '%s' failed: %s%s%s", what, recipe,
			  detail, tail && *tail ? "\nappliance log (end):\n" : "", tail ? tail : "");
}

static char *loader_conf(const struct hpci_image_plan *plan)
{
	return g_strdup_printf("timeout 0\n"
			       "default hpci-%s.conf\n"
			       "editor no\n"
			       "auto-entries no\n"
			       "auto-firmware no\n",
			       plan->recipe.name);
}

static char *loader_entry(const struct hpci_image_plan *plan)
{
	return g_strdup_printf("title hotplug-ci %s\n"
			       "version %s\n"
			       "linux /hpci/vmlinuz\n"
			       "initrd /hpci/" HPCI_IMAGE_INITRAMFS "\n"
			       "options %s\n",
			       plan->recipe.name, plan->kernel_version, plan->recipe.cmdline);
}

static int write_text(guestfs_h *g, const struct gfs_log *log, const char *recipe,
		      const char *path, const char *text)
{
	if (guestfs_write(g, path, text, strlen(text)) < 0) {
		g_autofree char *what = g_strdup_printf("writing '%s'", path);

		return gfs_fail(g, log, what, recipe);
	}
	return 0;
}

static char *gfs_version(guestfs_h *g)
{
	struct guestfs_version *v = guestfs_version(g);
	char *s;

	if (!v)
		return g_strdup("unknown");
	s = g_strdup_printf("%" PRIi64 ".%" PRIi64 ".%" PRIi64 "%s", v->major, v->minor,
			    v->release, v->extra);
	guestfs_free_version(v);
	return s;
}

/* The boot loader among the plan's inputs. */
static const struct hpci_image_input *find_bootloader(const struct hpci_image_plan *plan)
{
	for (guint i = 0; i < plan->inputs->len; i++) {
		const struct hpci_image_input *in = plan->inputs->pdata[i];

		if (strcmp(in->role, "bootloader") == 0)
			return in;
	}
	return NULL;
}

static int make_disk(const struct hpci_image_plan *plan, const char *disk,
		     const char *initramfs, const char *log_path, char **ret_version)
{
	/* Declared before the handle, so the handle, whose appliance may still
	 * log while it shuts down, is closed first. */
	g_autoptr(GString) log_all = g_string_new(NULL);
	struct gfs_log log = { log_all };
	g_autofree char *conf = loader_conf(plan);
	g_autofree char *entry = loader_entry(plan);
	g_autofree char *entry_path = g_strdup_printf("/loader/entries/hpci-%s.conf",
						      plan->recipe.name);
	const struct hpci_image_input *bootloader = find_bootloader(plan);
	const char *name = plan->recipe.name;
	g_auto(GStrv) devices = NULL;
	g_auto(GStrv) parts = NULL;
	g_autoptr(guestfs_h) g = guestfs_create();
	int rc;

	if (!g)
		return hpci_error(EIO, "cannot create a libguestfs handle");
	/* Report each failure once, through hpci_error, not on stderr too. */
	guestfs_set_error_handler(g, NULL, NULL);
	if (guestfs_set_event_callback(g, gfs_event,
				       GUESTFS_EVENT_APPLIANCE | GUESTFS_EVENT_LIBRARY |
					       GUESTFS_EVENT_WARNING,
				       0, &log) < 0 ||
	    guestfs_set_verbose(g, 1) < 0)
		return gfs_fail(g, NULL, "setting up the handle", name);
	/* KVM exists here but the appliance hangs with it for 10 minutes.  The
	 * value must parse as a boolean: with "" the launch fails with no
	 * error message at all (libguestfs 1.48). */
	if (guestfs_set_backend_setting(g, "force_tcg", "1") < 0)
		return gfs_fail(g, NULL, "forcing TCG", name);
	*ret_version = gfs_version(g);
	if (guestfs_disk_create(g, disk, "qcow2", (int64_t)plan->recipe.disk_mib << 20, -1) < 0)
		return gfs_fail(g, NULL, "creating the disk", name);
	if (guestfs_add_drive_opts(g, disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) < 0)
		return gfs_fail(g, NULL, "adding the disk", name);
	hpci_info("image %s: launching libguestfs appliance (TCG, ~30 s)", name);
	if (guestfs_launch(g) < 0)
		return gfs_fail(g, &log, "launching the appliance", name);
	hpci_info("image %s: writing the EFI system partition", name);
	devices = guestfs_list_devices(g);
	if (!devices || !devices[0])
		return gfs_fail(g, &log, "listing devices", name);
	if (guestfs_part_disk(g, devices[0], "gpt") < 0 ||
	    guestfs_part_set_gpt_type(g, devices[0], 1, HPCI_ESP_TYPE_GUID) < 0 ||
	    guestfs_part_set_name(g, devices[0], 1, "EFI system partition") < 0)
		return gfs_fail(g, &log, "partitioning", name);
	parts = guestfs_list_partitions(g);
	if (!parts || !parts[0])
		return gfs_fail(g, &log, "listing partitions", name);
	if (guestfs_mkfs_opts(g, "vfat", parts[0], GUESTFS_MKFS_OPTS_LABEL, "HPCI-ESP", -1) < 0 ||
	    guestfs_mount(g, parts[0], "/") < 0)
		return gfs_fail(g, &log, "making the vfat file system", name);
	if (guestfs_mkdir_p(g, "/EFI/BOOT") < 0 || guestfs_mkdir_p(g, "/loader/entries") < 0 ||
	    guestfs_mkdir_p(g, "/hpci") < 0)
		return gfs_fail(g, &log, "making directories", name);
	if (guestfs_upload(g, bootloader->host, bootloader->guest) < 0 ||
	    guestfs_upload(g, plan->vmlinuz, "/hpci/vmlinuz") < 0 ||
	    guestfs_upload(g, initramfs, "/hpci/" HPCI_IMAGE_INITRAMFS) < 0)
		return gfs_fail(g, &log, "uploading the boot files", name);
	if ((rc = write_text(g, &log, name, "/loader/loader.conf", conf)) < 0 ||
	    (rc = write_text(g, &log, name, entry_path, entry)) < 0)
		return rc;
	if (guestfs_umount_all(g) < 0 || guestfs_shutdown(g) < 0)
		return gfs_fail(g, &log, "finishing the disk", name);
	return hpci_write_file(log_path, log.all->str, log.all->len);
}

/* ---- the cache entry ---------------------------------------------------- */

static int write_manifest(const struct hpci_image_plan *plan, const char *dir,
			  const char *initramfs, const char *gfs_ver, gint64 build_ms)
{
	g_autofree char *path = g_build_filename(dir, HPCI_IMAGE_MANIFEST, NULL);
	g_autofree char *initramfs_sha = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	g_autoptr(json_object) root = json_object_new_object();
	g_autoptr(json_object) inputs = json_object_new_array();
	json_object *order;
	struct stat st;
	int rc;

	json_object_object_add(root, "format", json_object_new_string(HPCI_IMAGE_FORMAT));
	json_object_object_add(root, "recipe", json_object_new_string(plan->recipe.name));
	json_object_object_add(root, "key", json_object_new_string(plan->key));
	json_object_object_add(root, "kernel_version",
			       json_object_new_string(plan->kernel_version));
	json_object_object_add(root, "cmdline", json_object_new_string(plan->recipe.cmdline));
	json_object_object_add(root, "disk", json_object_new_string(HPCI_IMAGE_DISK));
	json_object_object_add(root, "disk_mib", json_object_new_int(plan->recipe.disk_mib));
	json_object_object_add(root, "initramfs", json_object_new_string(HPCI_IMAGE_INITRAMFS));
	json_object_object_add(root, "initramfs_compression",
			       json_object_new_string(hpci_compression_name(plan->recipe.compression)));
	if ((rc = hpci_sha256_file(initramfs, &initramfs_sha)) < 0)
		return rc;
	json_object_object_add(root, "initramfs_sha256", json_object_new_string(initramfs_sha));
	if (stat(initramfs, &st) == 0)
		json_object_object_add(root, "initramfs_bytes", json_object_new_int64(st.st_size));
	order = json_object_new_array();
	for (guint i = 0; i < plan->module_order->len; i++)
		json_object_array_add(order, json_object_new_string(plan->module_order->pdata[i]));
	json_object_object_add(root, "modules_load_order", order);
	for (guint i = 0; i < plan->inputs->len; i++) {
		const struct hpci_image_input *in = plan->inputs->pdata[i];
		json_object *o = json_object_new_object();
		g_autofree char *sha = NULL;

		json_object_array_add(inputs, o);
		json_object_object_add(o, "role", json_object_new_string(in->role));
		json_object_object_add(o, "host", json_object_new_string(in->host));
		if (in->guest)
			json_object_object_add(o, "guest", json_object_new_string(in->guest));
		if ((rc = hpci_sha256_file(in->host, &sha)) < 0)
			return rc;
		json_object_object_add(o, "sha256", json_object_new_string(sha));
	}
	json_object_object_add(root, "inputs", g_steal_pointer(&inputs));
	json_object_object_add(root, "build_ms", json_object_new_int64(build_ms));
	json_object_object_add(root, "libguestfs_version", json_object_new_string(gfs_ver));
	json_object_object_add(root, "built_at", json_object_new_string(stamp));
	json_object_object_add(root, "builder", json_object_new_string("hotplug-ci " HPCI_VERSION));
	return hpci_write_file(path, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE),
			       -1);
}

static int build_entry(const struct hpci_image_plan *plan, const char *dir, gint64 start_us)
{
	g_autofree char *initramfs = g_build_filename(dir, HPCI_IMAGE_INITRAMFS, NULL);
	g_autofree char *disk = g_build_filename(dir, HPCI_IMAGE_DISK, NULL);
	g_autofree char *log = g_build_filename(dir, "build.log", NULL);
	g_autofree char *kmod_log = g_build_filename(dir, "kmods.log", NULL);
	g_autoptr(GPtrArray) built = g_ptr_array_new_with_free_func(hpci_image_input_free);
	g_autofree char *version = NULL;
	int rc;

	if ((rc = hpci_kmods_build(plan, dir, kmod_log, built)) < 0)
		return rc;
	hpci_info("image %s: building initramfs (kernel %s, %u modules, %s)", plan->recipe.name,
		  plan->kernel_version, plan->module_order->len,
		  hpci_compression_name(plan->recipe.compression));
	if ((rc = hpci_initramfs_write(plan, built, initramfs)) < 0) {
		hpci_error_prefix("cannot build the initramfs of image '%s'", plan->recipe.name);
		return rc;
	}
	if ((rc = make_disk(plan, disk, initramfs, log, &version)) < 0)
		return rc;
	/* The base image is shared by every overlay: nothing may write it. */
	if (chmod(disk, 0444) < 0)
		return hpci_error_errno(errno, "cannot make '%s' read-only", disk);
	return write_manifest(plan, dir, initramfs, version,
			      (g_get_monotonic_time() - start_us) / 1000);
}

static int fill_image(const struct hpci_image_plan *plan, const char *dir, bool hit,
		      struct hpci_image *ret)
{
	g_autofree char *abs = g_canonicalize_filename(dir, NULL);
	g_autofree char *disk = g_build_filename(abs, HPCI_IMAGE_DISK, NULL);

	if (!hpci_is_file(disk))
		return hpci_error(ENOENT, "cache entry '%s' has no " HPCI_IMAGE_DISK
				  "; remove the directory to rebuild it", abs);
	memset(ret, 0, sizeof(*ret));
	ret->recipe = g_strdup(plan->recipe.name);
	ret->key = g_strdup(plan->key);
	ret->path = g_steal_pointer(&disk);
	ret->manifest = g_build_filename(abs, HPCI_IMAGE_MANIFEST, NULL);
	ret->kernel_version = g_strdup(plan->kernel_version);
	ret->cache_hit = hit;
	return 0;
}

int hpci_image_build(const char *recipe, struct hpci_image *ret)
{
	g_auto(hpci_image_plan) plan = { 0 };
	g_auto(hpci_cache_txn) txn = HPCI_CACHE_TXN_INIT;
	gint64 start = g_get_monotonic_time();
	int rc;

	if ((rc = hpci_image_plan_make(recipe, &plan)) < 0)
		return rc;
	rc = hpci_cache_begin("images", plan.key, &txn);
	if (rc == 1)
		return fill_image(&plan, txn.final_dir, true, ret);
	if (rc < 0)
		return rc;
	if ((rc = build_entry(&plan, txn.work_dir, start)) < 0 ||
	    (rc = hpci_cache_commit(&txn)) < 0 ||
	    (rc = fill_image(&plan, txn.final_dir, false, ret)) < 0)
		return rc;
	hpci_info("image %s: built in %.1f s", recipe, (g_get_monotonic_time() - start) / 1e6);
	return 0;
}

void hpci_image_release(struct hpci_image *image)
{
	if (!image)
		return;
	g_free(image->recipe);
	g_free(image->key);
	g_free(image->path);
	g_free(image->manifest);
	g_free(image->kernel_version);
	memset(image, 0, sizeof(*image));
}
