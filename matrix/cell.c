/* SPDX-License-Identifier: MIT */
#include "cell.h"
#include "firmware-build.h"
#include "qemu-build.h"

#include <errno.h>
#include <string.h>

static const char *const outcome_names[HPCI_OUTCOME__COUNT] = {
	[HPCI_OUTCOME_PASS] = "pass",
	[HPCI_OUTCOME_REFUSED] = "refused",
	[HPCI_OUTCOME_HANG_SMM] = "hang-smm",
	[HPCI_OUTCOME_GUEST_TIMEOUT] = "guest-timeout",
	[HPCI_OUTCOME_GUEST_CRASH] = "guest-crash",
	[HPCI_OUTCOME_QEMU_CRASH] = "qemu-crash",
	[HPCI_OUTCOME_INFRA_ERROR] = "infra-error",
	[HPCI_OUTCOME_FIRMWARE_ASSERT] = "firmware-assert",
	[HPCI_OUTCOME_MISMATCH] = "mismatch",
	[HPCI_OUTCOME_BREACH] = "breach",
};

const char *hpci_outcome_name(enum hpci_outcome outcome)
{
	if ((unsigned)outcome >= HPCI_OUTCOME__COUNT)
		return "invalid";
	return outcome_names[outcome];
}

int hpci_outcome_parse(const char *name, enum hpci_outcome *ret)
{
	for (unsigned i = 0; name && i < HPCI_OUTCOME__COUNT; i++) {
		if (strcmp(name, outcome_names[i]) == 0) {
			*ret = (enum hpci_outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *hpci_step_name(enum hpci_step_kind kind)
{
	switch (kind) {
	case HPCI_STEP_PLUG_EACH:
		return "plug-each";
	case HPCI_STEP_PLUG_BURST:
		return "plug-burst";
	case HPCI_STEP_UNPLUG:
		return "unplug";
	case HPCI_STEP_SMI:
		return "smi";
	case HPCI_STEP_ATTACK_SMBASE:
		return "attack-smbase";
	case HPCI_STEP_ATTACK_SIPI:
		return "attack-sipi";
	}
	return "invalid";
}

bool hpci_step_is_plug(enum hpci_step_kind kind)
{
	return kind == HPCI_STEP_PLUG_EACH || kind == HPCI_STEP_PLUG_BURST;
}

int hpci_steps_first_attack(const GArray *steps)
{
	for (guint i = 0; steps && i < steps->len; i++) {
		enum hpci_step_kind kind = g_array_index(steps, struct hpci_step, i).kind;

		if (kind == HPCI_STEP_ATTACK_SMBASE || kind == HPCI_STEP_ATTACK_SIPI)
			return (int)i;
	}
	return -1;
}

const char *hpci_cell_axis(const struct hpci_cell *cell, const char *axis)
{
	if (!cell || !cell->axes || !axis)
		return NULL;
	for (guint i = 0; i < cell->axes->len; i++) {
		const struct hpci_axis_value *av = &g_array_index(cell->axes, struct hpci_axis_value, i);

		if (g_strcmp0(av->axis, axis) == 0)
			return av->value;
	}
	return NULL;
}

const char *hpci_known_component_name(enum hpci_known_component c)
{
	static const char *const names[] = {
		[HPCI_COMPONENT_SYSTEM_QEMU] = "system-qemu",
		[HPCI_COMPONENT_SYSTEM_FIRMWARE] = "system-firmware",
		[HPCI_COMPONENT_GUEST_KERNEL] = "guest-kernel",
		[HPCI_COMPONENT_LIBVIRT] = "libvirt",
	};

	return c < G_N_ELEMENTS(names) ? names[c] : NULL;
}

static void known_issue_clear(gpointer data)
{
	struct hpci_known_issue *ki = data;

	g_free(ki->note);
}

GArray *hpci_known_issues_new(void)
{
	GArray *issues = g_array_new(FALSE, TRUE, sizeof(struct hpci_known_issue));

	g_array_set_clear_func(issues, known_issue_clear);
	return issues;
}

GArray *hpci_known_issues_copy(const GArray *issues)
{
	GArray *copy;

	if (!issues)
		return NULL;
	copy = hpci_known_issues_new();
	for (guint i = 0; i < issues->len; i++) {
		struct hpci_known_issue ki = g_array_index(issues, struct hpci_known_issue, i);

		ki.note = g_strdup(ki.note);
		g_array_append_val(copy, ki);
	}
	return copy;
}

const char *hpci_known_issue_find(const GArray *issues, enum hpci_outcome outcome)
{
	for (guint i = 0; issues && i < issues->len; i++) {
		const struct hpci_known_issue *ki =
			&g_array_index(issues, struct hpci_known_issue, i);

		if (ki->outcome == outcome)
			return ki->note;
	}
	return NULL;
}

const char *hpci_expect_known_issue(const struct hpci_expect *e, enum hpci_outcome outcome)
{
	return e ? hpci_known_issue_find(e->known_issues, outcome) : NULL;
}

/* The axes array carries no clear function (callers build cells by hand in
 * tests), so the strings it holds are released here. */
struct hpci_firmware hpci_firmware_copy(const struct hpci_firmware *fw)
{
	return (struct hpci_firmware){
		.code = g_strdup(fw->code), .vars = g_strdup(fw->vars), .smm = fw->smm,
		.verbose = fw->verbose, .descriptor = g_strdup(fw->descriptor),
		.recipe = hpci_firmware_request_copy(fw->recipe),
	};
}

void hpci_firmware_clear(struct hpci_firmware *fw)
{
	g_free(fw->code);
	g_free(fw->vars);
	g_free(fw->descriptor);
	hpci_firmware_request_free(fw->recipe);
	memset(fw, 0, sizeof(*fw));
}

struct hpci_qemu hpci_qemu_copy(const struct hpci_qemu *qemu)
{
	return (struct hpci_qemu){
		.emulator = g_strdup(qemu->emulator),
		.recipe = hpci_qemu_request_copy(qemu->recipe),
	};
}

void hpci_qemu_clear(struct hpci_qemu *qemu)
{
	g_free(qemu->emulator);
	hpci_qemu_request_free(qemu->recipe);
	memset(qemu, 0, sizeof(*qemu));
}

void hpci_cell_free(struct hpci_cell *cell)
{
	if (!cell)
		return;
	if (cell->axes) {
		for (guint i = 0; i < cell->axes->len; i++) {
			struct hpci_axis_value *av = &g_array_index(cell->axes, struct hpci_axis_value, i);

			g_free(av->axis);
			g_free(av->value);
		}
		g_array_free(cell->axes, TRUE);
	}
	if (cell->steps)
		g_array_free(cell->steps, TRUE);
	g_free(cell->id);
	g_free(cell->smi.machine);
	hpci_firmware_clear(&cell->firmware);
	hpci_qemu_clear(&cell->qemu);
	g_free(cell->image);
	g_free(cell->expect.message);
	g_free(cell->expect.reason);
	if (cell->expect.known_issues)
		g_array_unref(cell->expect.known_issues);
	g_free(cell);
}

bool hpci_expect_met(const struct hpci_expect *expect, enum hpci_outcome outcome,
		     const char *error)
{
	if (expect->outcome != outcome && !(expect->also & (1u << outcome)))
		return false;
	if (outcome == HPCI_OUTCOME_REFUSED && expect->message &&
	    (!error || !strstr(error, expect->message)))
		return false;
	return true;
}

char *hpci_expect_outcomes(const struct hpci_expect *expect)
{
	GString *s = g_string_new(hpci_outcome_name(expect->outcome));

	for (int o = 0; o < HPCI_OUTCOME__COUNT; o++)
		if (expect->also & (1u << o))
			g_string_append_printf(s, "|%s", hpci_outcome_name(o));
	return g_string_free(s, FALSE);
}
