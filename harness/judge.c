/* SPDX-License-Identifier: MIT */
#include "judge.h"
#include "attack.h"
#include "firmware-check.h"
#include "regdump.h"
#include "strlist.h"

#include <string.h>

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

/* The fatal firmware line that ended the run, or NULL. */
static const struct hpci_event *firmware_fatal_line(GPtrArray *events)
{
	for (guint i = 0; events && i < events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(events, i);

		if (ev->kind == HPCI_EV_FIRMWARE)
			return ev;
	}
	return NULL;
}

static const struct hpci_cpu_regs *last_regs(GPtrArray *samples, int cpu)
{
	return hpci_regdump_find_cpu(g_ptr_array_index(samples, samples->len - 1), cpu);
}

/* What else held the hang in a frozen machine (regdump.h), or "". */
static char *describe_parked(GPtrArray *samples)
{
	int parked = hpci_regdump_frozen(samples, NULL);
	const struct hpci_cpu_regs *c = parked >= 0 ? last_regs(samples, parked) : NULL;

	if (!c)
		return g_strdup("");
	return g_strdup_printf("; CPU#%d stayed parked outside SMM, halted in real mode at CS base "
			       "%08" G_GINT64_MODIFIER "x IP %04" G_GINT64_MODIFIER "x, and every "
			       "CPU in SMM spun in one loop: nothing moved", parked, c->cs_base,
			       c->ip);
}

static char *describe_stuck(GPtrArray *samples, int cpu, gint64 span_ms)
{
	const struct hpci_cpu_regs *c = last_regs(samples, cpu);
	guint64 lo = 0, hi = 0;
	g_autofree char *where = NULL;
	g_autofree char *parked = NULL;

	if (!c)
		return g_strdup_printf("CPU#%d stayed in SMM", cpu);
	(void)hpci_regdump_smm_spin(samples, cpu, &lo, &hi);
	where = lo == hi ? g_strdup_printf("at RIP=%016" G_GINT64_MODIFIER "x", lo)
			 : g_strdup_printf("in a spin loop at RIP=%016" G_GINT64_MODIFIER "x-%016"
					   G_GINT64_MODIFIER "x", lo, hi);
	parked = describe_parked(samples);
	return g_strdup_printf("CPU#%d stayed in SMM %s (CS base %08" G_GINT64_MODIFIER "x) in %u "
			       "register samples over %" G_GINT64_FORMAT " ms%s", cpu, where,
			       c->cs_base, samples->len, span_ms, parked);
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

/* An outcome with the one line of evidence a person can check it by. */
struct judgement {
	enum hpci_outcome outcome;
	char *evidence;
};

static void set(struct judgement *out, enum hpci_outcome outcome, char *evidence)
{
	out->outcome = outcome;
	out->evidence = evidence;
}

static void judge_stop(const struct hpci_observation *in, struct judgement *out)
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

/* Step 3 of the precedence (judge.h): how the run itself ended. */
static void judge_run(const struct hpci_observation *in, struct judgement *out)
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
		set(out, HPCI_OUTCOME_INFRA_ERROR,
		    g_strdup(in->context ? in->context : in->error ? in->error : "harness failure"));
		return;
	case HPCI_FAIL_STOPPED:
		judge_stop(in, out);
		return;
	case HPCI_FAIL_REQUEST:
		if (in->error_kind == HPCI_ERR_REFUSED)
			set(out, HPCI_OUTCOME_REFUSED,
			    g_strdup_printf("libvirt returned QEMU's refusal: %s", in->error));
		else
			set(out, HPCI_OUTCOME_INFRA_ERROR,
			    g_strdup_printf("hotplug request failed without a refusal message: %s",
					    in->error ? in->error : "?"));
		return;
	case HPCI_FAIL_FIRMWARE: {
		/* Step 2 puts firmware.log's own summary in front when the log
		 * could be parsed at the end; the line stands if not. */
		const struct hpci_event *fatal = firmware_fatal_line(in->events);

		set(out, HPCI_OUTCOME_FIRMWARE_ASSERT,
		    fatal ? g_strdup_printf("firmware.log had '%s' at %" G_GINT64_FORMAT " ms: %s",
					    fatal->text, fatal->t_ms, in->error ? in->error : "")
			  : g_strdup(in->error ? in->error : "a fatal firmware line"));
		return;
	}
	case HPCI_FAIL_CRASH:   /* its panic or oops line is the crash line below */
	case HPCI_FAIL_TIMEOUT:
	case HPCI_FAIL_BREACH:  /* not corroborated, or judge_breach() would have decided */
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

/*
 * Step 0 (judge.h): did guest code run in SMM, or could the guest read the
 * SMRAM at the default SMBASE?  Claims that do not count are still evidence.
 */
static bool judge_breach(const struct hpci_cell *cell, const struct hpci_observation *in,
			 struct judgement *out, GPtrArray *notes)
{
	const struct hpci_cpu_regs *cpu = NULL;
	const struct hpci_event *claim = NULL, *open = NULL;
	bool outside_smm = false;
	int apic = -1;

	for (guint i = 0; in->events && i < in->events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(in->events, i);

		if (ev->kind != HPCI_EV_SERIAL)
			continue;
		if (ev->line.kind == HPCI_LINE_ATTACK) {
			switch (hpci_attack_claim(ev->text, in->attack_token, &apic)) {
			case HPCI_CLAIM_SMM:
				if (!claim) {
					claim = ev;
					cpu = hpci_attack_corroborate(in->claim_regs,
								      &cell->topology, apic,
								      &outside_smm);
				}
				break;
			case HPCI_CLAIM_FOREIGN:
				g_ptr_array_add(notes, g_strdup_printf("ignored a payload line with "
					"another cell's or attempt's token: '%s'", ev->text));
				break;
			case HPCI_CLAIM_OUTSIDE_SMM:
				g_ptr_array_add(notes, g_strdup_printf("the payload ran outside SMM: "
					"'%s'", ev->text));
				break;
			case HPCI_CLAIM_NONE:
				break;
			}
		}
		/* Only where the machine has SMRAM there: else it is guest RAM. */
		if (ev->line.kind == HPCI_LINE_SMRAM_CHECK && !open && cell->smi.smbase_smram &&
		    hpci_smram_check_open(ev->text) > 0)
			open = ev;
	}
	if (claim && cpu && outside_smm) {
		set(out, HPCI_OUTCOME_BREACH,
		    g_strdup_printf("the guest read SMRAM from outside SMM: '%s' at %"
				    G_GINT64_FORMAT " ms (the SMM save state, which only SMM can "
				    "see), and the register dump (regdump-breach.txt) has that CPU, "
				    "CPU#%d, outside SMM in the payload (CS base 0x%"
				    G_GINT64_MODIFIER "x)", claim->text, claim->t_ms, cpu->index,
				    cpu->cs_base));
		return true;
	}
	if (claim && cpu) {
		set(out, HPCI_OUTCOME_BREACH,
		    g_strdup_printf("guest code ran in SMM: '%s' at %" G_GINT64_FORMAT " ms, and "
				    "the register dump (regdump-breach.txt) has CPU#%d in SMM with "
				    "CS base 0x%" G_GINT64_MODIFIER "x, RIP 0x%" G_GINT64_MODIFIER "x",
				    claim->text, claim->t_ms, cpu->index, cpu->cs_base, cpu->ip));
		return true;
	}
	for (guint i = 0; in->regdumps && i < in->regdumps->len; i++) {
		const struct hpci_cpu_regs *astray =
			hpci_attack_smm_in_guest_memory(g_ptr_array_index(in->regdumps, i));

		if (astray) {
			set(out, HPCI_OUTCOME_BREACH,
			    g_strdup_printf("CPU#%d executes guest memory in SMM: CS base 0x%"
					    G_GINT64_MODIFIER "x, RIP 0x%" G_GINT64_MODIFIER "x in "
					    "register sample %u (regdump-%02u.txt), below 640 KiB and "
					    "outside any SMRAM", astray->index, astray->cs_base,
					    astray->ip, i + 1, i + 1));
			return true;
		}
	}
	if (claim)
		g_ptr_array_add(notes, g_strdup_printf("the payload claimed SMM ('%s') but no "
			"register dump backed it (a CPU in SMM where the payload is, or the claiming CPU "
			"parked in the payload): not counted",
			claim->text));
	if (open) {
		set(out, HPCI_OUTCOME_BREACH,
		    g_strdup_printf("the guest read the SMRAM at the default SMBASE: '%s' at %"
				    G_GINT64_FORMAT " ms (outside SMM every byte must read 0xFF)",
				    open->text, open->t_ms));
		return true;
	}
	return false;
}

/* What the firmware's log says against the other witnesses (step 4). */
static void firmware_problems(const struct hpci_cell *cell, const struct hpci_observation *obs,
			      GPtrArray *problems)
{
	struct hpci_fw_check_input in = {
		.cell = cell, .plugs = obs->plugs, .events = obs->events, .log = obs->firmware,
	};

	if (obs->firmware_unreadable)
		g_ptr_array_add(problems, g_strdup(obs->firmware_unreadable));
	/* Only a firmware that logs everything it does can be held to it. */
	if (!obs->firmware || !cell->firmware.verbose)
		return;
	hpci_fw_cross_check(&in, problems);
	hpci_fw_expect_check(&cell->expect.firmware, obs->firmware, problems);
}

/* Steps 2 and 4: the firmware's account folded into the run's judgement. */
static void judge_firmware(const struct hpci_observation *obs, GPtrArray *problems,
			   struct judgement *j)
{
	g_autofree char *summary = NULL;
	g_autofree char *joined = problems->len ? hpci_strings_join(problems, "; ") : NULL;
	char *evidence;

	if (obs->firmware && hpci_fw_log_failed(obs->firmware, &summary)) {
		evidence = g_strdup_printf("firmware.log: %s (the cell had come to %s%s%s)", summary,
					   hpci_outcome_name(j->outcome),
					   j->evidence ? ": " : "", j->evidence ? j->evidence : "");
		j->outcome = HPCI_OUTCOME_FIRMWARE_ASSERT;
	} else if (!joined) {
		return;
	} else if (j->outcome == HPCI_OUTCOME_PASS || j->outcome == HPCI_OUTCOME_REFUSED) {
		evidence = g_strdup(joined);
		j->outcome = HPCI_OUTCOME_MISMATCH;
	} else {
		evidence = g_strdup_printf("%s; firmware: %s", j->evidence ? j->evidence : "", joined);
	}
	g_free(j->evidence);
	j->evidence = evidence;
}

void hpci_judge(const struct hpci_cell *cell, const struct hpci_observation *obs,
		struct hpci_cell_result *res)
{
	struct judgement j = { 0 };
	g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
	bool breach = judge_breach(cell, obs, &j, notes);

	if (!breach)
		judge_run(obs, &j);
	g_free(res->error);
	res->error = g_strdup(obs->error);
	if (breach) {
		/* What the firmware said still goes in the report, as evidence. */
		firmware_problems(cell, obs, res->firmware_problems);
	} else if (j.outcome != HPCI_OUTCOME_INFRA_ERROR) {
		firmware_problems(cell, obs, res->firmware_problems);
		judge_firmware(obs, res->firmware_problems, &j);
		/* A mismatch is what failed when nothing else did. */
		if (j.outcome == HPCI_OUTCOME_MISMATCH && !res->error)
			res->error = g_strdup(j.evidence);
	}
	if (notes->len) {
		g_autofree char *joined = hpci_strings_join(notes, "; ");
		char *evidence = g_strdup_printf("%s; %s", j.evidence ? j.evidence : "", joined);

		g_free(j.evidence);
		j.evidence = evidence;
	}
	res->outcome = j.outcome;
	g_free(res->evidence);
	res->evidence = j.evidence;
	res->verdict_pass = hpci_expect_met(&cell->expect, res->outcome, res->error);
	res->known_issue = !res->verdict_pass && res->outcome != HPCI_OUTCOME_BREACH &&
			   hpci_expect_known_issue(&cell->expect, res->outcome) != NULL;
}
