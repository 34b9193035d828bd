/*
 * Broker: one listener alone, each client's frames to every other
 * client; a client's end is its own.
 */
#include <stddef.h>

#include "cli.h"
#include "route.h"
#include "transport.h"

static void	broker_opened(struct hub *, struct node *);
static int	broker_fanout(const struct hub *, const struct node *);
static void	broker_eof(struct hub *, struct node *);

const struct route route_broker = {
	.name = "broker",
	.sides = 1,
	.own_side = 1,
	.accepted = hub_node_opened,
	.opened = broker_opened,
	.each_consumer = hub_each_conn_consumer,
	.each_producer = hub_each_conn_producer,
	.fanout = broker_fanout,
	.eof = broker_eof,
	.done = hub_conn_done
};

static void
broker_opened(struct hub *h, struct node *n)
{
	hub_each_conn_consumer(h, n, hub_hold_if_holding);
	hub_read_maybe(h, n);
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

