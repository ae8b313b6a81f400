/* SPDX-License-Identifier: MIT */
#ifndef HPCI_FIRMWARE_LOG_H
#define HPCI_FIRMWARE_LOG_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * What OVMF's DEBUG log (isa-debugcon at 0x402, the cell's firmware.log)
 * says about SMM CPU hotplug: the platform facts PlatformPei found, the SMI
 * features SmmControl2Dxe negotiated with QEMU, the CPUs CpuHotplugSmm
 * hot-added and unplugged, and the ASSERTs and dead loops that stopped it.
 *
 * The log is untrusted text: a guest can reset mid-line and the console can
 * carry binary noise, so the parser never fails, keeps its memory bounded
 * whatever the input, and copies strings as printable ASCII only.
 *
 * When a scalar fact appears more than once (the firmware ran again after a
 * reset, or S3 resume re-ran PlatformPei), the last line wins: it describes
 * the firmware that was running when the log ended.
 */

#define HPCI_FW_LOG_LINE_MAX 4096    /* longer lines are cut to this */
#define HPCI_FW_LOG_CPUS_MAX 4096    /* hot_added and unplugs entries each */
#define HPCI_FW_LOG_ASSERTS_MAX 64

enum hpci_fw_fact {
	HPCI_FW_MISSING = -1,   /* the log never said */
	HPCI_FW_NO = 0,
	HPCI_FW_YES = 1,
};

/* "hot-added APIC ID 0x%08x, SMBASE 0x%Lx, ... assigned number %Lu" */
struct hpci_fw_hot_add {
	guint32 apic_id;
	guint64 smbase;
	guint64 number;         /* EFI_SMM_CPU_SERVICE_PROTOCOL processor number */
	guint64 line_no;        /* 1-based line of the log */
};

/*
 * One entry per "Started hot-unplug on ProcessorNum N", completed (done) by
 * the next "Unplugged ProcessorNum N".  An "Unplugged" line without a start
 * gets an entry of its own with started false and apic_id unknown (0).
 */
struct hpci_fw_unplug {
	guint64 processor;
	guint32 apic_id;
	guint64 selector;       /* QEMU's CPU selector */
	bool started;
	bool done;
	guint64 line_no;        /* of the first line of the entry */
};

/* "ASSERT [module] file(line): expression"; module is NULL in OVMF's own
 * "ASSERT file(line): expression" form. */
struct hpci_fw_assert {
	char *module;
	char *file;
	unsigned line;
	char *expression;
	guint64 line_no;
};

struct hpci_fw_log {
	enum hpci_fw_fact smram_at_default_smbase;
	gint64 boot_cpu_count;          /* -1: missing */
	gint64 max_cpu_count;           /* -1: missing */
	enum hpci_fw_fact broadcast;    /* SMI broadcast negotiated */
	enum hpci_fw_fact cpu_hotplug;  /* CPU hotplug with SMI negotiated */
	enum hpci_fw_fact cpu_hotunplug;
	bool negotiation_failed;        /* QEMU rejected the feature bitmap */
	guint64 failed_bitmap;
	GArray *hot_added;              /* struct hpci_fw_hot_add */
	GArray *unplugs;                /* struct hpci_fw_unplug */
	GPtrArray *asserts;             /* struct hpci_fw_assert *, in log order */
	bool deadloop;                  /* "Broken CPU hotplug register block found" */
	guint64 bytes;
	guint64 lines;
	guint64 malformed;              /* a known message whose numbers did not parse */
	bool truncated_lines;           /* a line exceeded HPCI_FW_LOG_LINE_MAX and was cut */
	bool capped;                    /* an array was full; later entries were dropped */
};

void hpci_fw_log_init(struct hpci_fw_log *log);
void hpci_fw_log_release(struct hpci_fw_log *log);

/*
 * Streaming: feed the log in chunks split anywhere (mid-line too), then
 * finish, which parses a last line that has no newline.  The parser fills a
 * log the caller initialised and keeps; a line longer than
 * HPCI_FW_LOG_LINE_MAX is parsed by its first HPCI_FW_LOG_LINE_MAX bytes (an
 * ASSERT's text is worth keeping even when cut) and the rest is skipped.
 */
struct hpci_fw_log_parser;

struct hpci_fw_log_parser *hpci_fw_log_parser_new(struct hpci_fw_log *log);
void hpci_fw_log_parser_feed(struct hpci_fw_log_parser *parser, const void *data, size_t len);
void hpci_fw_log_parser_finish(struct hpci_fw_log_parser *parser);
void hpci_fw_log_parser_free(struct hpci_fw_log_parser *parser);
/* Bytes of the current partial line held; never above HPCI_FW_LOG_LINE_MAX. */
size_t hpci_fw_log_parser_pending(const struct hpci_fw_log_parser *parser);
typedef struct hpci_fw_log_parser hpci_fw_log_parser;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_fw_log_parser, hpci_fw_log_parser_free)

/*
 * Whole inputs.  On success *ret is initialised and filled (release it with
 * hpci_fw_log_release); on failure (the file cannot be opened or read; the
 * error is recorded) *ret is untouched.  parse_buffer cannot fail.
 */
int hpci_fw_log_parse_file(const char *path, struct hpci_fw_log *ret);
int hpci_fw_log_parse_buffer(const char *data, size_t len, struct hpci_fw_log *ret);

/*
 * The log as a JSON object: every key present whatever the log said, facts
 * it never stated as null and named in "missing", 64-bit addresses and the
 * failed feature bitmap as "0x..." strings.
 */
json_object *hpci_fw_log_to_json(const struct hpci_fw_log *log);

/*
 * Whether the firmware stopped itself: an ASSERT, the broken register block
 * dead loop, or a failed SMI feature negotiation.  *ret_summary (may be NULL
 * to skip) gets the first ASSERT as "ASSERT SmiFeatures.c(243): expr", else
 * the dead loop's or the negotiation's text; NULL when it did not fail.
 */
bool hpci_fw_log_failed(const struct hpci_fw_log *log, char **ret_summary);

/*
 * Whether one line of the log (without its newline) would make
 * hpci_fw_log_failed() true on its own, for a reader that follows the log as
 * it grows.  A log fails exactly when one of its lines is fatal: nothing the
 * parser records of a failure is ever undone by a later line.
 */
bool hpci_fw_line_fatal(const char *line);

#endif
