/* SPDX-License-Identifier: MIT */
#include "regdump.h"
#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool token_hex(const char *line, const char *key, guint64 *ret)
{
	const char *p = strstr(line, key);
	char *end;

	if (!p || (p != line && p[-1] != ' '))
		return false;
	p += strlen(key);
	*ret = g_ascii_strtoull(p, &end, 16);
	return end != p;
}

static void parse_line(const char *line, struct hpci_cpu_regs *cpu)
{
	guint64 v;

	if (token_hex(line, "RIP=", &v) || token_hex(line, "EIP=", &v))
		cpu->ip = v;
	if (token_hex(line, "SMM=", &v))
		cpu->smm = v != 0;
	if (token_hex(line, "HLT=", &v))
		cpu->halted = v != 0;
	/* "CS =0038 000000007f800000 ffffffff 00a09b00 ...": selector, base */
	if (g_str_has_prefix(line, "CS =")) {
		g_auto(GStrv) fields = g_strsplit_set(line + 4, " ", -1);

		if (fields[0] && fields[1])
			cpu->cs_base = g_ascii_strtoull(fields[1], NULL, 16);
	}
}

int hpci_regdump_parse(const char *text, GArray **ret_cpus)
{
	g_autoptr(GArray) cpus = g_array_new(FALSE, TRUE, sizeof(struct hpci_cpu_regs));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	struct hpci_cpu_regs *cur = NULL;

	for (char **l = lines; *l; l++) {
		const char *line = *l;

		if (g_str_has_prefix(line, "CPU#")) {
			struct hpci_cpu_regs fresh = { .index = atoi(line + 4) };

			g_array_append_val(cpus, fresh);
			cur = &g_array_index(cpus, struct hpci_cpu_regs, cpus->len - 1);
			continue;
		}
		if (cur)
			parse_line(line, cur);
	}
	if (cpus->len == 0)
		return hpci_error(EINVAL, "no 'CPU#' block in the register dump");
	*ret_cpus = g_steal_pointer(&cpus);
	return 0;
}

static const struct hpci_cpu_regs *find_cpu(GArray *cpus, int index)
{
	for (guint i = 0; i < cpus->len; i++) {
		const struct hpci_cpu_regs *c = &g_array_index(cpus, struct hpci_cpu_regs, i);

		if (c->index == index)
			return c;
	}
	return NULL;
}

bool hpci_regdump_smm_spin(GPtrArray *samples, int cpu, guint64 *ret_lo, guint64 *ret_hi)
{
	const struct hpci_cpu_regs *c0;
	guint64 lo, hi;

	if (!samples || samples->len < 2 ||
	    !(c0 = find_cpu(g_ptr_array_index(samples, 0), cpu)) || !c0->smm)
		return false;
	lo = hi = c0->ip;
	for (guint s = 1; s < samples->len; s++) {
		const struct hpci_cpu_regs *c = find_cpu(g_ptr_array_index(samples, s), cpu);

		if (!c || !c->smm || c->cs_base != c0->cs_base)
			return false;
		lo = MIN(lo, c->ip);
		hi = MAX(hi, c->ip);
	}
	if (hi - lo >= HPCI_SPIN_LOOP_BYTES)
		return false;
	if (ret_lo)
		*ret_lo = lo;
	if (ret_hi)
		*ret_hi = hi;
	return true;
}

int hpci_regdump_smm_stuck(GPtrArray *samples)
{
	GArray *first;

	if (!samples || samples->len < 2)
		return -1;
	first = g_ptr_array_index(samples, 0);
	for (guint i = 0; i < first->len; i++) {
		int cpu = g_array_index(first, struct hpci_cpu_regs, i).index;

		if (hpci_regdump_smm_spin(samples, cpu, NULL, NULL))
			return cpu;
	}
	return -1;
}
