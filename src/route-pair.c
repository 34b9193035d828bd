/*
 * Pairs: two nodes, each the other's consumer.  Without a listener weir
 * is one pair (route_pair); behind a listener each connection gets a
 * fresh partner of its own (route_proxy), as socat's fork does, in one
 * process: the other side's address, or the one the connection names
 * (a SOCKS server's clients), made for it alone.
 */
#include <stddef.h>

#include "cli.h"
#include "route.h"
#include "transport.h"

static void	pair_start(struct hub *);
static void	pair_accepted(struct hub *, struct node *);
static void	pair_opened(struct hub *, struct node *);
static void	pair_each(struct hub *, struct node *, node_fn *);
static void	pair_each_producer(struct hub *, struct node *, node_fn *);
static int	pair_fanout(const struct hub *, const struct node *);
static void	pair_eof(struct hub *, struct node *);
static void	pair_done(struct hub *, struct node *);

const struct route route_pair = {
	.name = "pair",
	.sides = 2,
	.pairs = 1,
	.start = pair_start,
	.accepted = pair_accepted,
	.opened = pair_opened,
	.each_consumer = pair_each,
	.each_producer = pair_each_producer,
	.fanout = pair_fanout,
	.eof = pair_eof,
	.done = pair_done
};

const struct route route_proxy = {
	.name = "proxy",
	.sides = 2,
	.pairs = 1,
	.per_conn = 1,
	.accepted = pair_accepted,
	.opened = pair_opened,
	.each_consumer = pair_each,
	.each_producer = pair_each_producer,
	.fanout = pair_fanout,
	.eof = pair_eof,
	.done = pair_done
};

static void
link_pair(struct node *a, struct node *b)
{
	a->peer = b;
	b->peer = a;
	a->paired = b->paired = 1;
}

static void
pair_start(struct hub *h)
{
	struct node	*a, *b;

	a = hub_node_new(h, hub_side_addr(h, 0), 0, 0);
	b = hub_node_new(h, hub_side_addr(h, 1), 1, 0);
	link_pair(a, b);
	hub_node_open(h, a);
	if (!h->ending)
		hub_node_open(h, b);
}

/*
 * n's partner: the other side's address, or that address with the host
 * and port n names (its own, freed with it).
 */
static void
pair_accepted(struct hub *h, struct node *n)
{
	const struct addr	*a = hub_side_addr(h, 1 - n->side);
	const char		*host, *port;
	struct addr		*own = NULL;
	struct node		*partner;

	if (transport_target(n->t, &host, &port) == 0)
		a = own = cli_target_new(a, host, port);
	partner = hub_node_new(h, a, 1 - n->side, 0);
	partner->target = own;
	link_pair(n, partner);
	hub_node_opened(h, n);
	if (h->ending)
		return;
	hub_node_open(h, partner);
	/*
	 * While its upstream connects, a connection's first bytes are read
	 * and queued for it: they go out the moment it is up.
	 */
	if (hub_usable(n) && partner->t != NULL && !partner->open &&
	    !partner->closing)
		hub_read_maybe(h, n);
}

/* Both ends are up: let data flow, LEFT's first. */
static void
pair_opened(struct hub *h, struct node *n)
{
	struct node	*left = n->side == 0 ? n : n->peer;
	struct node	*right = n->side == 0 ? n->peer : n;

	if (!hub_usable(left) || !hub_usable(right))
		return;
	hub_splice(h, left, right);
	hub_splice(h, right, left);
	hub_read_maybe(h, left);
	hub_read_maybe(h, right);
}

static void
pair_each(struct hub *h, struct node *p, node_fn *fn)
{
	if (p->peer != NULL && p->peer->writes)
		fn(h, p, p->peer);
}

static void
pair_each_producer(struct hub *h, struct node *c, node_fn *fn)
{
	if (c->peer != NULL && c->peer->reads)
		fn(h, c->peer, c);
}

static int
pair_fanout(const struct hub *h, const struct node *c)
{
	(void)h;
	(void)c;
	return 0;
}

/* EOF is passed on as a half-close. */
static void
pair_eof(struct hub *h, struct node *p)
{
	pair_each(h, p, hub_shut);
}

/* A node closing (after an error) or closed is done. */
static int
gone(const struct node *n)
{
	return n == NULL || n->closing || hub_finished(n);
}

/*
 * Both ends done: a pair ends weir (so does a proxy's without -k); with
 * -k that connection's pair is closed alone.
 */
static void
pair_done(struct hub *h, struct node *n)
{
	struct node	*peer = n->peer;

	if (!gone(n) || !gone(peer))
		return;
	if (!h->route->per_conn || !h->cfg->keep_open) {
		hub_finish(h, 0);
		return;
	}
	hub_node_close(h, n, 0);
	hub_node_close(h, peer, 0);
}

