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

/* Records the message and returns -code (code is a positive errno value). */
int hpci_error(int code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Same, appending ": strerror(errnum)"; returns -errnum. */
int hpci_error_errno(int errnum, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Puts "context: " in front of the recorded message, for callers that add
 * what they were doing (the file, the cell) to a lower layer's message. */
void hpci_error_prefix(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* The last recorded message of this thread, or "" when there is none. */
const char *hpci_error_message(void);

void hpci_error_clear(void);

/* Rollback code calls save before cleaning up and restore afterwards, so a
 * failure during cleanup cannot replace the error that caused it. */
char *hpci_error_save(void);
void hpci_error_restore(char *saved);

/* Prints "hotplug-ci: error: <message>" to stderr. */
void hpci_error_print(void);

/* Warnings and progress go to stderr through these, never printf. */
void hpci_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void hpci_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
