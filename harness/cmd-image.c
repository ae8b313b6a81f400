/* SPDX-License-Identifier: MIT */
#include "builtin.h"
#include "error.h"
#include "image.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int cmd_image(int argc, char **argv)
{
	g_autofree char *recipe = NULL;
	GOptionEntry entries[] = {
		{ "recipe", 'r', 0, G_OPTION_ARG_STRING, &recipe,
		  "recipe under images/ (default: minimal)", "NAME" },
		{ NULL }
	};
	g_auto(hpci_image) image = { 0 };
	int rc;

	if ((rc = hpci_parse_options(&argc, &argv, "build",
				     "Build a guest image through libguestfs, or find it in the "
				     "cache (~/.cache/hotplug-ci/images/KEY), and print its path.",
				     entries)))
		return rc;
	if (argc != 2 || strcmp(argv[1], "build") != 0)
		return hpci_usage_error("image", "'image' takes the verb 'build'");
	if (hpci_image_build(recipe ? recipe : "minimal", &image) < 0)
		return hpci_error_exit(HPCI_EXIT_INFRA);
	printf("%s\n", image.path);
	hpci_info("image %s: key %s (%s)", image.recipe, image.key,
		  image.cache_hit ? "cache hit" : "built");
	return HPCI_EXIT_OK;
}
