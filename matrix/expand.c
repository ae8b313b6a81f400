/* SPDX-License-Identifier: MIT */
/*
 * Expansion: the cartesian product of the axis values, topology outermost
 * and ops innermost, filtered by include/exclude, each cell checked (free
 * vCPU slots, attacks on an SMM firmware, firmware facts, known issues,
 * smbase_smram against pass and breach) and given the first expect rule
 * that matches it.
 */
#include "matrix-private.h"
#include "error.h"

#include <errno.h>
#include <string.h>

#define MAX_COMBINATIONS 100000        /* cartesian product before the rules */

/* ---- expansion --------------------------------------------------------- */

static bool rule_matches(const struct rule *r, const guint *idx)
{
	for (int a = 0; a < AXIS__N; a++) {
		if (r->allowed[a] && !r->allowed[a][idx[a]])
			return false;
	}
	return true;
}

static bool any_matches(const GPtrArray *rules, const guint *idx)
{
	for (guint i = 0; i < rules->len; i++) {
		if (rule_matches(g_ptr_array_index(rules, i), idx))
			return true;
	}
	return false;
}

static bool selected(const struct matrix_parser *p, const guint *idx)
{
	if (p->include && !any_matches(p->include, idx))
		return false;
	return !(p->exclude && any_matches(p->exclude, idx));
}

/* The most plug steps that run with no unplug between them. */
static unsigned plug_runs(const GArray *steps)
{
	unsigned run = 0, peak = 0;

	for (guint i = 0; i < steps->len; i++) {
		switch (g_array_index(steps, struct hpci_step, i).kind) {
		case HPCI_STEP_PLUG_EACH:
		case HPCI_STEP_PLUG_BURST:
			run++;
			peak = MAX(peak, run);
			break;
		case HPCI_STEP_UNPLUG:
			run = 0;
			break;
		case HPCI_STEP_SMI:
		case HPCI_STEP_ATTACK_SMBASE:
		case HPCI_STEP_ATTACK_SIPI:
			break;
		}
	}
	return peak;
}

/* The vCPUs to plug per plug step, checked against the free slots. */
static int resolve_count(const struct matrix_parser *p, const struct axis_value *const *v,
			 const char *id, unsigned *ret)
{
	const struct axis_value *topo = v[AXIS_TOPOLOGY], *cv = v[AXIS_COUNT];
	unsigned free_slots = topo->topology.max - topo->topology.boot;
	unsigned count = cv->count ? cv->count : free_slots;
	unsigned runs = plug_runs(v[AXIS_OPS]->steps);
	g_autofree char *shown = cv->count ? g_strdup_printf("%u", count)
					   : g_strdup_printf("'all' (%u)", count);

	if (count == 0)
		return hpci_json_fail(p->file, cv->path, "count 'all' has no free vCPU slot to "
				      "plug: topology '%s' boots all %u of its vCPUs (cell "
				      "'%s'); exclude the pair or raise max in %s", topo->name,
				      topo->topology.max, id, topo->path);
	if (runs <= 1 && count > free_slots)
		return hpci_json_fail(p->file, cv->path, "count %u exceeds the %u free vCPU "
				      "slot(s) of topology '%s' (cell '%s'); exclude the pair "
				      "or raise max in %s", count, free_slots, topo->name, id,
				      topo->path);
	if (runs > 1 && (guint64)count * runs > free_slots)
		return hpci_json_fail(p->file, cv->path, "count %s needs %" G_GUINT64_FORMAT " "
				      "free vCPU slots for the %u plug steps of ops '%s' that "
				      "no unplug separates, but topology '%s' has %u (cell "
				      "'%s'); exclude the combination, add an unplug step in "
				      "%s, or raise max in %s", shown, (guint64)count * runs, runs,
				      v[AXIS_OPS]->name, topo->name, free_slots, id,
				      v[AXIS_OPS]->path, topo->path);
	*ret = count;
	return 0;
}

/* Without SMM there is no SMRAM to reach and no SMI handler to hijack: an
 * attack on such a firmware tests nothing. */
static int check_attack_firmware(const struct matrix_parser *p,
				 const struct axis_value *const *v, const char *id)
{
	const struct axis_value *fw = v[AXIS_FIRMWARE], *ops = v[AXIS_OPS];
	int at = hpci_steps_first_attack(ops->steps);
	g_autofree char *spath = NULL, *why = NULL;

	if (at < 0 || fw->firmware.smm)
		return 0;
	if (fw->firmware.recipe)
		why = g_strdup_printf("its defines turn SMM_REQUIRE off in %s.build", fw->path);
	else if (fw->firmware.descriptor)
		why = g_strdup_printf("descriptor '%s' lacks the feature requires-smm",
				      fw->firmware.descriptor);
	else
		why = g_strdup_printf("smm is false in %s", fw->path);
	spath = hpci_json_path_index(ops->path, (size_t)at);
	return hpci_json_fail(p->file, spath, "cell '%s' runs %s on firmware '%s', which has "
			      "no SMM (%s), so the attack tests nothing; exclude the pair or use "
			      "a firmware built with SMM_REQUIRE", id,
			      hpci_step_name(g_array_index(ops->steps, struct hpci_step, at).kind),
			      fw->name, why);
}

static const struct rule *expectation(const struct matrix_parser *p, const guint *idx)
{
	const char *accel = p->host ? p->host->accel : NULL;

	for (guint i = 0; p->expect && i < p->expect->len; i++) {
		const struct rule *r = g_ptr_array_index(p->expect, i);

		/* A host-conditional rule never matches an unknown host. */
		if (r->accel && g_strcmp0(r->accel, accel) != 0)
			continue;
		if (rule_matches(r, idx))
			return r;
	}
	return NULL;
}

static bool expects_firmware_facts(const struct hpci_firmware_expect *e)
{
	return e->smram_at_default_smbase != HPCI_FACT_ANY || e->broadcast != HPCI_FACT_ANY ||
	       e->cpu_hotplug != HPCI_FACT_ANY || e->cpu_hotunplug != HPCI_FACT_ANY;
}

/* Firmware facts come from the debug log, which only a verbose firmware writes. */
static int check_firmware_facts(const struct matrix_parser *p, const struct rule *r,
				const struct axis_value *fw, const char *id)
{
	g_autofree char *rpath = hpci_json_path_key(r->path, "firmware");
	g_autofree char *why = NULL, *fix = NULL;

	if (!expects_firmware_facts(&r->firmware) || fw->firmware.verbose)
		return 0;
	if (fw->firmware.recipe) {
		why = g_strdup_printf("a %s build", fw->firmware.recipe->build_type);
		fix = g_strdup_printf("use a DEBUG build (build_type DEBUG or NOOPT in %s.build)",
				      fw->path);
	} else if (fw->firmware.descriptor) {
		why = g_strdup_printf("descriptor '%s' lacks the feature verbose-static",
				      fw->firmware.descriptor);
		fix = g_strdup("use a DEBUG build");
	} else if (fw->implicit) {
		why = g_strdup("the default firmware is the distribution's OVMF, which is not "
			       "verbose");
		fix = g_strdup("use a DEBUG build");
	} else {
		why = g_strdup_printf("verbose is false in %s", fw->path);
		fix = g_strdup("use a DEBUG build (and set verbose to true)");
	}
	return hpci_json_fail(p->file, rpath, "cell '%s' expects firmware facts but firmware "
			      "'%s' writes no debug log (%s); %s or drop the expectation", id,
			      fw->name, why, fix);
}

/*
 * With mch.smbase-smram off the guest can plant code at the default SMBASE
 * and a hot-added CPU runs it in SMM (docs/facts.md §1): the barrier the
 * feature exists for is gone whatever the guest then sees, so such a cell is
 * never expected to pass.  `r` is the cell's expect rule, or NULL.
 */
static int check_smbase_smram(const struct matrix_parser *p, const struct rule *r,
			      const struct axis_value *smi, const struct hpci_cell *cell)
{
	g_autofree char *origin = NULL, *by = NULL;

	if (cell->smi.smbase_smram || !hpci_expect_met(&cell->expect, HPCI_OUTCOME_PASS, NULL))
		return 0;
	origin = matrix_smi_origin(cell->smi.machine, cell->smi.given, HPCI_SMI_SMBASE_SMRAM);
	by = r ? g_strdup_printf("by %s", r->path) : g_strdup("as no expect rule matches it");
	return hpci_json_fail(p->file, r ? r->path : smi->path, "cell '%s' is expected to pass "
			      "(%s) but smi '%s' has smbase_smram false%s, so the guest can "
			      "plant code at the default SMBASE that a hot-added CPU runs in "
			      "SMM and the cell must never count as a pass; give it an expect "
			      "rule, ahead of any that expects pass, with the outcome it "
			      "actually shows (e.g. hang-smm or guest-crash)", cell->id, by,
			      smi->name, origin);
}

/*
 * The other side: with mch.smbase-smram on, SMRAM covers the default SMBASE,
 * so guest code running in SMM or SMRAM the guest can read is a product
 * failure, never an expectation.  Only the positive control, a cell whose
 * protection is off, may be expected to breach.  `r` is the cell's expect
 * rule (the implicit expectation is pass).
 */
static int check_breach_expected(const struct matrix_parser *p, const struct rule *r,
				 const struct axis_value *smi, const struct hpci_cell *cell)
{
	g_autofree char *origin = NULL;

	if (cell->expect.outcome != HPCI_OUTCOME_BREACH)
		return 0;
	/* Without SMRAM there is no window check either: only an attack shows it. */
	if (hpci_steps_first_attack(cell->steps) < 0)
		return hpci_json_fail(p->file, r->path, "cell '%s' is expected to breach (by %s) "
				      "but its ops have no attack step, so nothing in it could show "
				      "a breach; add attack-smbase or attack-sipi to its ops, or "
				      "expect the outcome it actually shows", cell->id, r->path);
	if (!cell->smi.smbase_smram)
		return 0;
	origin = matrix_smi_origin(cell->smi.machine, cell->smi.given, HPCI_SMI_SMBASE_SMRAM);
	return hpci_json_fail(p->file, r->path, "cell '%s' is expected to breach (by %s) but smi "
			      "'%s' has smbase_smram true%s, so SMRAM guards the default SMBASE "
			      "and a breach there is a product failure, never an expectation; "
			      "narrow the rule's 'when' to cells whose smi has smbase_smram "
			      "false (the positive control, with the protection removed)",
			      cell->id, r->path, smi->name, origin);
}

/* What the cell takes from its axis values and the matrix's defaults, copied. */
static void copy_values(const struct matrix_parser *p, const struct axis_value *const *v,
			struct hpci_cell *cell)
{
	cell->topology = v[AXIS_TOPOLOGY]->topology;
	cell->smi = v[AXIS_SMI]->smi;
	cell->smi.machine = g_strdup(v[AXIS_SMI]->smi.machine);
	cell->firmware = hpci_firmware_copy(&v[AXIS_FIRMWARE]->firmware);
	cell->qemu = hpci_qemu_copy(&v[AXIS_QEMU]->qemu);
	cell->image = g_strdup(p->image);
	cell->steps = g_array_copy(v[AXIS_OPS]->steps);
	cell->timeouts = p->timeouts;
}

/* The first matching expect rule's expectation, or pass. */
static int set_expectation(const struct matrix_parser *p, const guint *idx,
			   const struct axis_value *const *v, struct hpci_cell *cell,
			   const struct rule **ret)
{
	const struct rule *expect = expectation(p, idx);
	int rc;

	*ret = expect;
	cell->expect.outcome = HPCI_OUTCOME_PASS;
	cell->expect.firmware = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY,
							       HPCI_FACT_ANY, HPCI_FACT_ANY };
	if (!expect)
		return 0;
	if ((rc = check_firmware_facts(p, expect, v[AXIS_FIRMWARE], cell->id)) < 0 ||
	    (rc = matrix_check_known_issue_components(p, expect, v, cell->id)) < 0)
		return rc;
	cell->expect.outcome = expect->outcome;
	cell->expect.also = expect->also;
	cell->expect.message = g_strdup(expect->message);
	cell->expect.reason = g_strdup(expect->reason);
	cell->expect.firmware = expect->firmware;
	cell->expect.known_issues = hpci_known_issues_copy(expect->known_issues);
	return 0;
}

static int make_cell(const struct matrix_parser *p, const guint *idx, struct hpci_cell **ret)
{
	g_autoptr(hpci_cell) cell = g_new0(struct hpci_cell, 1);
	g_autoptr(GString) id = g_string_new(NULL);
	const struct axis_value *v[AXIS__N];
	const struct rule *expect;
	int rc;

	cell->axes = g_array_sized_new(FALSE, TRUE, sizeof(struct hpci_axis_value), AXIS__N);
	for (int a = 0; a < AXIS__N; a++) {
		struct hpci_axis_value av;

		v[a] = g_ptr_array_index(p->axes[a], idx[a]);
		g_string_append_printf(id, "%s%s=%s", a ? "," : "", matrix_axis_names[a], v[a]->name);
		av.axis = g_strdup(matrix_axis_names[a]);
		av.value = g_strdup(v[a]->name);
		g_array_append_val(cell->axes, av);
	}
	if ((rc = resolve_count(p, v, id->str, &cell->count)) < 0 ||
	    (rc = check_attack_firmware(p, v, id->str)) < 0)
		return rc;
	cell->id = g_string_free(g_steal_pointer(&id), FALSE);
	copy_values(p, v, cell);
	if ((rc = set_expectation(p, idx, v, cell, &expect)) < 0 ||
	    (rc = check_smbase_smram(p, expect, v[AXIS_SMI], cell)) < 0 ||
	    (rc = check_breach_expected(p, expect, v[AXIS_SMI], cell)) < 0)
		return rc;
	*ret = g_steal_pointer(&cell);
	return 0;
}

/* Cartesian product, topology outermost and ops innermost. */
int matrix_expand(const struct matrix_parser *p, GPtrArray *cells)
{
	guint64 total = 1;
	guint n[AXIS__N];
	int rc;

	for (int a = 0; a < AXIS__N; a++) {
		n[a] = p->axes[a]->len;
		total *= n[a];
		if (total > MAX_COMBINATIONS)
			return hpci_json_fail(p->file, "$.axes", "the axes combine into more "
					      "than %u cells; split the matrix into several "
					      "files", MAX_COMBINATIONS);
	}
	for (guint64 k = 0; k < total; k++) {
		guint idx[AXIS__N];
		guint64 rest = k;
		struct hpci_cell *cell;

		for (int a = AXIS__N - 1; a >= 0; a--) {
			idx[a] = rest % n[a];
			rest /= n[a];
		}
		if (!selected(p, idx))
			continue;
		if ((rc = make_cell(p, idx, &cell)) < 0)
			return rc;
		g_ptr_array_add(cells, cell);
	}
	if (cells->len == 0)
		return hpci_json_fail(p->file, "$", "no cells left after include/exclude rules "
				      "(of %" G_GUINT64_FORMAT " combinations); loosen "
				      "$.include or $.exclude", total);
	return 0;
}

