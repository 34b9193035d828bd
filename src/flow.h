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
	uint64_t	 kernel_dropped; /* datagrams the kernel dropped unread */
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

/* What the counters say at one moment, per side. */
struct flow_side {
	const char	*label;		/* LEFT, RIGHT */
	const char	*name;		/* the address as written */
	struct flow_stats stats;
	uint64_t	 conns;		/* streams it had */
	int		 many;		/* one per connection: conns is shown */
};

struct flow_totals {
	struct flow_side side[2];
	int		 sides;		/* 1 for a broker */
	uint64_t	 open;		/* connections open now */
	uint64_t	 buffered;	/* bytes queued for consumers */
	int		 paused;	/* some producer is held */
};

#include <stdio.h>

void	 flow_report_text(FILE *, const struct flow_totals *);
void	 flow_report_json(FILE *, const struct flow_totals *);
#endif
