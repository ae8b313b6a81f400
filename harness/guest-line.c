/* SPDX-License-Identifier: MIT */
#include "guest-line.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "<prefix><n>" at the start of s; returns n or -1. */
static int cpu_after(const char *s, const char *prefix)
{
	const char *p;
	char *end;
	long n;

	if (!g_str_has_prefix(s, prefix))
		return -1;
	p = s + strlen(prefix);
	if (!g_ascii_isdigit(*p))
		return -1;
	n = strtol(p, &end, 10);
	if (n > 65535 || (*end && *end != ' ' && *end != '\r'))
		return -1;
	return (int)n;
}

/* The kernel's lines carry a "[    1.234567] " timestamp prefix. */
static const char *skip_kernel_stamp(const char *line)
{
	const char *p = line;

	if (*p != '[')
		return line;
	p = strchr(p, ']');
	if (!p)
		return line;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/* Length of a kernel timestamp "[    3.945778]" at s, or 0. */
static size_t kernel_stamp_len(const char *s)
{
	const char *p = s;
	size_t digits = 0;

	if (*p++ != '[')
		return 0;
	while (*p == ' ')
		p++;
	while (g_ascii_isdigit(*p))
		p++, digits++;
	if (!digits || *p++ != '.')
		return 0;
	for (digits = 0; g_ascii_isdigit(*p); p++)
		digits++;
	if (digits != 6 || *p != ']')
		return 0;
	return (size_t)(p + 1 - s);
}

void hpci_guest_lines_splice(GString *held, const char *raw, GPtrArray *out)
{
	g_autofree char *line = g_strconcat(held->str, raw, NULL);
	const char *record = NULL;

	g_string_truncate(held, 0);
	/* A record that starts the line is an ordinary kernel line. */
	for (const char *p = strchr(line + (*line != 0), '['); p; p = strchr(p + 1, '[')) {
		if (kernel_stamp_len(p)) {
			record = p;
			break;
		}
	}
	if (!record) {
		g_ptr_array_add(out, g_steal_pointer(&line));
		return;
	}
	g_string_append_len(held, line, record - line);
	g_ptr_array_add(out, g_strdup(record));
}

static const struct {
	const char *prefix;
	enum hpci_guest_line_kind kind;
} cpu_lines[] = {
	{ "HPCI-CPU-ADDED ", HPCI_LINE_CPU_ADDED },
	{ "HPCI-CPU-ONLINE ", HPCI_LINE_CPU_ONLINE },
	{ "HPCI-CPU-OFFLINE ", HPCI_LINE_CPU_OFFLINE },
	{ "HPCI-CPU-REMOVED ", HPCI_LINE_CPU_REMOVED },
};

/* Linux announces each CPU it brings up, hot-added ones included:
 * "smpboot: Booting Node 0 Processor 3 APIC 0x4". */
static void parse_cpu_apic(const char *text, struct hpci_guest_line *out)
{
	unsigned node, cpu, apic;
	int end = 0;

	if (sscanf(text, "smpboot: Booting Node %u Processor %u APIC 0x%x%n", &node, &cpu, &apic,
		   &end) == 3 && end > 0 && cpu <= 65535) {
		out->kind = HPCI_LINE_KERNEL_CPU_APIC;
		out->cpu = (int)cpu;
		out->apic = apic;
	}
}

struct hpci_guest_line hpci_guest_line_parse(const char *line)
{
	struct hpci_guest_line out = { HPCI_LINE_OTHER, -1, -1 };
	const char *text = skip_kernel_stamp(line);
	const char *hot;

	for (size_t i = 0; i < G_N_ELEMENTS(cpu_lines); i++) {
		int cpu = cpu_after(line, cpu_lines[i].prefix);

		if (cpu >= 0) {
			out.kind = cpu_lines[i].kind;
			out.cpu = cpu;
			return out;
		}
	}
	if (strcmp(line, "HPCI-READY") == 0 || strcmp(line, "HPCI-READY\r") == 0)
		out.kind = HPCI_LINE_READY;
	else if (g_str_has_prefix(line, "HPCI-SMI "))
		out.kind = HPCI_LINE_SMI_DONE;
	else if (g_str_has_prefix(line, "HPCI-ERROR") || g_str_has_prefix(line, "HPCI-SMI-ERROR") ||
		 g_str_has_prefix(line, "HPCI-ATTACK-ERROR"))
		out.kind = HPCI_LINE_GUEST_ERROR;
	else if (g_str_has_prefix(line, "HPCI-ATTACK-PLANT "))
		out.kind = HPCI_LINE_ATTACK_PLANT;
	else if (g_str_has_prefix(text, "HPCI-ATTACK-SIPI "))
		out.kind = HPCI_LINE_ATTACK_SIPI;
	else if (g_str_has_prefix(line, "HPCI-SMRAM-CHECK "))
		out.kind = HPCI_LINE_SMRAM_CHECK;
	/* The payload writes the port itself, from any CPU at any time: its
	 * line may land after a fragment of someone else's. */
	else if (strstr(line, "HPCI-ATTACK "))
		out.kind = HPCI_LINE_ATTACK;
	else if (g_str_has_prefix(text, "Kernel panic - not syncing"))
		out.kind = HPCI_LINE_KERNEL_PANIC;
	else if (g_str_has_prefix(text, "BUG: ") || g_str_has_prefix(text, "Oops: ") ||
		 g_str_has_prefix(text, "general protection fault"))
		out.kind = HPCI_LINE_KERNEL_OOPS;
	else if (g_str_has_prefix(text, "Linux version "))
		out.kind = HPCI_LINE_KERNEL_BOOT;
	else if (g_str_has_prefix(text, "smpboot: Booting Node "))
		parse_cpu_apic(text, &out);
	else if ((hot = strstr(text, " has been hot-added")) && g_str_has_prefix(text, "CPU")) {
		g_autofree char *head = g_strndup(text, hot - text);

		out.cpu = cpu_after(head, "CPU");
		if (out.cpu >= 0)
			out.kind = HPCI_LINE_KERNEL_HOTADDED;
	}
	return out;
}

const char *hpci_guest_line_kind_name(enum hpci_guest_line_kind kind)
{
	static const char *const names[] = {
		[HPCI_LINE_OTHER] = "other",
		[HPCI_LINE_READY] = "ready",
		[HPCI_LINE_CPU_ADDED] = "cpu-added",
		[HPCI_LINE_CPU_ONLINE] = "cpu-online",
		[HPCI_LINE_CPU_OFFLINE] = "cpu-offline",
		[HPCI_LINE_CPU_REMOVED] = "cpu-removed",
		[HPCI_LINE_SMI_DONE] = "smi-done",
		[HPCI_LINE_GUEST_ERROR] = "guest-error",
		[HPCI_LINE_KERNEL_HOTADDED] = "kernel-hot-added",
		[HPCI_LINE_KERNEL_CPU_APIC] = "kernel-cpu-apic",
		[HPCI_LINE_KERNEL_PANIC] = "kernel-panic",
		[HPCI_LINE_KERNEL_OOPS] = "kernel-oops",
		[HPCI_LINE_KERNEL_BOOT] = "kernel-boot",
		[HPCI_LINE_ATTACK] = "attack",
		[HPCI_LINE_ATTACK_PLANT] = "attack-plant",
		[HPCI_LINE_ATTACK_SIPI] = "attack-sipi",
		[HPCI_LINE_SMRAM_CHECK] = "smram-check",
	};

	return kind < G_N_ELEMENTS(names) && names[kind] ? names[kind] : "other";
}
