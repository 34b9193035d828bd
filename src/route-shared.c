/*
 * Shared: every connection feeds the one node of the other side
 * (fan-in) and that node feeds every connection (fan-out).  Frames move
 * whole either way; a connection's end is its own, the shared node's
 * end is passed to every connection.
 */
#include <stddef.h>

#include "cli.h"
#include "route.h"
#include "transport.h"

static void	shared_start(struct hub *);
static void	shared_opened(struct hub *, struct node *);
static void	shared_each(struct hub *, struct node *, node_fn *);
static void	shared_each_producer(struct hub *, struct node *, node_fn *);
static int	shared_fanout(const struct hub *, const struct node *);
static void	shared_eof(struct hub *, struct node *);
static void	shared_closed(struct hub *, struct node *);
static void	idle(struct hub *);

const struct route route_shared = {
	.name = "shared",
	.sides = 2,
	.start = shared_start,
	.accepted = hub_node_opened,
	.opened = shared_opened,
	.each_consumer = shared_each,
	.each_producer = shared_each_producer,
	.fanout = shared_fanout,
	.eof = shared_eof,
	.done = hub_conn_done,
	.closed = shared_closed
};

static void
shared_start(struct hub *h)
{
	h->shared = hub_node_new(h, hub_side_addr(h, 1 - h->lside),
	    1 - h->lside, 0);
	hub_node_open(h, h->shared);
}

/*
 * The shared node has nobody to send to while no connection writes: it
 * is held, so standard input waits for the first client.
 */
static void
idle(struct hub *h)
{
	struct node	*c;
	int		 any = 0;

	if (!hub_usable(h->shared) || !h->shared->reads)
		return;
	TAILQ_FOREACH(c, &h->live, entry)
		if (c->conn && c->writes && hub_usable(c))
			any = 1;
	if (!any && !h->shared_idle) {
		h->shared_idle = 1;
		hub_hold(h, h->shared, NULL);
	} else if (any && h->shared_idle) {
		h->shared_idle = 0;
		hub_release(h, h->shared, NULL);
	}
}

static void
shared_opened(struct hub *h, struct node *n)
{
	struct node	*c;

	if (n == h->shared) {
		idle(h);
		TAILQ_FOREACH(c, &h->live, entry)
			if (c->conn && hub_usable(c))
				hub_read_maybe(h, c);
		hub_read_maybe(h, n);
		return;
	}
	if (!hub_usable(h->shared))
		return;
	shared_each(h, n, hub_hold_if_holding);
	if (h->shared->eof && n->writes)
		transport_shutdown(n->t);
	idle(h);
	hub_read_maybe(h, n);
}

/* The shared node for a connection; every usable connection for it. */
static void
shared_each(struct hub *h, struct node *p, node_fn *fn)
{
	if (p != h->shared) {
		if (h->shared->writes)
			fn(h, p, h->shared);
	} else
		hub_each_conn_consumer(h, p, fn);
}

static void
shared_each_producer(struct hub *h, struct node *c, node_fn *fn)
{
	if (c != h->shared) {
		if (h->shared->reads)
			fn(h, h->shared, c);
	} else
		hub_each_conn_producer(h, c, fn);
}

/* Each connection is one of the shared node's consumers. */
static int
shared_fanout(const struct hub *h, const struct node *c)
{
	return c != h->shared;
}

/* The shared node's end ends every connection's input; theirs, nothing. */
static void
shared_eof(struct hub *h, struct node *p)
{
	if (p == h->shared)
		shared_each(h, p, hub_shut);
}

static void
shared_closed(struct hub *h, struct node *n)
{
	(void)n;
	idle(h);
}
