/* SPDX-License-Identifier: MIT */
#include "manifest.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"

#include <errno.h>
#include <string.h>

#ifndef HPCI_VERSION
#define HPCI_VERSION "unknown"
#endif

static json_object *source_json(const struct hpci_source *src)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "spec", json_object_new_string(src->spec));
	json_object_object_add(o, "kind", json_object_new_string(hpci_source_kind_name(src->kind)));
	json_object_object_add(o, "identity", json_object_new_string(src->identity));
	json_object_object_add(o, "describe", json_object_new_string(src->describe));
	if (src->rev)
		json_object_object_add(o, "rev", json_object_new_string(src->rev));
	return o;
}

static json_object *patches_json(const struct hpci_patch_queue *queue)
{
	json_object *a = json_object_new_array();

	for (guint i = 0; i < queue->patches->len; i++) {
		const struct hpci_patch *p = queue->patches->pdata[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "subject", json_object_new_string(p->subject));
		json_object_object_add(o, "sha256", json_object_new_string(p->sha256));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *hpci_manifest_new(const char *format, const char *kind, const char *key,
			       const struct hpci_source *source,
			       const struct hpci_patch_queue *queue)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	json_object *root = json_object_new_object();

	json_object_object_add(root, "format", json_object_new_string(format));
	json_object_object_add(root, "kind", json_object_new_string(kind));
	json_object_object_add(root, "key", json_object_new_string(key));
	json_object_object_add(root, "source", source_json(source));
	if (queue->dir)
		json_object_object_add(root, "patch_queue", json_object_new_string(queue->dir));
	json_object_object_add(root, "patches", patches_json(queue));
	json_object_object_add(root, "built_at", json_object_new_string(stamp));
	json_object_object_add(root, "builder", json_object_new_string("hotplug-ci " HPCI_VERSION));
	return root;
}

json_object *hpci_json_strings(const GPtrArray *strings)
{
	json_object *a = json_object_new_array();

	for (guint i = 0; strings && i < strings->len; i++)
		json_object_array_add(a, json_object_new_string(strings->pdata[i]));
	return a;
}

int hpci_json_write_file(const char *path, json_object *o)
{
	return hpci_write_file(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE),
			       -1);
}

int hpci_manifest_read(const char *dir, json_object **ret)
{
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autoptr(json_object) root = NULL;

	if (hpci_json_load(path, &root) < 0 || !json_object_is_type(root, json_type_object))
		return hpci_error(EIO, "cache entry '%s' has no readable manifest.json; remove "
				  "the directory to rebuild it", dir);
	*ret = g_steal_pointer(&root);
	return 0;
}

const char *hpci_json_get_string(json_object *o, const char *path)
{
	g_auto(GStrv) keys = g_strsplit(path, ".", -1);

	for (char **k = keys; *k; k++)
		if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, *k, &o))
			return NULL;
	return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

GPtrArray *hpci_manifest_patch_names(json_object *manifest)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	json_object *patches, *name;

	if (!json_object_object_get_ex(manifest, "patches", &patches) ||
	    !json_object_is_type(patches, json_type_array))
		return names;
	for (size_t i = 0; i < json_object_array_length(patches); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(patches, i), "name", &name))
			g_ptr_array_add(names, g_strdup(json_object_get_string(name)));
	return names;
}
