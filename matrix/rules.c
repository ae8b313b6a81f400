/* SPDX-License-Identifier: MIT */
/*
 * Rules: include/exclude ("when": axis -> value names) and the ordered
 * expect rules (outcome, message, reason, firmware facts, host, known
 * issues with their evidence).
 */
#include "matrix-private.h"
#include "error.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *const expect_keys[] = {
	"when", "host", "outcome", "message", "reason", "firmware", "known_issue", NULL
};
static const char *const known_issue_keys[] = {
	"outcome", "component", "upstream", "note", "evidence", NULL
};
static const char *const expect_firmware_keys[] = {
	"smram_at_default_smbase", "negotiated", NULL
};
static const char *const negotiated_keys[] = {
	"broadcast", "cpu_hotplug", "cpu_hotunplug", NULL
};
static const char *const host_keys[] = { "accel", NULL };

void matrix_rule_free(struct rule *r)
{
	if (!r)
		return;
	for (int a = 0; a < AXIS__N; a++)
		g_free(r->allowed[a]);
	g_free(r->path);
	g_free(r->accel);
	g_free(r->message);
	g_free(r->reason);
	if (r->known_issues)
		g_array_unref(r->known_issues);
	g_free(r);
}

static char *value_names(const GPtrArray *values)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint i = 0; i < values->len; i++) {
		const struct axis_value *v = g_ptr_array_index(values, i);

		g_string_append_printf(s, "%s%s", i ? ", " : "", v->name);
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ---- rules ------------------------------------------------------------- */

static int rule_value(const struct matrix_parser *p, const char *path, enum axis_id a,
		      json_object *v, bool in_list_form, bool *allowed)
{
	const GPtrArray *values = p->axes[a];
	char number[24];
	const char *name;
	int index, rc;

	if (a == AXIS_COUNT && json_object_is_type(v, json_type_int)) {
		g_snprintf(number, sizeof(number), "%" PRId64, json_object_get_int64(v));
		name = number;
	} else if (json_object_is_type(v, json_type_string)) {
		if ((rc = hpci_json_string(p->file, path, v, &name)) < 0)
			return rc;
	} else {
		return hpci_json_type_error(p->file, path, in_list_form ? "a value name"
					    : "a value name or an array of value names", v);
	}
	if ((index = matrix_find_value(values, name)) < 0) {
		g_autofree char *list = value_names(values);

		return hpci_json_fail(p->file, path, "unknown %s value '%s'; values are %s",
				      matrix_axis_names[a], name, list);
	}
	allowed[index] = true;
	return 0;
}

/* axis -> value name or [value names]; every listed axis must match. */
static int parse_when(const struct matrix_parser *p, const char *path, json_object *when,
		      struct rule *r)
{
	struct json_object_iterator it, end;
	int rc;

	if ((rc = hpci_json_object(p->file, path, when)) < 0)
		return rc;
	it = json_object_iter_begin(when);
	end = json_object_iter_end(when);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *v = json_object_iter_peek_value(&it);
		g_autofree char *apath = hpci_json_path_key(path, key);
		int a = matrix_axis_lookup(key);

		if (a < 0) {
			g_autofree char *list = matrix_join(matrix_axis_names);
			g_autofree char *escaped = g_strescape(key, NULL);

			return hpci_json_fail(p->file, path, "unknown axis '%s'; axes are %s",
					      escaped, list);
		}
		g_free(r->allowed[a]);
		r->allowed[a] = g_new0(bool, p->axes[a]->len);
		if (!json_object_is_type(v, json_type_array)) {
			if ((rc = rule_value(p, apath, a, v, false, r->allowed[a])) < 0)
				return rc;
			continue;
		}
		if (json_object_array_length(v) == 0)
			return hpci_json_fail(p->file, apath, "an empty list matches no cell; "
					      "list at least one value or drop '%s'", key);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			g_autofree char *epath = hpci_json_path_index(apath, i);

			if ((rc = rule_value(p, epath, a, json_object_array_get_idx(v, i), true,
					     r->allowed[a])) < 0)
				return rc;
		}
	}
	return 0;
}

/* An optional boolean as a fact: HPCI_FACT_ANY when absent. */
static int opt_fact(const struct matrix_parser *p, const char *path, json_object *obj,
		    const char *key, int *ret)
{
	bool b;
	int rc = hpci_json_opt_bool(p->file, path, obj, key, &b);

	if (rc > 0)
		*ret = b;
	return rc;
}

/* "firmware": what the firmware's debug log must say. */
static int parse_expect_firmware(const struct matrix_parser *p, const char *path,
				 json_object *spec, struct hpci_firmware_expect *ret)
{
	g_autofree char *fpath = NULL, *npath = NULL;
	json_object *fw, *negotiated;
	int rc;

	*ret = (struct hpci_firmware_expect){ HPCI_FACT_ANY, HPCI_FACT_ANY, HPCI_FACT_ANY,
					      HPCI_FACT_ANY };
	if (!hpci_json_child(spec, path, "firmware", &fw, &fpath))
		return 0;
	if ((rc = hpci_json_object(p->file, fpath, fw)) < 0 ||
	    (rc = hpci_json_keys(p->file, fpath, fw, expect_firmware_keys)) < 0 ||
	    (rc = opt_fact(p, fpath, fw, "smram_at_default_smbase",
			   &ret->smram_at_default_smbase)) < 0)
		return rc;
	if (!hpci_json_child(fw, fpath, "negotiated", &negotiated, &npath))
		return 0;
	if ((rc = hpci_json_object(p->file, npath, negotiated)) < 0 ||
	    (rc = hpci_json_keys(p->file, npath, negotiated, negotiated_keys)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "broadcast", &ret->broadcast)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "cpu_hotplug", &ret->cpu_hotplug)) < 0 ||
	    (rc = opt_fact(p, npath, negotiated, "cpu_hotunplug", &ret->cpu_hotunplug)) < 0)
		return rc;
	return 0;
}

static int outcome_named(const struct matrix_parser *p, const char *opath, const char *outcome,
			 enum hpci_outcome *ret)
{
	g_autoptr(GString) list = NULL;

	if (hpci_outcome_parse(outcome, ret) == 0)
		return 0;
	list = g_string_new(NULL);
	for (int o = 0; o < HPCI_OUTCOME__COUNT; o++)
		g_string_append_printf(list, "%s%s", o ? ", " : "", hpci_outcome_name(o));
	return hpci_json_fail(p->file, opath, "unknown outcome '%s'; outcomes are %s", outcome,
			      list->str);
}

static int parse_outcome(const struct matrix_parser *p, const char *path, json_object *spec,
			 enum hpci_outcome *ret)
{
	g_autofree char *opath = hpci_json_path_key(path, "outcome");
	const char *outcome;
	int rc;

	if ((rc = hpci_json_req_string(p->file, path, spec, "outcome", &outcome)) < 0)
		return rc;
	return outcome_named(p, opath, outcome, ret);
}

/*
 * An expect rule's "outcome": one name, or a list of the outcomes that all
 * hold (the first is the one reports name).  A list is for an attack that
 * may be beaten or fail closed in several ways; a breach or an infra-error
 * on a list would hide what the cell is about, so a list holds neither.
 */
static int parse_expected_outcomes(const struct matrix_parser *p, const char *path,
				   json_object *spec, struct rule *r)
{
	g_autofree char *opath = hpci_json_path_key(path, "outcome");
	json_object *list;
	size_t n;
	int rc;

	if (!json_object_object_get_ex(spec, "outcome", &list) ||
	    !json_object_is_type(list, json_type_array))
		return parse_outcome(p, path, spec, &r->outcome);
	n = json_object_array_length(list);
	if (n < 2)
		return hpci_json_fail(p->file, opath, "a list of outcomes needs at least two; "
				      "give a single outcome as a string");
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(list, i);
		g_autofree char *ipath = hpci_json_path_index(opath, i);
		enum hpci_outcome o;

		if (!json_object_is_type(item, json_type_string))
			return hpci_json_type_error(p->file, ipath, "an outcome name", item);
		if ((rc = outcome_named(p, ipath, json_object_get_string(item), &o)) < 0)
			return rc;
		if (o == HPCI_OUTCOME_BREACH || o == HPCI_OUTCOME_INFRA_ERROR)
			return hpci_json_fail(p->file, ipath, "'%s' cannot be one of several "
					      "expected outcomes: a list says how an attack may be "
					      "beaten or fail closed; expect '%s' on its own",
					      hpci_outcome_name(o), hpci_outcome_name(o));
		if ((i > 0 && o == r->outcome) || (r->also & (1u << o)))
			return hpci_json_fail(p->file, ipath, "outcome '%s' is listed twice",
					      hpci_outcome_name(o));
		if (i == 0)
			r->outcome = o;
		else
			r->also |= 1u << o;
	}
	return 0;
}

/* "component": what the known issue is a bug in, never a part we build. */
static int parse_component(const struct matrix_parser *p, const char *kpath, json_object *known,
			   enum hpci_known_component *ret)
{
	g_autofree char *cpath = hpci_json_path_key(kpath, "component");
	const char *name;
	int rc;

	g_autoptr(GString) list = g_string_new(NULL);

	if ((rc = hpci_json_req_string(p->file, kpath, known, "component", &name)) < 0)
		return rc;
	for (int c = 0; c < HPCI_COMPONENT__N; c++) {
		if (strcmp(name, hpci_known_component_name(c)) == 0) {
			*ret = c;
			return 0;
		}
		g_string_append_printf(list, "%s%s", !c ? "" : c + 1 < HPCI_COMPONENT__N ? ", " :
				       " or ", hpci_known_component_name(c));
	}
	return hpci_json_fail(p->file, cpath, "'%s' is not a component a known issue may name: "
			      "use %s.  A bug in QEMU or OVMF that hotplug-ci builds or "
			      "patches, or in its guest image, is fixed in its patch queue, not "
			      "declared", name, list->str);
}

/*
 * A known issue in the system QEMU (or firmware) cannot excuse a cell that
 * runs our build of it: there the bug is ours.
 */
int matrix_check_known_issue_components(const struct matrix_parser *p, const struct rule *r,
					const struct axis_value *const *v, const char *id)
{
	g_autofree char *kpath = hpci_json_path_key(r->path, "known_issue");

	for (guint i = 0; r->known_issues && i < r->known_issues->len; i++) {
		const struct hpci_known_issue *ki =
			&g_array_index(r->known_issues, struct hpci_known_issue, i);
		int ours = -1;

		if (ki->component == HPCI_COMPONENT_SYSTEM_QEMU && v[AXIS_QEMU]->qemu.recipe)
			ours = AXIS_QEMU;
		else if (ki->component == HPCI_COMPONENT_SYSTEM_FIRMWARE &&
			 v[AXIS_FIRMWARE]->firmware.recipe)
			ours = AXIS_FIRMWARE;
		if (ours >= 0)
			return hpci_json_fail(p->file, kpath, "cell '%s' runs %s '%s', which "
					      "hotplug-ci builds (%s.build), but its known "
					      "issue names the %s: a bug in what we build is "
					      "fixed in its patch queue, not declared; narrow "
					      "the rule's 'when' to the system build", id,
					      matrix_axis_names[ours], v[ours]->name, v[ours]->path,
					      hpci_known_component_name(ki->component));
	}
	return 0;
}

/* One known issue at kpath: a product bug the cell may hit, with the evidence kept. */
static int parse_known_issue(const struct matrix_parser *p, const char *kpath, json_object *known,
			     struct rule *r)
{
	g_autofree char *opath = hpci_json_path_key(kpath, "outcome");
	g_autofree char *epath = hpci_json_path_key(kpath, "evidence");
	g_autofree char *evidence_path = NULL;
	struct hpci_known_issue ki = { .note = NULL };
	const char *note, *evidence, *upstream;
	int rc;

	if ((rc = hpci_json_object(p->file, kpath, known)) < 0 ||
	    (rc = hpci_json_keys(p->file, kpath, known, known_issue_keys)) < 0 ||
	    (rc = parse_outcome(p, kpath, known, &ki.outcome)) < 0 ||
	    (rc = parse_component(p, kpath, known, &ki.component)) < 0 ||
	    (rc = hpci_json_req_string(p->file, kpath, known, "upstream", &upstream)) < 0 ||
	    (rc = hpci_json_req_string(p->file, kpath, known, "note", &note)) < 0 ||
	    (rc = hpci_json_req_string(p->file, kpath, known, "evidence", &evidence)) < 0)
		return rc;
	if (ki.outcome == HPCI_OUTCOME_BREACH)
		return hpci_json_fail(p->file, opath, "a breach is never a known issue: guest code "
				      "that ran in SMM, or SMRAM the guest could read, is a "
				      "failure whatever component it is in; remove this known "
				      "issue");
	if (ki.outcome == r->outcome || (r->also & (1u << ki.outcome)) ||
	    ki.outcome == HPCI_OUTCOME_PASS ||
	    ki.outcome == HPCI_OUTCOME_INFRA_ERROR)
		return hpci_json_fail(p->file, opath, "a known issue is a product failure other "
				      "than the expected outcome '%s'; '%s' cannot be one",
				      hpci_outcome_name(r->outcome), hpci_outcome_name(ki.outcome));
	if (hpci_known_issue_find(r->known_issues, ki.outcome))
		return hpci_json_fail(p->file, opath, "an earlier known issue of this rule has "
				      "outcome '%s' too, so a cell ending in it would match "
				      "both; merge them into one", hpci_outcome_name(ki.outcome));
	evidence_path = matrix_resolve_relative(p, evidence);
	if (!g_file_test(evidence_path, G_FILE_TEST_EXISTS))
		return hpci_json_fail(p->file, epath, "evidence '%s' does not exist; keep the "
				      "logs and register dumps of the failure there (a path "
				      "relative to the matrix file)", evidence_path);
	ki.note = g_strdup_printf("%s; upstream: %s (evidence: %s)", note, upstream, evidence_path);
	g_array_append_val(r->known_issues, ki);
	return 0;
}

/* "known_issue": one known issue, or a non-empty array of them. */
static int parse_known_issues(const struct matrix_parser *p, const char *path, json_object *spec,
			      struct rule *r)
{
	g_autofree char *kpath = NULL;
	json_object *known;
	size_t n;
	int rc;

	if (!hpci_json_child(spec, path, "known_issue", &known, &kpath))
		return 0;
	r->known_issues = hpci_known_issues_new();
	if (json_object_is_type(known, json_type_object))
		return parse_known_issue(p, kpath, known, r);
	if (!json_object_is_type(known, json_type_array))
		return hpci_json_type_error(p->file, kpath, "an object or an array of objects",
					    known);
	n = json_object_array_length(known);
	if (n == 0)
		return hpci_json_fail(p->file, kpath, "empty list of known issues; name at "
				      "least one, or remove the key");
	for (size_t j = 0; j < n; j++) {
		g_autofree char *ipath = hpci_json_path_index(kpath, j);

		if ((rc = parse_known_issue(p, ipath, json_object_array_get_idx(known, j), r)) < 0)
			return rc;
	}
	return 0;
}

/* "host": {"accel": "tcg" or "kvm"}: the rule applies on that accelerator only. */
static int parse_host(const struct matrix_parser *p, const char *path, json_object *spec,
		      struct rule *r)
{
	g_autofree char *hpath = NULL;
	json_object *host;
	const char *accel;
	int rc;

	if (!hpci_json_child(spec, path, "host", &host, &hpath))
		return 0;
	if ((rc = hpci_json_object(p->file, hpath, host)) < 0 ||
	    (rc = hpci_json_keys(p->file, hpath, host, host_keys)) < 0 ||
	    (rc = hpci_json_req_string(p->file, hpath, host, "accel", &accel)) < 0)
		return rc;
	if (strcmp(accel, "tcg") != 0 && strcmp(accel, "kvm") != 0) {
		g_autofree char *apath = hpci_json_path_key(hpath, "accel");

		return hpci_json_fail(p->file, apath, "unknown accelerator '%s'; use tcg or kvm",
				      accel);
	}
	r->accel = g_strdup(accel);
	return 0;
}

/* "message" (refused only: what the refusal must contain) and "reason". */
static int parse_message(const struct matrix_parser *p, const char *path, json_object *spec,
			 struct rule *r)
{
	const char *message = NULL, *reason = NULL;
	int rc;

	if ((rc = hpci_json_opt_string(p->file, path, spec, "message", &message)) < 0 ||
	    (rc = hpci_json_opt_string(p->file, path, spec, "reason", &reason)) < 0)
		return rc;
	if (message) {
		g_autofree char *mpath = hpci_json_path_key(path, "message");

		if (r->outcome != HPCI_OUTCOME_REFUSED &&
		    !(r->also & (1u << HPCI_OUTCOME_REFUSED)))
			return hpci_json_fail(p->file, mpath, "message only applies to outcome "
					      "'refused', not '%s'; remove it",
					      hpci_outcome_name(r->outcome));
		if (!*message)
			return hpci_json_fail(p->file, mpath, "empty message matches every "
					      "error; give the text the refusal must contain, "
					      "or remove it");
	}
	r->message = g_strdup(message);
	r->reason = g_strdup(reason);
	return 0;
}

static int parse_expect_rule(const struct matrix_parser *p, const char *path, json_object *spec,
			     struct rule *r)
{
	g_autofree char *wpath = NULL;
	json_object *when;
	int rc;

	if ((rc = hpci_json_object(p->file, path, spec)) < 0 ||
	    (rc = hpci_json_keys(p->file, path, spec, expect_keys)) < 0)
		return rc;
	if (!hpci_json_child(spec, path, "when", &when, &wpath))
		return hpci_json_fail(p->file, path, "missing required key 'when'; use "
				      "\"when\": {} to match every cell");
	if ((rc = parse_when(p, wpath, when, r)) < 0 ||
	    (rc = parse_host(p, path, spec, r)) < 0 ||
	    (rc = parse_expected_outcomes(p, path, spec, r)) < 0 ||
	    (rc = parse_message(p, path, spec, r)) < 0 ||
	    (rc = parse_known_issues(p, path, spec, r)) < 0)
		return rc;
	return parse_expect_firmware(p, path, spec, &r->firmware);
}

/* $.include / $.exclude / $.expect: arrays of rules, kept in file order. */
int matrix_parse_rules(struct matrix_parser *p, json_object *root, const char *key,
		       GPtrArray **ret)
{
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	json_object *list;
	int rc;

	if (!hpci_json_child(root, "$", key, &list, &path))
		return 0;
	if ((rc = hpci_json_array(p->file, path, list)) < 0)
		return rc;
	rules = g_ptr_array_new_with_free_func((GDestroyNotify)matrix_rule_free);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *spec = json_object_array_get_idx(list, i);
		g_autoptr(rule) r = g_new0(struct rule, 1);

		r->path = hpci_json_path_index(path, i);
		if (strcmp(key, "expect") == 0)
			rc = parse_expect_rule(p, r->path, spec, r);
		else
			rc = parse_when(p, r->path, spec, r);
		if (rc < 0)
			return rc;
		g_ptr_array_add(rules, g_steal_pointer(&r));
	}
	*ret = g_steal_pointer(&rules);
	return 0;
}

