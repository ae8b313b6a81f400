/* SPDX-License-Identifier: MIT */
#ifndef HPCI_MANIFEST_H
#define HPCI_MANIFEST_H

#include "json-reader.h"
#include "patch-queue.h"
#include "source.h"

#include <glib.h>
#include <json-c/json.h>

/*
 * The manifest.json of a build cache entry, the part qemu-build/ and
 * firmware-build/ share: what was built (format, kind, key), from what
 * (source, patch queue), when and by which hotplug-ci.  Each builder adds
 * its own fields and writes the object with hpci_json_write_file().
 * hpci_manifest_new() and hpci_manifest_read() hand the caller a reference,
 * held as g_autoptr(json_object) (declared in json-reader.h).
 */
json_object *hpci_manifest_new(const char *format, const char *kind, const char *key,
			       const struct hpci_source *source,
			       const struct hpci_patch_queue *queue);

/* A JSON array of the strings (char *). */
json_object *hpci_json_strings(const GPtrArray *strings);

/* Writes the object pretty-printed, atomically. */
int hpci_json_write_file(const char *path, json_object *o);

/* Reads <dir>/manifest.json; an error says to remove the entry to rebuild. */
int hpci_manifest_read(const char *dir, json_object **ret);

/* The string at key, or NULL; "a.b" looks into nested objects. */
const char *hpci_json_get_string(json_object *o, const char *path);

/* The "name" of every patch the manifest lists (char *). */
GPtrArray *hpci_manifest_patch_names(json_object *manifest);

#endif
