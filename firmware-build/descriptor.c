/* SPDX-License-Identifier: MIT */
/* Firmware descriptors (docs/interop/firmware.json): written by a build,
 * read for a matrix (firmware-build/descriptor.h). */
#include "descriptor.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "manifest.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>

/* A descriptor's x86_64 target must list a glob matching this. */
#define DESCRIPTOR_MACHINE "pc-q35-7.2"
#define FORMAT_FIX "give a descriptor in the format of QEMU's docs/interop/firmware.json"

/* Where QEMU looks up a firmware descriptor by file name, first match wins
 * (docs/interop/firmware.json; the per-user directory is left out, as a CI
 * run must not depend on who runs it). */
static const char *const descriptor_dirs[] = {
	"/etc/qemu/firmware", "/usr/share/qemu/firmware", NULL
};

void hpci_firmware_descriptor_release(struct hpci_firmware_descriptor *d)
{
	if (!d)
		return;
	g_free(d->path);
	g_free(d->code);
	g_free(d->vars);
	memset(d, 0, sizeof(*d));
}

typedef struct hpci_firmware_descriptor hpci_firmware_descriptor;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_firmware_descriptor, hpci_firmware_descriptor_release)

/* ---- writing -------------------------------------------------------------- */

static json_object *flash_file_json(const char *path)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "filename", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string("raw"));
	return o;
}

static json_object *one_string(const char *s)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string(s));
	return a;
}

int hpci_firmware_descriptor_write(const char *path, const struct hpci_firmware_descriptor *d,
				   const char *description, bool secure_boot)
{
	g_autoptr(json_object) root = json_object_new_object();
	json_object *mapping = json_object_new_object();
	json_object *target = json_object_new_object();
	json_object *targets = json_object_new_array();
	json_object *features = json_object_new_array();

	json_object_object_add(root, "description", json_object_new_string(description));
	json_object_object_add(root, "interface-types", one_string("uefi"));
	json_object_object_add(mapping, "device", json_object_new_string("flash"));
	json_object_object_add(mapping, "mode", json_object_new_string("split"));
	json_object_object_add(mapping, "executable", flash_file_json(d->code));
	json_object_object_add(mapping, "nvram-template", flash_file_json(d->vars));
	json_object_object_add(root, "mapping", mapping);
	json_object_object_add(target, "architecture", json_object_new_string("x86_64"));
	json_object_object_add(target, "machines", one_string("pc-q35-*"));
	json_object_array_add(targets, target);
	json_object_object_add(root, "targets", targets);
	json_object_array_add(features, json_object_new_string("acpi-s3"));
	if (d->smm)
		json_object_array_add(features, json_object_new_string("requires-smm"));
	if (secure_boot)
		json_object_array_add(features, json_object_new_string("secure-boot"));
	if (d->verbose)
		json_object_array_add(features, json_object_new_string("verbose-static"));
	json_object_object_add(root, "features", features);
	json_object_object_add(root, "tags", json_object_new_array());
	return hpci_json_write_file(path, root);
}

/* ---- reading -------------------------------------------------------------- */

static int descriptor_fail(const char *file, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int descriptor_fail(const char *file, const char *fmt, ...)
{
	g_autofree char *problem = NULL;
	va_list ap;

	va_start(ap, fmt);
	problem = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "firmware descriptor '%s' %s", file,
			       problem);
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The descriptor file names in QEMU's directories, for "no such descriptor". */
static char *system_descriptors(void)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) s = g_string_new(NULL);

	for (const char *const *d = descriptor_dirs; *d; d++) {
		g_autoptr(GDir) dir = g_dir_open(*d, 0, NULL);
		const char *name;

		while (dir && (name = g_dir_read_name(dir))) {
			bool dup = false;

			if (!g_str_has_suffix(name, ".json"))
				continue;
			for (guint i = 0; i < names->len && !dup; i++)
				dup = strcmp(g_ptr_array_index(names, i), name) == 0;
			if (!dup)
				g_ptr_array_add(names, g_strdup(name));
		}
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "",
				       (const char *)g_ptr_array_index(names, i));
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* In the first of descriptor_dirs that has it: an empty file in
 * /etc/qemu/firmware hides the one in /usr/share, and then fails as invalid
 * JSON. */
static int find_descriptor(const char *name, const char *relative_to, char **ret)
{
	g_autofree char *dirs = NULL, *known = NULL;

	if (!*name)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "empty descriptor name; give a "
				       "file name from /usr/share/qemu/firmware or a path");
	if (strchr(name, '/')) {
		*ret = g_canonicalize_filename(name, relative_to);
		return 0;
	}
	for (const char *const *d = descriptor_dirs; *d; d++) {
		g_autofree char *candidate = g_build_filename(*d, name, NULL);

		if (hpci_is_file(candidate)) {
			*ret = g_steal_pointer(&candidate);
			return 0;
		}
	}
	dirs = g_strjoinv(" or ", (char **)descriptor_dirs);
	known = system_descriptors();
	if (!*known)
		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "no firmware descriptor '%s' in "
				       "%s, which have none; install OVMF (apt-get install "
				       "ovmf) or give the path of a descriptor", name, dirs);
	return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "no firmware descriptor '%s' in %s; use "
			       "one of %s, or give the path of a descriptor", name, dirs, known);
}

/* One of mapping.executable / mapping.nvram-template: a raw image's absolute path. */
static int descriptor_image(const char *file, json_object *mapping, const char *key,
			    const char *fix, char **ret)
{
	json_object *image = hpci_json_member(mapping, key);
	const char *filename = hpci_json_member_string(image, "filename");
	const char *format = hpci_json_member_string(image, "format");

	if (!filename)
		return descriptor_fail(file, "has no mapping.%s.filename; %s", key, fix);
	if (!g_path_is_absolute(filename))
		return descriptor_fail(file, "has mapping.%s.filename '%s', which is not an "
				       "absolute path; fix the descriptor", key, filename);
	/* The domain's <loader>/<nvram> take raw images. */
	if (format && strcmp(format, "raw") != 0)
		return descriptor_fail(file, "has mapping.%s.format '%s'; hotplug-ci attaches "
				       "raw flash images, use a descriptor for raw ones", key,
				       format);
	*ret = g_strdup(filename);
	return 0;
}

/* Some x86_64 target must list a machine glob that matches a q35 machine. */
static int descriptor_targets(const char *file, json_object *root)
{
	json_object *targets = hpci_json_member(root, "targets");
	g_autoptr(GString) archs = g_string_new(NULL);
	g_autoptr(GString) machines = g_string_new(NULL);
	bool x86 = false;

	for (size_t i = 0; json_object_is_type(targets, json_type_array) &&
			   i < json_object_array_length(targets); i++) {
		json_object *target = json_object_array_get_idx(targets, i);
		json_object *globs = hpci_json_member(target, "machines");
		const char *arch = hpci_json_member_string(target, "architecture");

		if (!arch)
			continue;
		if (strcmp(arch, "x86_64") != 0) {
			g_string_append_printf(archs, "%s%s", archs->len ? ", " : "", arch);
			continue;
		}
		x86 = true;
		for (size_t j = 0; json_object_is_type(globs, json_type_array) &&
				   j < json_object_array_length(globs); j++) {
			json_object *glob = json_object_array_get_idx(globs, j);

			if (!json_object_is_type(glob, json_type_string))
				continue;
			if (fnmatch(json_object_get_string(glob), DESCRIPTOR_MACHINE, 0) == 0)
				return 0;
			g_string_append_printf(machines, "%s%s", machines->len ? ", " : "",
					       json_object_get_string(glob));
		}
	}
	if (!x86)
		return descriptor_fail(file, "has no x86_64 target (%s%s); hotplug-ci runs "
				       "x86_64 guests, use an x86_64 OVMF descriptor",
				       archs->len ? "it is for " : "no targets",
				       archs->len ? archs->str : "");
	return descriptor_fail(file, "has no x86_64 machine pattern matching pc-q35-* (%s%s); "
			       "hotplug-ci needs a q35 machine, use a descriptor whose x86_64 "
			       "target lists pc-q35-*",
			       machines->len ? "it lists " : "it lists none", machines->str);
}

/* The file's bytes as a JSON object, in the descriptor's own words. */
static int read_descriptor_json(const char *file, json_object **ret)
{
	g_autofree char *data = NULL;
	g_autoptr(json_object) root = NULL;
	const char *problem = NULL;
	size_t line = 0;
	gsize len = 0;
	int rc;

	rc = hpci_json_read_bytes(file, HPCI_JSON_MAX_BYTES, &data, &len);
	if (rc == -EFBIG)
		return descriptor_fail(file, "has %" G_GSIZE_FORMAT " bytes, more than the %u a "
				       "descriptor may have; give a real descriptor", len,
				       HPCI_JSON_MAX_BYTES);
	if (rc < 0) {
		g_autofree char *why = g_strdup(hpci_error_message());

		return hpci_error_kind(HPCI_ERR_INPUT, EINVAL, "%s; give the name or path of a "
				       "firmware descriptor", why);
	}
	rc = hpci_json_parse_strict(data, len, &root, &line, &problem);
	if (rc == -EINVAL)
		return descriptor_fail(file, "is not valid JSON (near line %zu: %s); " FORMAT_FIX,
				       line, problem);
	if (rc < 0)
		return rc;
	if (!json_object_is_type(root, json_type_object))
		return descriptor_fail(file, "holds %s, not a JSON object; " FORMAT_FIX,
				       json_type_to_name(json_object_get_type(root)));
	*ret = g_steal_pointer(&root);
	return 0;
}

int hpci_firmware_descriptor_read(const char *name, const char *relative_to,
				  struct hpci_firmware_descriptor *ret)
{
	g_auto(hpci_firmware_descriptor) d = { 0 };
	g_autoptr(json_object) root = NULL;
	json_object *mapping, *features;
	const char *device, *mode;
	int rc;

	if ((rc = find_descriptor(name, relative_to, &d.path)) < 0 ||
	    (rc = read_descriptor_json(d.path, &root)) < 0)
		return rc;
	if (!hpci_json_array_has_string(hpci_json_member(root, "interface-types"), "uefi"))
		return descriptor_fail(d.path, "has no \"uefi\" in interface-types; hotplug-ci "
				       "boots UEFI firmware (OVMF)");
	mapping = hpci_json_member(root, "mapping");
	if (!json_object_is_type(mapping, json_type_object))
		return descriptor_fail(d.path, "has no mapping object; " FORMAT_FIX);
	device = hpci_json_member_string(mapping, "device");
	if (!device || strcmp(device, "flash") != 0)
		return descriptor_fail(d.path, "has mapping.device '%s', not 'flash'; "
				       "hotplug-ci needs split flash (CODE + VARS)",
				       device ? device : "(none)");
	mode = hpci_json_member_string(mapping, "mode");
	if (mode && strcmp(mode, "split") != 0)
		return descriptor_fail(d.path, "has mapping.mode '%s'; hotplug-ci needs split "
				       "flash (CODE + VARS)", mode);
	if ((rc = descriptor_image(d.path, mapping, "executable",
				   "a flash descriptor must name its CODE image", &d.code)) < 0 ||
	    (rc = descriptor_image(d.path, mapping, "nvram-template",
				   "hotplug-ci needs split flash (CODE + VARS)", &d.vars)) < 0 ||
	    (rc = descriptor_targets(d.path, root)) < 0)
		return rc;
	features = hpci_json_member(root, "features");
	d.smm = hpci_json_array_has_string(features, "requires-smm");
	d.verbose = hpci_json_array_has_string(features, "verbose-static");
	*ret = d;
	memset(&d, 0, sizeof(d));
	return 0;
}
