/*
 * Broker: one listener alone, each client's frames to every other
 * client; a client's end is its own.
 */
#include <stddef.h>

#include "cli.h"
#include "route.h"
#include "transport.h"

static void	broker_opened(struct hub *, struct node *);
static void	broker_each(struct hub *, struct node *, node_fn *);
static void	broker_each_producer(struct hub *, struct node *, node_fn *);
static int	broker_fanout(const struct hub *, const struct node *);
static void	broker_eof(struct hub *, struct node *);

const struct route route_broker = {
	.name = "broker",
	.sides = 1,
	.own_side = 1,
	.accepted = hub_node_opened,
	.opened = broker_opened,
	.each_consumer = broker_each,
	.each_producer = broker_each_producer,
	.fanout = broker_fanout,
	.eof = broker_eof,
	.done = hub_conn_done
};

static void
broker_opened(struct hub *h, struct node *n)
{
	broker_each(h, n, hub_hold_if_holding);
	hub_read_maybe(h, n);
}

/* Every other usable client consumes what p produces. */
static void
broker_each(struct hub *h, struct node *p, node_fn *fn)
{
	struct node	*c, *next;

	for (c = TAILQ_FIRST(&h->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->conn && c != p && hub_usable(c))
			fn(h, p, c);
	}
}

/* And produces what c consumes. */
static void
broker_each_producer(struct hub *h, struct node *c, node_fn *fn)
{
	struct node	*p, *next;

	for (p = TAILQ_FIRST(&h->live); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->conn && p != c && hub_usable(p))
			fn(h, p, c);
	}
}

static int
broker_fanout(const struct hub *h, const struct node *c)
{
	(void)h;
	(void)c;
	return 1;
}

/* A client's EOF: flush what is queued for it, then it closes. */
static void
broker_eof(struct hub *h, struct node *p)
{
	(void)h;
	transport_shutdown(p->t);
}

