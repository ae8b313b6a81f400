/* SPDX-License-Identifier: MIT */
#ifndef HPCI_JSON_READER_H
#define HPCI_JSON_READER_H

#include <glib.h>
#include <json-c/json.h>

/*
 * Ownership of json-c objects: every reference a function takes is declared
 * g_autoptr(json_object) and released on every path; json_object_put() is
 * never called by hand.
 */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_tokener, json_tokener_free)

#endif
