/* SPDX-License-Identifier: MIT */
#ifndef HPCI_ERROR_H
#define HPCI_ERROR_H

#include <glib.h>

/*
 * One error-reporting path, modelled on libvirt's virReportError: the function
 * that detects a failure records one message with hpci_error() and returns the
 * negative code it gets back; callers propagate the code unchanged and whoever
 * finally handles the failure (main, or the cell runner that turns it into a
 * report field) reads hpci_error_message() once.  The record is per thread, so
 * cells running in parallel threads do not see each other's errors.
 *
 * Messages follow git's rules: lowercase start, no final period, what failed
 * first, the subject in single quotes, a library's own detail after a colon.
 */

/*
 * What kind of failure the record is, set by the layer that knows (the
 * libvirt adapter maps virErrorNumber to these), so callers decide by kind,
 * never by searching the message.  HPCI_ERR_GENERIC is what hpci_error()
 * records; the others come from hpci_error_kind().
 */
enum hpci_error_kind {
	HPCI_ERR_GENERIC,       /* nothing more specific is known */
	HPCI_ERR_USAGE,         /* a bad command line: main prints the usage hint */
	HPCI_ERR_INPUT,         /* a bad input file (matrix, recipe, report) */
	HPCI_ERR_HOST,          /* the host or libvirt failed, not the product */
	HPCI_ERR_REFUSED,       /* QEMU refused a hot(un)plug (its documented refusal) */
	HPCI_ERR_REQUEST,       /* a hot(un)plug request failed for another reason */
	HPCI_ERR_AGENT,         /* the guest agent did not answer */
	HPCI_ERR_TIMEOUT,       /* the guest did not do what was asked in time */
	HPCI_ERR_DOMAIN_GONE,   /* the domain stopped while the harness used it */
	HPCI_ERR_INTERRUPTED,   /* the user interrupted the run */
	HPCI_ERR__COUNT
};

/* Records the message and returns -code (code is a positive errno value). */
int hpci_error(int code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Same, with a kind other than HPCI_ERR_GENERIC. */
int hpci_error_kind(enum hpci_error_kind kind, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* The kind of this thread's last recorded error (HPCI_ERR_GENERIC when none). */
enum hpci_error_kind hpci_error_last_kind(void);

/* Same, appending ": strerror(errnum)"; returns -errnum. */
int hpci_error_errno(int errnum, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Puts "context: " in front of the recorded message, for callers that add
 * what they were doing (the file, the cell) to a lower layer's message.
 * The kind is kept. */
void hpci_error_prefix(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* The last recorded message of this thread, or "" when there is none. */
const char *hpci_error_message(void);

void hpci_error_clear(void);

/* Rollback code calls save before cleaning up and restore afterwards, so a
 * failure during cleanup cannot replace the error that caused it. */
typedef struct hpci_error_saved hpci_error_saved;
hpci_error_saved *hpci_error_save(void);
/* Takes saved back as the current record (and frees it). */
void hpci_error_restore(hpci_error_saved *saved);
void hpci_error_saved_free(hpci_error_saved *saved);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hpci_error_saved, hpci_error_saved_free)

/* Prints "hotplug-ci: error: <message>" to stderr. */
void hpci_error_print(void);

/* Warnings and progress go to stderr through these, never printf. */
void hpci_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void hpci_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
