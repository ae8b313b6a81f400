/* SPDX-License-Identifier: MIT */
/*
 * The firmware axis (flash images, a firmware descriptor or an OVMF build
 * recipe) and the qemu axis (an emulator or a QEMU build recipe).  A recipe
 * is checked by its builder before anything is built; the builder names
 * the field it rejected and the message names its JSON path.
 */
#include "matrix-private.h"
#include "descriptor.h"
#include "error.h"

#include <errno.h>
#include <string.h>

/* The firmware axis's three forms, and all their keys together. */
static const char *const firmware_keys[] = {
	"code", "vars", "smm", "verbose", "descriptor", "build", NULL
};
static const char *const firmware_image_keys[] = { "code", "vars", "smm", "verbose", NULL };
static const char *const firmware_descriptor_keys[] = { "descriptor", NULL };
static const char *const firmware_recipe_keys[] = { "build", NULL };
static const char *const firmware_build_keys[] = {
	"source", "rev", "sha256", "patches", "build_type", "defines", "pcds", NULL
};
static const char *const qemu_keys[] = { "emulator", "build", NULL };
static const char *const qemu_build_keys[] = { "source", "rev", "sha256", "patches", "configure",
					       NULL };

/* What a build recipe (qemu or firmware) builds from: "source", and the
 * optional "rev", "sha256" and "patches" (relative to the matrix file). */
static int parse_recipe_source(const struct matrix_parser *p, const char *path, json_object *spec,
			       struct hpci_build_source *src)
{
	const char *s = NULL;
	int rc;

	if ((rc = hpci_json_req_string(p->file, path, spec, "source", &s)) < 0)
		return rc;
	src->source = g_strdup(s);
	if ((rc = hpci_json_opt_string(p->file, path, spec, "rev", &s)) < 0)
		return rc;
	src->rev = rc ? g_strdup(s) : NULL;
	if ((rc = hpci_json_opt_string(p->file, path, spec, "sha256", &s)) < 0)
		return rc;
	src->sha256 = rc ? g_strdup(s) : NULL;
	if ((rc = hpci_json_opt_string(p->file, path, spec, "patches", &s)) < 0)
		return rc;
	src->patches = rc ? matrix_resolve_relative(p, s) : NULL;
	return 0;
}

/* ---- firmware ----------------------------------------------------------- */

/* { "code", "vars", "smm", "verbose" }: images given as they are. */
static int parse_firmware_images(const struct matrix_parser *p, const char *path,
				 json_object *spec, struct hpci_firmware *fw)
{
	int rc;

	if ((rc = hpci_json_req_abs_path(p->file, path, spec, "code", &fw->code)) < 0 ||
	    (rc = hpci_json_req_abs_path(p->file, path, spec, "vars", &fw->vars)) < 0 ||
	    (rc = hpci_json_req_bool(p->file, path, spec, "smm", &fw->smm)) < 0 ||
	    (rc = hpci_json_opt_bool(p->file, path, spec, "verbose", &fw->verbose)) < 0)
		return rc;
	return 0;
}

/* { "descriptor": NAME-or-PATH }: a firmware descriptor in the format of
 * QEMU's docs/interop/firmware.json, read now. */
static int parse_firmware_descriptor(const struct matrix_parser *p, const char *path,
				     json_object *spec, struct hpci_firmware *fw)
{
	g_autofree char *dpath = hpci_json_path_key(path, "descriptor");
	g_autofree char *dir = matrix_dir(p);
	struct hpci_firmware_descriptor d = { 0 };
	const char *name;
	int rc;

	if ((rc = hpci_json_req_string(p->file, path, spec, "descriptor", &name)) < 0)
		return rc;
	if ((rc = hpci_firmware_descriptor_read(name, dir, &d)) < 0) {
		hpci_error_prefix("%s: %s", p->file, dpath);
		return rc;
	}
	fw->code = g_steal_pointer(&d.code);
	fw->vars = g_steal_pointer(&d.vars);
	fw->descriptor = g_steal_pointer(&d.path);
	fw->smm = d.smm;
	fw->verbose = d.verbose;
	return 0;
}

/* The JSON path of the request member a builder's check rejected. */
static char *check_where(const char *path, const char *field, guint index)
{
	g_autofree char *fpath = NULL;

	if (strcmp(field, "source") == 0 || strcmp(field, "patches") == 0)
		return g_strdup(path);
	fpath = hpci_json_path_key(path, field);
	if (strcmp(field, "build_type") == 0)
		return g_steal_pointer(&fpath);
	return hpci_json_path_index(fpath, index);
}

/* { "build": {...} }: an OVMF firmware-build/ builds; the run fills in the
 * images. */
static int parse_firmware_build(const struct matrix_parser *p, const char *path,
				json_object *spec, struct hpci_firmware *fw)
{
	struct hpci_firmware_request *r;
	const char *s = NULL, *field;
	guint index;
	int rc;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, firmware_build_keys)) < 0)
		return rc;
	r = fw->recipe = g_new0(struct hpci_firmware_request, 1);
	if ((rc = parse_recipe_source(p, path, spec, &r->src)) < 0)
		return rc;
	if ((rc = hpci_json_opt_string(p->file, path, spec, "build_type", &s)) < 0)
		return rc;
	r->build_type = g_strdup(rc ? s : "DEBUG");
	if ((rc = hpci_json_opt_string_list(p->file, path, spec, "defines", &r->defines)) < 0 ||
	    (rc = hpci_json_opt_string_list(p->file, path, spec, "pcds", &r->pcds)) < 0)
		return rc;
	/* The source's form, the build type, -D and PCD syntax and the patch
	 * queue, before anything is built. */
	if (hpci_firmware_check_field(r, &field, &index) < 0) {
		g_autofree char *why = g_strdup(hpci_error_message());
		g_autofree char *where = check_where(path, field, index);

		return hpci_json_fail(p->file, where, "%s", why);
	}
	fw->smm = hpci_firmware_request_smm(r);
	fw->verbose = strcmp(r->build_type, "RELEASE") != 0;
	return 0;
}

/* The first key of `obj` that is in `keys`, or NULL. */
static const char *first_key(json_object *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		if (json_object_object_get_ex(obj, *keys, NULL))
			return *keys;
	}
	return NULL;
}

#define FIRMWARE_FORMS "\"code\" + \"vars\" + \"smm\" (flash images, optional \"verbose\"), " \
	"\"descriptor\" (a QEMU firmware descriptor) or \"build\" (a recipe firmware-build/ builds)"

/* Exactly one of three forms: images, descriptor, build recipe. */
int matrix_parse_firmware(const struct matrix_parser *p, const char *path, json_object *spec,
			  struct axis_value *v)
{
	static const char *const *const form_keys[] = {
		firmware_image_keys, firmware_descriptor_keys, firmware_recipe_keys,
	};
	const char *found[G_N_ELEMENTS(form_keys)];
	int rc, forms = 0, form = -1;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0)
		return rc;
	for (size_t f = 0; f < G_N_ELEMENTS(form_keys); f++) {
		if ((found[f] = first_key(spec, form_keys[f]))) {
			forms++;
			if (form < 0)
				form = (int)f;
		}
	}
	if (forms > 1) {
		const char *second = NULL;

		for (size_t f = (size_t)form + 1; !second && f < G_N_ELEMENTS(form_keys); f++)
			second = found[f];
		return hpci_json_fail(p->file, path, "'%s' and '%s' belong to different forms; "
				      "give exactly one of " FIRMWARE_FORMS, found[form], second);
	}
	if ((rc = hpci_json_keys(p->file, path, spec,
				 form < 0 ? firmware_keys : form_keys[form])) < 0)
		return rc;
	switch (form) {
	case 0:
		return parse_firmware_images(p, path, spec, &v->firmware);
	case 1:
		return parse_firmware_descriptor(p, path, spec, &v->firmware);
	case 2: {
		g_autofree char *bpath = hpci_json_path_key(path, "build");
		json_object *build = NULL;

		json_object_object_get_ex(spec, "build", &build);
		return parse_firmware_build(p, bpath, build, &v->firmware);
	}
	default:
		return hpci_json_fail(p->file, path, "no firmware given; give exactly one of "
				      FIRMWARE_FORMS);
	}
}

static int parse_qemu_build(const struct matrix_parser *p, const char *path, json_object *spec,
			    struct hpci_qemu_request *r)
{
	const char *field;
	guint index;
	int rc;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, qemu_build_keys)) < 0 ||
	    (rc = parse_recipe_source(p, path, spec, &r->src)) < 0)
		return rc;
	if ((rc = hpci_json_opt_string_list(p->file, path, spec, "configure", &r->configure)) < 0)
		return rc;
	/* The source's form, the configure arguments and the patch queue,
	 * before anything is built. */
	if (hpci_qemu_check_field(r, &field, &index) < 0) {
		g_autofree char *why = g_strdup(hpci_error_message());
		g_autofree char *where = check_where(path, field, index);

		return hpci_json_fail(p->file, where, "%s", why);
	}
	return 0;
}

int matrix_parse_qemu(const struct matrix_parser *p, const char *path, json_object *spec,
		      struct axis_value *v)
{
	bool has_emulator, has_build;
	json_object *build;
	int rc;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, qemu_keys)) < 0)
		return rc;
	has_emulator = json_object_object_get_ex(spec, "emulator", NULL);
	has_build = json_object_object_get_ex(spec, "build", &build);
	if (has_emulator == has_build)
		return hpci_json_fail(p->file, path, "give exactly one of 'emulator' (a QEMU "
				      "binary) or 'build' (a recipe qemu-build/ builds)");
	if (has_emulator)
		return hpci_json_req_abs_path(p->file, path, spec, "emulator", &v->qemu.emulator);
	{
		g_autofree char *bpath = hpci_json_path_key(path, "build");

		v->qemu.recipe = g_new0(struct hpci_qemu_request, 1);
		return parse_qemu_build(p, bpath, build, v->qemu.recipe);
	}
}

