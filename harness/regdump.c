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
	if (token_hex(line, "CR0=", &v))
		cpu->real_mode = !(v & 1);
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

const struct hpci_cpu_regs *hpci_regdump_find_cpu(GArray *cpus, int index)
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
	    !(c0 = hpci_regdump_find_cpu(g_ptr_array_index(samples, 0), cpu)) || !c0->smm)
		return false;
	lo = hi = c0->ip;
	for (guint s = 1; s < samples->len; s++) {
		const struct hpci_cpu_regs *c = hpci_regdump_find_cpu(g_ptr_array_index(samples, s), cpu);

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

bool hpci_regdump_parked(GPtrArray *samples, int cpu)
{
	const struct hpci_cpu_regs *c0;

	if (!samples || samples->len < 2 || !(c0 = hpci_regdump_find_cpu(g_ptr_array_index(samples, 0), cpu)))
		return false;
	for (guint s = 0; s < samples->len; s++) {
		const struct hpci_cpu_regs *c = hpci_regdump_find_cpu(g_ptr_array_index(samples, s), cpu);

		if (!c || c->smm || !c->halted || !c->real_mode || c->cs_base != c0->cs_base ||
		    c->ip != c0->ip)
			return false;
	}
	return true;
}

int hpci_regdump_frozen(GPtrArray *samples, int *ret_spinning)
{
	GArray *first;
	int parked = -1, spinning = -1;

	if (!samples || samples->len < 2)
		return -1;
	first = g_ptr_array_index(samples, 0);
	for (guint i = 0; i < first->len; i++) {
		const struct hpci_cpu_regs *c = &g_array_index(first, struct hpci_cpu_regs, i);

		if (c->smm && hpci_regdump_smm_spin(samples, c->index, NULL, NULL)) {
			if (spinning < 0)
				spinning = c->index;
		} else if (!c->smm && hpci_regdump_parked(samples, c->index)) {
			if (parked < 0)
				parked = c->index;
		} else {
			return -1;  /* this CPU moved: the machine is not frozen */
		}
	}
	if (parked < 0 || spinning < 0)
		return -1;
	if (ret_spinning)
		*ret_spinning = spinning;
	return parked;
}

/* The first of the latest samples that span at least window_ms, or -1. */
static int window_start(const GArray *times_ms, gint64 window_ms)
{
	gint64 last;

	if (!times_ms || times_ms->len < 2)
		return -1;
	last = g_array_index(times_ms, gint64, times_ms->len - 1);
	for (guint i = times_ms->len - 1; i-- > 0;) {
		if (last - g_array_index(times_ms, gint64, i) >= window_ms)
			return (int)i;
	}
	return -1;
}

/* samples[first..] as a borrowed array. */
static GPtrArray *samples_from(GPtrArray *samples, guint first)
{
	GPtrArray *tail = g_ptr_array_sized_new(samples->len - first);

	for (guint i = first; i < samples->len; i++)
		g_ptr_array_add(tail, g_ptr_array_index(samples, i));
	return tail;
}

/* Whether the firmware's log kept its size from sample `first` to the last
 * one: a firmware that still logs is still working.  Without one size per
 * sample the window cannot tell, and nothing is decided on it. */
static bool log_still_since(const GArray *fw_log_bytes, guint n_samples, guint first)
{
	return fw_log_bytes && fw_log_bytes->len == n_samples &&
	       g_array_index(fw_log_bytes, gint64, first) ==
	       g_array_index(fw_log_bytes, gint64, n_samples - 1);
}

static bool frozen_since(GPtrArray *samples, const GArray *fw_log_bytes, int first)
{
	g_autoptr(GPtrArray) window = NULL;

	if (first < 0 || samples->len - (guint)first < HPCI_HANG_FROZEN_SAMPLES)
		return false;
	if (!log_still_since(fw_log_bytes, samples->len, (guint)first))
		return false;
	window = samples_from(samples, first);
	return hpci_regdump_frozen(window, NULL) >= 0;
}

static bool spinning_since(GPtrArray *samples, int first)
{
	g_autoptr(GPtrArray) window = NULL;

	if (first < 0)
		return false;
	window = samples_from(samples, first);
	return hpci_regdump_smm_stuck(window) >= 0;
}

int hpci_regdump_smm_hang(GPtrArray *samples, const GArray *times_ms, const GArray *fw_log_bytes)
{
	int first;

	if (!samples || !times_ms || times_ms->len != samples->len)
		return -1;
	first = window_start(times_ms, HPCI_HANG_FROZEN_WINDOW_MS);
	if (frozen_since(samples, fw_log_bytes, first))
		return first;
	first = window_start(times_ms, HPCI_HANG_WINDOW_MS);
	return spinning_since(samples, first) ? first : -1;
}

/* A running CPU outside SMM whose every sample is in one few-byte loop. */
static bool dead_looping(GPtrArray *samples, int cpu)
{
	const struct hpci_cpu_regs *c0 = hpci_regdump_find_cpu(g_ptr_array_index(samples, 0), cpu);
	guint64 lo, hi;

	if (!c0 || c0->smm || c0->halted)
		return false;
	lo = hi = c0->ip;
	for (guint s = 1; s < samples->len; s++) {
		const struct hpci_cpu_regs *c = hpci_regdump_find_cpu(g_ptr_array_index(samples, s), cpu);

		if (!c || c->smm || c->halted || c->cs_base != c0->cs_base)
			return false;
		lo = MIN(lo, c->ip);
		hi = MAX(hi, c->ip);
	}
	return hi - lo < HPCI_DEAD_LOOP_BYTES;
}

int hpci_regdump_dead_loop(GPtrArray *samples, const GArray *times_ms,
			   const GArray *fw_log_bytes)
{
	g_autoptr(GPtrArray) window = NULL;
	int first, looping = -1;
	GArray *cpus;

	if (!samples || !times_ms || times_ms->len != samples->len ||
	    (first = window_start(times_ms, HPCI_DEAD_LOOP_WINDOW_MS)) < 0 ||
	    samples->len - (guint)first < HPCI_DEAD_LOOP_SAMPLES)
		return -1;
	if (!log_still_since(fw_log_bytes, samples->len, (guint)first))
		return -1;
	window = samples_from(samples, (guint)first);
	cpus = g_ptr_array_index(window, 0);
	for (guint i = 0; i < cpus->len; i++) {
		const struct hpci_cpu_regs *c = &g_array_index(cpus, struct hpci_cpu_regs, i);

		if (c->smm)
			return -1;    /* SMM is the hang rules' business */
		if (c->halted)
			continue;     /* an AP the firmware parked */
		if (!dead_looping(window, c->index))
			return -1;
		if (looping < 0)
			looping = c->index;
	}
	return looping;
}
