/*
 * The hub wires the configured addresses together and decides when weir
 * is done and with what status: the loop, signals, timers, flow and the
 * end.  Every stream is a node; who consumes what a node produces is its
 * route's business (route.h): a pair, a proxy's pair per connection,
 * shared fan-in and fan-out, or a broker.
 *
 * Frames move whole: a producer's frames are decoded and re-encoded into
 * each consumer's buffer one at a time.  A consumer above high water holds
 * every producer feeding it (or, in a fan-out, drops or is closed, as
 * --slow says) until it drains to low water.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "acl.h"
#include "arena.h"
#include "cli.h"
#include "flow.h"
#include "hub.h"
#include "kind.h"
#include "listener.h"
#include "log.h"
#include "progress.h"
#include "proto.h"
#include "route.h"
#include "sock.h"
#include "transport.h"
#include "util.h"

/* After SIGINT, SIGTERM or SIGHUP, what was read gets this long to be written. */
#define SIGNAL_FLUSH_S	5.0
/* Refused peers logged in one second; the rest are summed. */
#define REFUSALS_SHOWN	10

static void	opened_cb(struct transport *, void *);
static void	readable_cb(struct transport *, struct evbuffer *, void *);
static void	eof_cb(struct transport *, void *);
static void	wrote_cb(struct transport *, void *);
static void	shutdown_cb(struct transport *, void *);
static void	failed_cb(struct transport *, enum transport_op, const char *,
		    void *);
static void	closed_cb(struct transport *, void *);
static void	spliced_cb(struct transport *, size_t, void *);
static void	spliced_to(struct hub *, struct node *, struct node *);
static void	check_water(struct hub *, struct node *);
static int	admit_cb(const char *, const struct sockaddr *, void *);
static void	refused(struct hub *, const char *, const char *);
static void	refusals_cb(evutil_socket_t, short, void *);
static void	ready_cb(struct transport *, void *);
static void	handshake_failed_cb(const char *, const char *, void *);
static void	reaper_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	eof_timer_cb(evutil_socket_t, short, void *);
static void	idle_timer_cb(evutil_socket_t, short, void *);
static void	conn_idle_cb(evutil_socket_t, short, void *);
static void	conn_eof_cb(evutil_socket_t, short, void *);
static void	eof_timeout(struct hub *, struct node *);
static void	node_end(struct node *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	log_conn_end(struct hub *, struct node *);
static void	totals_add(struct flow_totals *, struct node *);
static void	flush_timer_cb(evutil_socket_t, short, void *);
static void	progress_cb(void *, struct flow_totals *);
static void	node_free(struct hub *, struct node *);
static uint64_t	unpassed(struct node *);
static void	unlink_ready_file(struct hub *);
static const char *mode_name(const struct hub *);
static void	log_wiring(struct hub *);
static int	splices(const struct hub *, int);
static void	report(struct hub *, FILE *, enum stats_format);
static void	usr1_cb(evutil_socket_t, short, void *);
static int	write_atomic(const char *, const char *,
		    void (*)(FILE *, struct hub *), struct hub *);
static void	fill_ready(FILE *, struct hub *);
static void	fill_stats(FILE *, struct hub *);
static int	side_reads(const struct hub *, int);
static int	side_writes(const struct hub *, int);
static const struct route *choose_route(const struct config *, int);
static void	node_done(struct hub *, struct node *);
static void	pump(struct hub *, struct node *, int);
static void	deliver(struct hub *, struct node *, struct node *);
static void	high_water(struct hub *, struct node *);
static void	protocol_error(struct hub *, struct node *, const char *);
static void	drain(struct hub *);
static void	settle(struct hub *);
static void	close_all(struct hub *, int);
static size_t	pending_total(struct hub *);

static const struct listener_cbs listener_cbs = {
	admit_cb,
	ready_cb,
	handshake_failed_cb
};

static const struct transport_cbs cbs = {
	opened_cb,
	readable_cb,
	eof_cb,
	wrote_cb,
	shutdown_cb,
	failed_cb,
	closed_cb,
	spliced_cb
};

/* Whether a node on side reads (produces) and writes (consumes). */
static int
side_reads(const struct hub *h, int side)
{
	return (h->cfg->dir & (side == 0 ? DIR_LR : DIR_RL)) != 0;
}

static int
side_writes(const struct hub *h, int side)
{
	return (h->cfg->dir & (side == 0 ? DIR_RL : DIR_LR)) != 0;
}

const struct addr *
hub_side_addr(const struct hub *h, int side)
{
	return side == 0 ? &h->cfg->left : &h->cfg->right;
}

/* Can n take more? Neither closing nor shut, and its transport is up. */
int
hub_usable(const struct node *n)
{
	return n != NULL && n->open && !n->closing;
}

struct node *
hub_node_new(struct hub *h, const struct addr *a, int side, int conn)
{
	struct node	*n;
	const struct addr *out;

	n = xcalloc(1, sizeof *n);
	n->hub = h;
	n->addr = a;
	n->side = side;
	n->conn = conn;
	n->reads = side_reads(h, side);
	n->writes = side_writes(h, side);
	/* Its consumers all speak the other side's protocol (a broker's own). */
	out = h->route->own_side ? a : hub_side_addr(h, 1 - side);
	n->proto = proto_new(&a->proto, &out->proto,
	    (a->kind->flags & KIND_MESSAGES) != 0, kind_message_max(out));
	TAILQ_INSERT_TAIL(&h->live, n, entry);
	h->sides[side].nodes++;
	return n;
}

void
hub_node_open(struct hub *h, struct node *n)
{
	n->t = transport_new(h->base, n->addr, h->cfg,
	    (n->reads ? TRANSPORT_READ : 0) | (n->writes ? TRANSPORT_WRITE : 0),
	    &cbs, n);
	transport_open(n->t, n->peer != NULL && n->peer->conn ? n->peer->t :
	    NULL);
}

static size_t
pending_total(struct hub *h)
{
	struct node	*n;
	size_t		 sum = 0;

	TAILQ_FOREACH(n, &h->live, entry)
		if (n->t != NULL)
			sum += transport_pending(n->t);
	return sum;
}

/* fn(h, p, c) for each usable connection c but p that writes. */
void
hub_each_conn_consumer(struct hub *h, struct node *p, node_fn *fn)
{
	struct node	*c, *next;

	for (c = TAILQ_FIRST(&h->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->conn && c != p && c->writes && hub_usable(c))
			fn(h, p, c);
	}
}

/* fn(h, p, c) for each usable connection p but c that reads. */
void
hub_each_conn_producer(struct hub *h, struct node *c, node_fn *fn)
{
	struct node	*p, *next;

	for (p = TAILQ_FIRST(&h->live); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->conn && p != c && p->reads && hub_usable(p))
			fn(h, p, c);
	}
}

/* Start reading p if it may: nothing holds it and it has consumers. */
void
hub_read_maybe(struct hub *h, struct node *p)
{
	if (hub_usable(p) && p->reads && !p->eof && !h->draining &&
	    transport_stats(p->t)->holds == 0)
		transport_read_start(p->t);
}

/* Consumer c (or, with c NULL, the lack of one) holds producer p. */
void
hub_hold(struct hub *h, struct node *p, struct node *c)
{
	(void)h;
	if (!flow_hold(transport_stats(p->t)))
		return;
	transport_read_stop(p->t);
	/* A pipe (splice) takes a page a piece: it may fill before. */
	if (c != NULL && transport_high_water(c->t) < c->addr->high_water)
		log_debug("pause %s (sink %s holds %zu B: its pipe is full)",
		    transport_name(p->t), transport_name(c->t),
		    transport_pending(c->t));
	else if (c != NULL)
		log_debug("pause %s (sink %s holds %zu B >= high-water)",
		    transport_name(p->t), transport_name(c->t),
		    transport_pending(c->t));
	else
		log_debug("pause %s (no connection to send to)",
		    transport_name(p->t));
}

void
hub_release(struct hub *h, struct node *p, struct node *c)
{
	if (!flow_release(transport_stats(p->t)) || h->draining)
		return;
	if (c != NULL)
		log_debug("resume %s (sink %s holds %zu B <= low-water)",
		    transport_name(p->t), transport_name(c->t),
		    transport_pending(c->t));
	else
		log_debug("resume %s (a connection to send to)",
		    transport_name(p->t));
	hub_read_maybe(h, p);
}

/* A new producer starts held by every consumer already above high water. */
void
hub_hold_if_holding(struct hub *h, struct node *p, struct node *c)
{
	if (c->holding && (!h->route->fanout(h, c) ||
	    h->cfg->slow == SLOW_BLOCK))
		hub_hold(h, p, c);
}

static void
opened_cb(struct transport *t, void *arg)
{
	struct node	*n = arg;

	(void)t;
	hub_node_opened(n->hub, n);
}

/* n's transport is up: its route lets data flow. */
void
hub_node_opened(struct hub *h, struct node *n)
{
	n->open = 1;
	log_debug("%s: open", transport_name(n->t));
	/* The connection it was opened for may answer first (SOCKS). */
	if (!n->conn && n->peer != NULL && n->peer->conn)
		transport_partner(n->peer->t, n->t);
	if (!h->draining && !h->ending)
		h->route->opened(h, n);
}

/* A peer at the door: refused (--allow, --deny, -m) or let in. */
static int
admit_cb(const char *peer, const struct sockaddr *sa, void *arg)
{
	struct hub	*h = arg;
	const char	*why;
	char		 buf[96];
	uint64_t	 open = h->nconns + listener_pending(h->l);

	if ((why = acl_check(&h->cfg->acl, sa)) != NULL) {
		refused(h, peer, why);
		return 0;
	}
	if (open >= h->cfg->max_conns) {
		snprintf(buf, sizeof buf, "%llu connection%s open, -m %llu",
		    (unsigned long long)open, open == 1 ? "" : "s",
		    (unsigned long long)h->cfg->max_conns);
		refused(h, peer, buf);
		return 0;
	}
	log_debug("%s (%s): accepted", hub_side_addr(h, h->lside)->name,
	    peer != NULL ? peer : "a peer");
	return 1;
}

/*
 * A refusal is logged even without -v, at most REFUSALS_SHOWN lines a
 * second; the rest are summed in one line when that second is over.
 */
static void
refused(struct hub *h, const char *peer, const char *why)
{
	double	 now = util_now();

	if (now - h->refusals.since >= 1.0) {
		h->refusals.since = now;
		h->refusals.shown = 0;
	}
	if (h->refusals.shown < REFUSALS_SHOWN) {
		h->refusals.shown++;
		log_warnx("%s: refused %s (%s)", hub_side_addr(h, h->lside)->name,
		    peer != NULL ? peer : "a connection", why);
		return;
	}
	if (h->refusals.hidden++ == 0)
		util_timer_add(h->refusals.timer,
		    1.0 - (now - h->refusals.since));
}

/* The refusals not shown in the last second, in one line. */
static void
refusals_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;

	(void)fd;
	(void)what;
	if (h->refusals.hidden == 0)
		return;
	log_warnx("%s: refused %llu more connection%s", hub_side_addr(h,
	    h->lside)->name, (unsigned long long)h->refusals.hidden,
	    h->refusals.hidden == 1 ? "" : "s");
	h->refusals.hidden = 0;
}

/* A connection whose handshake failed: that one alone is closed. */
static void
handshake_failed_cb(const char *name, const char *msg, void *arg)
{
	struct hub	*h = arg;

	log_warnx("%s: %s", name, msg);
	h->sides[h->lside].stats.errors++;
}

/* A new connection, ready: wired as the route says. */
static void
ready_cb(struct transport *t, void *arg)
{
	struct hub	*h = arg;
	struct node	*n;

	/* Without -k a listener serves its first admitted connection. */
	if (!h->cfg->keep_open)
		listener_close(h->l);
	h->nconns++;
	n = hub_node_new(h, hub_side_addr(h, h->lside), h->lside, 1);
	n->born = util_now();
	if (h->cfg->keep_open && h->cfg->idle_timeout > 0) {
		n->idle = evtimer_new(h->base, conn_idle_cb, n);
		n->last = util_now();
		util_timer_add(n->idle, h->cfg->idle_timeout);
	}
	n->t = t;
	transport_set_owner(t, &cbs, n);
	h->route->accepted(h, n);
}

/*
 * Move what p has read, through its protocol, to its consumers; count
 * frames; hold p or act on consumers above high water.
 */
static void
pump(struct hub *h, struct node *p, int eof)
{
	struct flow_stats	*ps = transport_stats(p->t);
	uint64_t		 frames = 0, max = UINT64_MAX, skipped;
	size_t			 nlens;
	int			 counted, rv;

	if (h->draining || p->closing)
		return;
	counted = h->cfg->max_frames > 0 && p->side == h->main_side;
	if (counted)
		max = h->cfg->max_frames - h->delivered;
	skipped = proto_skipped(p->proto);
	rv = proto_forward(p->proto, transport_input(p->t), h->stage, eof, max,
	    &frames);
	ps->frames_in += frames;
	/* Oversize frames skipped now; --slow drop adds its own elsewhere. */
	ps->dropped += proto_skipped(p->proto) - skipped;
	if (counted)
		h->delivered += frames;
	/* Empty frames move too where they are messages of their own. */
	proto_frames(p->proto, &nlens);
	if (evbuffer_get_length(h->stage) > 0 || nlens > 0) {
		h->stage_frames = frames;
		h->route->each_consumer(h, p, deliver);
		evbuffer_drain(h->stage, evbuffer_get_length(h->stage));
	}
	if (rv == -1) {
		protocol_error(h, p, proto_error(p->proto));
		return;
	}
	if (counted && h->delivered >= h->cfg->max_frames) {
		h->counted_out = 1;
		log_debug("%llu frame%s delivered: ending",
		    (unsigned long long)h->delivered,
		    h->delivered == 1 ? "" : "s");
		drain(h);
	}
}

/* Give consumer c the staged frames (a copy when others get them too). */
static void
deliver(struct hub *h, struct node *p, struct node *c)
{
	struct flow_stats	*cs;
	size_t			 len = evbuffer_get_length(h->stage), nlens;
	const size_t		*lens;

	/* One still opening takes frames: it writes them once open. */
	if (c->t == NULL || c->closing || c->shut)
		return;
	cs = transport_stats(c->t);
	if (c->holding && h->route->fanout(h, c) && h->cfg->slow == SLOW_DROP) {
		cs->dropped += h->stage_frames;
		return;
	}
	if (h->cfg->hexdump)
		log_hexdump(p->side == 0 ? '>' : '<', transport_name(p->t),
		    transport_name(c->t), evbuffer_pullup(h->stage, -1), len);
	cs->frames_out += h->stage_frames;
	/* Where each frame ends, when c carries messages or keeps them whole. */
	lens = proto_frames(p->proto, &nlens);
	if (h->route->fanout(h, c))
		transport_write_shared(c->t, h->stage, lens, nlens);
	else
		transport_write(c->t, h->stage, lens, nlens);
	check_water(h, c);
}

/* Consumer c may have reached high water. */
static void
check_water(struct hub *h, struct node *c)
{
	if (!c->holding && !c->closing &&
	    transport_pending(c->t) >= transport_high_water(c->t))
		high_water(h, c);
}

/* Consumer c reached high water: hold its producers, or --slow says. */
static void
high_water(struct hub *h, struct node *c)
{
	if (h->route->fanout(h, c) && h->cfg->slow == SLOW_CLOSE) {
		log_warnx("%s: closed: holds %zu B >= high-water (--slow close)",
		    transport_name(c->t), transport_pending(c->t));
		node_end(c, "--slow close");
		transport_stats(c->t)->errors++;
		hub_node_close(h, c, 1);
		return;
	}
	c->holding = 1;
	if (h->route->fanout(h, c) && h->cfg->slow == SLOW_DROP) {
		log_debug("drop frames for %s (holds %zu B >= high-water)",
		    transport_name(c->t), transport_pending(c->t));
		return;
	}
	h->route->each_producer(h, c, hub_hold);
}

static void
readable_cb(struct transport *t, struct evbuffer *in, void *arg)
{
	struct node	*n = arg;

	(void)t;
	(void)in;
	n->hub->last_traffic = n->last = util_now();
	pump(n->hub, n, 0);
}

/*
 * p's bytes went straight to its consumer (splice): one read, one frame;
 * none when the consumer's pipe was found full.
 */
static void
spliced_cb(struct transport *t, size_t n, void *arg)
{
	struct node	*p = arg;
	struct hub	*h = p->hub;

	if (p->closing)
		return;
	h->stage_frames = n > 0;
	if (n > 0) {
		h->last_traffic = p->last = util_now();
		transport_stats(t)->frames_in++;
	}
	h->route->each_consumer(h, p, spliced_to);
}

static void
spliced_to(struct hub *h, struct node *p, struct node *c)
{
	(void)p;
	transport_stats(c->t)->frames_out += h->stage_frames;
	check_water(h, c);
}

static void
wrote_cb(struct transport *t, void *arg)
{
	struct node	*c = arg;
	struct hub	*h = c->hub;

	h->last_traffic = c->last = util_now();
	if (c->holding && transport_pending(t) <= transport_low_water(t)) {
		c->holding = 0;
		if (h->route->fanout(h, c) && h->cfg->slow == SLOW_DROP)
			log_debug("deliver to %s again (holds %zu B <= "
			    "low-water)", transport_name(t),
			    transport_pending(t));
		else
			h->route->each_producer(h, c, hub_release);
	}
	if (h->draining && pending_total(h) == 0)
		hub_finish(h, 0);
}

/* Pass EOF on to c: a half-close, once what is queued is written. */
void
hub_shut(struct hub *h, struct node *p, struct node *c)
{
	(void)h;
	(void)p;
	transport_shutdown(c->t);
}

static void
eof_cb(struct transport *t, void *arg)
{
	struct node	*p = arg;
	struct hub	*h = p->hub;

	log_debug("%s: end of input after %llu B, %llu frame%s",
	    transport_name(t),
	    (unsigned long long)transport_stats(t)->bytes_in,
	    (unsigned long long)transport_stats(t)->frames_in,
	    transport_stats(t)->frames_in == 1 ? "" : "s");
	pump(h, p, 1);
	if (h->draining || p->closing)
		return;
	p->eof = 1;
	h->route->eof(h, p);
	if (h->cfg->eof_timeout > 0)
		eof_timeout(h, p);
	node_done(h, p);
}

/*
 * -q: end SEC after the first EOF; with -k, only the connection that
 * EOF belongs to (a proxy's pair both ways), as -i does.
 */
static void
eof_timeout(struct hub *h, struct node *p)
{
	struct node	*conn = p->conn ? p : p->peer;

	if (!h->cfg->keep_open) {
		if (!evtimer_pending(h->eof_timer, NULL))
			util_timer_add(h->eof_timer, h->cfg->eof_timeout);
		return;
	}
	if (conn == NULL || !conn->conn || conn->eof_timer != NULL)
		return;
	conn->eof_timer = evtimer_new(h->base, conn_eof_cb, conn);
	util_timer_add(conn->eof_timer, h->cfg->eof_timeout);
}

static void
shutdown_cb(struct transport *t, void *arg)
{
	struct node	*c = arg;
	struct node	*p = c->peer;

	(void)t;
	c->shut = 1;
	/*
	 * Its peer took no more before the input for it ended (a WebSocket
	 * closed): that input is no longer wanted.
	 */
	if (p != NULL && p->reads && !p->eof && !p->closing) {
		p->eof = 1;
		transport_read_stop(p->t);
		node_done(c->hub, p);
	}
	node_done(c->hub, c);
}

/* Whether n has nothing left to read or write. */
int
hub_finished(const struct node *n)
{
	return (!n->reads || n->eof) && (!n->writes || n->shut);
}

/* n may be done: its route closes what is finished (or ends weir). */
static void
node_done(struct hub *h, struct node *n)
{
	if (!h->ending)
		h->route->done(h, n);
}

/* A connection done both ways is closed by itself. */
void
hub_conn_done(struct hub *h, struct node *n)
{
	if (n->conn && hub_finished(n))
		hub_node_close(h, n, 0);
}

/*
 * A failure is reported, makes the exit status 1, and ends what it
 * touches: a failed open ends everything (or, with -k, that connection's
 * session); a failed read ends that node's input; a failed write ends what
 * flows to it.  Input that broke the kind's protocol is a protocol error,
 * as a malformed frame is.
 */
static void
failed_cb(struct transport *t, enum transport_op op, const char *msg,
    void *arg)
{
	struct node	*n = arg;
	struct hub	*h = n->hub;
	struct node	*other = n->peer;

	if (op == TRANSPORT_OP_PROTO && !h->ending && !n->closing) {
		protocol_error(h, n, msg);
		return;
	}
	log_warnx("%s: %s", transport_name(t), msg);
	h->status = 1;
	if (h->ending || n->closing)
		return;
	node_end(n, "%s", msg);
	if (other != NULL && other->conn)
		node_end(other, "%s: %s", transport_name(t), msg);
	switch (op) {
	case TRANSPORT_OP_OPEN:
		if (other != NULL && other->conn)
			transport_partner(other->t, t);
		if (h->cfg->keep_open && n->paired) {
			hub_node_close(h, n, 1);
			hub_node_close(h, other, 1);
		} else
			hub_finish(h, 1);
		return;
	case TRANSPORT_OP_READ:
		/*
		 * A connection that failed reading (reset) is gone both ways;
		 * with -k its partner (a command) goes with it.
		 */
		if (n->conn && (!n->paired || h->cfg->keep_open)) {
			hub_node_close(h, n, 1);
			hub_node_close(h, other, 1);
			return;
		}
		if (!n->eof) {
			n->eof = 1;
			h->route->eof(h, n);
		}
		break;
	case TRANSPORT_OP_WRITE:
		n->shut = 1;
		if (n->holding) {
			n->holding = 0;
			h->route->each_producer(h, n, hub_release);
		}
		/* The one node all connections share. */
		if (!n->conn && !n->paired) {
			drain(h);
			return;
		}
		/*
		 * A connection of a shared listener or broker that can no
		 * longer be written to may still have sent frames: read them
		 * to its end (a reset's comes at once), then it is done.
		 */
		if (n->conn && !n->paired) {
			if (n->reads && !n->eof && !n->bad)
				hub_read_maybe(h, n);
			else
				hub_node_close(h, n, 1);
			return;
		}
		/* With -k a pair whose peer vanished is closed, both ends. */
		if (h->cfg->keep_open && n->paired) {
			hub_node_close(h, n, 1);
			hub_node_close(h, other, 1);
			return;
		}
		if (other != NULL && !other->eof) {
			other->eof = 1;
			transport_read_stop(other->t);
		}
		break;
	case TRANSPORT_OP_CLOSE:
	case TRANSPORT_OP_PROTO:
		return;
	}
	node_done(h, n);
	if (other != NULL)
		node_done(h, other);
}

/*
 * A malformed frame: what was decoded before it is delivered.  A
 * connection a listener accepted is closed alone (without -k that ends
 * weir, with 1); on any other stream weir stops and exits 3.
 */
static void
protocol_error(struct hub *h, struct node *p, const char *why)
{
	struct node	*other = p->peer;

	log_warnx("%s: %s", transport_name(p->t), why);
	node_end(p, "protocol error");
	transport_stats(p->t)->errors++;
	/* What follows a malformed frame is no frame: nothing to deliver. */
	p->bad = 1;
	transport_stats(p->t)->discarded += unpassed(p);
	evbuffer_drain(transport_input(p->t),
	    evbuffer_get_length(transport_input(p->t)));
	if (!p->conn) {
		h->status = 3;
		drain(h);
		return;
	}
	if (!h->cfg->keep_open)
		h->status = 1;
	hub_node_close(h, p, 1);
	if (other != NULL && hub_usable(other)) {
		other->eof = 1;
		transport_read_stop(other->t);
		if (other->writes)
			transport_shutdown(other->t);
		else
			hub_node_close(h, other, 0);
	}
}

/* Close a node for good; abort drops what it still had to write. */
void
hub_node_close(struct hub *h, struct node *n, int abort)
{
	if (n == NULL || n->closing)
		return;
	n->closing = 1;
	if (n->holding) {
		n->holding = 0;
		if (!(h->route->fanout(h, n) && h->cfg->slow == SLOW_DROP))
			h->route->each_producer(h, n, hub_release);
	}
	if (n->t == NULL) {
		closed_cb(NULL, n);
		return;
	}
	if (abort)
		transport_abort(n->t);
	else
		transport_close(n->t);
}

static void
closed_cb(struct transport *t, void *arg)
{
	struct node	*n = arg;
	struct hub	*h = n->hub;

	(void)t;
	n->closing = 1;
	TAILQ_REMOVE(&h->live, n, entry);
	TAILQ_INSERT_TAIL(&h->dead, n, entry);
	if (n->conn) {
		log_conn_end(h, n);
		h->nconns--;
		listener_resume(h->l);
	}
	/* Its pair's other end is alone now. */
	if (n->peer != NULL)
		n->peer->peer = NULL;
	n->peer = NULL;
	if (h->route->closed != NULL)
		h->route->closed(h, n);
	event_active(h->reaper, EV_READ, 1);
	if (h->draining && pending_total(h) == 0)
		hub_finish(h, 0);
	settle(h);
}

/* Why connection n ends, for its last line; the first reason stays. */
static void
node_end(struct node *n, const char *fmt, ...)
{
	va_list	 ap;

	if (n->why != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&n->why, fmt, ap) == -1)
		xoom();
	va_end(ap);
}

/* -v: a connection's end in one line, what it moved and why it ended. */
static void
log_conn_end(struct hub *h, struct node *n)
{
	const struct flow_stats	*st = transport_stats(n->t);
	char			 kernel[64] = "";

	/* Datagrams lost before they were read: never silently. */
	if (st->kernel_dropped > 0)
		snprintf(kernel, sizeof kernel, ", kernel dropped %llu",
		    (unsigned long long)st->kernel_dropped);
	log_debug("%s: closed after %.3f s (%s): in %llu B %llu frame%s, "
	    "out %llu B %llu frame%s%s", transport_name(n->t),
	    util_now() - n->born, n->why != NULL ? n->why : hub_finished(n) ?
	    "eof" : h->ending ? "weir ended" : "closed",
	    (unsigned long long)st->bytes_in,
	    (unsigned long long)st->frames_in, st->frames_in == 1 ? "" : "s",
	    (unsigned long long)st->bytes_out,
	    (unsigned long long)st->frames_out, st->frames_out == 1 ? "" : "s",
	    kernel);
}

/* Bytes n read that are not (yet) passed on: input, an unfinished frame. */
static uint64_t
unpassed(struct node *n)
{
	return evbuffer_get_length(transport_input(n->t)) +
	    proto_partial(n->proto);
}

/* Fold a node's counters into its side's and free it. */
static void
node_free(struct hub *h, struct node *n)
{
	struct flow_stats	*sum = &h->sides[n->side].stats, *st;

	if (n->t != NULL) {
		st = transport_stats(n->t);
		flow_finish(st);
		st->undelivered += transport_lost(n->t);
		if (!n->bad)
			st->discarded += unpassed(n);
		flow_add(sum, st);
		h->undelivered += st->undelivered;
		transport_free(n->t);
	}
	if (n->idle != NULL)
		event_free(n->idle);
	if (n->eof_timer != NULL)
		event_free(n->eof_timer);
	cli_target_free(n->target);
	free(n->why);
	proto_free(n->proto);
	free(n);
}

static void
reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;
	struct node	*n;

	(void)fd;
	(void)what;
	while ((n = TAILQ_FIRST(&h->dead)) != NULL) {
		TAILQ_REMOVE(&h->dead, n, entry);
		node_free(h, n);
	}
}

/*
 * End: close every node (dropping what is queued when abort is set), then
 * leave the loop once all have closed, children reaped included.
 */
void
hub_finish(struct hub *h, int abort)
{
	struct node	*n, *next;

	if (!h->ending) {
		h->ending = 1;
		close_all(h, abort);
	}
	/*
	 * Out of time, or after a signal with nothing left to flush: end
	 * what still runs (a command not yet exited) instead of waiting.
	 */
	if (abort || h->signo != 0)
		for (n = TAILQ_FIRST(&h->live); n != NULL; n = next) {
			next = TAILQ_NEXT(n, entry);
			if (n->t != NULL)
				transport_abort(n->t);
		}
	settle(h);
}

/* Close every node, dropping what is queued when abort is set. */
static void
close_all(struct hub *h, int abort)
{
	struct node	*n, *next;

	listener_close(h->l);
	/*
	 * Read but never to be delivered: parts of frames, input not taken
	 * (past -n's count it is left on purpose).
	 */
	TAILQ_FOREACH(n, &h->live, entry)
		if (n->t != NULL && !n->closing && !n->bad && !h->counted_out)
			h->undelivered += unpassed(n);
	for (n = TAILQ_FIRST(&h->live); n != NULL; n = next) {
		next = TAILQ_NEXT(n, entry);
		if (n->closing)
			continue;
		n->closing = 1;
		if (n->t == NULL)
			closed_cb(NULL, n);
		else if (abort || transport_pending(n->t) > 0)
			transport_abort(n->t);	/* counts what it drops */
		else
			transport_close(n->t);
	}
}

static void
settle(struct hub *h)
{
	if (h->ending && TAILQ_EMPTY(&h->live))
		event_base_loopexit(h->base, NULL);
}

/* Stop reading and accepting; end once what was read is written. */
static void
drain(struct hub *h)
{
	struct node	*n;

	if (h->draining || h->ending)
		return;
	h->draining = 1;
	listener_close(h->l);
	TAILQ_FOREACH(n, &h->live, entry)
		if (n->t != NULL)
			transport_read_stop(n->t);
	if (pending_total(h) == 0)
		hub_finish(h, 0);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct hub	*h = arg;
	size_t		 left;

	(void)what;
	if (h->signo != 0) {
		/* A second signal: leave now. */
		log_status(NULL);
		if ((left = pending_total(h)) > 0)
			log_warnx("%zu bytes undelivered", left);
		transport_restore_stdio();
		transport_exec_kill_all();
		listener_close(h->l);	/* unlinks a unix-listen: socket file */
		unlink_ready_file(h);
		_exit(128 + (int)sig);
	}
	h->signo = (int)sig;
	/* Nothing left to flush, only commands left to end. */
	if (h->ending) {
		log_debug("%s: stopping", strsignal((int)sig));
		hub_finish(h, 1);
		return;
	}
	log_debug("%s: stopping, flushing for at most %g s",
	    strsignal((int)sig), SIGNAL_FLUSH_S);
	util_timer_add(h->flush_timer, SIGNAL_FLUSH_S);
	drain(h);
}

/* SIGUSR1: the counters so far, as --stats prints them, and go on. */
static void
usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;

	(void)fd;
	(void)what;
	log_status_erase();	/* --progress's, drawn again at its next tick */
	report(h, stderr, h->cfg->stats == STATS_JSON ? STATS_JSON :
	    STATS_TEXT);
}

static void
flush_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hub_finish(arg, 1);
}

/* --progress reads the counters --stats reads. */
static void
progress_cb(void *arg, struct flow_totals *tt)
{
	hub_totals(arg, tt);
}

static void
eof_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub	*h = arg;

	(void)fd;
	(void)what;
	log_debug("eof timeout (%g s): ending", h->cfg->eof_timeout);
	hub_finish(h, 1);
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
	hub_finish(h, 1);
}

/* With -k, -q closes a connection SEC after its first EOF, alone. */
static void
conn_eof_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;
	struct hub	*h = n->hub;

	(void)fd;
	(void)what;
	if (n->closing || h->ending)
		return;
	log_debug("%s: eof timeout (%g s): closing", transport_name(n->t),
	    h->cfg->eof_timeout);
	node_end(n, "eof timeout");
	hub_node_close(h, n->peer, 1);
	hub_node_close(h, n, 1);
}

/* With -k, -i closes a connection idle that long, alone. */
static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;
	struct hub	*h = n->hub;
	double		 idle = util_now() - n->last;

	(void)fd;
	(void)what;
	if (n->closing || h->ending)
		return;
	if (idle + 0.001 < h->cfg->idle_timeout) {
		util_timer_add(n->idle, h->cfg->idle_timeout - idle);
		return;
	}
	log_warnx("%s: idle for %g s, closing", transport_name(n->t),
	    h->cfg->idle_timeout);
	node_end(n, "idle");
	hub_node_close(h, n->peer, 1);
	hub_node_close(h, n, 1);
}

/* Write path atomically: a temporary file, filled, then renamed. */
static int
write_atomic(const char *what, const char *path,
    void (*fill)(FILE *, struct hub *), struct hub *h)
{
	char	*tmp;
	FILE	*f;
	int	 rv = 0;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warnx("%s: %s: %s", what, tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fill(f, h);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warnx("%s: %s: %s", what, path, strerror(errno));
		unlink(tmp);
		rv = -1;
	}
	free(tmp);
	return rv;
}

static void
fill_ready(FILE *f, struct hub *h)
{
	if (h->l != NULL)
		fprintf(f, "%s\n", listener_ready(h->l));
}

static void
fill_stats(FILE *f, struct hub *h)
{
	report(h, f, STATS_JSON);
}

/* At exit: a stale ready file must not pass for a live listener. */
static void
unlink_ready_file(struct hub *h)
{
	if (h->ready && unlink(h->cfg->ready_file) == -1 && errno != ENOENT)
		log_warnx("--ready-file: %s: %s", h->cfg->ready_file,
		    strerror(errno));
	h->ready = 0;
}

/* The mode of DESIGN.md's table, as -v names it. */
static const struct route *
choose_route(const struct config *cfg, int lside)
{
	const struct addr	*other;

	if (cfg->broker)
		return &route_broker;
	if (lside < 0)
		return &route_pair;
	other = lside == 0 ? &cfg->right : &cfg->left;
	if (!cfg->share && (other->kind->flags & KIND_REOPENS))
		return &route_proxy;
	return &route_shared;
}

/*
 * Whether what side from reads goes to the other side by splice(2):
 * relay, one producer to one consumer, nothing that looks inside the
 * bytes, and descriptors splice takes (DESIGN.md, "Zero-copy relay").
 */
static int
splices(const struct hub *h, int from)
{
	const struct config	*cfg = h->cfg;
	const struct addr	*a = hub_side_addr(h, from);
	const struct addr	*b = hub_side_addr(h, 1 - from);

	return cfg->splice && h->route->pairs && side_reads(h, from) &&
	    !cfg->hexdump && cfg->max_frames == 0 && b->rate == 0 &&
	    a->proto.kind == PROTO_RELAY && b->proto.kind == PROTO_RELAY &&
	    kind_splices(a, 0) && kind_splices(b, 1);
}

/* p's bytes may go straight to c, if its side splices. */
void
hub_splice(struct hub *h, struct node *p, struct node *c)
{
	const char	*why;

	if (p == NULL || c == NULL || !h->splices[p->side] || !p->reads ||
	    !c->writes)
		return;
	if ((why = transport_splice(p->t, c->t)) != NULL)
		log_debug("%s -> %s: no splice, %s", transport_name(p->t),
		    transport_name(c->t), why);
}

/*
 * The mode's name: the route's, or a listener's whose clients name their
 * RIGHT (a proxy, each pair's other end its own).
 */
static const char *
mode_name(const struct hub *h)
{
	const struct addr	*l;

	if (h->lside < 0)
		return h->shown->name;
	l = hub_side_addr(h, h->lside);
	return kind_dials(l) != NULL ? l->kind->listen->mode : h->shown->name;
}

static void
log_wiring(struct hub *h)
{
	const struct config	*cfg = h->cfg;
	const char		*splice = "";

	if (h->shown->sides == 1) {
		log_debug("%s %s (%s)", mode_name(h), cfg->left.name,
		    proto_name(cfg->left.proto.kind));
		return;
	}
	/* The ways that splice, when not every way does. */
	if (h->splices[0] || h->splices[1])
		splice = cfg->dir != DIR_BOTH || (h->splices[0] &&
		    h->splices[1]) ? ", splice" : h->splices[0] ?
		    ", splice ->" : ", splice <-";
	log_debug("%s %s (%s) %s %s (%s)%s%s", mode_name(h),
	    cfg->left.name, proto_name(cfg->left.proto.kind),
	    cfg->dir == DIR_BOTH ? "<->" : cfg->dir == DIR_LR ? "->" : "<-",
	    cfg->right.name, proto_name(cfg->right.proto.kind),
	    cfg->dir == DIR_BOTH ? "" : ", one-way", splice);
}

/*
 * The counters so far, what --stats, SIGUSR1 and --progress read: each
 * side's closed streams, plus its live ones as they stand now.
 */
void
hub_totals(struct hub *h, struct flow_totals *tt)
{
	struct node		*n;
	int			 i;

	memset(tt, 0, sizeof *tt);
	tt->sides = h->route->sides;
	for (i = 0; i < 2; i++) {
		tt->side[i].name = h->sides[i].addr->name;
		tt->side[i].label = h->sides[i].label;
		tt->side[i].stats = h->sides[i].stats;
		tt->side[i].conns = h->sides[i].nodes;
		tt->side[i].many = cli_is_listener(h->sides[i].addr) ||
		    h->route->per_conn;
	}
	TAILQ_FOREACH(n, &h->live, entry)
		totals_add(tt, n);
	/* Closed, and not yet folded into their side by the reaper. */
	TAILQ_FOREACH(n, &h->dead, entry)
		totals_add(tt, n);
	tt->open = h->nconns;
}

static void
totals_add(struct flow_totals *tt, struct node *n)
{
	struct flow_stats	 st;

	if (n->t == NULL)
		return;
	st = *transport_stats(n->t);
	if (st.holds > 0)
		tt->paused = 1;
	flow_finish(&st);
	st.undelivered += transport_lost(n->t);
	flow_add(&tt->side[n->side].stats, &st);
	tt->buffered += transport_pending(n->t);
}

/* --stats (and SIGUSR1): text lines, or one JSON document, on f. */
static void
report(struct hub *h, FILE *f, enum stats_format format)
{
	struct flow_totals	 tt;

	hub_totals(h, &tt);
	if (format == STATS_JSON)
		flow_report_json(f, &tt);
	else
		flow_report_text(f, &tt);
	fflush(f);
}

int
hub_run(const struct config *cfg)
{
	struct hub	 h;
	struct node	*n;
	struct progress	*pg = NULL;
	char		*err;
	int		 status;

	memset(&h, 0, sizeof h);
	h.cfg = cfg;
	TAILQ_INIT(&h.live);
	TAILQ_INIT(&h.dead);
	h.lside = cli_is_listener(&cfg->left) ? 0 :
	    cli_is_listener(&cfg->right) ? 1 : -1;
	h.shown = choose_route(cfg, h.lside);
	/* One connection shares nothing: without -k it pairs with the other side. */
	h.route = h.shown == &route_shared && !cfg->keep_open ? &route_proxy :
	    h.shown;
	h.main_side = cfg->dir == DIR_RL ? 1 : 0;
	h.sides[0].addr = &cfg->left;
	h.sides[0].label = "LEFT";
	h.sides[1].addr = &cfg->right;
	h.sides[1].label = "RIGHT";
	if ((h.base = event_base_new()) == NULL) {
		log_warnx("cannot start the event loop");
		return 1;
	}
	h.stage = evbuffer_new();
	h.reaper = event_new(h.base, -1, 0, reaper_cb, &h);
	h.sigint = evsignal_new(h.base, SIGINT, signal_cb, &h);
	h.sigterm = evsignal_new(h.base, SIGTERM, signal_cb, &h);
	h.sighup = evsignal_new(h.base, SIGHUP, signal_cb, &h);
	h.sigusr1 = evsignal_new(h.base, SIGUSR1, usr1_cb, &h);
	evsignal_add(h.sigusr1, NULL);
	evsignal_add(h.sigint, NULL);
	evsignal_add(h.sigterm, NULL);
	evsignal_add(h.sighup, NULL);
	h.eof_timer = evtimer_new(h.base, eof_timer_cb, &h);
	h.idle_timer = evtimer_new(h.base, idle_timer_cb, &h);
	h.flush_timer = evtimer_new(h.base, flush_timer_cb, &h);
	h.refusals.timer = evtimer_new(h.base, refusals_cb, &h);
	h.splices[0] = splices(&h, 0);
	h.splices[1] = splices(&h, 1);
	log_wiring(&h);

	if (h.lside >= 0) {
		h.l = listener_new(h.base, hub_side_addr(&h, h.lside), cfg,
		    (side_reads(&h, h.lside) ? TRANSPORT_READ : 0) |
		    (side_writes(&h, h.lside) ? TRANSPORT_WRITE : 0),
		    &listener_cbs, &h, &err);
		if (h.l == NULL) {
			log_warnx("%s: %s", hub_side_addr(&h, h.lside)->name, err);
			free(err);
			h.status = 1;
			goto done;
		}
		log_debug("%s: listening (%s)", hub_side_addr(&h, h.lside)->name,
		    listener_ready(h.l));
	}
	if (cfg->ready_file != NULL) {
		if (write_atomic("--ready-file", cfg->ready_file, fill_ready,
		    &h) == -1) {
			h.status = 1;
			goto done;
		}
		h.ready = 1;
	}
	h.last_traffic = util_now();
	if (cfg->idle_timeout > 0 && !cfg->keep_open)
		util_timer_add(h.idle_timer, cfg->idle_timeout);
	if (h.route->start != NULL)
		h.route->start(&h);
	if (cfg->progress)
		pg = progress_new(h.base, cfg->dir, progress_cb, &h);
	if (!h.ending || !TAILQ_EMPTY(&h.live))
		event_base_dispatch(h.base);
	/* Erased before the last lines (undelivered, --stats) print. */
	progress_free(pg);
	reaper_cb(-1, 0, &h);
	refusals_cb(-1, 0, &h);
	if (h.undelivered > 0) {
		log_warnx("%llu bytes undelivered",
		    (unsigned long long)h.undelivered);
		if (h.status == 0)
			h.status = 1;
	}
	if (cfg->stats != STATS_NONE)
		report(&h, stderr, cfg->stats);
	if (cfg->stats_file != NULL && write_atomic("--stats-file",
	    cfg->stats_file, fill_stats, &h) == -1 && h.status == 0)
		h.status = 1;
done:
	status = h.signo != 0 ? 128 + h.signo : h.status;
	unlink_ready_file(&h);
	while ((n = TAILQ_FIRST(&h.live)) != NULL) {
		TAILQ_REMOVE(&h.live, n, entry);
		node_free(&h, n);
	}
	reaper_cb(-1, 0, &h);
	listener_free(h.l);
	evbuffer_free(h.stage);
	event_free(h.reaper);
	event_free(h.sigint);
	event_free(h.sigterm);
	event_free(h.sighup);
	event_free(h.sigusr1);
	event_free(h.eof_timer);
	event_free(h.idle_timer);
	event_free(h.flush_timer);
	event_free(h.refusals.timer);
	transport_exec_cleanup();
	sock_lookups_end();
	arena_end();
	event_base_free(h.base);
	transport_restore_stdio();
	return status;
}
