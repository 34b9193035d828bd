/*
 * Flow control: counters, watermarks, pause/resume bookkeeping and rate
 * pacing.  Knows nothing of sockets; the hub and transports call it.
 */
#ifndef WEIR_FLOW_H
#define WEIR_FLOW_H

#include <stdint.h>

struct flow_stats {
	uint64_t	 bytes_in;
	uint64_t	 frames_in;
	uint64_t	 bytes_out;
	uint64_t	 frames_out;
	uint64_t	 pauses;
	uint64_t	 dropped;	/* frames: --slow drop, or skipped */
	uint64_t	 errors;
	uint64_t	 undelivered;	/* bytes queued here, never written */
	uint64_t	 discarded;	/* bytes read here, never passed on */
	double		 paused_s;	/* total time paused */
	double		 paused_since;	/* when the current pause began */
	unsigned	 holds;		/* consumers holding this producer */
};

struct flow_rate {
	uint64_t	 rate;		/* bytes per second, 0: unlimited */
	double		 tokens;
	double		 burst;
	double		 last;
};

int	 flow_hold(struct flow_stats *);
int	 flow_release(struct flow_stats *);
void	 flow_finish(struct flow_stats *);
void	 flow_add(struct flow_stats *, const struct flow_stats *);

void	 flow_rate_init(struct flow_rate *, uint64_t);
size_t	 flow_rate_allow(struct flow_rate *, size_t);
void	 flow_rate_spend(struct flow_rate *, size_t);
double	 flow_rate_wait(struct flow_rate *, size_t);

#include <stdio.h>

void	 flow_report_text(FILE *, const char *, const char *,
	     const struct flow_stats *);
void	 flow_report_json(FILE *, const char *, const char *,
	     const struct flow_stats *, uint64_t, int);
#endif
