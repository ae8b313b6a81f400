/* SPDX-License-Identifier: MIT */
#include "cell-run.h"
#include "agent.h"
#include "attack.h"
#include "boot-state.h"
#include "firmware-check.h"
#include "judge.h"
#include "domain-xml.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "observe.h"
#include "regdump.h"
#include "image.h"
#include "stall-evidence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long the guest may be silent before the registers are sampled, and
 * the sampling period. */
#define QUIET_BEFORE_SAMPLING_MS 3000
/* OVMF (a RELEASE build) prints nothing for the first 10-15 s of a boot. */
#define BOOT_QUIET_BEFORE_SAMPLING_MS 30000
#define SAMPLE_PERIOD_MS 5000
/* The samples the longest hang window (regdump.h) needs.  Shorter stalls are
 * reported as stalls, not failures. */
#define HANG_SAMPLES (HPCI_HANG_WINDOW_MS / SAMPLE_PERIOD_MS + 1)
#define AGENT_TIMEOUT_S 10

/* One cell in flight: everything the steps share and teardown releases. */
struct cell_run {
	const struct hpci_run_ctx *ctx;
	const struct hpci_plan *plan;
	const struct hpci_cell *cell;   /* plan->cell */
	struct hpci_cell_result *res;
	char *dir;
	struct hpci_obs obs;
	struct hpci_domain *dom;
	struct hpci_tail *tail;
	struct hpci_tail *firmware_tail;  /* a firmware that writes a debug log only */
	/* The last HANG_SAMPLES consecutive register samples of a silent guest:
	 * parsed, as text (written out only when they become evidence), when,
	 * and how long the firmware's debug log was then. */
	GPtrArray *samples;        /* GArray * of struct hpci_cpu_regs */
	GPtrArray *sample_texts;   /* char * */
	GArray *sample_times;      /* gint64 ms */
	GArray *sample_fw_bytes;   /* gint64: firmware.log's size, 0 when it has none */
	bool hang_proven;          /* the samples prove a hang (hang_proven()) */
	GArray *kept_stalls;       /* struct hpci_stall_kept: stalls whose samples are saved */
	unsigned next_vcpu;        /* next free vCPU id to plug */
	char *token;               /* this attempt's attack token (attack.h) */
	GArray *claim_regs;        /* the dump that corroborated an SMM claim, or NULL */
	bool keep_disks;           /* the overlay and NVRAM outlive the run (a boot job's) */
	gint booted;               /* the ready line came (atomic: read by the event thread) */
	gint boot_resets;          /* resets before it */
	enum hpci_failure failure;
	enum hpci_error_kind error_kind;
	char *error;
};

static char *cell_path(struct cell_run *cr, const char *name)
{
	return g_build_filename(cr->dir, name, NULL);
}

static void fail(struct cell_run *cr, enum hpci_failure failure, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
static void fail(struct cell_run *cr, enum hpci_failure failure, const char *fmt, ...)
{
	va_list ap;

	if (cr->failure != HPCI_FAIL_NONE)
		return; /* the first failure is the one that matters */
	cr->failure = failure;
	va_start(ap, fmt);
	cr->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	hpci_obs_note(&cr->obs, "failure: %s", cr->error);
}

/* The recorded error (lib/error.h) as the cell's failure, with its kind. */
static void fail_with_error(struct cell_run *cr, enum hpci_failure failure)
{
	if (cr->failure == HPCI_FAIL_NONE)
		cr->error_kind = hpci_error_last_kind();
	fail(cr, failure, "%s", hpci_error_message());
}

/*
 * A reset during boot, before the guest's ready line, is the firmware's
 * own business once (OVMF resets after its first boot changes the memory
 * type information); a second one is a reset loop, and any reset after the
 * guest is up is a crash (a triple fault looks like that).
 */
static void on_domain_stop(enum hpci_domain_stop stop, void *opaque)
{
	struct cell_run *cr = opaque;

	if (stop == HPCI_STOP_RESET && !g_atomic_int_get(&cr->booted) &&
	    g_atomic_int_add(&cr->boot_resets, 1) == 0) {
		hpci_obs_note(&cr->obs, "the guest reset during boot (allowed once: OVMF resets "
			      "when its memory type information changes)");
		return;
	}
	hpci_obs_stopped(&cr->obs, hpci_domain_stop_name(stop));
}

static gint64 now(struct cell_run *cr)
{
	return hpci_obs_now(&cr->obs);
}

/* How much the firmware has written to its debug log: a firmware that still
 * logs is still working (hpci_regdump_smm_hang()).  0 without a log. */
static gint64 firmware_log_bytes(struct cell_run *cr)
{
	g_autofree char *path = cell_path(cr, "firmware.log");
	struct stat st;

	return stat(path, &st) == 0 ? (gint64)st.st_size : 0;
}

/* Drops the oldest `n` samples of the window. */
static void drop_samples(struct cell_run *cr, guint n)
{
	g_ptr_array_remove_range(cr->samples, 0, n);
	g_ptr_array_remove_range(cr->sample_texts, 0, n);
	g_array_remove_range(cr->sample_times, 0, n);
	g_array_remove_range(cr->sample_fw_bytes, 0, n);
}

/* Takes one "info registers -a" sample into the window. */
static int sample_registers(struct cell_run *cr)
{
	g_autofree char *text = NULL;
	GArray *cpus = NULL;
	gint64 t = now(cr);
	gint64 fw_bytes = firmware_log_bytes(cr);
	int rc;

	if ((rc = hpci_domain_hmp(cr->dom, "info registers -a", &text)) < 0 ||
	    (rc = hpci_regdump_parse(text, &cpus)) < 0)
		return rc;
	if (cr->samples->len == HANG_SAMPLES)
		drop_samples(cr, 1);
	g_ptr_array_add(cr->samples, cpus);
	g_ptr_array_add(cr->sample_texts, g_steal_pointer(&text));
	g_array_append_val(cr->sample_times, t);
	g_array_append_val(cr->sample_fw_bytes, fw_bytes);
	return 0;
}

static void forget_samples(struct cell_run *cr)
{
	drop_samples(cr, cr->samples->len);
	cr->hang_proven = false;
}

/* The samples a classification rests on go into the cell directory. */
static void save_samples(struct cell_run *cr)
{
	for (guint i = 0; i < cr->sample_texts->len; i++) {
		g_autofree char *name = g_strdup_printf("regdump-%02u.txt", i + 1);
		g_autofree char *path = cell_path(cr, name);

		if (hpci_write_file(path, g_ptr_array_index(cr->sample_texts, i), -1) == 0)
			hpci_obs_note(&cr->obs, "register sample taken at %" G_GINT64_FORMAT
				      " ms saved as %s", g_array_index(cr->sample_times, gint64, i),
				      name);
	}
}

static gint64 sample_span_ms(struct cell_run *cr)
{
	guint n = cr->sample_times->len;

	return n < 2 ? 0 : g_array_index(cr->sample_times, gint64, n - 1) -
			   g_array_index(cr->sample_times, gint64, 0);
}

/* Writes the samples of stall `number` as its evidence, or removes those
 * of a stall it displaced (stall-evidence.h). */
static void save_stall_samples(struct cell_run *cr, unsigned number, gint64 span)
{
	/* Evidence that could not be written fails nothing. */
	g_autoptr(hpci_error_saved) saved = hpci_error_save();
	struct hpci_stall_kept dropped;

	if (!hpci_stall_keep(cr->kept_stalls, number, cr->sample_texts->len, span, &dropped))
		return;
	for (guint i = 1; dropped.number && i <= dropped.samples; i++) {
		g_autofree char *name = hpci_stall_regdump_name(dropped.number, i);
		g_autofree char *path = cell_path(cr, name);

		(void)hpci_rm_rf(path);
	}
	for (guint i = 0; i < cr->sample_texts->len; i++) {
		g_autofree char *name = hpci_stall_regdump_name(number, i + 1);
		g_autofree char *path = cell_path(cr, name);

		(void)hpci_write_file(path, g_ptr_array_index(cr->sample_texts, i), -1);
	}
	if (dropped.number)
		hpci_obs_note(&cr->obs, "stall %u: samples saved as stall-%02u-regdump-*.txt in "
			      "place of those of stall %u (%" G_GINT64_FORMAT " ms)", number, number,
			      dropped.number, dropped.span_ms);
	else
		hpci_obs_note(&cr->obs, "stall %u: samples saved as stall-%02u-regdump-*.txt",
			      number, number);
	hpci_error_restore(g_steal_pointer(&saved));
}

/* The guest went on: when the samples so far had a CPU spinning in SMM,
 * that was an SMM stall, which the report counts and whose samples may be
 * kept. */
static void note_smm_stall(struct cell_run *cr)
{
	int cpu = hpci_regdump_smm_stuck(cr->samples);
	gint64 span = sample_span_ms(cr);

	if (cpu < 0)
		return;
	cr->res->smm_stalls++;
	cr->res->smm_stall_longest_ms = MAX(cr->res->smm_stall_longest_ms, span);
	hpci_obs_note(&cr->obs, "CPU#%d spun in SMM over %u samples (%" G_GINT64_FORMAT
		      " ms), then the guest went on: an SMM stall, not a hang",
		      cpu, cr->samples->len, span);
	save_stall_samples(cr, cr->res->smm_stalls, span);
}

/*
 * Whether the samples prove a hang in SMM (hpci_regdump_smm_hang()); if so
 * the window keeps only the samples it rests on, which become the evidence.
 */
static bool hang_proven(struct cell_run *cr)
{
	int first;

	if (cr->hang_proven)
		return true;
	first = hpci_regdump_smm_hang(cr->samples, cr->sample_times, cr->sample_fw_bytes);
	if (first < 0)
		return false;
	cr->hang_proven = true;
	drop_samples(cr, (guint)first);
	/* Short of the long window, only a frozen machine proves it. */
	hpci_obs_note(&cr->obs, "hang in SMM over %u samples (%" G_GINT64_FORMAT " ms): %s",
		      cr->samples->len, sample_span_ms(cr),
		      sample_span_ms(cr) < HPCI_HANG_WINDOW_MS
			      ? "nothing moved, a CPU parked outside SMM, and the firmware log "
				"did not grow"
			      : "a CPU spun in one SMM loop over the whole long window");
	return true;
}

/* Before the guest is up: whether the samples show the firmware in a dead
 * loop (hpci_regdump_dead_loop()), which no wait outlives. */
static bool dead_loop_proven(struct cell_run *cr)
{
	int cpu;

	if (g_atomic_int_get(&cr->booted))
		return false;
	cpu = hpci_regdump_dead_loop(cr->samples, cr->sample_times, cr->sample_fw_bytes);
	if (cpu < 0)
		return false;
	hpci_obs_note(&cr->obs, "CPU#%d ran in one loop of under %d bytes outside SMM over %u "
		      "samples (%" G_GINT64_FORMAT " ms) without a word from the guest or the "
		      "firmware: a firmware dead loop", cpu, HPCI_DEAD_LOOP_BYTES,
		      cr->samples->len, sample_span_ms(cr));
	return true;
}

static bool any_serial(const struct hpci_event *ev, void *data)
{
	(void)data;
	return ev->kind == HPCI_EV_SERIAL;
}

static bool no_event(const struct hpci_event *ev, void *data)
{
	(void)ev;
	(void)data;
	return false;
}

/* Lets ms pass, unless a fatal line, the domain's stop or an interrupt comes
 * first: -ETIMEDOUT when the time passed, else hpci_obs_wait()'s code. */
static int pause_run(struct cell_run *cr, guint *cursor, unsigned ms)
{
	return hpci_obs_wait(&cr->obs, cursor, no_event, NULL, now(cr) + ms, NULL);
}

/* What a wait looks for, and the payload's claims of SMM, which end any wait. */
struct guarded_match {
	struct cell_run *cr;
	hpci_obs_match match;
	void *data;
};

static bool is_smm_claim(struct cell_run *cr, const struct hpci_event *ev)
{
	return ev->kind == HPCI_EV_SERIAL && ev->line.kind == HPCI_LINE_ATTACK &&
	       hpci_attack_claim(ev->text, cr->token, NULL) == HPCI_CLAIM_SMM;
}

static bool match_or_claim(const struct hpci_event *ev, void *data)
{
	const struct guarded_match *g = data;

	return g->match(ev, g->data) || is_smm_claim(g->cr, ev);
}

/*
 * The guest's payload says it runs in SMM: a register dump, taken now while
 * the payload is parked, decides (attack.h).  Returns true when it backs the
 * claim (hpci_attack_corroborate()).
 */
static bool corroborate_claim(struct cell_run *cr, const struct hpci_event *ev)
{
	g_autofree char *text = NULL;
	g_autofree char *path = cell_path(cr, "regdump-breach.txt");
	GArray *cpus = NULL;
	const struct hpci_cpu_regs *cpu;
	int apic = -1;
	bool outside_smm;

	if (cr->claim_regs)
		return true;
	hpci_obs_note(&cr->obs, "the guest's payload claims SMM: '%s'", ev->text);
	if (hpci_domain_hmp(cr->dom, "info registers -a", &text) < 0 ||
	    hpci_regdump_parse(text, &cpus) < 0) {
		hpci_obs_note(&cr->obs, "no register dump to check the claim: %s",
			      hpci_error_message());
		return false;
	}
	if (hpci_write_file(path, text, -1) == 0)
		hpci_obs_note(&cr->obs, "register dump at the claim saved as regdump-breach.txt");
	(void)hpci_attack_claim(ev->text, cr->token, &apic);
	cpu = hpci_attack_corroborate(cpus, &cr->cell->topology, apic, &outside_smm);
	if (!cpu) {
		hpci_obs_note(&cr->obs, "no CPU is in SMM where the payload is, nor is the claiming "
			      "CPU parked in the payload: the claim is not corroborated");
		g_array_unref(cpus);
		return false;
	}
	hpci_obs_note(&cr->obs, "CPU#%d is %s with CS base 0x%" G_GINT64_MODIFIER "x, RIP 0x%"
		      G_GINT64_MODIFIER "x: %s", cpu->index, outside_smm ? "outside SMM" : "in SMM",
		      cpu->cs_base, cpu->ip, outside_smm ? "the payload read SMRAM from outside SMM"
							 : "guest code runs in SMM");
	cr->claim_regs = cpus;
	if (cr->res->attack)
		cr->res->attack->regdump = g_strdup("regdump-breach.txt");
	return true;
}

/*
 * Waits for a guest event.  While the guest is silent it samples the CPU
 * registers and gives up early with -EDEADLK when they prove a hang in SMM
 * (hang_proven()), so a hang is classified then, not only at a longer step
 * timeout.  A corroborated claim of the guest's payload that it runs in
 * SMM ends the wait with -ECONNABORTED; a fatal firmware line (-EPROTO), a
 * kernel panic or oops (-EOWNERDEAD) and the domain's stop (-ESHUTDOWN) end
 * it at once (hpci_obs_wait()).  Returns 0, -ETIMEDOUT, -EDEADLK,
 * -ECONNABORTED, -EPROTO, -EOWNERDEAD, -ESHUTDOWN or -EINTR.  *cursor moves
 * past what was examined, so successive waits for several events of one
 * kind each find a new one.
 */
static int wait_guest_quiet(struct cell_run *cr, guint *cursor, hpci_obs_match match,
			    void *data, unsigned timeout_ms, unsigned quiet_ms,
			    const struct hpci_event **ret)
{
	gint64 deadline = now(cr) + timeout_ms;
	gint64 next_sample = now(cr) + quiet_ms;
	guint activity_cursor = hpci_obs_count(&cr->obs);
	struct guarded_match guard = { cr, match, data };
	const struct hpci_event *ev = NULL;

	forget_samples(cr);
	for (;;) {
		int rc = hpci_obs_wait(&cr->obs, cursor, match_or_claim, &guard,
				       MIN(deadline, next_sample), &ev);

		if (rc == 0 && !match(ev, data)) {
			if (corroborate_claim(cr, ev))
				return -ECONNABORTED;
			continue;
		}
		if (rc == 0 && ret)
			*ret = ev;
		if (rc == 0)
			note_smm_stall(cr);
		if (rc != -ETIMEDOUT)
			return rc;
		if (now(cr) >= deadline)
			return -ETIMEDOUT;
		/* The guest printed something since the last sample: it is alive. */
		if (hpci_obs_wait(&cr->obs, &activity_cursor, any_serial, NULL, 0, NULL) == 0) {
			activity_cursor = hpci_obs_count(&cr->obs);
			note_smm_stall(cr);
			forget_samples(cr);
		}
		if (sample_registers(cr) == 0 && (hang_proven(cr) || dead_loop_proven(cr)))
			return -EDEADLK;
		next_sample = now(cr) + SAMPLE_PERIOD_MS;
	}
}

static int wait_guest(struct cell_run *cr, guint *cursor, hpci_obs_match match, void *data,
		      unsigned timeout_ms, const struct hpci_event **ret)
{
	return wait_guest_quiet(cr, cursor, match, data, timeout_ms, QUIET_BEFORE_SAMPLING_MS, ret);
}

/* Turns a failed wait into the cell's failure. */
static int wait_failed(struct cell_run *cr, int rc, const char *what, unsigned timeout_ms)
{
	switch (rc) {
	case -EINTR:
		fail(cr, HPCI_FAIL_INFRA, "interrupted while waiting for %s", what);
		return rc;
	case -ESHUTDOWN:
		fail(cr, HPCI_FAIL_STOPPED, "the domain stopped while waiting for %s", what);
		return rc;
	case -EDEADLK:
		fail(cr, HPCI_FAIL_TIMEOUT, "guest stopped responding while waiting for %s", what);
		return rc;
	case -ECONNABORTED:
		fail(cr, HPCI_FAIL_BREACH, "guest code ran in SMM while the harness waited for %s",
		     what);
		return rc;
	case -EPROTO:
		fail(cr, HPCI_FAIL_FIRMWARE, "the firmware logged a fatal line while the harness "
		     "waited for %s", what);
		return rc;
	case -EOWNERDEAD:
		fail(cr, HPCI_FAIL_CRASH, "the guest kernel crashed while the harness waited for %s",
		     what);
		return rc;
	default:
		fail(cr, HPCI_FAIL_TIMEOUT, "no %s within %u s", what, timeout_ms / 1000);
		return rc;
	}
}

struct cpu_match {
	enum hpci_guest_line_kind kind;
	int cpu;
};

static bool match_cpu_line(const struct hpci_event *ev, void *data)
{
	const struct cpu_match *m = data;

	return ev->kind == HPCI_EV_SERIAL && ev->line.kind == m->kind &&
	       (m->cpu < 0 || ev->line.cpu == m->cpu);
}

static int boot(struct cell_run *cr)
{
	const struct hpci_event *ev;
	guint from = hpci_obs_count(&cr->obs);
	gint64 resumed_ms;
	int rc;

	if ((rc = hpci_domain_resume(cr->dom)) < 0) {
		fail_with_error(cr, HPCI_FAIL_INFRA);
		return rc;
	}
	resumed_ms = now(cr);
	hpci_obs_note(&cr->obs, "domain resumed");
	rc = wait_guest_quiet(cr, &from, hpci_obs_match_line, GINT_TO_POINTER(HPCI_LINE_READY),
			      cr->plan->timeouts.boot_ms, BOOT_QUIET_BEFORE_SAMPLING_MS, &ev);
	if (rc < 0)
		return wait_failed(cr, rc, "guest ready line (HPCI-READY)",
				   cr->plan->timeouts.boot_ms);
	cr->res->boot_ms = ev->t_ms - resumed_ms;
	return 0;
}

static int online_cpu(struct cell_run *cr, struct hpci_plug_timing *p)
{
	struct cpu_match m = { HPCI_LINE_CPU_ONLINE, p->guest_cpu };
	guint from = hpci_obs_count(&cr->obs);
	const struct hpci_event *ev;
	g_autofree char *what = g_strdup_printf("guest CPU %d online", p->guest_cpu);
	int rc;

	hpci_obs_note(&cr->obs, "online guest CPU %d", p->guest_cpu);
	if ((rc = hpci_domain_set_guest_cpu(cr->dom, p->guest_cpu, true)) < 0) {
		enum hpci_error_kind kind = hpci_error_last_kind();

		/* The agent not answering is the guest's health, not libvirt's. */
		if (!hpci_domain_is_active(cr->dom))
			fail_with_error(cr, HPCI_FAIL_STOPPED);
		else if (kind == HPCI_ERR_AGENT || kind == HPCI_ERR_TIMEOUT)
			fail_with_error(cr, HPCI_FAIL_TIMEOUT);
		else
			fail_with_error(cr, HPCI_FAIL_INFRA);
		return rc;
	}
	rc = wait_guest(cr, &from, match_cpu_line, &m, cr->plan->timeouts.online_ms, &ev);
	if (rc < 0)
		return wait_failed(cr, rc, what, cr->plan->timeouts.online_ms);
	p->online_ms = ev->t_ms;
	return 0;
}

static struct hpci_plug_timing *new_plug(struct cell_run *cr, unsigned vcpu)
{
	struct hpci_plug_timing p = {
		.vcpu = vcpu, .guest_cpu = -1, .request_ms = -1, .returned_ms = -1,
		.seen_ms = -1, .online_ms = -1, .unplug_request_ms = -1, .unplug_returned_ms = -1,
		.removed_ms = -1,
	};

	g_array_append_val(cr->res->plugs, p);
	return &g_array_index(cr->res->plugs, struct hpci_plug_timing, cr->res->plugs->len - 1);
}

/* A QEMU that dies in the middle of a request ("Unable to read from monitor:
 * Connection reset by peer") is still active for libvirt a moment longer:
 * give the stop a little time to show, so the death is the failure. */
#define REQUEST_DEATH_GRACE_MS 3000

static bool domain_died(struct cell_run *cr)
{
	gint64 until = now(cr) + REQUEST_DEATH_GRACE_MS;

	if (hpci_error_last_kind() == HPCI_ERR_REFUSED)
		return false;
	while (hpci_domain_is_active(cr->dom)) {
		if (now(cr) >= until)
			return false;
		g_usleep(100 * 1000);
	}
	return true;
}

static int request_failed(struct cell_run *cr, int rc)
{
	fail_with_error(cr, domain_died(cr) ? HPCI_FAIL_STOPPED : HPCI_FAIL_REQUEST);
	return rc;
}

/* Waits for the guest to report `n` new CPUs and records them in order. */
static int wait_added(struct cell_run *cr, guint from, guint first_plug, unsigned n)
{
	struct cpu_match m = { HPCI_LINE_CPU_ADDED, -1 };
	guint cursor = from;

	for (unsigned i = 0; i < n; i++) {
		struct hpci_plug_timing *p = &g_array_index(cr->res->plugs, struct hpci_plug_timing,
							    first_plug + i);
		const struct hpci_event *ev;
		int rc = wait_guest(cr, &cursor, match_cpu_line, &m, cr->plan->timeouts.plug_ms,
				    &ev);

		if (rc < 0) {
			g_autofree char *what = g_strdup_printf("guest report of hot-added vCPU %u",
								p->vcpu);
			return wait_failed(cr, rc, what, cr->plan->timeouts.plug_ms);
		}
		p->guest_cpu = ev->line.cpu;
		p->seen_ms = ev->t_ms;
	}
	return 0;
}

static int step_plug_each(struct cell_run *cr)
{
	for (unsigned i = 0; i < cr->cell->count; i++) {
		guint first = cr->res->plugs->len;
		struct hpci_plug_timing *p = new_plug(cr, cr->next_vcpu++);
		guint from = hpci_obs_count(&cr->obs);
		int rc;

		hpci_obs_note(&cr->obs, "plug vCPU %u", p->vcpu);
		p->request_ms = now(cr);
		rc = hpci_domain_set_vcpu(cr->dom, p->vcpu, true);
		p->returned_ms = now(cr);
		p->request_failed = rc < 0;
		if (rc < 0)
			return request_failed(cr, rc);
		if ((rc = wait_added(cr, from, first, 1)) < 0 ||
		    (rc = online_cpu(cr, &g_array_index(cr->res->plugs, struct hpci_plug_timing,
							 first))) < 0)
			return rc;
	}
	return 0;
}

static int step_plug_burst(struct cell_run *cr)
{
	guint first = cr->res->plugs->len;
	guint from = hpci_obs_count(&cr->obs);
	unsigned target = cr->next_vcpu + cr->cell->count;
	gint64 request_ms = now(cr), returned_ms;
	int rc;

	hpci_obs_note(&cr->obs, "plug vCPUs %u-%u in one call", cr->next_vcpu, target - 1);
	rc = hpci_domain_set_vcpu_count(cr->dom, target);
	returned_ms = now(cr);
	for (; cr->next_vcpu < target; cr->next_vcpu++) {
		struct hpci_plug_timing *p = new_plug(cr, cr->next_vcpu);

		p->request_ms = request_ms;
		p->returned_ms = returned_ms;
		p->request_failed = rc < 0;
	}
	if (rc < 0)
		return request_failed(cr, rc);
	if ((rc = wait_added(cr, from, first, cr->cell->count)) < 0)
		return rc;
	for (guint i = first; i < cr->res->plugs->len; i++) {
		if ((rc = online_cpu(cr, &g_array_index(cr->res->plugs, struct hpci_plug_timing, i))) < 0)
			return rc;
	}
	return 0;
}

/*
 * The guest and the firmware are done with the unplugged vCPUs: QEMU must
 * have removed them too, else the unplug is not complete (a product
 * failure).  libvirt learns it from DEVICE_DELETED, but libvirt 9.0 keeps
 * counting a vCPU whose unplug it stopped waiting for ("unplug pending")
 * even after QEMU removed it, and then refuses to plug that slot again
 * ("already in requested state").  So QEMU's own CPU list decides, and while
 * libvirt's count is stale later plug steps take fresh slots.
 */
static int wait_unplug_done(struct cell_run *cr)
{
	gint64 deadline = now(cr) + cr->plan->timeouts.unplug_ms;
	guint cursor = hpci_obs_count(&cr->obs);
	int cpus, live, rc;

	while ((cpus = hpci_domain_qemu_cpus(cr->dom)) != (int)cr->cell->topology.boot) {
		if (cpus < 0 || !hpci_domain_is_active(cr->dom))
			return request_failed(cr, cpus < 0 ? cpus : -ESHUTDOWN);
		if (now(cr) >= deadline) {
			fail(cr, HPCI_FAIL_TIMEOUT, "QEMU did not complete the unplug within %u s: it "
			     "still has %d CPUs, %u expected, although the guest removed them",
			     cr->plan->timeouts.unplug_ms / 1000, cpus, cr->cell->topology.boot);
			return -ETIMEDOUT;
		}
		if ((rc = pause_run(cr, &cursor, 200)) != -ETIMEDOUT)
			return wait_failed(cr, rc, "the unplug to complete",
					   cr->plan->timeouts.unplug_ms);
	}
	live = hpci_domain_live_vcpus(cr->dom);
	if (live == (int)cr->cell->topology.boot) {
		hpci_obs_note(&cr->obs, "QEMU and libvirt have %d vCPUs: the unplug is complete", live);
		cr->next_vcpu = cr->cell->topology.boot; /* later plug steps reuse the slots */
	} else {
		hpci_error_clear();
		hpci_obs_note(&cr->obs, "QEMU has %d CPUs but libvirt still counts %d (it missed "
			      "DEVICE_DELETED after giving up waiting): later plugs take fresh slots",
			      cpus, live);
	}
	return 0;
}

static int step_unplug(struct cell_run *cr)
{
	for (guint i = cr->res->plugs->len; i-- > 0;) {
		struct hpci_plug_timing *p = &g_array_index(cr->res->plugs, struct hpci_plug_timing, i);
		struct cpu_match m = { HPCI_LINE_CPU_REMOVED, p->guest_cpu };
		guint from = hpci_obs_count(&cr->obs);
		const struct hpci_event *ev;
		int rc;

		if (p->removed_ms >= 0 || p->guest_cpu < 0)
			continue;
		hpci_obs_note(&cr->obs, "unplug vCPU %u (guest CPU %d)", p->vcpu, p->guest_cpu);
		p->unplug_request_ms = now(cr);
		rc = hpci_domain_set_vcpu(cr->dom, p->vcpu, false);
		p->unplug_returned_ms = now(cr);
		p->unplug_timed_out = rc == -ETIMEDOUT;
		/* libvirt gives up waiting for DEVICE_DELETED after a few seconds
		 * while a slow TCG guest is still offlining: the unplug is pending,
		 * not failed, and the guest's report decides (docs/facts.md §5). */
		if (rc == -ETIMEDOUT)
			hpci_obs_note(&cr->obs, "unplug pending: %s", hpci_error_message());
		else if (rc < 0)
			return request_failed(cr, rc);
		rc = wait_guest(cr, &from, match_cpu_line, &m, cr->plan->timeouts.unplug_ms, &ev);
		if (rc < 0) {
			g_autofree char *what = g_strdup_printf("guest report of removed CPU %d",
								p->guest_cpu);
			return wait_failed(cr, rc, what, cr->plan->timeouts.unplug_ms);
		}
		p->removed_ms = ev->t_ms;
	}
	return wait_unplug_done(cr);
}

static guint64 field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

/* One SMI burst in the guest, on `cpu` (-1: wherever the kernel runs it). */
static int smi_burst(struct cell_run *cr, unsigned sweeps, int cpu)
{
	char sweeps_arg[16], cpu_arg[16];
	const char *args[] = { sweeps_arg, cpu >= 0 ? cpu_arg : NULL, NULL };
	guint from = hpci_obs_count(&cr->obs);
	const struct hpci_event *ev;
	gint64 start = now(cr);
	long pid;
	int rc;

	g_snprintf(sweeps_arg, sizeof(sweeps_arg), "%u", sweeps);
	g_snprintf(cpu_arg, sizeof(cpu_arg), "%d", cpu);
	hpci_obs_note(&cr->obs, "SMI burst: %u sweeps on CPU %s", sweeps, cpu >= 0 ? cpu_arg : "any");
	cr->res->smi_runs++;
	if ((rc = hpci_agent_exec(cr->dom, "/bin/hpci-smi", args, AGENT_TIMEOUT_S, &pid)) < 0) {
		fail_with_error(cr, hpci_domain_is_active(cr->dom) ? HPCI_FAIL_TIMEOUT
								   : HPCI_FAIL_STOPPED);
		return rc;
	}
	rc = wait_guest(cr, &from, hpci_obs_match_line, GINT_TO_POINTER(HPCI_LINE_SMI_DONE),
			cr->plan->timeouts.smi_ms, &ev);
	if (rc < 0)
		return wait_failed(cr, rc, "end of the guest's SMI burst (HPCI-SMI)",
				   cr->plan->timeouts.smi_ms);
	cr->res->smi_runs_survived++;
	cr->res->smi_accesses += field(ev->text, "reads=") + field(ev->text, "writes=");
	cr->res->smi_ms += now(cr) - start;
	return 0;
}

static int step_smi(struct cell_run *cr, const struct hpci_step *step)
{
	bool any_target = false;
	int rc;

	/* SMIs on each hot-added CPU exercise its relocated SMBASE directly. */
	for (guint i = 0; i < cr->res->plugs->len; i++) {
		const struct hpci_plug_timing *p = &g_array_index(cr->res->plugs,
								  struct hpci_plug_timing, i);

		if (p->online_ms < 0 || p->removed_ms >= 0)
			continue;
		any_target = true;
		if ((rc = smi_burst(cr, step->sweeps, p->guest_cpu)) < 0)
			return rc;
	}
	return any_target ? 0 : smi_burst(cr, step->sweeps, -1);
}

static bool match_attack_result(const struct hpci_event *ev, void *kind)
{
	return ev->kind == HPCI_EV_SERIAL &&
	       (ev->line.kind == (enum hpci_guest_line_kind)GPOINTER_TO_INT(kind) ||
		(ev->line.kind == HPCI_LINE_GUEST_ERROR &&
		 g_str_has_prefix(ev->text, "HPCI-ATTACK-ERROR")));
}

/* Runs /bin/hpci-attack ARGS in the guest and waits for its result line of
 * `kind` (images/README.md, "Attack module"). */
static int guest_attack(struct cell_run *cr, const char *const *args,
			enum hpci_guest_line_kind kind, const char *what)
{
	guint from = hpci_obs_count(&cr->obs);
	const struct hpci_event *ev;
	long pid;
	int rc;

	if ((rc = hpci_agent_exec(cr->dom, "/bin/hpci-attack", args, AGENT_TIMEOUT_S, &pid)) < 0) {
		fail_with_error(cr, hpci_domain_is_active(cr->dom) ? HPCI_FAIL_TIMEOUT
								   : HPCI_FAIL_STOPPED);
		return rc;
	}
	rc = wait_guest(cr, &from, match_attack_result, GINT_TO_POINTER(kind),
			AGENT_TIMEOUT_S * 1000, &ev);
	if (rc < 0)
		return wait_failed(cr, rc, what, AGENT_TIMEOUT_S * 1000);
	if (ev->line.kind == HPCI_LINE_GUEST_ERROR) {
		/* Our image's tool failed: nothing about the product was learnt. */
		fail(cr, HPCI_FAIL_INFRA, "%s: %s", what, ev->text);
		return -EIO;
	}
	return 0;
}

/*
 * After boot and after every plug, on a machine whose firmware closes the
 * SMRAM at the default SMBASE: the guest must read 0xFF all over it.  What
 * it read is judged (judge.h, step 0), not here.
 */
static int smram_check(struct cell_run *cr, const char *when)
{
	static const char *const args[] = { "check", NULL };

	if (!cr->cell->firmware.smm || !cr->cell->smi.smbase_smram)
		return 0;
	hpci_obs_note(&cr->obs, "SMRAM window check %s", when);
	return guest_attack(cr, args, HPCI_LINE_SMRAM_CHECK,
			    "the guest's check of the default SMBASE window (HPCI-SMRAM-CHECK)");
}

static int step_attack_smbase(struct cell_run *cr)
{
	const char *const args[] = { "plant", cr->token, NULL };

	hpci_obs_note(&cr->obs, "the guest plants its payload at the default SMBASE (token %s)",
		      cr->token);
	return guest_attack(cr, args, HPCI_LINE_ATTACK_PLANT,
			    "the guest's plant at the default SMBASE (HPCI-ATTACK-PLANT)");
}

/* Arms the guest's module against the APIC IDs the next plug step adds
 * (the loader puts a plug step right after this one). */
static int step_attack_sipi(struct cell_run *cr)
{
	g_autoptr(GString) ids = g_string_new(NULL);
	g_autofree char *seconds = g_strdup_printf("%u", cr->plan->timeouts.plug_ms / 1000 + 1);
	const char *args[] = { "sipi", cr->token, seconds, NULL, NULL };

	for (unsigned i = 0; i < cr->cell->count; i++)
		g_string_append_printf(ids, "%s%u", i ? "," : "",
				       hpci_topology_apic_id(&cr->cell->topology, cr->next_vcpu + i));
	args[3] = ids->str;
	hpci_obs_note(&cr->obs, "the guest arms INIT-SIPI-SIPI for APIC IDs %s (token %s)",
		      ids->str, cr->token);
	return guest_attack(cr, args, HPCI_LINE_ATTACK_SIPI,
			    "the guest's SIPI attacker (HPCI-ATTACK-SIPI armed)");
}

static int run_steps(struct cell_run *cr)
{
	int rc = smram_check(cr, "after boot");

	for (guint i = 0; rc == 0 && i < cr->cell->steps->len; i++) {
		const struct hpci_step *step = &g_array_index(cr->cell->steps, struct hpci_step, i);

		hpci_obs_note(&cr->obs, "step %u: %s", i + 1, hpci_step_name(step->kind));
		switch (step->kind) {
		case HPCI_STEP_PLUG_EACH:
			rc = step_plug_each(cr);
			break;
		case HPCI_STEP_PLUG_BURST:
			rc = step_plug_burst(cr);
			break;
		case HPCI_STEP_UNPLUG:
			rc = step_unplug(cr);
			break;
		case HPCI_STEP_SMI:
			rc = step_smi(cr, step);
			break;
		case HPCI_STEP_ATTACK_SMBASE:
			rc = step_attack_smbase(cr);
			break;
		case HPCI_STEP_ATTACK_SIPI:
			rc = step_attack_sipi(cr);
			break;
		}
		if (rc == 0 && hpci_step_is_plug(step->kind))
			rc = smram_check(cr, "after the plug");
	}
	return rc;
}

/*
 * After a timeout, makes sure the evidence holds at least two samples and
 * saves them; other endings need no register evidence.  When a CPU looks
 * stuck in SMM, sampling goes on until the samples prove the hang
 * (hang_proven()) or the CPU moves: hang-smm means that proof whichever wait
 * timed out first, not two samples that happened to land in one loop (a CPU
 * that runs guest RAM in SMM, with mch.smbase-smram off, wanders and did
 * that 1 time in 2).
 */
static bool need_hang_evidence(struct cell_run *cr)
{
	return cr->samples->len < 2 || (hpci_regdump_smm_stuck(cr->samples) >= 0 &&
					!hang_proven(cr));
}

static void collect_hang_evidence(struct cell_run *cr)
{
	guint cursor = 0;

	/* A payload parked in SMM is not a hang: its dump is the evidence. */
	if (cr->failure != HPCI_FAIL_TIMEOUT || cr->claim_regs)
		return;
	while (cr->dom && hpci_domain_is_active(cr->dom) && need_hang_evidence(cr) &&
	       !hpci_interrupted()) {
		/* A fatal line decides the outcome ahead of a hang (judge.h),
		 * and a stopped domain has no registers: stop sampling. */
		if (cr->samples->len && pause_run(cr, &cursor, SAMPLE_PERIOD_MS) != -ETIMEDOUT)
			break;
		if (sample_registers(cr) < 0)
			break;
	}
	save_samples(cr);
}

/* A claim that came while no wait was watching is checked while the
 * domain still runs. */
static void check_late_claim(struct cell_run *cr)
{
	if (cr->claim_regs || !cr->dom || !hpci_domain_is_active(cr->dom))
		return;
	for (guint i = 0; i < cr->obs.events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(cr->obs.events, i);

		if (is_smm_claim(cr, ev)) {
			(void)corroborate_claim(cr, ev);
			return;
		}
	}
}

/* The guest's attack and window-check lines, for the report. */
static void record_attack_lines(struct cell_run *cr)
{
	struct hpci_attack_record *rec = cr->res->attack;

	for (guint i = 0; rec && i < cr->obs.events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(cr->obs.events, i);

		if (ev->kind != HPCI_EV_SERIAL)
			continue;
		switch (ev->line.kind) {
		case HPCI_LINE_ATTACK:
		case HPCI_LINE_ATTACK_PLANT:
		case HPCI_LINE_ATTACK_SIPI:
		case HPCI_LINE_SMRAM_CHECK:
			g_ptr_array_add(rec->lines, g_strdup(ev->text));
			break;
		default:
			break;
		}
	}
}

/* The cell attacks, or checks the SMRAM window (smram_check()). */
static bool attacks(const struct hpci_cell *cell)
{
	return hpci_steps_first_attack(cell->steps) >= 0 ||
	       (cell->firmware.smm && cell->smi.smbase_smram);
}

/*
 * A fatal line of the firmware's debug log ends the run as it is written
 * (hpci_obs_wait()), not at the boot timeout.  QEMU created (and truncated)
 * the file when it started, paused, so the tail sees every line; the file is
 * QEMU's to create, as QEMU may run as another user.  Without the tail the
 * log is still judged at the end, only later: a note, not a failure.
 */
static void follow_firmware_log(struct cell_run *cr, const char *path)
{
	if (hpci_tail_start(path, HPCI_TAIL_FIRMWARE, &cr->obs, &cr->firmware_tail) == 0)
		return;
	hpci_obs_note(&cr->obs, "firmware.log is read only at the end: %s", hpci_error_message());
	hpci_error_clear();
}

static char *domain_name(struct cell_run *cr, unsigned index)
{
	unsigned attempt = cr->res->attempt;

	return attempt > 1 ? g_strdup_printf(HPCI_DOMAIN_PREFIX "%s-%u-a%u", cr->ctx->run_id,
					     index, attempt)
			   : g_strdup_printf(HPCI_DOMAIN_PREFIX "%s-%u", cr->ctx->run_id, index);
}

/* The cell's files in its directory, and the domain XML that names them. */
struct cell_files {
	char *disk, *nvram, *serial, *fwlog, *xml_path, *xml;
};

static void cell_files_clear(struct cell_files *f)
{
	g_free(f->disk);
	g_free(f->nvram);
	g_free(f->serial);
	g_free(f->fwlog);
	g_free(f->xml_path);
	g_free(f->xml);
}
typedef struct cell_files cell_files;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(cell_files, cell_files_clear)

static int make_domain_xml(struct cell_run *cr, const char *name, bool append_logs,
			   struct cell_files *f)
{
	struct hpci_domain_spec spec = {
		.cell = cr->cell, .emulator = cr->plan->emulator,
		.firmware_code = cr->plan->firmware_code, .firmware_vars = cr->plan->firmware_vars,
		.name = name, .accel = cr->ctx->accel, .memory_mib = cr->ctx->memory_mib,
		.uid = getuid(), .gid = getgid(), .append_logs = append_logs,
	};
	int rc;

	f->disk = cell_path(cr, "disk.qcow2");
	f->nvram = cell_path(cr, "nvram.fd");
	f->serial = cell_path(cr, "serial.log");
	f->fwlog = cell_path(cr, "firmware.log");
	f->xml_path = cell_path(cr, "domain.xml");
	spec.disk = f->disk;
	spec.nvram = f->nvram;
	spec.serial_log = f->serial;
	spec.firmware_log = f->fwlog;
	if ((rc = hpci_domain_xml(&spec, &f->xml)) < 0)
		return rc;
	return hpci_write_file(f->xml_path, f->xml, -1);
}

/* Once the domain exists: the serial console and the firmware log are
 * followed as they grow, each from its first line. */
static int follow_logs(struct cell_run *cr, const struct cell_files *f)
{
	int rc = hpci_tail_start(f->serial, HPCI_TAIL_SERIAL, &cr->obs, &cr->tail);

	if (rc == 0 && cr->cell->firmware.verbose)
		follow_firmware_log(cr, f->fwlog);
	return rc;
}

static int create_domain(struct cell_run *cr, const char *name)
{
	const struct hpci_image *image = cr->plan->image;
	g_auto(cell_files) f = { 0 };
	int rc;

	cr->res->domain = g_strdup(name);
	cr->res->connection = g_strdup(hpci_virt_uri(cr->ctx->virt));
	if (!image)
		rc = hpci_error(ENOENT, "no image built for recipe '%s'", cr->cell->image);
	else if ((rc = make_domain_xml(cr, name, false, &f)) == 0 &&
		 (rc = hpci_image_overlay(image, f.disk)) == 0 &&
		 (rc = hpci_write_file(f.serial, "", 0)) == 0)
		rc = hpci_domain_create(cr->ctx->virt, f.xml, on_domain_stop, cr, &cr->dom);
	if (rc == 0)
		rc = follow_logs(cr, &f);
	if (rc < 0) {
		fail_with_error(cr, HPCI_FAIL_INFRA);
		return rc;
	}
	hpci_obs_note(&cr->obs, "domain '%s' created (paused)", name);
	return 0;
}

/*
 * A restored cell's domain: its own overlay on the saved state's disk, its
 * own NVRAM (libvirt makes it from the template, QEMU then writes the
 * saved flash contents into it), and its serial and firmware logs starting
 * with the saved boot's part, so the firmware's boot facts are checked per
 * cell as after a cold boot.
 */
static int restore_domain(struct cell_run *cr, const char *name)
{
	const struct hpci_boot_state *st = cr->plan->boot_state;
	g_autofree char *image = g_build_filename(st->dir, HPCI_BOOT_STATE_IMAGE, NULL);
	g_autofree char *disk = g_build_filename(st->dir, HPCI_BOOT_STATE_DISK, NULL);
	g_autofree char *boot_serial = g_build_filename(st->dir, "serial.log", NULL);
	g_autofree char *boot_fwlog = g_build_filename(st->dir, "firmware.log", NULL);
	g_autofree char *scratch = cell_path(cr, "restore.img");
	g_auto(cell_files) f = { 0 };
	gint64 t0;
	int rc;

	cr->res->domain = g_strdup(name);
	cr->res->connection = g_strdup(hpci_virt_uri(cr->ctx->virt));
	cr->res->boot_state = g_strdup(st->key);
	hpci_obs_note(&cr->obs, "restoring saved boot state %.12s (%s)", st->key, st->dir);
	if ((rc = make_domain_xml(cr, name, true, &f)) == 0 &&
	    (rc = hpci_overlay_on(disk, f.disk)) == 0 &&
	    (rc = hpci_copy_file(boot_serial, f.serial, 0644)) == 0 &&
	    (rc = hpci_copy_file(boot_fwlog, f.fwlog, 0644)) == 0) {
		t0 = now(cr);
		rc = hpci_domain_restore(cr->ctx->virt, image, f.xml, scratch, on_domain_stop, cr,
					 &cr->dom);
		cr->res->restore_ms = now(cr) - t0;
	}
	if (rc == 0)
		rc = follow_logs(cr, &f);
	if (rc < 0) {
		fail_with_error(cr, HPCI_FAIL_INFRA);
		return rc;
	}
	hpci_obs_note(&cr->obs, "domain '%s' restored (paused) in %" G_GINT64_FORMAT " ms", name,
		      cr->res->restore_ms);
	return 0;
}

#define AGENT_POLL_MS 200

/* Waits up to timeout_ms for the guest agent to answer. */
static int wait_agent(struct cell_run *cr, unsigned timeout_ms, const char *what)
{
	gint64 deadline = now(cr) + timeout_ms;
	guint cursor = hpci_obs_count(&cr->obs);
	int rc;

	while (hpci_agent_ping(cr->dom, 2) < 0) {
		hpci_error_clear();
		rc = pause_run(cr, &cursor, AGENT_POLL_MS);
		if (rc != -ETIMEDOUT)
			return wait_failed(cr, rc, what, timeout_ms);
		if (now(cr) >= deadline)
			return wait_failed(cr, -ETIMEDOUT, what, timeout_ms);
	}
	return 0;
}

/* A restored guest is up when its agent answers: its ready line was
 * printed before the save. */
static int resume_restored(struct cell_run *cr)
{
	gint64 resumed_ms;
	int rc;

	g_atomic_int_set(&cr->booted, 1);
	if ((rc = hpci_domain_resume(cr->dom)) < 0) {
		fail_with_error(cr, HPCI_FAIL_INFRA);
		return rc;
	}
	resumed_ms = now(cr);
	hpci_obs_note(&cr->obs, "domain resumed");
	if ((rc = wait_agent(cr, cr->plan->timeouts.boot_ms,
			     "answer of the restored guest's agent")) < 0)
		return rc;
	cr->res->boot_ms = now(cr) - resumed_ms;
	hpci_obs_note(&cr->obs, "the restored guest's agent answered");
	return 0;
}

/* The cell's guest, up: restored from its saved boot state when it has a
 * ready one, else booted cold. */
static int bring_up(struct cell_run *cr, unsigned index)
{
	const struct hpci_boot_state *st = cr->plan->boot_state;
	g_autofree char *name = domain_name(cr, index);

	cr->res->boot_control = cr->plan->boot_control;
	if (st && st->status == HPCI_BOOT_STATE_READY)
		return restore_domain(cr, name) < 0 ? -1 : resume_restored(cr);
	if (st) {
		cr->res->boot_note = g_strdup_printf("booted cold: saved boot state %.12s could "
						     "not be made: %s", st->key,
						     st->error ? st->error : "unknown");
		hpci_obs_note(&cr->obs, "%s", cr->res->boot_note);
	}
	if (create_domain(cr, name) < 0 || boot(cr) < 0)
		return -1;
	g_atomic_int_set(&cr->booted, 1);
	return 0;
}

/* libvirt keeps QEMU's own log outside the report; copy it in when this
 * host can read it (virt.h says where, for a local connection). */
static void copy_qemu_log(struct cell_run *cr)
{
	g_autofree char *src = hpci_virt_domain_log(cr->ctx->virt, cr->res->domain);
	g_autofree char *dst = cell_path(cr, "qemu.log");
	g_autoptr(hpci_error_saved) saved = hpci_error_save();

	if (src && hpci_is_file(src))
		(void)hpci_copy_file(src, dst, 0644);
	hpci_error_restore(g_steal_pointer(&saved));
}

static void teardown(struct cell_run *cr)
{
	g_autoptr(hpci_error_saved) saved = hpci_error_save();

	g_clear_pointer(&cr->dom, hpci_domain_free);
	g_clear_pointer(&cr->tail, hpci_tail_stop);
	g_clear_pointer(&cr->firmware_tail, hpci_tail_stop);
	if (cr->res->domain)
		copy_qemu_log(cr);
	if (!cr->ctx->keep_disks && !cr->keep_disks) {
		g_autofree char *disk = cell_path(cr, "disk.qcow2");
		g_autofree char *nvram = cell_path(cr, "nvram.fd");

		(void)hpci_rm_rf(disk);
		(void)hpci_rm_rf(nvram);
	}
	hpci_error_restore(g_steal_pointer(&saved));
}

static const char *stop_reason(struct cell_run *cr)
{
	for (guint i = 0; i < cr->obs.events->len; i++) {
		const struct hpci_event *ev = g_ptr_array_index(cr->obs.events, i);

		if (ev->kind == HPCI_EV_STOPPED)
			return ev->text;
	}
	return NULL;
}

/* A firmware that writes a debug log is a witness of its own: parse what it
 * says into res->firmware for the judge.  Returns why it could not be
 * parsed (the caller frees), or NULL. */
static char *read_firmware_log(struct cell_run *cr)
{
	g_autofree char *path = cell_path(cr, "firmware.log");
	struct hpci_cell_result *res = cr->res;
	struct stat st;

	if (!cr->cell->firmware.verbose && (stat(path, &st) < 0 || st.st_size == 0))
		return NULL;
	res->firmware = g_new0(struct hpci_fw_log, 1);
	if (hpci_fw_log_parse_file(path, res->firmware) == 0)
		return NULL;
	g_clear_pointer(&res->firmware, g_free);
	return g_strdup(hpci_error_message());
}

static void judge(struct cell_run *cr)
{
	g_autofree char *unreadable = NULL;
	struct hpci_observation obs = {
		.failure = cr->failure,
		.error_kind = cr->error_kind,
		.error = cr->error,
		.stop_reason = stop_reason(cr),
		.events = cr->obs.events,
		.regdumps = cr->samples,
		.regdump_span_ms = sample_span_ms(cr),
		.plugs = cr->res->plugs,
		.attack_token = cr->token,
		.claim_regs = cr->claim_regs,
	};

	/* The firmware is not read when the harness failed: nothing ran. */
	if (cr->failure != HPCI_FAIL_INFRA)
		unreadable = read_firmware_log(cr);
	obs.firmware = cr->res->firmware;
	obs.firmware_unreadable = unreadable;
	hpci_judge(cr->cell, &obs, cr->res);
}

static void release_run(struct cell_run *cr)
{
	hpci_obs_release(&cr->obs);
	g_clear_pointer(&cr->samples, g_ptr_array_unref);
	g_clear_pointer(&cr->sample_texts, g_ptr_array_unref);
	g_clear_pointer(&cr->sample_times, g_array_unref);
	g_clear_pointer(&cr->sample_fw_bytes, g_array_unref);
	g_clear_pointer(&cr->kept_stalls, g_array_unref);
	g_clear_pointer(&cr->error, g_free);
	g_clear_pointer(&cr->dir, g_free);
	g_clear_pointer(&cr->token, g_free);
	g_clear_pointer(&cr->claim_regs, g_array_unref);
}
typedef struct cell_run cell_run;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(cell_run, release_run)

/* Everything a run needs before its domain: its directory, the register
 * sample window and the event log (dir/events.log). */
static int start_run(struct cell_run *cr, const char *dir)
{
	g_autofree char *events_log = g_build_filename(dir, "events.log", NULL);
	int rc;

	cr->dir = g_strdup(dir);
	cr->samples = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	cr->sample_texts = g_ptr_array_new_with_free_func(g_free);
	cr->sample_times = g_array_new(FALSE, FALSE, sizeof(gint64));
	cr->sample_fw_bytes = g_array_new(FALSE, FALSE, sizeof(gint64));
	cr->kept_stalls = g_array_new(FALSE, FALSE, sizeof(struct hpci_stall_kept));
	if ((rc = hpci_mkdir_p(dir, 0755)) < 0)
		return rc;
	return hpci_obs_init(&cr->obs, events_log);
}

void hpci_cell_judge_unrunnable(const struct hpci_plan *plan, struct hpci_cell_result *res)
{
	struct hpci_observation obs = {
		.failure = HPCI_FAIL_INFRA, .error = plan->unrunnable,
		.context = plan->unrunnable_context,
	};

	res->ran = true;
	res->attempt = 1;
	hpci_plan_record(plan, res);
	hpci_judge(plan->cell, &obs, res);
}

int hpci_cell_run(const struct hpci_run_ctx *ctx, const struct hpci_plan *plan,
		  unsigned index, unsigned attempt, struct hpci_cell_result *res)
{
	const struct hpci_cell *cell = plan->cell;
	g_auto(cell_run) cr = {
		.ctx = ctx, .plan = plan, .cell = cell, .res = res,
		.next_vcpu = cell->topology.boot,
	};
	g_autofree char *dir = NULL;
	gint64 t_start = g_get_monotonic_time();

	res->ran = true;
	res->attempt = attempt;
	hpci_plan_record(plan, res);
	if (attempt > 1) {
		g_autofree char *sub = g_strdup_printf("attempt-%u", attempt);

		res->dir = g_build_filename("cells", cell->id, sub, NULL);
	} else {
		res->dir = g_build_filename("cells", cell->id, NULL);
	}
	dir = g_build_filename(ctx->run_dir, res->dir, NULL);
	cr.token = hpci_attack_token(ctx->run_id, cell->id, attempt);
	if (attacks(cell))
		res->attack = hpci_attack_record_new(cr.token);
	if (start_run(&cr, dir) < 0) {
		if (!cr.obs.events)
			(void)hpci_obs_init(&cr.obs, NULL); /* so the judge has a log to read */
		fail_with_error(&cr, HPCI_FAIL_INFRA);
		judge(&cr);
		return 0;
	}

	if (bring_up(&cr, index) == 0)
		run_steps(&cr);
	check_late_claim(&cr);
	collect_hang_evidence(&cr);
	teardown(&cr);
	record_attack_lines(&cr);
	judge(&cr);
	res->duration_ms = (g_get_monotonic_time() - t_start) / 1000;
	return hpci_interrupted() ? -EINTR : 0;
}

/*
 * A boot job (boot-state.h): boots the plan's configuration cold in dir,
 * saves it there as HPCI_BOOT_STATE_IMAGE, and keeps what belongs to the
 * saved RAM: the disk overlay, the NVRAM, the serial and firmware logs of
 * the boot, its domain.xml and events.log.
 */
int hpci_cell_boot_save(const struct hpci_run_ctx *ctx, const struct hpci_plan *plan,
			const char *dir, const char *name, gint64 *ret_boot_ms,
			gint64 *ret_save_ms)
{
	g_autoptr(hpci_cell_result) res = hpci_cell_result_new(plan->cell);
	g_auto(cell_run) cr = {
		.ctx = ctx, .plan = plan, .cell = plan->cell, .res = res, .keep_disks = true,
	};
	g_autofree char *image = g_build_filename(dir, HPCI_BOOT_STATE_IMAGE, NULL);
	gint64 t0;
	int rc;

	if ((rc = start_run(&cr, dir)) < 0)
		return rc;
	hpci_obs_note(&cr.obs, "boot job: the configuration of cell '%s', to be saved",
		      plan->cell->id);
	if (create_domain(&cr, name) == 0 && boot(&cr) == 0) {
		g_atomic_int_set(&cr.booted, 1);
		t0 = now(&cr);
		if (hpci_domain_save(cr.dom, image) < 0)
			fail_with_error(&cr, HPCI_FAIL_INFRA);
		*ret_save_ms = now(&cr) - t0;
		hpci_obs_note(&cr.obs, "saved in %" G_GINT64_FORMAT " ms", *ret_save_ms);
	}
	*ret_boot_ms = res->boot_ms;
	teardown(&cr);
	if (hpci_interrupted())
		return hpci_error_kind(HPCI_ERR_INTERRUPTED, EINTR, "interrupted while booting "
				       "the configuration of cell '%s' to save it", plan->cell->id);
	if (cr.failure != HPCI_FAIL_NONE)
		return hpci_error(EIO, "the boot of the configuration of cell '%s' failed: %s",
				  plan->cell->id, cr.error);
	return 0;
}
