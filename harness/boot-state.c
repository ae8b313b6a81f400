/* SPDX-License-Identifier: MIT */
#include "boot-state.h"
#include "cache.h"
#include "domain-xml.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "json-reader.h"
#include "manifest.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when what an entry holds, or how a cell uses it, changes. */
#define BOOT_STATE_FORMAT "hotplug-ci-boot-state-1"

void hpci_boot_state_free(struct hpci_boot_state *st)
{
	if (!st)
		return;
	g_free(st->key);
	g_free(st->dir);
	g_free(st->error);
	g_free(st);
}

/*
 * A file the boot rests on, by identity rather than content: the emulators
 * and firmware images are cache entries (immutable, their key in the path)
 * or system files whose upgrade changes size, mtime or inode.  Hashing a
 * 60 MiB emulator per run would cost more than the boots it saves.
 */
static int add_file_identity(GChecksum *sum, const char *label, const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0)
		return hpci_error_errno(path ? errno : ENOENT, "cannot read '%s' (the %s) for "
					"the boot state's key", path ? path : "(none)", label);
	g_autofree char *line = g_strdup_printf("%s %s %lld %lld.%09ld %llu\n", label, path,
						(long long)st.st_size, (long long)st.st_mtim.tv_sec,
						st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
	g_checksum_update(sum, (const guchar *)line, -1);
	return 0;
}

int hpci_boot_key(const struct hpci_plan *plan, const struct hpci_boot_key_inputs *in,
		  char **ret)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *xml = NULL;
	g_autofree char *head = NULL;
	/* The cell's own names and paths are not the configuration's. */
	struct hpci_domain_spec spec = {
		.cell = plan->cell, .emulator = plan->emulator,
		.firmware_code = plan->firmware_code, .firmware_vars = plan->firmware_vars,
		.name = "@name@", .accel = in->accel, .disk = "@disk@", .nvram = "@nvram@",
		.serial_log = "@serial@", .firmware_log = "@firmware-log@",
		.memory_mib = in->memory_mib, .uid = getuid(), .gid = getgid(),
	};

	int rc;

	if (!plan->image)
		return hpci_error(ENOENT, "no image for cell '%s'", plan->cell->id);
	if ((rc = add_file_identity(sum, "emulator", plan->emulator)) < 0 ||
	    (rc = add_file_identity(sum, "firmware-code", plan->firmware_code)) < 0 ||
	    (rc = add_file_identity(sum, "firmware-vars", plan->firmware_vars)) < 0 ||
	    (rc = hpci_domain_xml(&spec, &xml)) < 0)
		return rc;
	head = g_strdup_printf("%s\nimage %s\nlibvirt %s\n", BOOT_STATE_FORMAT, plan->image->key,
			       in->libvirt ? in->libvirt : "");
	g_checksum_update(sum, (const guchar *)head, -1);
	g_checksum_update(sum, (const guchar *)xml, -1);
	*ret = g_strdup(g_checksum_get_string(sum));
	return 0;
}

bool hpci_boot_restorable(const struct hpci_plan *plan, bool any_emulator)
{
	return !plan->unrunnable && plan->image && plan->emulator &&
	       (plan->emulator_keeps_smram_lock || !plan->cell->firmware.smm || any_emulator);
}

int hpci_boot_states_assign(GPtrArray *plans, const struct hpci_boot_key_inputs *in,
			    GPtrArray **ret)
{
	g_autoptr(GPtrArray) states =
		g_ptr_array_new_with_free_func((GDestroyNotify)hpci_boot_state_free);
	/* key -> the first plan of that configuration, then its state */
	g_autoptr(GHashTable) first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) by_key = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < plans->len; i++) {
		struct hpci_plan *plan = g_ptr_array_index(plans, i);
		g_autofree char *key = NULL;
		struct hpci_plan *control;
		struct hpci_boot_state *st;
		int rc;

		if (!hpci_boot_restorable(plan, in->any_emulator))
			continue;
		if ((rc = hpci_boot_key(plan, in, &key)) < 0)
			return rc;
		if (!(control = g_hash_table_lookup(first, key))) {
			g_hash_table_insert(first, g_steal_pointer(&key), plan);
			continue;
		}
		control->boot_control = true;
		if (!(st = g_hash_table_lookup(by_key, key))) {
			st = g_new0(struct hpci_boot_state, 1);
			st->key = g_strdup(key);
			st->model = plan;
			st->status = hpci_cache_lookup("states", key, &st->dir) == 1
					     ? HPCI_BOOT_STATE_READY : HPCI_BOOT_STATE_NEEDED;
			g_ptr_array_add(states, st);
			g_hash_table_insert(by_key, st->key, st);
		}
		st->restored_cells++;
		plan->boot_state = st;
	}
	*ret = g_steal_pointer(&states);
	return 0;
}

static int write_manifest(const char *dir, const struct hpci_boot_state *st,
			  const struct hpci_run_ctx *ctx)
{
	const struct hpci_plan *plan = st->model;
	g_autoptr(json_object) m = json_object_new_object();
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autofree char *libvirt = hpci_virt_describe(ctx->virt);

	json_object_object_add(m, "format", json_object_new_string(BOOT_STATE_FORMAT));
	json_object_object_add(m, "kind", json_object_new_string("states"));
	json_object_object_add(m, "key", json_object_new_string(st->key));
	json_object_object_add(m, "made_for_cell", json_object_new_string(plan->cell->id));
	json_object_object_add(m, "emulator", json_object_new_string(plan->emulator));
	json_object_object_add(m, "firmware_code", json_object_new_string(plan->firmware_code));
	json_object_object_add(m, "firmware_vars", json_object_new_string(plan->firmware_vars));
	json_object_object_add(m, "image", json_object_new_string(plan->image->key));
	json_object_object_add(m, "libvirt", json_object_new_string(libvirt ? libvirt : ""));
	json_object_object_add(m, "boot_ms", json_object_new_int64(st->boot_ms));
	json_object_object_add(m, "save_ms", json_object_new_int64(st->save_ms));
	json_object_object_add(m, "created", json_object_new_int64(g_get_real_time() / G_USEC_PER_SEC));
	return hpci_json_write_file(path, m);
}

int hpci_boot_state_make(const struct hpci_run_ctx *ctx, unsigned index,
			 struct hpci_boot_state *st)
{
	g_auto(hpci_cache_txn) txn = HPCI_CACHE_TXN_INIT;
	g_autofree char *name = g_strdup_printf(HPCI_DOMAIN_PREFIX "%s-s%u", ctx->run_id, index);
	int rc;

	if ((rc = hpci_cache_begin("states", st->key, &txn)) < 0)
		return rc;
	if (rc == 0) {
		/* Not found: this process makes it, in the work directory. */
		if ((rc = hpci_cell_boot_save(ctx, st->model, txn.work_dir, name, &st->boot_ms,
					      &st->save_ms)) < 0)
			return rc;
		if (hpci_interrupted())
			return hpci_error_kind(HPCI_ERR_INTERRUPTED, EINTR,
					       "interrupted while saving boot state %.12s", st->key);
		if ((rc = write_manifest(txn.work_dir, st, ctx)) < 0 ||
		    (rc = hpci_cache_commit(&txn)) < 0)
			return rc;
		st->made = true;
	}
	st->dir = g_strdup(txn.final_dir);
	return 0;
}
