/* SPDX-License-Identifier: MIT */
#include "prepare.h"
#include "build-source.h"
#include "error.h"
#include "firmware-build.h"
#include "host.h"
#include "interrupt.h"
#include "qemu-build.h"
#include "strlist.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* KVM's time limits never go below this (or the matrix's value). */
#define KVM_MIN_TIMEOUT_MS 5000

void hpci_plan_free(struct hpci_plan *plan)
{
	if (!plan)
		return;
	g_free(plan->emulator);
	g_free(plan->firmware_code);
	g_free(plan->firmware_vars);
	g_free(plan->unrunnable);
	g_free(plan->unrunnable_context);
	g_free(plan);
}

void hpci_plan_record(const struct hpci_plan *plan, struct hpci_cell_result *res)
{
	g_free(res->emulator);
	g_free(res->firmware_code);
	res->emulator = g_strdup(plan->emulator);
	res->firmware_code = g_strdup(plan->firmware_code);
}

static void free_image(gpointer p)
{
	hpci_image_release(p);
	g_free(p);
}

void hpci_prepared_free(struct hpci_prepared *p)
{
	if (!p)
		return;
	g_ptr_array_unref(p->plans);
	g_hash_table_unref(p->images);
	if (p->states)
		g_ptr_array_unref(p->states);
	g_free(p);
}

static struct hpci_prepared *prepared_new(void)
{
	struct hpci_prepared *p = g_new0(struct hpci_prepared, 1);

	p->plans = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_plan_free);
	p->images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_image);
	return p;
}

static unsigned scale_one(unsigned ms, const struct hpci_prepare_host *host)
{
	if (g_strcmp0(host->accel, "kvm") == 0)
		ms = MAX(ms / 4, MIN(ms, KVM_MIN_TIMEOUT_MS));
	if (host->cores && host->jobs > host->cores)
		ms = (unsigned)((guint64)ms * host->jobs / host->cores);
	return ms;
}

struct hpci_timeouts hpci_plan_timeouts(const struct hpci_timeouts *matrix,
					const struct hpci_prepare_host *host)
{
	return (struct hpci_timeouts){
		.boot_ms = scale_one(matrix->boot_ms, host),
		.plug_ms = scale_one(matrix->plug_ms, host),
		.online_ms = scale_one(matrix->online_ms, host),
		.unplug_ms = scale_one(matrix->unplug_ms, host),
		.smi_ms = scale_one(matrix->smi_ms, host),
	};
}

int hpci_prepare_preflight(const char *matrix_path, GPtrArray *cells)
{
	for (guint i = 0; i < cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(cells, i);
		const struct { const char *what, *path; bool exec; } files[] = {
			{ "firmware code", cell->firmware.code, false },
			{ "firmware vars template", cell->firmware.vars, false },
			{ "emulator", cell->qemu.emulator, true }, /* NULL: built later */
		};

		for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
			if (!files[f].path)
				continue;
			if (access(files[f].path, files[f].exec ? X_OK : R_OK) < 0)
				return hpci_error_errno(errno, "%s: cell '%s': %s '%s' is not usable; "
							"install it or fix the matrix",
							matrix_path, cell->id, files[f].what,
							files[f].path);
		}
	}
	return 0;
}

/* ---- identities: what the run ran, for the report ----------------------- */

static bool identity_known(GPtrArray *ids, const char *role, const char *path)
{
	for (guint i = 0; i < ids->len; i++) {
		const struct hpci_identity *id = g_ptr_array_index(ids, i);

		if (!strcmp(id->role, role) && !strcmp(id->path, path))
			return true;
	}
	return false;
}

/* origin: the build's source, or NULL for a file the matrix named. */
static int add_identity(GPtrArray *ids, const char *role, const char *path, const char *version,
			const struct hpci_source_origin *origin)
{
	struct hpci_identity *id;
	int rc;

	if (identity_known(ids, role, path))
		return 0;
	if ((rc = hpci_identity_new(role, path, version, &id)) < 0)
		return rc;
	if (origin)
		hpci_source_origin_copy(&id->origin, origin);
	g_ptr_array_add(ids, id);
	return 0;
}

/* The given (not built) emulators and firmware, and the images. */
static int record_identities(const struct hpci_prepared *p, GPtrArray *identities)
{
	GHashTableIter iter;
	gpointer value;
	int rc;

	for (guint i = 0; i < p->plans->len; i++) {
		const struct hpci_plan *plan = g_ptr_array_index(p->plans, i);
		const struct hpci_cell *cell = plan->cell;
		g_autofree char *version = NULL;
		g_autofree char *fw_version = NULL;

		if (plan->unrunnable)
			continue; /* its build failed: the cell says so */
		if (!identity_known(identities, "qemu", plan->emulator) &&
		    (rc = hpci_host_qemu_version(plan->emulator, &version)) < 0)
			return rc;
		if (cell->firmware.descriptor)
			fw_version = g_strdup_printf("descriptor %s", cell->firmware.descriptor);
		if ((rc = add_identity(identities, "qemu", plan->emulator, version, NULL)) < 0 ||
		    (rc = add_identity(identities, "firmware-code", plan->firmware_code,
				       fw_version, NULL)) < 0 ||
		    (rc = add_identity(identities, "firmware-vars", plan->firmware_vars,
				       fw_version, NULL)) < 0)
			return rc;
	}
	g_hash_table_iter_init(&iter, p->images);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const struct hpci_image *image = value;

		if ((rc = add_identity(identities, "image", image->path, image->key, NULL)) < 0)
			return rc;
	}
	return 0;
}

/* ---- builds ------------------------------------------------------------- */

static int build_images(GPtrArray *cells, GHashTable *images)
{
	for (guint i = 0; i < cells->len; i++) {
		const struct hpci_cell *cell = g_ptr_array_index(cells, i);
		g_autofree struct hpci_image *image = NULL;
		int rc;

		if (g_hash_table_contains(images, cell->image))
			continue;
		image = g_new0(struct hpci_image, 1);
		if ((rc = hpci_image_build(cell->image, image)) < 0) {
			hpci_error_prefix("cannot build image '%s'", cell->image);
			return rc;
		}
		g_hash_table_insert(images, g_strdup(cell->image), g_steal_pointer(&image));
	}
	return 0;
}

/* A string that is equal for equal recipes, to build each once per run. */
static char *recipe_id(const char *kind, const struct hpci_build_source *src,
		       const GPtrArray *args1, const GPtrArray *args2, const char *extra)
{
	GString *s = g_string_new(kind);
	const GPtrArray *lists[] = { args1, args2 };

	g_string_append_printf(s, "\n%s\n%s\n%s\n%s\n%s", src->source, src->rev ? src->rev : "",
			       src->sha256 ? src->sha256 : "", src->patches ? src->patches : "",
			       extra ? extra : "");
	for (size_t l = 0; l < G_N_ELEMENTS(lists); l++) {
		g_string_append(s, "\n--");
		for (guint i = 0; lists[l] && i < lists[l]->len; i++)
			g_string_append_printf(s, "\n%s", (char *)g_ptr_array_index(lists[l], i));
	}
	return g_string_free(s, FALSE);
}

static char *joined_patches(const GPtrArray *names)
{
	return names->len ? hpci_strings_join(names, ", ") : g_strdup("none");
}

/* What a recipe gave: the paths a plan needs (emulator; or code and vars),
 * and for a QEMU whether it keeps the SMRAM lock across a restore. */
struct built {
	char **paths;
	bool keeps_smram_lock;
};

static void built_free(struct built *b)
{
	if (!b)
		return;
	g_strfreev(b->paths);
	g_free(b);
}

/* QEMU 7.2 loses the lock of the SMRAM at the default SMBASE on a restore
 * (upstream "q35: Fix migration of SMRAM state", our 0010): only a build
 * with that patch may restore a saved SMM guest (boot-state.h). */
static bool migrates_smram_lock(const GPtrArray *patches)
{
	for (guint i = 0; patches && i < patches->len; i++)
		if (strstr(g_ptr_array_index(patches, i), "q35-Fix-migration-of-SMRAM-state"))
			return true;
	return false;
}

static int build_qemu(const struct hpci_cell *cell, GPtrArray *identities,
		      struct hpci_virt *virt, struct built **ret)
{
	g_auto(hpci_qemu_build_result) build = { 0 };
	g_autofree char *version = NULL;
	g_autofree char *patches = NULL;
	int rc;

	if ((rc = hpci_qemu_build(cell->qemu.recipe, &build)) < 0 ||
	    (rc = hpci_virt_check_emulator(virt, build.emulator)) < 0)
		return rc;
	hpci_info("qemu: %s of %s, key %.12s (%s)", build.version, build.source, build.key,
		  build.cache_hit ? "cache hit" : "built");
	patches = joined_patches(build.patches);
	version = g_strdup_printf("%s (build %.12s of %s; patches: %s)", build.version,
				  build.key, build.source, patches);
	if ((rc = add_identity(identities, "qemu", build.emulator, version, &build.origin)) < 0)
		return rc;
	*ret = g_new0(struct built, 1);
	(*ret)->paths = g_strdupv((char *[]){ build.emulator, NULL });
	(*ret)->keeps_smram_lock = migrates_smram_lock(build.patches);
	return 0;
}

static int build_firmware(const struct hpci_cell *cell, GPtrArray *identities,
			  struct hpci_virt *virt, struct built **ret)
{
	g_auto(hpci_firmware_build_result) build = { 0 };
	g_autofree char *version = NULL;
	g_autofree char *patches = NULL;
	int rc;

	(void)virt;
	if ((rc = hpci_firmware_build(cell->firmware.recipe, &build)) < 0)
		return rc;
	hpci_info("firmware: %s, key %.12s (%s)", build.version, build.key,
		  build.cache_hit ? "cache hit" : "built");
	patches = joined_patches(build.patches);
	version = g_strdup_printf("%s; patches: %s", build.version, patches);
	if ((rc = add_identity(identities, "firmware-code", build.code, version,
				&build.origin)) < 0 ||
	    (rc = add_identity(identities, "firmware-vars", build.vars, version,
				&build.origin)) < 0)
		return rc;
	*ret = g_new0(struct built, 1);
	(*ret)->paths = g_strdupv((char *[]){ build.code, build.vars, NULL });
	return 0;
}

/* A kind of recipe a cell may carry: how to name it, build it and use it. */
struct recipe_kind {
	const char *what;
	char *(*id)(const struct hpci_cell *cell);         /* NULL: nothing to build */
	int (*build)(const struct hpci_cell *cell, GPtrArray *identities,
		     struct hpci_virt *virt, struct built **ret);
	void (*use)(struct hpci_plan *plan, const struct built *made);
};

static char *qemu_recipe_id(const struct hpci_cell *cell)
{
	const struct hpci_qemu_request *r = cell->qemu.recipe;

	if (!r || cell->qemu.emulator)
		return NULL;
	return recipe_id("qemu", &r->src, r->configure, NULL, NULL);
}

static void use_qemu(struct hpci_plan *plan, const struct built *made)
{
	g_free(plan->emulator);
	plan->emulator = g_strdup(made->paths[0]);
	plan->emulator_keeps_smram_lock = made->keeps_smram_lock;
}

static char *firmware_recipe_id(const struct hpci_cell *cell)
{
	const struct hpci_firmware_request *r = cell->firmware.recipe;

	if (!r || cell->firmware.code)
		return NULL;
	return recipe_id("firmware", &r->src, r->defines, r->pcds, r->build_type);
}

static void use_firmware(struct hpci_plan *plan, const struct built *made)
{
	g_free(plan->firmware_code);
	g_free(plan->firmware_vars);
	plan->firmware_code = g_strdup(made->paths[0]);
	plan->firmware_vars = g_strdup(made->paths[1]);
}

static const struct recipe_kind recipe_kinds[] = {
	{ "QEMU", qemu_recipe_id, build_qemu, use_qemu },
	{ "OVMF", firmware_recipe_id, build_firmware, use_firmware },
};

/*
 * Builds every QEMU and firmware recipe (once per distinct recipe, each a
 * cache hit after the first time) into the plans.  A plan whose build failed
 * is marked unrunnable with the build's message (which names the log).
 */
static void build_recipes(struct hpci_prepared *p, GPtrArray *identities, struct hpci_virt *virt)
{
	/* recipe id -> what it built (struct built *), or NULL when its build failed */
	g_autoptr(GHashTable) built = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							    (GDestroyNotify)built_free);
	/* recipe id -> the failed build's message */
	g_autoptr(GHashTable) failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; i < p->plans->len && !hpci_interrupted(); i++) {
		struct hpci_plan *plan = g_ptr_array_index(p->plans, i);

		for (size_t k = 0; k < G_N_ELEMENTS(recipe_kinds) && !hpci_interrupted(); k++) {
			const struct recipe_kind *kind = &recipe_kinds[k];
			g_autofree char *id = kind->id(plan->cell);
			const struct built *made;

			if (!id)
				continue;
			if (!g_hash_table_contains(built, id)) {
				struct built *result = NULL;

				if (kind->build(plan->cell, identities, virt, &result) < 0) {
					hpci_error_prefix("cannot build %s for cell '%s'", kind->what,
							  plan->cell->id);
					hpci_error_print();
					g_hash_table_insert(failed, g_strdup(id),
							    g_strdup(hpci_error_message()));
				}
				g_hash_table_insert(built, g_strdup(id), result);
			}
			if ((made = g_hash_table_lookup(built, id))) {
				kind->use(plan, made);
				continue;
			}
			if (plan->unrunnable)
				continue; /* the first failed build is the one reported */
			plan->unrunnable = g_strdup(g_hash_table_lookup(failed, id));
			plan->unrunnable_context = g_strdup_printf("the cell's %s could not be built",
								   kind->what);
		}
	}
}

/* Every connection must be able to start every emulator (the first one
 * checked the built ones already). */
static int check_emulators(GPtrArray *virts, const struct hpci_prepared *p)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	int rc;

	for (guint i = 0; i < p->plans->len; i++) {
		const struct hpci_plan *plan = g_ptr_array_index(p->plans, i);

		if (!plan->emulator || !g_hash_table_add(seen, plan->emulator))
			continue;
		for (guint v = 1; v < virts->len; v++) {
			if ((rc = hpci_virt_check_emulator(g_ptr_array_index(virts, v),
							   plan->emulator)) < 0) {
				hpci_error_prefix("libvirt at '%s'",
						  hpci_virt_uri(g_ptr_array_index(virts, v)));
				return rc;
			}
		}
	}
	return 0;
}

static struct hpci_plan *plan_new(const struct hpci_cell *cell,
				  const struct hpci_prepare_host *host)
{
	struct hpci_plan *plan = g_new0(struct hpci_plan, 1);

	plan->cell = cell;
	plan->emulator = g_strdup(cell->qemu.emulator);
	plan->firmware_code = g_strdup(cell->firmware.code);
	plan->firmware_vars = g_strdup(cell->firmware.vars);
	plan->timeouts = hpci_plan_timeouts(&cell->timeouts, host);
	return plan;
}

int hpci_prepare(GPtrArray *cells, GPtrArray *virts, const struct hpci_prepare_host *host,
		 GPtrArray *identities, struct hpci_prepared **ret)
{
	g_autoptr(hpci_prepared) p = prepared_new();
	int rc;

	for (guint i = 0; i < cells->len; i++)
		g_ptr_array_add(p->plans, plan_new(g_ptr_array_index(cells, i), host));
	build_recipes(p, identities, g_ptr_array_index(virts, 0));
	if (hpci_interrupted())
		return hpci_error_kind(HPCI_ERR_INTERRUPTED, EINTR, "interrupted while building");
	if ((rc = check_emulators(virts, p)) < 0 ||
	    (rc = build_images(cells, p->images)) < 0 ||
	    (rc = record_identities(p, identities)) < 0)
		return rc;
	for (guint i = 0; i < p->plans->len; i++) {
		struct hpci_plan *plan = g_ptr_array_index(p->plans, i);

		plan->image = g_hash_table_lookup(p->images, plan->cell->image);
	}
	*ret = g_steal_pointer(&p);
	return 0;
}
