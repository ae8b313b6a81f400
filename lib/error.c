/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char *last_message;

static void set_message(char *message)
{
	g_free(last_message);
	last_message = message;
}

int hpci_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(g_strdup_vprintf(fmt, ap));
	va_end(ap);
	return -code;
}

int hpci_error_errno(int errnum, const char *fmt, ...)
{
	g_autofree char *head = NULL;
	va_list ap;

	va_start(ap, fmt);
	head = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	set_message(g_strdup_printf("%s: %s", head, g_strerror(errnum)));
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
}

char *hpci_error_save(void)
{
	char *saved = last_message;

	last_message = NULL;
	return saved;
}

void hpci_error_restore(char *saved)
{
	set_message(saved);
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
