/* SPDX-License-Identifier: MIT */
#include "classify.h"
#include "regdump.h"

#include <string.h>

/* QEMU's words in hw/acpi/ich9.c (docs/facts.md §4). */
static const char *const refusals[] = {
	"cpu hotplug with SMI wasn't enabled by firmware",
	"cpu hot-unplug with SMI wasn't enabled by firmware",
};

bool hpci_is_refusal(const char *error)
{
	for (size_t i = 0; error && i < G_N_ELEMENTS(refusals); i++) {
		if (strstr(error, refusals[i]))
			return true;
	}
	return false;
}

/* The first panic or oops line the guest printed, or NULL. */
static const struct hpci_event *guest_crash_line(GPtrArray *events)
{
	int boots = 0;

	for (guint i = 0; events && i < events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(events, i);

		if (ev->kind != HPCI_EV_SERIAL)
			continue;
		if (ev->line.kind == HPCI_LINE_KERNEL_PANIC || ev->line.kind == HPCI_LINE_KERNEL_OOPS)
			return ev;
		/* A second kernel banner: the guest reset and booted again. */
		if (ev->line.kind == HPCI_LINE_KERNEL_BOOT && ++boots == 2)
			return ev;
	}
	return NULL;
}

static char *describe_stuck(GPtrArray *samples, int cpu, gint64 span_ms)
{
	GArray *last = g_ptr_array_index(samples, samples->len - 1);
	guint64 lo = 0, hi = 0;
	g_autofree char *where = NULL;

	(void)hpci_regdump_smm_spin(samples, cpu, &lo, &hi);
	where = lo == hi ? g_strdup_printf("at RIP=%016" G_GINT64_MODIFIER "x", lo)
			 : g_strdup_printf("in a spin loop at RIP=%016" G_GINT64_MODIFIER "x-%016"
					   G_GINT64_MODIFIER "x", lo, hi);
	for (guint i = 0; i < last->len; i++) {
		const struct hpci_cpu_regs *c = &g_array_index(last, struct hpci_cpu_regs, i);

		if (c->index == cpu)
			return g_strdup_printf("CPU#%d stayed in SMM %s (CS base %08" G_GINT64_MODIFIER
					       "x) in %u register samples over %" G_GINT64_FORMAT " ms",
					       cpu, where, c->cs_base, samples->len, span_ms);
	}
	return g_strdup_printf("CPU#%d stayed in SMM", cpu);
}

static char *describe_cpus(GPtrArray *samples)
{
	GArray *last;
	GString *s;

	if (!samples || samples->len == 0)
		return g_strdup("no register dump could be taken");
	last = g_ptr_array_index(samples, samples->len - 1);
	s = g_string_new("no CPU stuck in SMM; last sample:");
	for (guint i = 0; i < last->len; i++) {
		const struct hpci_cpu_regs *c = &g_array_index(last, struct hpci_cpu_regs, i);

		g_string_append_printf(s, " CPU#%d SMM=%d HLT=%d RIP=%" G_GINT64_MODIFIER "x",
				       c->index, c->smm, c->halted, c->ip);
	}
	return g_string_free(s, FALSE);
}

static void set(struct hpci_classification *out, enum hpci_outcome outcome, char *evidence)
{
	out->outcome = outcome;
	out->evidence = evidence;
}

static void classify_stop(const struct hpci_classify_input *in, struct hpci_classification *out)
{
	const struct hpci_event *crash = guest_crash_line(in->events);
	const char *reason = in->stop_reason ? in->stop_reason : "unknown";

	if (crash)
		set(out, HPCI_OUTCOME_GUEST_CRASH,
		    g_strdup_printf("guest printed '%s'; domain stopped (%s)", crash->text, reason));
	else if (strcmp(reason, "failed") == 0)
		set(out, HPCI_OUTCOME_QEMU_CRASH,
		    g_strdup("the QEMU process ended on its own (libvirt: failed); see qemu.log"));
	else if (strcmp(reason, "crashed") == 0 || strcmp(reason, "shutdown") == 0 ||
		 strcmp(reason, "reset") == 0)
		set(out, HPCI_OUTCOME_GUEST_CRASH,
		    g_strdup_printf("the guest reset or powered off without a panic message "
				    "(libvirt: %s); a triple fault looks like this", reason));
	else
		set(out, HPCI_OUTCOME_INFRA_ERROR,
		    g_strdup_printf("the domain was stopped from outside the harness (libvirt: %s)",
				    reason));
}

void hpci_classify(const struct hpci_classify_input *in, struct hpci_classification *out)
{
	const struct hpci_event *crash = guest_crash_line(in->events);
	int stuck;

	switch (in->failure) {
	case HPCI_FAIL_NONE:
		if (crash)
			set(out, HPCI_OUTCOME_GUEST_CRASH,
			    g_strdup_printf("guest printed '%s'", crash->text));
		else
			set(out, HPCI_OUTCOME_PASS, g_strdup("every step completed"));
		return;
	case HPCI_FAIL_INFRA:
		set(out, HPCI_OUTCOME_INFRA_ERROR, g_strdup(in->error ? in->error : "harness failure"));
		return;
	case HPCI_FAIL_STOPPED:
		classify_stop(in, out);
		return;
	case HPCI_FAIL_REQUEST:
		if (hpci_is_refusal(in->error))
			set(out, HPCI_OUTCOME_REFUSED,
			    g_strdup_printf("libvirt returned QEMU's refusal: %s", in->error));
		else
			set(out, HPCI_OUTCOME_INFRA_ERROR,
			    g_strdup_printf("hotplug request failed without a refusal message: %s",
					    in->error ? in->error : "?"));
		return;
	case HPCI_FAIL_TIMEOUT:
		break;
	}

	if (crash) {
		set(out, HPCI_OUTCOME_GUEST_CRASH, g_strdup_printf("guest printed '%s'", crash->text));
		return;
	}
	stuck = hpci_regdump_smm_stuck(in->regdumps);
	if (stuck >= 0) {
		set(out, HPCI_OUTCOME_HANG_SMM, describe_stuck(in->regdumps, stuck, in->regdump_span_ms));
		return;
	}
	{
		g_autofree char *cpus = describe_cpus(in->regdumps);

		set(out, HPCI_OUTCOME_GUEST_TIMEOUT,
		    g_strdup_printf("%s; %s", in->error ? in->error : "guest timeout", cpus));
	}
}

bool hpci_verdict(const struct hpci_expect *expect, enum hpci_outcome outcome, const char *error)
{
	if (expect->outcome != outcome)
		return false;
	if (expect->message && (!error || !strstr(error, expect->message)))
		return false;
	return true;
}
