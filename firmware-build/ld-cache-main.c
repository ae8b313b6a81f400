/* SPDX-License-Identifier: MIT */
/*
 * hpci-ld-cache: what edk2's tools_def.txt names as the GCC5 linker in an
 * OVMF build by hotplug-ci; it links through the cache in ld-cache.h.
 * The firmware builder sets it up; it is not meant to be run by hand.
 */
#include "ld-cache.h"

int main(int argc, char **argv)
{
	struct hpci_ld_cache_config config;

	hpci_ld_cache_config_from_env(&config);
	return hpci_ld_cache_link(&config, argc, argv, NULL);
}
