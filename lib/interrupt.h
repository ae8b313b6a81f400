/* SPDX-License-Identifier: MIT */
#ifndef HPCI_INTERRUPT_H
#define HPCI_INTERRUPT_H

#include <stdbool.h>

/* SIGINT/SIGTERM set a flag that every wait in the harness checks, so an
 * interrupted run tears its domains down and writes its partial report. */
void hpci_interrupt_install(void);
bool hpci_interrupted(void);
/* For tests: behave as if the signal had arrived. */
void hpci_interrupt_raise(void);

#endif
