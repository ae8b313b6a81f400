/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char *last_message;
static __thread enum hpci_error_kind last_kind;

struct hpci_error_saved {
	char *message;
	enum hpci_error_kind kind;
};

static void set_message(char *message)
{
	g_free(last_message);
	last_message = message;
}

static int record(enum hpci_error_kind kind, int code, const char *fmt, va_list ap)
	G_GNUC_PRINTF(3, 0);
static int record(enum hpci_error_kind kind, int code, const char *fmt, va_list ap)
{
	set_message(g_strdup_vprintf(fmt, ap));
	last_kind = kind < HPCI_ERR__COUNT ? kind : HPCI_ERR_GENERIC;
	return -code;
}

int hpci_error(int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(HPCI_ERR_GENERIC, code, fmt, ap);
	va_end(ap);
	return rc;
}

int hpci_error_kind(enum hpci_error_kind kind, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(kind, code, fmt, ap);
	va_end(ap);
	return rc;
}

enum hpci_error_kind hpci_error_last_kind(void)
{
	return last_message ? last_kind : HPCI_ERR_GENERIC;
}

int hpci_error_errno(int errnum, const char *fmt, ...)
{
	g_autofree char *head = NULL;
	va_list ap;

	va_start(ap, fmt);
	head = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	set_message(g_strdup_printf("%s: %s", head, g_strerror(errnum)));
	last_kind = HPCI_ERR_GENERIC;
	return -errnum;
}

void hpci_error_prefix(const char *fmt, ...)
{
	g_autofree char *context = NULL;
	va_list ap;

	va_start(ap, fmt);
	context = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	set_message(g_strdup_printf("%s: %s", context, hpci_error_message()));
}

const char *hpci_error_message(void)
{
	return last_message ? last_message : "";
}

void hpci_error_clear(void)
{
	set_message(NULL);
	last_kind = HPCI_ERR_GENERIC;
}

hpci_error_saved *hpci_error_save(void)
{
	hpci_error_saved *saved = g_new0(hpci_error_saved, 1);

	saved->message = g_steal_pointer(&last_message);
	saved->kind = last_kind;
	last_kind = HPCI_ERR_GENERIC;
	return saved;
}

void hpci_error_restore(hpci_error_saved *saved)
{
	set_message(g_steal_pointer(&saved->message));
	last_kind = saved->kind;
	hpci_error_saved_free(saved);
}

void hpci_error_saved_free(hpci_error_saved *saved)
{
	if (!saved)
		return;
	g_free(saved->message);
	g_free(saved);
}

void hpci_error_print(void)
{
	fprintf(stderr, "hotplug-ci: error: %s\n",
		*hpci_error_message() ? hpci_error_message() : "unknown failure");
}

void hpci_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("hotplug-ci: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void hpci_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
