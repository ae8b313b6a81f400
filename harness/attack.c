/* SPDX-License-Identifier: MIT */
/* Tokens and claims of the attack cells; see attack.h. */
#include "attack.h"
#include "firmware-check.h"
#include "guest-line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *hpci_attack_token(const char *run_id, const char *cell_id, unsigned attempt)
{
	g_autofree char *seed = g_strdup_printf("%s\n%s\n%u", run_id, cell_id, attempt);
	g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, seed, -1);

	return g_strndup(hex, HPCI_ATTACK_TOKEN_LEN);
}

enum hpci_attack_claim hpci_attack_claim(const char *line, const char *token, int *ret_apic)
{
	const char *p = line ? strstr(line, "HPCI-ATTACK ") : NULL;
	char seen[HPCI_ATTACK_TOKEN_LEN + 1];
	unsigned smm, apic;
	char stage;
	int end = 0;

	if (!p || sscanf(p, "HPCI-ATTACK %16[0-9a-f] smm=%1u apic=%2x stage=%c%n", seen, &smm,
			 &apic, &stage, &end) != 4 || end == 0 ||
	    strlen(seen) != HPCI_ATTACK_TOKEN_LEN || smm > 1)
		return HPCI_CLAIM_NONE;
	if (ret_apic)
		*ret_apic = (int)apic;
	if (!token || strcmp(seen, token) != 0)
		return HPCI_CLAIM_FOREIGN;
	return smm ? HPCI_CLAIM_SMM : HPCI_CLAIM_OUTSIDE_SMM;
}

/* Conventional memory the guest owns: below the VGA hole, outside the
 * 128 KiB the q35 host bridge can make SMRAM. */
static bool guest_low_memory(guint64 addr)
{
	return addr < 0xA0000 &&
	       !(addr >= HPCI_DEFAULT_SMBASE && addr < HPCI_DEFAULT_SMBASE + 0x20000);
}

/* The first CPU in SMM executing guest memory, or, when at_smbase, also
 * one at the default SMBASE. */
static const struct hpci_cpu_regs *find_smm_cpu(const GArray *cpus, bool at_smbase)
{
	for (guint i = 0; cpus && i < cpus->len; i++) {
		const struct hpci_cpu_regs *r = &g_array_index(cpus, struct hpci_cpu_regs, i);

		if (r->smm && ((at_smbase && r->cs_base == HPCI_DEFAULT_SMBASE) ||
			       guest_low_memory(r->cs_base + r->ip)))
			return r;
	}
	return NULL;
}

const struct hpci_cpu_regs *hpci_attack_smm_in_guest_memory(const GArray *cpus)
{
	return find_smm_cpu(cpus, false);
}

const struct hpci_cpu_regs *hpci_attack_smm_cpu_at_payload(const GArray *cpus)
{
	return find_smm_cpu(cpus, true);
}

static long field_after(const char *line, const char *prefix, const char *key)
{
	const char *p;
	char *end;
	long v;

	if (!line || !(p = strstr(line, prefix)) || !(p = strstr(p, key)))
		return -1;
	v = strtol(p + strlen(key), &end, 10);
	return end == p + strlen(key) || v < 0 ? -1 : v;
}

long hpci_smram_check_open(const char *line)
{
	return field_after(line, "HPCI-SMRAM-CHECK ", " open=");
}

long hpci_attack_plant_stuck(const char *line)
{
	return field_after(line, "HPCI-ATTACK-PLANT ", " stuck=");
}

const struct hpci_cpu_regs *hpci_attack_corroborate(const GArray *cpus,
						    const struct hpci_topology *topology,
						    int claim_apic, bool *outside_smm)
{
	const struct hpci_cpu_regs *in_smm = hpci_attack_smm_cpu_at_payload(cpus);

	*outside_smm = false;
	if (in_smm)
		return in_smm;
	for (guint i = 0; cpus && claim_apic >= 0 && i < cpus->len; i++) {
		const struct hpci_cpu_regs *r = &g_array_index(cpus, struct hpci_cpu_regs, i);

		if (r->index >= 0 && hpci_topology_apic_id(topology, r->index) == (guint32)claim_apic &&
		    !r->smm && r->cs_base == HPCI_ATTACK_SIPI_PAGE) {
			*outside_smm = true;
			return r;
		}
	}
	return NULL;
}
