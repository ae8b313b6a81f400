/* SPDX-License-Identifier: MIT */
#ifndef HPCI_ATTACK_H
#define HPCI_ATTACK_H

#include "cell.h"
#include "observe.h"
#include "regdump.h"

#include <glib.h>
#include <stdbool.h>

/*
 * The attack cells' evidence (images/README.md, "Attack module"): the
 * guest's payload announces itself with a token the harness made for this
 * cell attempt, and says whether an SMI entry had just written the
 * save-state map (smm=1).  A claim counts only with this attempt's token,
 * and only when a register dump shows a CPU in SMM where the payload is: at
 * the default SMBASE (CS base 0x30000), or in guest memory below 640 KiB
 * outside the default SMBASE window, where SMM reaches the payload through
 * the guest's real-mode interrupt vectors.  The guest can print any line it
 * likes outside SMM.
 */
#define HPCI_ATTACK_TOKEN_LEN 16
#define HPCI_DEFAULT_SMBASE 0x30000u

/* A token unique to the run, the cell and the attempt (16 hex digits). */
char *hpci_attack_token(const char *run_id, const char *cell_id, unsigned attempt);

enum hpci_attack_claim {
	HPCI_CLAIM_NONE,         /* not a payload line, or a garbled one */
	HPCI_CLAIM_FOREIGN,      /* another cell's or attempt's token */
	HPCI_CLAIM_OUTSIDE_SMM,  /* this attempt's payload, run outside SMM (smm=0) */
	HPCI_CLAIM_SMM,          /* this attempt's payload says it runs in SMM */
};

/* What a serial line "... HPCI-ATTACK <token> smm=<0|1> apic=<hex> stage=<e|a>"
 * claims for the given token; *ret_apic gets the APIC ID (may be NULL). */
enum hpci_attack_claim hpci_attack_claim(const char *line, const char *token, int *ret_apic);

#define HPCI_ATTACK_SIPI_PAGE 0x60000u  /* the SIPI copy of the payload */

/*
 * The first CPU of one sample that is in SMM and executes guest memory:
 * below 640 KiB, outside the 128 KiB the q35 host bridge can make SMRAM.
 * No firmware puts SMM code there, and the guest owns it, so this is a
 * breach whatever the payload managed to say (an emulator bug can keep it
 * from saying anything).  NULL: none.
 */
const struct hpci_cpu_regs *hpci_attack_smm_in_guest_memory(const GArray *cpus);

/* The first CPU of one sample (an array of struct hpci_cpu_regs) that is in
 * SMM where the payload can be (see above), or NULL. */
const struct hpci_cpu_regs *hpci_attack_smm_cpu_at_payload(const GArray *cpus);

/*
 * What backs a claim of smm=1 by the CPU with APIC ID claim_apic, in one
 * sample: a CPU in SMM where the payload can be; or else that CPU outside
 * SMM, parked in the SIPI copy, which then read the SMM save state from
 * outside SMM (*outside_smm set): SMRAM was readable.  NULL: nothing.
 */
const struct hpci_cpu_regs *hpci_attack_corroborate(const GArray *cpus,
						    const struct hpci_topology *topology,
						    int claim_apic, bool *outside_smm);

/* "HPCI-SMRAM-CHECK open=<n> ...": n, or -1 when the line is not one. */
long hpci_smram_check_open(const char *line);

/* "HPCI-ATTACK-PLANT ... stuck=<k> ...": k, or -1 when the line is not one. */
long hpci_attack_plant_stuck(const char *line);

#endif
