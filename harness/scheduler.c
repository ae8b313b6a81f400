/* SPDX-License-Identifier: MIT */
#include "scheduler.h"
#include "error.h"
#include "interrupt.h"

#include <errno.h>

/* How often an idle worker looks at the interrupt flag. */
#define IDLE_POLL_MS 200

struct cell_state {
	struct hpci_sched_cell sc;
	guint slot;
	GPtrArray *attempts;      /* finished, struct hpci_cell_result * */
	unsigned started;         /* attempts handed out so far */
	unsigned in_flight;
	unsigned cost;
};

struct attempt_item {
	struct cell_state *cs;
	unsigned attempt;
};

struct worker {
	struct hpci_scheduler *s;
	const struct hpci_run_ctx *ctx;
	GThread *thread;
};

struct hpci_scheduler {
	struct hpci_retry_policy policy;
	GMutex lock;
	GCond changed;
	GQueue pending;           /* struct attempt_item *, longest first */
	unsigned running;
	unsigned states_made;     /* numbers boot jobs' domains */
	unsigned workers_alive;
	struct cell_state *cells;
	guint n_cells;
	struct worker *workers;
	unsigned n_workers;
	GAsyncQueue *events;      /* struct hpci_sched_event * */
};

unsigned hpci_cell_cost_estimate(const struct hpci_cell *cell)
{
	const struct hpci_timeouts *t = &cell->timeouts;
	enum hpci_outcome expected = cell->expect.outcome;
	unsigned cost = 20; /* boot and teardown */

	for (guint i = 0; i < cell->steps->len; i++) {
		const struct hpci_step *step = &g_array_index(cell->steps, struct hpci_step, i);

		switch (step->kind) {
		case HPCI_STEP_PLUG_EACH:
		case HPCI_STEP_PLUG_BURST:
		case HPCI_STEP_UNPLUG:
			cost += 3 * cell->count;
			break;
		case HPCI_STEP_SMI:
			cost += 2 * step->sweeps * (cell->topology.boot + cell->count);
			break;
		case HPCI_STEP_ATTACK_SMBASE:
		case HPCI_STEP_ATTACK_SIPI:
			cost += 1;
			break;
		}
	}
	/* A hang is only known once a step's time limit has run out. */
	if (expected == HPCI_OUTCOME_HANG_SMM || expected == HPCI_OUTCOME_GUEST_TIMEOUT)
		cost += t->plug_ms / 1000;
	return cost;
}

static void push(struct hpci_scheduler *s, struct hpci_sched_event ev)
{
	struct hpci_sched_event *copy = g_new(struct hpci_sched_event, 1);

	*copy = ev;
	g_async_queue_push(s->events, copy);
}

static void post(struct hpci_scheduler *s, enum hpci_sched_event_kind kind, guint slot,
		 unsigned attempt, struct hpci_cell_result *result)
{
	push(s, (struct hpci_sched_event){ .kind = kind, .slot = slot, .attempt = attempt,
					   .result = result });
}

static void post_state(struct hpci_scheduler *s, enum hpci_sched_event_kind kind,
		       const struct hpci_boot_state *st)
{
	push(s, (struct hpci_sched_event){ .kind = kind, .state = st });
}

static gint by_cost(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct attempt_item *x = a, *y = b;

	(void)unused;
	if (x->cs->cost != y->cs->cost)
		return x->cs->cost > y->cs->cost ? -1 : 1;
	return (x->cs->slot > y->cs->slot) - (x->cs->slot < y->cs->slot);
}

/* Called with the lock held. */
static void enqueue(struct hpci_scheduler *s, struct cell_state *cs)
{
	struct attempt_item *item = g_new0(struct attempt_item, 1);

	item->cs = cs;
	item->attempt = ++cs->started;
	cs->in_flight++;
	g_queue_insert_sorted(&s->pending, item, by_cost, NULL);
}

/* Called with the lock held, when a cell has nothing in flight: more
 * attempts, or its result. */
static void settle(struct hpci_scheduler *s, struct cell_state *cs)
{
	if (!hpci_interrupted() && hpci_attempts_more(&s->policy, cs->attempts)) {
		enqueue(s, cs);
		return;
	}
	if (cs->attempts->len)
		post(s, HPCI_SCHED_FINISHED, cs->slot, 0, hpci_attempts_fold(cs->attempts));
}

static struct hpci_boot_state *state_of(const struct attempt_item *item)
{
	return item->cs->sc.plan->boot_state;
}

/*
 * Called with the lock held: the first pending attempt a worker may run
 * now (its state, if any, is READY or FAILED), taken off the queue; else
 * the first one whose state nobody makes yet, left queued, in *ret_make.
 */
static struct attempt_item *take_runnable(struct hpci_scheduler *s,
					  struct hpci_boot_state **ret_make)
{
	*ret_make = NULL;
	for (GList *l = s->pending.head; l; l = l->next) {
		struct attempt_item *item = l->data;
		struct hpci_boot_state *st = state_of(item);

		if (!st || st->status == HPCI_BOOT_STATE_READY ||
		    st->status == HPCI_BOOT_STATE_FAILED) {
			g_queue_delete_link(&s->pending, l);
			return item;
		}
		if (st->status == HPCI_BOOT_STATE_NEEDED && !*ret_make)
			*ret_make = st;
	}
	return NULL;
}

/* Called with the lock held, which it drops while the boot job runs. */
static void make_state(struct hpci_scheduler *s, struct worker *w, struct hpci_boot_state *st)
{
	unsigned index;
	int rc;

	st->status = HPCI_BOOT_STATE_MAKING;
	index = ++s->states_made;
	g_mutex_unlock(&s->lock);

	post_state(s, HPCI_SCHED_STATE_STARTED, st);
	rc = hpci_boot_state_make(w->ctx, index, st);
	if (rc < 0)
		st->error = g_strdup(hpci_error_message());
	hpci_error_clear();

	g_mutex_lock(&s->lock);
	st->status = rc == 0 ? HPCI_BOOT_STATE_READY : HPCI_BOOT_STATE_FAILED;
	post_state(s, HPCI_SCHED_STATE_DONE, st);
	g_cond_broadcast(&s->changed);
}

static gpointer worker_main(gpointer data)
{
	struct worker *w = data;
	struct hpci_scheduler *s = w->s;

	g_mutex_lock(&s->lock);
	for (;;) {
		struct attempt_item *item;
		struct hpci_boot_state *make;
		struct hpci_cell_result *res;
		int rc;

		/* A running attempt may still add a retry to the queue. */
		while (!hpci_interrupted() && g_queue_is_empty(&s->pending) && s->running > 0) {
			gint64 until = g_get_monotonic_time() + IDLE_POLL_MS * G_TIME_SPAN_MILLISECOND;

			g_cond_wait_until(&s->changed, &s->lock, until);
		}
		if (hpci_interrupted() || g_queue_is_empty(&s->pending))
			break;
		if (!(item = take_runnable(s, &make))) {
			if (make) {
				make_state(s, w, make);
			} else {
				/* Every pending attempt waits for a state being made. */
				gint64 until = g_get_monotonic_time() +
					       IDLE_POLL_MS * G_TIME_SPAN_MILLISECOND;

				g_cond_wait_until(&s->changed, &s->lock, until);
			}
			continue;
		}
		s->running++;
		g_mutex_unlock(&s->lock);

		post(s, HPCI_SCHED_STARTED, item->cs->slot, item->attempt, NULL);
		res = hpci_cell_result_new(item->cs->sc.plan->cell);
		rc = hpci_cell_run(w->ctx, item->cs->sc.plan, item->cs->sc.index, item->attempt, res);

		g_mutex_lock(&s->lock);
		s->running--;
		item->cs->in_flight--;
		if (rc == -EINTR)
			hpci_cell_result_free(res); /* cut short: says nothing about the product */
		else
			g_ptr_array_add(item->cs->attempts, res);
		if (item->cs->in_flight == 0)
			settle(s, item->cs);
		g_free(item);
		g_cond_broadcast(&s->changed);
	}
	/* Interrupted: attempts nobody will start. */
	while (!g_queue_is_empty(&s->pending)) {
		struct attempt_item *item = g_queue_pop_head(&s->pending);

		if (--item->cs->in_flight == 0)
			settle(s, item->cs);
		g_free(item);
	}
	s->workers_alive--;
	g_cond_broadcast(&s->changed);
	g_mutex_unlock(&s->lock);
	hpci_error_clear(); /* the thread's error record dies with it */
	return NULL;
}

int hpci_scheduler_start(const struct hpci_run_ctx *ctxs, guint n_ctxs, unsigned jobs,
			 const struct hpci_retry_policy *policy, const GArray *cells,
			 struct hpci_scheduler **ret)
{
	struct hpci_scheduler *s = g_new0(struct hpci_scheduler, 1);

	g_assert(n_ctxs > 0 && jobs > 0 && policy->repeat > 0);
	s->policy = *policy;
	g_mutex_init(&s->lock);
	g_cond_init(&s->changed);
	g_queue_init(&s->pending);
	s->events = g_async_queue_new_full(g_free);
	s->n_cells = cells->len;
	s->cells = g_new0(struct cell_state, cells->len ? cells->len : 1);
	for (guint i = 0; i < cells->len; i++) {
		struct cell_state *cs = &s->cells[i];

		cs->sc = g_array_index(cells, struct hpci_sched_cell, i);
		cs->slot = i;
		cs->attempts = g_ptr_array_new_with_free_func((GDestroyNotify)hpci_cell_result_free);
		cs->cost = hpci_cell_cost_estimate(cs->sc.plan->cell);
		for (unsigned r = 0; r < policy->repeat; r++)
			enqueue(s, cs);
	}
	s->n_workers = MIN(jobs, MAX(1u, (unsigned)g_queue_get_length(&s->pending)));
	s->workers = g_new0(struct worker, s->n_workers);
	g_mutex_lock(&s->lock);
	for (unsigned w = 0; w < s->n_workers; w++) {
		g_autofree char *name = g_strdup_printf("cell-worker-%u", w);

		s->workers[w] = (struct worker){ .s = s, .ctx = &ctxs[w % n_ctxs] };
		s->workers[w].thread = g_thread_new(name, worker_main, &s->workers[w]);
		s->workers_alive++;
	}
	g_mutex_unlock(&s->lock);
	*ret = s;
	return 0;
}

int hpci_scheduler_next(struct hpci_scheduler *s, unsigned timeout_ms, struct hpci_sched_event *ev)
{
	struct hpci_sched_event *got;
	bool alive;

	got = g_async_queue_timeout_pop(s->events, (guint64)timeout_ms * G_TIME_SPAN_MILLISECOND);
	if (got) {
		*ev = *got;
		g_free(got);
		return 1;
	}
	g_mutex_lock(&s->lock);
	alive = s->workers_alive > 0;
	g_mutex_unlock(&s->lock);
	if (alive || g_async_queue_length(s->events) > 0)
		return 0;
	return -1;
}

unsigned hpci_scheduler_running(struct hpci_scheduler *s)
{
	unsigned n;

	g_mutex_lock(&s->lock);
	n = s->running;
	g_mutex_unlock(&s->lock);
	return n;
}

void hpci_scheduler_free(struct hpci_scheduler *s)
{
	struct hpci_sched_event *ev;

	if (!s)
		return;
	for (unsigned w = 0; w < s->n_workers; w++)
		g_thread_join(s->workers[w].thread);
	while ((ev = g_async_queue_try_pop(s->events))) {
		if (ev->result)
			hpci_cell_result_free(ev->result);
		g_free(ev);
	}
	g_async_queue_unref(s->events);
	for (guint i = 0; i < s->n_cells; i++)
		g_ptr_array_unref(s->cells[i].attempts);
	g_free(s->cells);
	g_free(s->workers);
	g_queue_clear_full(&s->pending, g_free);
	g_cond_clear(&s->changed);
	g_mutex_clear(&s->lock);
	g_free(s);
}
