/* SPDX-License-Identifier: MIT */
#ifndef HPCI_JUDGE_H
#define HPCI_JUDGE_H

#include "cell.h"
#include "error.h"
#include "firmware-log.h"
#include "observe.h"
#include "result.h"

/*
 * The judge: the one place that decides a cell attempt's outcome, its
 * evidence and its verdict, from what the run observed.  It is a pure
 * function of the cell and the observation, never talks to libvirt, and is
 * unit-tested on recorded serial logs, register dumps and firmware logs.
 * The runner (cell-run.c) and the build stage (prepare.c) only observe.
 *
 * Precedence, first match wins, whatever order the observations arrived in:
 *
 *  0. breach (judge_breach()): this attempt's payload said it ran in SMM (or
 *     read the SMM save state) and a register dump backs it (harness/attack.h),
 *     or a register sample has a CPU in SMM executing guest memory, or a check
 *     of the default SMBASE window read bytes other than 0xFF while the
 *     machine has SMRAM there.  The barrier the feature exists for fell;
 *     whatever else happened comes after, in the evidence.  A breach is
 *     never a known issue.
 *  1. infra-error: the harness or the host failed (a build, the image,
 *     libvirt, the report directory).  The product was not tested, so
 *     nothing else is consulted.
 *  2. firmware-assert: the firmware's own log shows an ASSERT, a dead loop
 *     or a failed SMI feature negotiation, in firmware.log as parsed at the
 *     end or in the line that ended the run as it was written
 *     (HPCI_FAIL_FIRMWARE).  It is the first failure in the causal chain
 *     whatever the run came to; that goes into the evidence.
 *  3. How the run ended (judge_run()):
 *       a. a panic/oops line (one ends the run: HPCI_FAIL_CRASH), a second
 *          boot banner, or a reset/power-off without being asked:
 *          guest-crash;
 *       b. the QEMU process ended on its own: qemu-crash;
 *       c. the domain stopped from outside: infra-error;
 *       d. a hot(un)plug request QEMU refused in its documented words:
 *          refused; failed otherwise: infra-error;
 *       e. a wait timed out and one CPU spun in SMM in one loop over the
 *          hang window: hang-smm; else guest-timeout;
 *       f. every step completed: pass.
 *  4. mismatch: the firmware's account (harness/firmware-check.h)
 *     disagrees with the topology, the guest, the SMI mode or the matrix's
 *     firmware expectations, on a run that otherwise passed or was refused.
 *     On any other outcome the disagreements are added to the evidence.
 *  5. The verdict: the outcome (and for refused, the message) is the
 *     expected one; else the cell's known issue for that outcome, if any,
 *     makes it a known issue rather than a failure (never a pass).
 */

/* How the run's steps ended, as the runner saw it. */
enum hpci_failure {
	HPCI_FAIL_NONE,      /* every step completed */
	HPCI_FAIL_INFRA,     /* the harness or host failed (setup, libvirt, image, build) */
	HPCI_FAIL_REQUEST,   /* a libvirt hot(un)plug request returned an error */
	HPCI_FAIL_TIMEOUT,   /* the guest did not do what was asked in time */
	HPCI_FAIL_STOPPED,   /* the domain stopped without being asked to */
	HPCI_FAIL_BREACH,    /* the guest's payload ran in SMM (corroborated); the run stopped */
	HPCI_FAIL_FIRMWARE,  /* a fatal firmware line (HPCI_EV_FIRMWARE) ended a wait */
	HPCI_FAIL_CRASH,     /* a kernel panic or oops line ended a wait */
};

/* Everything a cell attempt observed; nothing in it is a decision. */
struct hpci_observation {
	enum hpci_failure failure;
	enum hpci_error_kind error_kind;  /* the failure's kind, as the adapter typed it */
	const char *error;                /* what failed, when failure != NONE */
	const char *context;              /* infra: what the harness was doing, or NULL */
	const char *stop_reason;          /* libvirt's stop reason name, when known */
	GPtrArray *events;                /* struct hpci_event *: the observation log, or NULL */
	GPtrArray *regdumps;              /* GArray * of struct hpci_cpu_regs per sample, or NULL */
	gint64 regdump_span_ms;           /* time between the first and last sample */
	const GArray *plugs;              /* struct hpci_plug_timing, or NULL */
	const struct hpci_fw_log *firmware;  /* the parsed firmware.log, or NULL */
	const char *firmware_unreadable;  /* why firmware.log could not be parsed, or NULL */
	const char *attack_token;         /* this attempt's token (harness/attack.h), or NULL */
	const GArray *claim_regs;         /* struct hpci_cpu_regs: the dump taken when the
					   * payload claimed SMM, or NULL */
};

/*
 * Fills res->outcome, evidence, error, firmware_problems (appended),
 * verdict_pass and known_issue from the cell and the observation, by the
 * precedence above.  res->firmware is left to the caller (it owns the log
 * obs->firmware points to).
 */
void hpci_judge(const struct hpci_cell *cell, const struct hpci_observation *obs,
		struct hpci_cell_result *res);


#endif
