/* The local copy's writer: lookups hand it what they loaded and go back to their clients, and
 * one thread writes the copy in batches, one transaction each. A first handshake on PostgreSQL
 * waited for a SQLite write of its own before; now the write overlaps the next lookup's round
 * trips to the database, and a burst of misses costs one commit instead of one each.
 *
 * Changes are written in the order they were handed over, so the copy ends as a synchronous
 * writer would have left it. The queue is bounded: a lookup waits for room rather than let the
 * copy fall behind without limit (it never does in practice; a batch takes milliseconds). */
#include "edge/edge_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/log.h"
#include "store/edge_copy.h"

#define QUEUE_MAX 4096 /* changes waiting; each holds a record of a few KB */
#define BATCH_MAX 256  /* changes per transaction */

struct copy_job {
	struct copy_job *next;
	char name[HOSTNAME_MAX + 1];
	int has_rec;
	struct store_edge_entry rec;
};

struct copy_writer {
	struct edge_copy *copy;
	pthread_mutex_t lock;
	pthread_cond_t work;     /* the writer waits for jobs, or for stop */
	pthread_cond_t progress; /* handers-over wait for room, flushers for their jobs */
	struct copy_job *head, *tail;
	size_t queued;
	uint64_t handed, written; /* counts, for flush */
	int stop;
	pthread_t thread;
};

static void job_free(struct copy_job *j)
{
	if (j->has_rec)
		store_edge_entry_dispose(&j->rec);
	free(j);
}

/* Writes JOBS (a list of at most BATCH_MAX) in one transaction; a failure is logged by the copy
 * and only leaves it older, as a lost write would. */
static void write_batch(struct copy_writer *w, struct copy_job *jobs)
{
	struct edge_copy_change changes[BATCH_MAX];
	size_t n = 0;

	for (struct copy_job *j = jobs; j; j = j->next) {
		changes[n].name = j->name;
		changes[n].rec = j->has_rec ? &j->rec : NULL;
		n++;
	}
	edge_copy_write(w->copy, changes, n);
}

/* Takes up to BATCH_MAX jobs off the queue (W->lock held) -> their list and *N. */
static struct copy_job *take_batch(struct copy_writer *w, size_t *n)
{
	struct copy_job *first = w->head, *last = w->head;

	*n = 1;
	while (*n < BATCH_MAX && last->next) {
		last = last->next;
		(*n)++;
	}
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	return first;
}

static void *writer_main(void *arg)
{
	struct copy_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct copy_job *batch;
		size_t n;

		while (!w->head && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		if (!w->head) /* stopped, and everything handed over is written */
			break;
		batch = take_batch(w, &n);
		pthread_mutex_unlock(&w->lock);
		write_batch(w, batch);
		while (batch) {
			struct copy_job *next = batch->next;

			job_free(batch);
			batch = next;
		}
		pthread_mutex_lock(&w->lock);
		w->queued -= n;
		w->written += n;
		pthread_cond_broadcast(&w->progress);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int copy_writer_start(struct edge_copy *copy, struct copy_writer **out)
{
	struct copy_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return SE_ENOMEM;
	w->copy = copy;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->progress, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->progress);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return SE_ENOMEM;
	}
	*out = w;
	return 0;
}

void copy_writer_stop(struct copy_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->progress);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void hand_over(struct copy_writer *w, struct copy_job *j)
{
	pthread_mutex_lock(&w->lock);
	while (w->queued >= QUEUE_MAX)
		pthread_cond_wait(&w->progress, &w->lock);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	w->handed++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

static struct copy_job *job_new(const char *name)
{
	struct copy_job *j = calloc(1, sizeof(*j));

	if (!j || strlen(name) > HOSTNAME_MAX) {
		log_warn("edge msg=\"local copy not written\" hostname=%s error=%s", name,
			 se_errname(j ? SE_EINVAL : SE_ENOMEM));
		free(j);
		return NULL;
	}
	strcpy(j->name, name);
	return j;
}

void copy_writer_put(struct copy_writer *w, const char *name, struct store_edge_entry *rec)
{
	struct copy_job *j = job_new(name);

	if (!j)
		return;
	j->rec = *rec;
	j->has_rec = 1;
	memset(rec, 0, sizeof(*rec));
	hand_over(w, j);
}

void copy_writer_remove(struct copy_writer *w, const char *name)
{
	struct copy_job *j = job_new(name);

	if (j)
		hand_over(w, j);
}

void copy_writer_flush(struct copy_writer *w)
{
	uint64_t target;

	pthread_mutex_lock(&w->lock);
	target = w->handed;
	while (w->written < target)
		pthread_cond_wait(&w->progress, &w->lock);
	pthread_mutex_unlock(&w->lock);
}
