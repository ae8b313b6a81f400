/* SPDX-License-Identifier: MIT */
/*
 * Kernel modules the image builds from source (recipe key "kmods"), against
 * the headers of the image's own kernel, so that a module always matches the
 * kernel it is loaded into.  The sources are recipe files and the kernel
 * version is part of the key (image.c), so the cache keeps the build.
 */
#include "image-private.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <string.h>

#define KMOD_TIMEOUT_MS (10 * 60 * 1000)

static char *headers_dir(const struct hpci_image_plan *plan)
{
	return g_strdup_printf("/lib/modules/%s/build", plan->kernel_version);
}

int hpci_kmods_check(const struct hpci_image_plan *plan)
{
	g_autofree char *build = headers_dir(plan);
	g_autofree char *makefile = g_build_filename(build, "Makefile", NULL);

	if (plan->recipe.kmods->len == 0 || hpci_is_file(makefile))
		return 0;
	return hpci_error_kind(HPCI_ERR_HOST, ENOENT,
			       "recipe '%s' builds kernel modules, but the headers of its kernel %s "
			       "are not installed ('%s' is missing); install them with 'apt-get "
			       "install linux-headers-%s' (ci/install-deps does)", plan->recipe.path,
			       plan->kernel_version, makefile, plan->kernel_version);
}

/* A flat copy of the module's source directory: kbuild writes next to it. */
static int copy_sources(const char *src, const char *dst)
{
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GDir) d = g_dir_open(src, 0, &gerr);
	const char *name;
	int rc;

	if (!d)
		return hpci_error(EIO, "cannot list '%s': %s", src, gerr->message);
	if ((rc = hpci_mkdir_p(dst, 0755)) < 0)
		return rc;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *from = g_build_filename(src, name, NULL);
		g_autofree char *to = g_build_filename(dst, name, NULL);

		if (!hpci_is_file(from))
			return hpci_error(EINVAL, "kernel module source '%s' holds '%s', which is "
					  "not a file; keep a module's sources in one directory",
					  src, name);
		if ((rc = hpci_copy_file(from, to, 0644)) < 0)
			return rc;
	}
	return 0;
}

static int build_one(const struct hpci_image_plan *plan, const struct hpci_recipe_file *k,
		     const char *work_dir, const char *log_path, GPtrArray *built)
{
	g_autofree char *base = g_path_get_basename(k->guest);
	g_autofree char *name = g_strndup(base, strlen(base) - strlen(".ko"));
	g_autofree char *dir = g_strdup_printf("%s/kmod-%s", work_dir, name);
	g_autofree char *ko = g_build_filename(dir, base, NULL);
	g_autofree char *build = headers_dir(plan);
	g_auto(hpci_cmd) cmd = { 0 };
	struct hpci_image_input *in;
	int rc;

	if ((rc = copy_sources(k->source, dir)) < 0)
		return rc;
	hpci_info("image %s: building kernel module %s against %s", plan->recipe.name, base,
		  plan->kernel_version);
	hpci_cmd_init(&cmd, "make");
	hpci_cmd_addl(&cmd, "-C", build, NULL);
	hpci_cmd_addf(&cmd, "M=%s", dir);
	hpci_cmd_add(&cmd, "modules");
	cmd.log_path = g_strdup(log_path);
	cmd.timeout_ms = KMOD_TIMEOUT_MS;
	if ((rc = hpci_cmd_run(&cmd, NULL, NULL)) < 0) {
		hpci_error_prefix("cannot build kernel module '%s' of recipe '%s' (log: %s)",
				  k->guest, plan->recipe.path, log_path);
		return rc;
	}
	if (!hpci_is_file(ko))
		return hpci_error(ENOENT, "building kernel module '%s' of recipe '%s' made no '%s'; "
				  "its Kbuild must build %s (log: %s)", k->guest, plan->recipe.path,
				  ko, base, log_path);
	in = g_new0(struct hpci_image_input, 1);
	in->role = g_strdup("kmod");
	in->host = g_steal_pointer(&ko);
	in->guest = g_strdup(k->guest);
	in->mode = 0644;
	g_ptr_array_add(built, in);
	return 0;
}

int hpci_kmods_build(const struct hpci_image_plan *plan, const char *work_dir,
		     const char *log_path, GPtrArray *built)
{
	int rc;

	for (guint i = 0; i < plan->recipe.kmods->len; i++)
		if ((rc = build_one(plan, plan->recipe.kmods->pdata[i], work_dir, log_path,
				    built)) < 0)
			return rc;
	return 0;
}
