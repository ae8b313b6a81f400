/* SPDX-License-Identifier: MIT */
#ifndef HPCI_RESULT_H
#define HPCI_RESULT_H

#include "cell.h"
#include "firmware-log.h"

#include "source.h"

#include <glib.h>
#include <stdbool.h>

/*
 * The data model of a run, filled by the harness and written by the report
 * writers.  Times are milliseconds since the cell's domain was started; -1
 * means the point was never reached.
 */
struct hpci_plug_timing {
	unsigned vcpu;          /* libvirt vCPU id */
	int guest_cpu;          /* the guest's CPU number, -1 until seen */
	gint64 request_ms;      /* plug request sent */
	gint64 returned_ms;     /* libvirt call returned */
	gint64 seen_ms;         /* guest reported the CPU */
	gint64 online_ms;       /* guest reported it running */
	gint64 unplug_request_ms;
	gint64 unplug_returned_ms;  /* libvirt's unplug call returned */
	bool unplug_timed_out;  /* libvirt gave up waiting for QEMU's DEVICE_DELETED */
	gint64 removed_ms;      /* guest reported it gone */
	bool request_failed;    /* libvirt returned an error for the plug request */
};

/*
 * What an attack cell, or a cell that checked the SMRAM at the default SMBASE,
 * saw (harness/attack.h): the token of the attempt, the guest's result lines
 * (plant with what read back, the SIPI module's account, the payload's
 * announcements, the window checks) in order, and the register dump taken
 * when the payload claimed SMM.
 */
struct hpci_attack_record {
	char *token;
	GPtrArray *lines;       /* char * */
	char *regdump;          /* file in the cell directory, or NULL */
};

struct hpci_attack_record *hpci_attack_record_new(const char *token);
void hpci_attack_record_free(struct hpci_attack_record *rec);

struct hpci_cell_result {
	const struct hpci_cell *cell;
	bool ran;                   /* false: not started (interrupted run) */
	enum hpci_outcome outcome;
	bool verdict_pass;          /* outcome (and message) as expected */
	bool known_issue;           /* not as expected, but the expectation's known issue */
	char *error;                /* what failed, with the library's words */
	char *evidence;             /* why the classifier chose the outcome */
	char *domain;               /* libvirt domain name */
	char *connection;           /* libvirt URI the domain ran on */
	char *emulator;             /* the QEMU the cell ran on (its plan's), NULL when
				     * its build failed */
	char *firmware_code;        /* the OVMF CODE image it ran on, likewise */
	char *dir;                  /* cell directory relative to the report */
	gint64 boot_ms;             /* domain start to the guest's ready line; a restored
				     * cell: resume to the guest agent's first answer */
	/* How the cell's guest came up (harness/boot-state.h): cold, or restored
	 * from the saved boot state `boot_state` (its cache key), which took
	 * restore_ms.  boot_control: the cold cell its configuration keeps as
	 * the control of its restored ones.  boot_note: why a cell meant to be
	 * restored booted cold (its state could not be made). */
	char *boot_state;
	gint64 restore_ms;
	bool boot_control;
	char *boot_note;
	gint64 duration_ms;         /* the whole cell, setup and teardown included */
	GArray *plugs;              /* struct hpci_plug_timing */
	unsigned smi_runs;          /* SMI bursts started in the guest */
	unsigned smi_runs_survived; /* ... and completed, guest healthy after */
	unsigned smi_accesses;      /* UEFI variable accesses (each an SMI) done */
	gint64 smi_ms;              /* time spent in SMI bursts */
	unsigned smm_stalls;        /* a CPU spun in SMM, then went on */
	gint64 smm_stall_longest_ms;
	/* The firmware's debug log, parsed when the firmware writes one
	 * (cell->firmware.verbose), else NULL; and what disagreed with it. */
	struct hpci_fw_log *firmware;
	GPtrArray *firmware_problems;   /* char * */
	struct hpci_attack_record *attack;  /* NULL: no attack step and no SMRAM check */
	/* A cell may run several attempts (--repeat, retries).  This result is
	 * the deciding attempt; the others are kept, in any order, in
	 * other_attempts (struct hpci_cell_result *, owned).  flaky: the
	 * attempts disagreed, some passing and some failing. */
	unsigned attempt;           /* 1-based */
	GPtrArray *other_attempts;
	bool flaky;
};

/*
 * A cell's verdict: its outcome judged against the matrix's expectation.
 * The enum's order is the order summaries list the verdicts in.
 */
enum hpci_verdict {
	HPCI_VERDICT_PASS,
	HPCI_VERDICT_FAIL,          /* product failure: the outcome is not the expected one */
	HPCI_VERDICT_FLAKY,         /* attempts disagreed: a product failure that comes and goes */
	HPCI_VERDICT_KNOWN_ISSUE,
	HPCI_VERDICT_INFRA_ERROR,   /* the harness or the host failed, not the product */
	HPCI_VERDICT_NOT_RUN,
	HPCI_VERDICT__COUNT
};

/* "pass", "fail", "flaky", "known-issue", "infra-error" or "not-run": the
 * word report.json's "verdict" holds. */
const char *hpci_verdict_name(enum hpci_verdict verdict);
/* The verdict a name names; HPCI_VERDICT__COUNT for a word that is none
 * (a newer report's, or a typo). */
enum hpci_verdict hpci_verdict_parse(const char *name);
/* Its key in report.json's "summary": "known_issue". */
const char *hpci_verdict_summary_key(enum hpci_verdict verdict);
/* Its words in a sentence: "known issue". */
const char *hpci_verdict_words(enum hpci_verdict verdict);
/* Its tag on the progress line: "ok", "FAIL", "KNOWN", ... */
const char *hpci_verdict_tag(enum hpci_verdict verdict);

/* How many cells have each verdict. */
struct hpci_verdict_counts {
	unsigned cells;                         /* every cell counted */
	unsigned of[HPCI_VERDICT__COUNT];       /* cells with each verdict */
};

/* Counts one cell; a verdict out of range (what hpci_verdict_parse gives
 * for an unknown word) counts as a cell with no verdict. */
void hpci_verdict_counts_add(struct hpci_verdict_counts *counts, enum hpci_verdict verdict);
/* "6 cells, 4 pass, 1 fail, 0 flaky, 1 known issue, 0 infra error, 0 not run". */
char *hpci_verdict_counts_text(const struct hpci_verdict_counts *counts);

struct hpci_cell_result *hpci_cell_result_new(const struct hpci_cell *cell);
void hpci_cell_result_free(struct hpci_cell_result *res);
typedef struct hpci_cell_result hpci_cell_result;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_cell_result, hpci_cell_result_free)

/* What a binary or image was: path, version string, sha256. */
struct hpci_identity {
	char *role;      /* "qemu", "firmware-code", "firmware-vars", "image" */
	char *path;
	char *version;   /* may be NULL */
	char *sha256;
	struct hpci_source_origin origin;   /* a build's source; all NULL for a given file */
};

/* How the run was run: what `report merge` checks shards against. */
struct hpci_run_settings {
	unsigned jobs;
	unsigned repeat;          /* attempts per cell */
	unsigned retries;         /* extra attempts for a failing cell */
	unsigned infra_retries;   /* extra attempts after an infra error */
	GPtrArray *filters;       /* char *, the --filter expressions */
	GPtrArray *sets;          /* char *, the --set overrides as applied (matrix.h) */
	char *shard;              /* "K/N", or NULL */
	GPtrArray *connections;   /* char *, libvirt URIs */
	bool boot_reuse;          /* saved boot states restored (false: --cold) */
};

struct hpci_run_report {
	char *tool_version;
	char *host_kernel;
	char *host_cpu;
	char *accel;
	char *libvirt;
	char *matrix_path;
	char *matrix_name;
	char *matrix_sha256;
	/* The matrix's axis_values (struct hpci_matrix), borrowed like the
	 * results' cells; NULL when unknown. */
	const GArray *axis_values;
	char *started_at;        /* ISO 8601, UTC */
	gint64 duration_ms;
	bool interrupted;
	struct hpci_run_settings run;
	GPtrArray *identities;   /* struct hpci_identity * */
	GPtrArray *results;      /* struct hpci_cell_result * */
};

/*
 * A breach (guest code ran in SMM, or the SMRAM at the default SMBASE was
 * readable) is a failure before any other: never flaky, never a known
 * issue.  Only a cell expected to breach, the positive control whose
 * smbase_smram is off (matrix/README.md), passes with it.
 */
enum hpci_verdict hpci_cell_verdict(const struct hpci_cell_result *res);
const char *hpci_cell_verdict_name(const struct hpci_cell_result *res);
/* An attempt or cell that ran and breached when it was not expected to. */
bool hpci_cell_breached(const struct hpci_cell_result *res);
/* The verdicts of the report's results. */
void hpci_run_report_count(const struct hpci_run_report *report,
			   struct hpci_verdict_counts *counts);

void hpci_run_report_init(struct hpci_run_report *report);
void hpci_run_report_release(struct hpci_run_report *report);
typedef struct hpci_run_report hpci_run_report;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hpci_run_report, hpci_run_report_release)
void hpci_identity_free(struct hpci_identity *id);

#endif
