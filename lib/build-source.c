/* SPDX-License-Identifier: MIT */
#include "build-source.h"

#include <string.h>

struct hpci_build_source hpci_build_source_copy(const struct hpci_build_source *from)
{
	return (struct hpci_build_source){
		.source = g_strdup(from->source),
		.rev = g_strdup(from->rev),
		.sha256 = g_strdup(from->sha256),
		.patches = g_strdup(from->patches),
	};
}

void hpci_build_source_clear(struct hpci_build_source *src)
{
	if (!src)
		return;
	g_free(src->source);
	g_free(src->rev);
	g_free(src->sha256);
	g_free(src->patches);
	memset(src, 0, sizeof(*src));
}

int hpci_build_source_load(const struct hpci_build_source *from, const char *package,
			   struct hpci_source *ret_source, struct hpci_patch_queue *ret_queue,
			   const char **ret_field)
{
	const char *field = "source";
	int rc;

	if ((rc = hpci_source_parse(from->source, from->rev, from->sha256, package,
				    ret_source)) == 0) {
		field = "patches";
		rc = hpci_patch_queue_load(from->patches, ret_queue);
	}
	if (rc < 0 && ret_field)
		*ret_field = field;
	return rc;
}

int hpci_build_source_check(const struct hpci_build_source *from, const char *package,
			    const char **ret_field)
{
	g_auto(hpci_source) src = { 0 };
	g_auto(hpci_patch_queue) queue = { 0 };

	return hpci_build_source_load(from, package, &src, &queue, ret_field);
}

int hpci_build_request_check(const struct hpci_build_source *from, const char *package,
			     hpci_request_check_fn check_rest, const void *req,
			     const char **ret_field, guint *ret_index)
{
	const char *field = NULL;
	guint index = 0;
	int rc;

	if ((rc = hpci_build_source_check(from, package, &field)) == 0)
		rc = check_rest(req, &field, &index);
	if (rc < 0 && ret_field)
		*ret_field = field;
	if (rc < 0 && ret_index)
		*ret_index = index;
	return rc;
}
