/*
 * The hub wires LEFT and RIGHT: one direction for each way data flows,
 * each a producer, a protocol and a consumer.  It moves frames, holds a
 * producer while its consumer is above high water, passes EOF on as a
 * half-close, and decides when weir is done and with what status.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cli.h"
#include "flow.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "transport.h"
#include "util.h"

/* After SIGINT or SIGTERM, what was read gets this long to be written. */
#define SIGNAL_FLUSH_S	5.0

struct hub;

struct end {
	struct hub		*hub;
	const struct addr	*addr;
	struct transport	*t;
	struct listener		*l;
	const char		*side;
	int			 halves;
	int			 open;
	int			 closed;
};

struct dir {
	struct end		*src;
	struct end		*dst;
	struct proto		*proto;
	struct evbuffer		*stage;
	char			 mark;
	int			 active;
	int			 eof;		/* no more input */
	int			 done;		/* consumer half-closed or dead */
	int			 held;		/* consumer holds the producer */
	int			 main;		/* the direction -n counts */
};

struct hub {
	struct event_base	*base;
	const struct config	*cfg;
	struct end		 ends[2];
	struct dir		 dirs[2];
	struct event		*sigint;
	struct event		*sigterm;
	struct event		*eof_timer;
	struct event		*idle_timer;
	struct event		*flush_timer;
	double			 last_traffic;
	uint64_t		 undelivered;
	uint64_t		 delivered;	/* frames, main direction */
	int			 draining;
	int			 status;
	int			 signo;
	int			 ending;
};

static void	opened_cb(struct transport *, void *);
static void	readable_cb(struct transport *, struct evbuffer *, void *);
static void	eof_cb(struct transport *, void *);
static void	wrote_cb(struct transport *, void *);
static void	shutdown_cb(struct transport *, void *);
static void	failed_cb(struct transport *, enum transport_op, const char *,
		    void *);
static void	closed_cb(struct transport *, void *);
static void	accept_cb(int, const char *, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	eof_timer_cb(evutil_socket_t, short, void *);
static void	idle_timer_cb(evutil_socket_t, short, void *);
static void	flush_timer_cb(evutil_socket_t, short, void *);
static void	end_open(struct end *);
static void	pump(struct hub *, struct dir *, int);
static void	protocol_error(struct hub *, struct dir *);
static void	drain(struct hub *);
static void	check_done(struct hub *);
static void	finish(struct hub *, int);
static void	settle(struct hub *);
static size_t	pending_total(struct hub *);

static const struct transport_cbs cbs = {
	opened_cb,
	readable_cb,
	eof_cb,
	wrote_cb,
	shutdown_cb,
	failed_cb,
	closed_cb
};

static size_t
pending_total(struct hub *h)
{
	size_t	 n = 0;
	int	 i;

	for (i = 0; i < 2; i++)
		if (h->ends[i].t != NULL)
			n += transport_pending(h->ends[i].t);
	return n;
}

static void
end_open(struct end *e)
{
	e->t = transport_new(e->hub->base, e->addr, e->hub->cfg, e->halves,
	    &cbs, e);
	transport_open(e->t);
}

static void
opened_cb(struct transport *t, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	int		 i;

	(void)t;
	e->open = 1;
	log_debug("%s: open", transport_name(e->t));
	if (!h->ends[0].open || !h->ends[1].open || h->ending || h->draining)
		return;
	h->last_traffic = util_now();
	if (h->cfg->idle_timeout > 0)
		util_timer_add(h->idle_timer, h->cfg->idle_timeout);
	for (i = 0; i < 2; i++)
		if (h->dirs[i].active)
			transport_read_start(h->dirs[i].src->t);
}

static void
accept_cb(int fd, const char *name, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	struct end	*other = e == &h->ends[0] ? &h->ends[1] : &h->ends[0];

	/* Without -k a listener serves its first connection alone. */
	listener_close(e->l);
	e->t = transport_new_fd(h->base, e->addr, h->cfg, fd, name, e->halves,
	    &cbs, e);
	transport_open(e->t);
	if (!h->ending)
		end_open(other);
}

/*
 * Move what the producer of d has read through the protocol to its
 * consumer, and hold the producer if the consumer is above high water.
 */
static void
pump(struct hub *h, struct dir *d, int eof)
{
	struct transport	*st = d->src->t, *dt = d->dst->t;
	struct flow_stats	*ss = transport_stats(st);
	uint64_t		 frames = 0, max = UINT64_MAX;
	size_t			 len;
	int			 rv;

	if (h->draining)
		return;
	if (d->main && h->cfg->max_frames > 0)
		max = h->cfg->max_frames - h->delivered;
	rv = proto_forward(d->proto, transport_input(st), d->stage, eof, max,
	    &frames);
	ss->frames_in += frames;
	ss->dropped = proto_skipped(d->proto);
	transport_stats(dt)->frames_out += frames;
	if (d->main)
		h->delivered += frames;
	if (h->cfg->hexdump && (len = evbuffer_get_length(d->stage)) > 0)
		log_hexdump(d->mark, transport_name(st), transport_name(dt),
		    evbuffer_pullup(d->stage, -1), len);
	transport_write(dt, d->stage);
	if (rv == -1) {
		protocol_error(h, d);
		return;
	}
	if (d->main && h->cfg->max_frames > 0 &&
	    h->delivered >= h->cfg->max_frames) {
		log_debug("%llu frame%s delivered: ending",
		    (unsigned long long)h->delivered,
		    h->delivered == 1 ? "" : "s");
		drain(h);
		return;
	}
	if (!d->held && transport_pending(dt) >= transport_high_water(dt)) {
		d->held = 1;
		if (flow_hold(ss)) {
			transport_read_stop(st);
			log_debug("pause %s (sink %s holds %zu B >= high-water)",
			    transport_name(st), transport_name(dt),
			    transport_pending(dt));
		}
	}
}

/*
 * A malformed frame: what was decoded before it is delivered.  On a
 * connection a listener accepted, that connection is closed (exit 1);
 * on any other stream weir stops and exits 3.
 */
static void
protocol_error(struct hub *h, struct dir *d)
{
	log_warnx("%s: %s", transport_name(d->src->t), proto_error(d->proto));
	transport_stats(d->src->t)->errors++;
	if (cli_is_listener(d->src->addr)) {
		h->status = 1;
		transport_abort(d->src->t);
	} else
		h->status = 3;
	drain(h);
}

static void
readable_cb(struct transport *t, struct evbuffer *in, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;

	(void)t;
	(void)in;
	h->last_traffic = util_now();
	pump(h, e == h->dirs[0].src ? &h->dirs[0] : &h->dirs[1], 0);
}

static void
wrote_cb(struct transport *t, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	struct dir	*d;
	int		 i;

	h->last_traffic = util_now();
	for (i = 0; i < 2; i++) {
		d = &h->dirs[i];
		if (!d->active || d->dst != e || !d->held ||
		    transport_pending(t) > transport_low_water(t))
			continue;
		d->held = 0;
		if (flow_release(transport_stats(d->src->t)) && !h->ending &&
		    !h->draining) {
			log_debug("resume %s (sink %s holds %zu B <= low-water)",
			    transport_name(d->src->t), transport_name(t),
			    transport_pending(t));
			transport_read_start(d->src->t);
		}
	}
	if (h->draining && pending_total(h) == 0)
		finish(h, 0);
}

static void
eof_cb(struct transport *t, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	int		 i;

	log_debug("%s: end of input after %llu B, %llu frame%s",
	    transport_name(t),
	    (unsigned long long)transport_stats(t)->bytes_in,
	    (unsigned long long)transport_stats(t)->frames_in,
	    transport_stats(t)->frames_in == 1 ? "" : "s");
	for (i = 0; i < 2; i++)
		if (h->dirs[i].active && h->dirs[i].src == e) {
			pump(h, &h->dirs[i], 1);
			if (h->draining)
				return;
			h->dirs[i].eof = 1;
			transport_shutdown(h->dirs[i].dst->t);
		}
	if (h->cfg->eof_timeout > 0 && !evtimer_pending(h->eof_timer, NULL))
		util_timer_add(h->eof_timer, h->cfg->eof_timeout);
}

static void
shutdown_cb(struct transport *t, void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	int		 i;

	(void)t;
	for (i = 0; i < 2; i++)
		if (h->dirs[i].active && h->dirs[i].dst == e)
			h->dirs[i].done = 1;
	check_done(h);
}

/*
 * A failure is reported, makes the exit status 1, and ends what it
 * touches: a failed open ends everything; a failed read ends that
 * direction's input (what was read is still delivered); a failed write
 * ends the direction that writes there.
 */
static void
failed_cb(struct transport *t, enum transport_op op, const char *msg,
    void *arg)
{
	struct end	*e = arg;
	struct hub	*h = e->hub;
	struct dir	*d;
	int		 i;

	log_warnx("%s: %s", transport_name(t), msg);
	h->status = 1;
	if (op == TRANSPORT_OP_OPEN) {
		finish(h, 1);
		return;
	}
	if (h->ending)
		return;
	for (i = 0; i < 2; i++) {
		d = &h->dirs[i];
		if (!d->active)
			continue;
		if (d->src == e && !d->eof && op == TRANSPORT_OP_READ) {
			d->eof = 1;
			transport_shutdown(d->dst->t);
		}
		if (d->dst == e && op == TRANSPORT_OP_WRITE) {
			d->done = 1;
			d->eof = 1;
			transport_read_stop(d->src->t);
		}
	}
	check_done(h);
}

static void
closed_cb(struct transport *t, void *arg)
{
	struct end	*e = arg;

	(void)t;
	e->closed = 1;
	settle(e->hub);
}

static void
check_done(struct hub *h)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (h->dirs[i].active && !h->dirs[i].done)
			return;
	finish(h, 0);
}

/*
 * End: close every transport (dropping what is queued when abort is set),
 * then leave the loop once all have closed, children reaped included.
 */
static void
finish(struct hub *h, int abort)
{
	int	 i;

	if (h->ending)
		return;
	h->ending = 1;
	for (i = 0; i < 2; i++)
		listener_close(h->ends[i].l);
	h->undelivered = pending_total(h);
	for (i = 0; i < 2; i++)
		if (h->ends[i].t != NULL)
			h->undelivered += transport_lost(h->ends[i].t);
	for (i = 0; i < 2; i++) {
		if (h->ends[i].t == NULL) {
			h->ends[i].closed = 1;
			continue;
		}
		if (abort || h->undelivered > 0)
			transport_abort(h->ends[i].t);
		else
			transport_close(h->ends[i].t);
	}
	settle(h);
}

static void
settle(struct hub *h)
{
	if (h->ending && h->ends[0].closed && h->ends[1].closed)
		event_base_loopexit(h->base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct hub	*h = arg;
	size_t		 left;

	(void)what;
	if (h->signo != 0) {
		/* A second signal: leave now. */
		if ((left = pending_total(h)) > 0)
			log_warnx("%zu bytes undelivered", left);
		transport_restore_stdio();
		_exit(128 + (int)sig);
	}
	h->signo = (int)sig;
	log_debug("%s: stopping, flushing for at most %g s",
	    strsignal((int)sig), SIGNAL_FLUSH_S);
	if (!h->ending)
		util_timer_add(h->flush_timer, SIGNAL_FLUSH_S);
	drain(h);
}

/* Stop reading and accepting; end once what was read is written. */
static void
drain(struct hub *h)
{
	int	 i;

	if (h->draining || h->ending)
		return;
	h->draining = 1;
	for (i = 0; i < 2; i++) {
		listener_close(h->ends[i].l);
		if (h->ends[i].t != NULL)
			transport_read_stop(h->ends[i].t);
	}
	if (pending_total(h) == 0)
		finish(h, 0);
}

static void
flush_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, 1);
}

static void
eof_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;

	(void)fd;
	(void)what;
	log_debug("eof timeout (%g s): ending", h->cfg->eof_timeout);
	finish(h, 1);
}

static void
idle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;
	double		 idle = util_now() - h->last_traffic;

	(void)fd;
	(void)what;
	if (idle + 0.001 < h->cfg->idle_timeout) {
		util_timer_add(h->idle_timer, h->cfg->idle_timeout - idle);
		return;
	}
	log_warnx("idle for %g s, closing", h->cfg->idle_timeout);
	h->status = 1;
	finish(h, 1);
}

static int
write_ready_file(const char *path, struct hub *h)
{
	char	*tmp;
	FILE	*f;
	int	 i, rv = 0;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warnx("--ready-file: %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (h->ends[i].l != NULL)
			fprintf(f, "%s\n", listener_ready(h->ends[i].l));
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warnx("--ready-file: %s: %s", path, strerror(errno));
		unlink(tmp);
		rv = -1;
	}
	free(tmp);
	return rv;
}

static void
log_wiring(struct hub *h)
{
	const struct config	*cfg = h->cfg;

	log_debug("pair %s (%s) %s %s (%s)%s", cfg->left.name,
	    proto_name(cfg->left.proto.kind), cfg->dir == DIR_BOTH ? "<->" :
	    cfg->dir == DIR_LR ? "->" : "<-", cfg->right.name,
	    proto_name(cfg->right.proto.kind),
	    cfg->dir == DIR_BOTH ? "" : ", one-way");
}

static void
report(struct hub *h)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		struct end		*e = &h->ends[i];
		struct flow_stats	 zero, *st = &zero;
		const char		*name = e->addr->name;

		memset(&zero, 0, sizeof zero);
		if (e->t != NULL) {
			st = transport_stats(e->t);
			flow_finish(st);
			name = transport_name(e->t);
		}
		if (h->cfg->stats == STATS_TEXT)
			flow_report_text(stderr, e->side, name, st);
		else
			flow_report_json(stderr, e->side, name, st, i == 0);
	}
	if (h->cfg->stats == STATS_JSON)
		fputs("}\n", stderr);
}

int
hub_run(const struct config *cfg)
{
	struct hub	 h;
	char		*err;
	int		 i, nlisten = 0, status;

	memset(&h, 0, sizeof h);
	h.cfg = cfg;
	if ((h.base = event_base_new()) == NULL) {
		log_warnx("cannot start the event loop");
		return 1;
	}
	h.ends[0].addr = &cfg->left;
	h.ends[0].side = "LEFT";
	h.ends[1].addr = &cfg->right;
	h.ends[1].side = "RIGHT";
	for (i = 0; i < 2; i++) {
		struct dir	*d = &h.dirs[i];

		h.ends[i].hub = &h;
		d->src = &h.ends[i];
		d->dst = &h.ends[1 - i];
		d->mark = i == 0 ? '>' : '<';
		d->active = (cfg->dir & (i == 0 ? DIR_LR : DIR_RL)) != 0;
		d->proto = proto_new(&d->src->addr->proto,
		    &d->dst->addr->proto);
		d->main = i == (cfg->dir == DIR_RL ? 1 : 0);
		d->stage = evbuffer_new();
		if (d->active) {
			d->src->halves |= TRANSPORT_READ;
			d->dst->halves |= TRANSPORT_WRITE;
		}
	}
	h.sigint = evsignal_new(h.base, SIGINT, signal_cb, &h);
	h.sigterm = evsignal_new(h.base, SIGTERM, signal_cb, &h);
	evsignal_add(h.sigint, NULL);
	evsignal_add(h.sigterm, NULL);
	h.eof_timer = evtimer_new(h.base, eof_timer_cb, &h);
	h.idle_timer = evtimer_new(h.base, idle_timer_cb, &h);
	h.flush_timer = evtimer_new(h.base, flush_timer_cb, &h);
	log_wiring(&h);

	for (i = 0; i < 2; i++) {
		if (!cli_is_listener(h.ends[i].addr))
			continue;
		h.ends[i].l = listener_new(h.base, h.ends[i].addr, cfg,
		    accept_cb, &h.ends[i], &err);
		if (h.ends[i].l == NULL) {
			log_warnx("%s: %s", h.ends[i].addr->name, err);
			free(err);
			h.status = 1;
			goto done;
		}
		log_debug("%s: listening (%s)", h.ends[i].addr->name,
		    listener_ready(h.ends[i].l));
		nlisten++;
	}
	if (cfg->ready_file != NULL && write_ready_file(cfg->ready_file, &h)
	    == -1) {
		h.status = 1;
		goto done;
	}
	if (nlisten == 0)
		for (i = 0; i < 2 && !h.ending; i++)
			end_open(&h.ends[i]);
	if (!h.ending || !h.ends[0].closed || !h.ends[1].closed)
		event_base_dispatch(h.base);
	if (h.undelivered > 0) {
		log_warnx("%llu bytes undelivered",
		    (unsigned long long)h.undelivered);
		h.status = 1;
	}
	if (cfg->stats != STATS_NONE)
		report(&h);
done:
	status = h.signo != 0 ? 128 + h.signo : h.status;
	for (i = 0; i < 2; i++) {
		listener_free(h.ends[i].l);
		transport_free(h.ends[i].t);
		proto_free(h.dirs[i].proto);
		evbuffer_free(h.dirs[i].stage);
	}
	event_free(h.sigint);
	event_free(h.sigterm);
	event_free(h.eof_timer);
	event_free(h.idle_timer);
	event_free(h.flush_timer);
	transport_exec_cleanup();
	event_base_free(h.base);
	transport_restore_stdio();
	return status;
}
