/* Pause bookkeeping and a token bucket; the clock is the only I/O here. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>

#include "flow.h"
#include "util.h"

/* The bucket holds at most this much time's worth of bytes. */
#define RATE_BURST_S	0.05
#define RATE_MIN_BURST	512.0

static void	flow_rate_refill(struct flow_rate *);
static void	json_string(FILE *, const char *);

/*
 * A consumer above high water holds its producer.  Returns 1 when this
 * hold is the one that pauses it (the first), so the caller stops reading.
 */
int
flow_hold(struct flow_stats *st)
{
	if (st->holds++ > 0)
		return 0;
	st->pauses++;
	st->paused_since = util_now();
	return 1;
}

/* Returns 1 when the last hold is let go and the producer may read again. */
int
flow_release(struct flow_stats *st)
{
	if (st->holds == 0 || --st->holds > 0)
		return 0;
	st->paused_s += util_now() - st->paused_since;
	return 1;
}

/* At exit, a pause still in force counts up to now. */
void
flow_finish(struct flow_stats *st)
{
	if (st->holds > 0) {
		st->paused_s += util_now() - st->paused_since;
		st->paused_since = util_now();
	}
}

/* Add one stream's counters to a sum of several (a side's). */
void
flow_add(struct flow_stats *sum, const struct flow_stats *st)
{
	sum->bytes_in += st->bytes_in;
	sum->frames_in += st->frames_in;
	sum->bytes_out += st->bytes_out;
	sum->frames_out += st->frames_out;
	sum->pauses += st->pauses;
	sum->paused_s += st->paused_s;
	sum->dropped += st->dropped;
	sum->kernel_dropped += st->kernel_dropped;
	sum->errors += st->errors;
	sum->undelivered += st->undelivered;
	sum->discarded += st->discarded;
}

void
flow_rate_init(struct flow_rate *r, uint64_t rate)
{
	r->rate = rate;
	r->burst = (double)rate * RATE_BURST_S;
	if (r->burst < RATE_MIN_BURST)
		r->burst = RATE_MIN_BURST;
	r->tokens = r->burst;
	r->last = util_now();
}

static void
flow_rate_refill(struct flow_rate *r)
{
	double	 now = util_now();

	r->tokens += (now - r->last) * (double)r->rate;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
	r->last = now;
}

/*
 * How many of want bytes may be written now: none until the bucket holds
 * a worthwhile amount, so a paced writer sleeps instead of trickling.
 */
size_t
flow_rate_allow(struct flow_rate *r, size_t want)
{
	double	 least = r->burst / 2;

	if (r->rate == 0)
		return want;
	flow_rate_refill(r);
	if ((double)want < least)
		least = (double)want;
	if (r->tokens < least || r->tokens < 1)
		return 0;
	return (double)want < r->tokens ? want : (size_t)r->tokens;
}

void
flow_rate_spend(struct flow_rate *r, size_t n)
{
	if (r->rate != 0)
		r->tokens -= (double)n;
}

/* Seconds until flow_rate_allow() lets some of want through. */
double
flow_rate_wait(struct flow_rate *r, size_t want)
{
	double	 need = (double)want;

	if (r->rate == 0)
		return 0;
	flow_rate_refill(r);
	if (need > r->burst / 2)
		need = r->burst / 2;
	if (r->tokens >= need)
		return 0;
	return (need - r->tokens) / (double)r->rate;
}

/* --stats: one line per side. */
void
flow_report_text(FILE *f, const struct flow_totals *tt)
{
	const struct flow_side	*sd;
	const struct flow_stats	*st;
	int			 i;

	for (i = 0; i < tt->sides; i++) {
		sd = &tt->side[i];
		st = &sd->stats;
		fprintf(f, "weir: stats %s %s", sd->label, sd->name);
		if (sd->many)
			fprintf(f, " (%llu connection%s)",
			    (unsigned long long)sd->conns,
			    sd->conns == 1 ? "" : "s");
		fprintf(f, ": in %llu B %llu frames, out %llu B %llu frames, "
		    "paused %llu times %.3f s, dropped %llu, kernel dropped %llu, "
		    "errors %llu, "
		    "undelivered %llu B, discarded %llu B\n",
		    (unsigned long long)st->bytes_in,
		    (unsigned long long)st->frames_in,
		    (unsigned long long)st->bytes_out,
		    (unsigned long long)st->frames_out,
		    (unsigned long long)st->pauses, st->paused_s,
		    (unsigned long long)st->dropped,
		    (unsigned long long)st->kernel_dropped,
		    (unsigned long long)st->errors,
		    (unsigned long long)st->undelivered,
		    (unsigned long long)st->discarded);
	}
}

static void
json_string(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* The keys of --stats=json, in their order: the man page's table. */
struct json_key {
	const char	*key;
	size_t		 off;		/* in struct flow_stats */
};

static const struct json_key json_keys[] = {
	{ "bytes_in",		offsetof(struct flow_stats, bytes_in) },
	{ "frames_in",		offsetof(struct flow_stats, frames_in) },
	{ "bytes_out",		offsetof(struct flow_stats, bytes_out) },
	{ "frames_out",		offsetof(struct flow_stats, frames_out) },
	{ "pauses",		offsetof(struct flow_stats, pauses) },
	{ "paused_s",		offsetof(struct flow_stats, paused_s) },
	{ "dropped",		offsetof(struct flow_stats, dropped) },
	{ "kernel_dropped",	offsetof(struct flow_stats, kernel_dropped) },
	{ "errors",		offsetof(struct flow_stats, errors) },
	{ "undelivered",	offsetof(struct flow_stats, undelivered) },
	{ "discarded",		offsetof(struct flow_stats, discarded) },
	{ NULL,			0 }
};

/*
 * --stats=json: one document on one line, nothing else on it: an object
 * per side under "left" and "right"; "connections" only on a side with
 * one stream per connection.
 */
void
flow_report_json(FILE *f, const struct flow_totals *tt)
{
	const struct flow_side	*sd;
	const struct flow_stats	*st;
	const char		*c;
	int			 i;
	const struct json_key	*k;

	fputc('{', f);
	for (i = 0; i < tt->sides; i++) {
		sd = &tt->side[i];
		st = &sd->stats;
		fputs(i == 0 ? "\"" : ",\"", f);
		for (c = sd->label; *c != '\0'; c++)
			fputc(tolower((unsigned char)*c), f);
		fputs("\":{\"name\":", f);
		json_string(f, sd->name);
		if (sd->many)
			fprintf(f, ",\"connections\":%llu",
			    (unsigned long long)sd->conns);
		for (k = json_keys; k->key != NULL; k++)
			if (k->off == offsetof(struct flow_stats, paused_s))
				fprintf(f, ",\"%s\":%.3f", k->key, st->paused_s);
			else
				fprintf(f, ",\"%s\":%llu", k->key,
				    (unsigned long long)*(const uint64_t *)
				    ((const char *)st + k->off));
		fputc('}', f);
	}
	fputs("}\n", f);
}
