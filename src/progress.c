/*
 * --progress: one status line on stderr, when it is a terminal, redrawn
 * in place at most 4 times a second, as pv does.  It reads the counters
 * --stats reads, through the hub's sampler, so nothing is counted twice;
 * log.c draws it, so log lines print above it without tearing it.
 *
 * The bytes each way are those delivered: LEFT -> RIGHT is what was
 * written to RIGHT (its "out" in --stats), RIGHT -> LEFT what was written
 * to LEFT.  A broker has one side: what was written to its clients.
 */
#include <sys/ioctl.h>
#include <sys/types.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "flow.h"
#include "log.h"
#include "progress.h"
#include "util.h"

#define TICK_S		0.25	/* at most 4 redraws a second */
#define WINDOW		8	/* ticks the current rate spans: 2 s */
#define DEFAULT_WIDTH	80	/* when the terminal does not say */
#define FIELD_MAX	40

/* The fields, in the order they are shown. */
enum field {
	F_TIME,		/* elapsed */
	F_LR,		/* bytes delivered LEFT -> RIGHT */
	F_LR_RATE,	/* over the last WINDOW ticks */
	F_RL,		/* RIGHT -> LEFT */
	F_RL_RATE,
	F_BUF,		/* bytes queued for consumers */
	F_CONNS,	/* open, where a side has one stream per connection */
	F_KERNEL,	/* datagrams the kernel dropped, once there are some */
	F_STATE,	/* paused or flowing */
	NFIELDS
};

/*
 * What a narrow terminal loses first, then next...; paused or flowing
 * stays, cut short only when nothing else is left.
 */
static const enum field drop_order[] = {
	F_TIME, F_CONNS, F_BUF, F_RL_RATE, F_RL, F_LR_RATE, F_LR, F_KERNEL
};

struct sample {
	double		 at;
	uint64_t	 bytes[2];	/* LEFT -> RIGHT, RIGHT -> LEFT */
};

struct progress {
	struct event		*tick;
	struct event		*winch;
	progress_sample_fn	*sample;
	void			*arg;
	int			 ways;		/* DIR_LR, DIR_RL */
	unsigned		 width;
	double			 start;
	uint64_t		 seen[2];	/* never shown going back */
	struct sample		 ring[WINDOW];	/* the last WINDOW ticks */
	unsigned		 nring;
	unsigned		 head;		/* the oldest once full */
};

static void	tick_cb(evutil_socket_t, short, void *);
static void	winch_cb(evutil_socket_t, short, void *);
static unsigned	term_width(void);
static void	fmt_bytes(char *, size_t, const char *, uint64_t, const char *);
static void	fmt_rate(char *, size_t, uint64_t, uint64_t, double);
static void	take(struct progress *, const struct flow_totals *,
		    struct sample *);
static void	fields(struct progress *, char [NFIELDS][FIELD_MAX]);
static const char *separator(int, int);
static size_t	join(char *, size_t, char [NFIELDS][FIELD_MAX]);
static void	fit(char *, size_t, char [NFIELDS][FIELD_MAX], unsigned);

/* Columns; what fits is width - 1, so the cursor never wraps. */
static unsigned
term_width(void)
{
	struct winsize	 ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return DEFAULT_WIDTH;
	return ws.ws_col;
}

/* "12B", "1.21MiB", "200KiB": three figures, powers of 1024. */
static void
fmt_bytes(char *buf, size_t size, const char *label, uint64_t n,
    const char *suffix)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	double		 v = (double)n;
	int		 u = -1;

	if (n < 1000) {
		snprintf(buf, size, "%s%lluB%s", label, (unsigned long long)n,
		    suffix);
		return;
	}
	while (v >= 1000 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%s%.*f%s%s", label, v < 10 ? 2 : v < 100 ? 1 : 0,
	    v, units[u], suffix);
}

/* The rate from then to now bytes over dt seconds. */
static void
fmt_rate(char *buf, size_t size, uint64_t then, uint64_t now, double dt)
{
	uint64_t	 rate = 0;

	if (dt > 0 && now > then)
		rate = (uint64_t)((double)(now - then) / dt);
	fmt_bytes(buf, size, "", rate, "/s");
}

/*
 * The bytes delivered each way now, as a sample; never less than shown
 * before (a closed stream's counters are folded into its side's a moment
 * after it leaves the live ones).
 */
static void
take(struct progress *pg, const struct flow_totals *tt, struct sample *cur)
{
	int	 i;

	cur->at = util_now();
	if (tt->sides == 1) {
		cur->bytes[0] = tt->side[0].stats.bytes_out;
		cur->bytes[1] = 0;
	} else {
		cur->bytes[0] = tt->side[1].stats.bytes_out;
		cur->bytes[1] = tt->side[0].stats.bytes_out;
	}
	for (i = 0; i < 2; i++) {
		if (cur->bytes[i] < pg->seen[i])
			cur->bytes[i] = pg->seen[i];
		pg->seen[i] = cur->bytes[i];
	}
}

/* Each field's text, from the counters now; "" for one not shown. */
static void
fields(struct progress *pg, char f[NFIELDS][FIELD_MAX])
{
	struct flow_totals	 tt;
	const struct sample	*old;
	struct sample		 cur;
	unsigned		 secs;
	uint64_t		 kernel;

	pg->sample(pg->arg, &tt);
	take(pg, &tt, &cur);
	old = &pg->ring[pg->nring < WINDOW ? 0 : pg->head];
	memset(f, 0, NFIELDS * FIELD_MAX);
	secs = (unsigned)(cur.at - pg->start);
	snprintf(f[F_TIME], FIELD_MAX, "%u:%02u:%02u", secs / 3600,
	    secs / 60 % 60, secs % 60);
	if (tt.sides == 1 || (pg->ways & DIR_LR)) {
		fmt_bytes(f[F_LR], FIELD_MAX, tt.sides == 1 ? "out " : "L>R ",
		    cur.bytes[0], "");
		fmt_rate(f[F_LR_RATE], FIELD_MAX, old->bytes[0], cur.bytes[0],
		    cur.at - old->at);
	}
	if (tt.sides == 2 && (pg->ways & DIR_RL)) {
		fmt_bytes(f[F_RL], FIELD_MAX, "R>L ", cur.bytes[1], "");
		fmt_rate(f[F_RL_RATE], FIELD_MAX, old->bytes[1], cur.bytes[1],
		    cur.at - old->at);
	}
	fmt_bytes(f[F_BUF], FIELD_MAX, "buf ", tt.buffered, "");
	if (tt.side[0].many || (tt.sides == 2 && tt.side[1].many))
		snprintf(f[F_CONNS], FIELD_MAX, "%llu conn%s",
		    (unsigned long long)tt.open, tt.open == 1 ? "" : "s");
	kernel = tt.side[0].stats.kernel_dropped +
	    (tt.sides == 2 ? tt.side[1].stats.kernel_dropped : 0);
	if (kernel > 0)
		snprintf(f[F_KERNEL], FIELD_MAX, "kernel dropped %llu",
		    (unsigned long long)kernel);
	snprintf(f[F_STATE], FIELD_MAX, "%s", tt.paused ? "paused" :
	    "flowing");
	/* The oldest sample gives way to this one. */
	pg->ring[pg->head] = cur;
	pg->head = (pg->head + 1) % WINDOW;
	if (pg->nring < WINDOW)
		pg->nring++;
}

/*
 * Before field i: nothing first, one space before a rate (it goes with
 * its bytes), two otherwise.
 */
static const char *
separator(int i, int first)
{
	if (first)
		return "";
	return i == F_LR_RATE || i == F_RL_RATE ? " " : "  ";
}

/* The line that the fields left in f make. */
static size_t
join(char *out, size_t size, char f[NFIELDS][FIELD_MAX])
{
	size_t	 len = 0;
	int	 i, n;

	out[0] = '\0';
	for (i = 0; i < NFIELDS; i++) {
		if (f[i][0] == '\0')
			continue;
		n = snprintf(out + len, size - len, "%s%s",
		    separator(i, len == 0), f[i]);
		if (n < 0 || (size_t)n >= size - len)
			return strlen(out);
		len += (size_t)n;
	}
	return len;
}

/*
 * The fields that fit in width - 1 columns, into out: the least
 * important dropped first, never a wrapped line.
 */
static void
fit(char *out, size_t size, char f[NFIELDS][FIELD_MAX], unsigned width)
{
	size_t	 room = width > 0 ? width - 1 : 0, d = 0;

	while (join(out, size, f) > room &&
	    d < sizeof drop_order / sizeof *drop_order)
		f[drop_order[d++]][0] = '\0';
	/* Narrower than paused or flowing alone. */
	if (strlen(out) > room)
		out[room] = '\0';
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct progress	*pg = arg;
	char		 f[NFIELDS][FIELD_MAX], line[NFIELDS * (FIELD_MAX + 2)];

	(void)fd;
	(void)what;
	fields(pg, f);
	fit(line, sizeof line, f, pg->width);
	log_status(line);
}

/* The terminal was resized: the next tick draws to its new width. */
static void
winch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct progress	*pg = arg;

	(void)fd;
	(void)what;
	pg->width = term_width();
}

/*
 * Start the status line on base's loop, for the directions in ways
 * (cfg->dir); sample fills in the counters so far.  NULL, and nothing
 * ever written, when stderr is not a terminal.
 */
struct progress *
progress_new(struct event_base *base, int ways, progress_sample_fn *sample,
    void *arg)
{
	struct progress	*pg;

	if (!isatty(STDERR_FILENO))
		return NULL;
	pg = xcalloc(1, sizeof *pg);
	pg->sample = sample;
	pg->arg = arg;
	pg->ways = ways;
	pg->width = term_width();
	pg->start = util_now();
	pg->ring[0].at = pg->start;
	pg->head = pg->nring = 1;
	pg->tick = event_new(base, -1, EV_PERSIST, tick_cb, pg);
	util_timer_add(pg->tick, TICK_S);
	pg->winch = evsignal_new(base, SIGWINCH, winch_cb, pg);
	evsignal_add(pg->winch, NULL);
	return pg;
}

/* Stop, and erase the line: what is printed after it starts clean. */
void
progress_free(struct progress *pg)
{
	if (pg == NULL)
		return;
	event_free(pg->tick);
	event_free(pg->winch);
	log_status(NULL);
	free(pg);
}
