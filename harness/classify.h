/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CLASSIFY_H
#define HPCI_CLASSIFY_H

#include "cell.h"
#include "observe.h"

/*
 * Outcome classification: a pure function from what a cell run observed to
 * an outcome class with its evidence.  It never talks to libvirt, so it is
 * unit-tested on recorded serial logs and register dumps.
 */
enum hpci_failure {
	HPCI_FAIL_NONE,      /* every step completed */
	HPCI_FAIL_INFRA,     /* the harness or host failed (setup, libvirt, image) */
	HPCI_FAIL_REQUEST,   /* a libvirt hot(un)plug request returned an error */
	HPCI_FAIL_TIMEOUT,   /* the guest did not do what was asked in time */
	HPCI_FAIL_STOPPED,   /* the domain stopped without being asked to */
};

struct hpci_classify_input {
	enum hpci_failure failure;
	const char *error;        /* what failed, when failure != NONE */
	const char *stop_reason;  /* libvirt's stop reason name, when known */
	GPtrArray *events;        /* struct hpci_event *: the observation log */
	GPtrArray *regdumps;      /* GArray * of struct hpci_cpu_regs per sample, or NULL */
	gint64 regdump_span_ms;   /* time between the first and last sample */
};

struct hpci_classification {
	enum hpci_outcome outcome;
	char *evidence;           /* one line a person can check against the logs */
};

void hpci_classify(const struct hpci_classify_input *in, struct hpci_classification *out);

/* Substrings of libvirt/QEMU errors that mean "the product refused". */
bool hpci_is_refusal(const char *error);

/* True when the outcome (and, for refused, the message) is the expected one. */
bool hpci_verdict(const struct hpci_expect *expect, enum hpci_outcome outcome,
		  const char *error);

#endif
