/*
 * --progress: a live status line on a terminal's stderr, from the same
 * counters --stats reads.
 */
#ifndef WEIR_PROGRESS_H
#define WEIR_PROGRESS_H

struct event_base;
struct flow_totals;
struct progress;

/* Fills in the counters so far (the hub's hub_totals). */
typedef void progress_sample_fn(void *, struct flow_totals *);

struct progress	*progress_new(struct event_base *, int, progress_sample_fn *,
		    void *);
void		 progress_free(struct progress *);

#endif
