/* SPDX-License-Identifier: MIT */
#ifndef HPCI_CELL_H
#define HPCI_CELL_H

#include <glib.h>
#include <stdbool.h>

/* The builders' requests (firmware-build.h, qemu-build.h): a cell's recipes. */
struct hpci_firmware_request;
struct hpci_qemu_request;

/*
 * A cell: one fully resolved combination of axis values, the unit the harness
 * runs and reports.  Cells own all their strings; hpci_cell_free releases them.
 */

enum hpci_outcome {
	HPCI_OUTCOME_PASS,
	HPCI_OUTCOME_REFUSED,        /* QEMU/libvirt refused the hot(un)plug */
	HPCI_OUTCOME_HANG_SMM,       /* guest stuck, a CPU in SMM with RIP not moving */
	HPCI_OUTCOME_GUEST_TIMEOUT,  /* guest stopped answering, no SMM hang evidence */
	HPCI_OUTCOME_GUEST_CRASH,    /* panic, triple fault, unexpected reset */
	HPCI_OUTCOME_QEMU_CRASH,     /* the QEMU process died */
	HPCI_OUTCOME_INFRA_ERROR,    /* the harness or host failed, not the product */
	HPCI_OUTCOME_FIRMWARE_ASSERT, /* the firmware's debug log shows an ASSERT or dead loop */
	HPCI_OUTCOME_MISMATCH,       /* the firmware's account disagrees with the topology,
				      * the guest, the SMI mode or the cell's expectations */
	HPCI_OUTCOME_BREACH,         /* guest code ran in SMM (its token came from SMM), or
				      * the SMRAM at the default SMBASE was readable */
	HPCI_OUTCOME__COUNT
};

const char *hpci_outcome_name(enum hpci_outcome outcome);
/* Returns 0 and sets *ret, or -EINVAL for an unknown name (no error recorded). */
int hpci_outcome_parse(const char *name, enum hpci_outcome *ret);

struct hpci_topology {
	unsigned sockets, dies, cores, threads;
	unsigned boot;   /* vCPUs present at boot */
	unsigned max;    /* sockets * dies * cores * threads */
};

/* The switches of an SMI mode, as bits of hpci_smi_mode.given. */
enum hpci_smi_switch {
	HPCI_SMI_BROADCAST = 1u << 0,
	HPCI_SMI_CPU_HOTPLUG = 1u << 1,
	HPCI_SMI_CPU_HOTUNPLUG = 1u << 2,
	HPCI_SMI_SMBASE_SMRAM = 1u << 3,
};

struct hpci_smi_mode {
	char *machine;        /* e.g. "pc-q35-7.2"; "q35" means the newest */
	/*
	 * Effective values: the matrix's where it gives one, else what the
	 * machine type implies (QEMU's compat properties, matrix/README.md
	 * "smi").  The firmware cross-check compares the negotiation with these.
	 */
	bool broadcast;       /* ICH9-LPC.x-smi-broadcast */
	bool cpu_hotplug;     /* ICH9-LPC.x-smi-cpu-hotplug */
	bool cpu_hotunplug;   /* ICH9-LPC.x-smi-cpu-hotunplug */
	bool smbase_smram;    /* mch.smbase-smram */
	/*
	 * The enum hpci_smi_switch bits of the values the matrix gave.  Only
	 * these become -global options; the others are left to QEMU, so a cell
	 * tests what its machine type itself implies.
	 */
	unsigned given;
};

struct hpci_firmware {
	/* pflash CODE image and VARS template (copied per cell); for a recipe,
	 * NULL until the run has built it and filled them in. */
	char *code;
	char *vars;
	bool smm;         /* built with SMM_REQUIRE: domain gets <smm state='on'/> */
	bool verbose;     /* writes a debug log to the debug console (a DEBUG or
			   * NOOPT build; descriptor feature verbose-static) */
	char *descriptor; /* the firmware descriptor it was read from, or NULL */
	/* An OVMF the harness builds itself (firmware-build/), owned; NULL: the
	 * images are given.  Its patches directory is absolute. */
	struct hpci_firmware_request *recipe;
};

struct hpci_qemu {
	/* Absolute path of qemu-system-x86_64; for a recipe, NULL until the run
	 * has built it (or found it in the cache) and filled it in. */
	char *emulator;
	/* A QEMU the harness builds itself (qemu-build/), owned; NULL: the
	 * emulator is given.  Its patches directory is absolute. */
	struct hpci_qemu_request *recipe;
};

/* Deep copies (recipes included) and the clears that free what they own
 * and zero them, for the axis values and cells that hold them. */
struct hpci_firmware hpci_firmware_copy(const struct hpci_firmware *fw);
void hpci_firmware_clear(struct hpci_firmware *fw);
struct hpci_qemu hpci_qemu_copy(const struct hpci_qemu *qemu);
void hpci_qemu_clear(struct hpci_qemu *qemu);

enum hpci_step_kind {
	HPCI_STEP_PLUG_EACH,    /* plug `count` vCPUs one call each, online each */
	HPCI_STEP_PLUG_BURST,   /* plug `count` vCPUs in one call, online them */
	HPCI_STEP_UNPLUG,       /* unplug the vCPUs plugged so far, newest first */
	HPCI_STEP_SMI,          /* raise SMIs from the guest on every online CPU */
	HPCI_STEP_ATTACK_SMBASE,/* the guest plants code at the default SMBASE (0x38000) */
	HPCI_STEP_ATTACK_SIPI,  /* the guest starts the next plug's CPUs before their SMI */
};

struct hpci_step {
	enum hpci_step_kind kind;
	unsigned sweeps;        /* HPCI_STEP_SMI: efivarfs sweeps per CPU */
};

/* Expectations on what the firmware's debug log says; each field is
 * HPCI_FACT_ANY (no expectation), or 0/1 for "must say no"/"must say yes". */
#define HPCI_FACT_ANY (-1)
struct hpci_firmware_expect {
	int smram_at_default_smbase;
	int broadcast;        /* negotiated SMI features */
	int cpu_hotplug;
	int cpu_hotunplug;
};

/*
 * What a known issue is a bug in.  Only components hotplug-ci neither builds
 * nor patches qualify: a bug in our QEMU or OVMF builds or in our guest image
 * is ours to fix (in qemu-build/patches, a firmware patch queue, images/),
 * never to declare.
 */
enum hpci_known_component {
	HPCI_COMPONENT_SYSTEM_QEMU,       /* the distribution's QEMU package, as shipped */
	HPCI_COMPONENT_SYSTEM_FIRMWARE,   /* the distribution's OVMF images */
	HPCI_COMPONENT_GUEST_KERNEL,      /* the distribution's kernel in the guest */
	HPCI_COMPONENT_LIBVIRT,
	HPCI_COMPONENT__N
};
const char *hpci_known_component_name(enum hpci_known_component c);

/* A product bug found and kept: the outcome it produces and what it is. */
struct hpci_known_issue {
	enum hpci_outcome outcome;
	enum hpci_known_component component;
	char *note;      /* "note; upstream: REF (evidence: PATH)", PATH absolute */
};

/* An empty array of struct hpci_known_issue whose clear function frees each note. */
GArray *hpci_known_issues_new(void);
/* A deep copy from hpci_known_issues_new(), or NULL for NULL. */
GArray *hpci_known_issues_copy(const GArray *issues);

struct hpci_expect {
	enum hpci_outcome outcome;
	/* Further outcomes that also hold (bit 1u << outcome), from an
	 * "outcome" list: an attack may fail closed in several ways. */
	unsigned also;
	char *message;   /* refused: a substring the error must contain; else NULL */
	char *reason;    /* why this is the expectation (from the matrix), or NULL */
	struct hpci_firmware_expect firmware;
	/*
	 * Product bugs the cell may hit instead: a cell that ends in one of
	 * their outcomes is reported as a known issue rather than a failure
	 * (never as a pass).  struct hpci_known_issue, at most one per outcome,
	 * from hpci_known_issues_new(); the cell owns it (hpci_cell_free
	 * unrefs it).  NULL when there is none.
	 */
	GArray *known_issues;
};

/* The expected outcomes for people: "hang-smm", or "hang-smm|guest-timeout"
 * for a list; the caller frees. */
char *hpci_expect_outcomes(const struct hpci_expect *expect);

/* True when the outcome is the expected one or one of the others listed
 * (expect->also), and, for refused, the error holds the expected message. */
bool hpci_expect_met(const struct hpci_expect *expect, enum hpci_outcome outcome,
		     const char *error);

/* The note of the known issue with this outcome in issues (which may be NULL), or NULL. */
const char *hpci_known_issue_find(const GArray *issues, enum hpci_outcome outcome);
/* The note of e's known issue with this outcome, or NULL. */
const char *hpci_expect_known_issue(const struct hpci_expect *e, enum hpci_outcome outcome);

/*
 * Per-step time limits in milliseconds.  In a cell from the matrix they are
 * unscaled: the matrix's values (written for TCG) exactly as written.  The
 * harness's prepare stage scales them before a run (KVM: MAX(ms / 4,
 * MIN(ms, 5000)); more jobs than cores: ms * jobs / cores).
 */
struct hpci_timeouts {
	unsigned boot_ms;     /* domain start to the guest's ready line */
	unsigned plug_ms;     /* plug request to the guest seeing the CPU */
	unsigned online_ms;   /* online request to the CPU running */
	unsigned unplug_ms;   /* unplug request to the CPU gone */
	unsigned smi_ms;      /* one SMI step, all sweeps */
};

struct hpci_axis_value {
	char *axis;    /* "topology", "smi", "firmware", "qemu", "count", "ops" */
	char *value;   /* the value's name in the matrix */
};

struct hpci_cell {
	char *id;                 /* "topology=1s2c,smi=full,...", stable */
	GArray *axes;             /* struct hpci_axis_value, canonical axis order */
	struct hpci_topology topology;
	struct hpci_smi_mode smi;
	struct hpci_firmware firmware;
	struct hpci_qemu qemu;
	char *image;              /* image recipe name, e.g. "minimal" */
	unsigned count;           /* vCPUs to plug */
	GArray *steps;            /* struct hpci_step */
	struct hpci_expect expect;
	struct hpci_timeouts timeouts;
};

void hpci_cell_free(struct hpci_cell *cell);
typedef struct hpci_cell hpci_cell;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_cell, hpci_cell_free)

/* The value name of one axis of the cell, or NULL. */
const char *hpci_cell_axis(const struct hpci_cell *cell, const char *axis);
const char *hpci_step_name(enum hpci_step_kind kind);
/* plug-each or plug-burst */
bool hpci_step_is_plug(enum hpci_step_kind kind);
/* The index of the first attack step (attack-smbase, attack-sipi) among
 * steps (struct hpci_step), or -1. */
int hpci_steps_first_attack(const GArray *steps);

#endif
