/*
 * Routing: who consumes what a node produces.  One module per mode
 * (route-pair.c: a pair, and a proxy's pair per connection, its other
 * end fixed or named by the connection (socks5); route-shared.c: fan-in
 * and fan-out; route-broker.c: clients to each other), each behind
 * struct route.  The hub (hub.c) keeps the loop, signals, timers, flow
 * and the end, and asks its route.  Only hub.c and route-*.c include
 * this.
 */
#ifndef WEIR_ROUTE_H
#define WEIR_ROUTE_H

#include <sys/queue.h>

#include <stdint.h>

#include "flow.h"

struct addr;
struct config;
struct event;
struct event_base;
struct evbuffer;
struct listener;
struct proto;
struct transport;

struct node {
	struct hub		*hub;
	struct transport	*t;
	const struct addr	*addr;
	struct proto		*proto;		/* decodes what it reads */
	struct node		*peer;		/* its pair's other end, if any */
	struct addr		*target;	/* its own address, a client's */
	int			 paired;	/* one of a pair (route-pair.c) */
	int			 side;		/* 0 LEFT, 1 RIGHT */
	int			 conn;		/* accepted by the listener */
	int			 reads;
	int			 writes;
	int			 open;
	int			 eof;		/* nothing more to read */
	int			 shut;		/* nothing more to write */
	int			 holding;	/* above high water */
	int			 closing;
	int			 bad;		/* sent a malformed frame */
	struct event		*idle;		/* -i for a connection, with -k */
	struct event		*eof_timer;	/* -q for a connection, with -k */
	double			 last;		/* its last traffic */
	double			 born;		/* accepted, for a connection */
	char			*why;		/* why it ended, if not an EOF */
	TAILQ_ENTRY(node)	 entry;
};
TAILQ_HEAD(nodes, node);

/* What a side moved, summed over the nodes it had. */
struct side {
	const struct addr	*addr;
	const char		*label;
	struct flow_stats	 stats;
	uint64_t		 nodes;
};

struct hub;
typedef void node_fn(struct hub *, struct node *, struct node *);

struct route {
	const char	*name;		/* as -v names the mode */
	int		 sides;		/* sides --stats reports */
	int		 per_conn;	/* each side has a node per connection */
	int		 own_side;	/* consumers are on the producer's side */
	int		 pairs;		/* each producer has one consumer */
	/* Before the loop: open what is not a connection (may be NULL). */
	void	(*start)(struct hub *);
	/* A ready connection, its node n: wire it and let it flow. */
	void	(*accepted)(struct hub *, struct node *);
	/* n is open: let data flow where it can. */
	void	(*opened)(struct hub *, struct node *);
	/* fn(h, p, c) for each consumer c of p, each producer p of c. */
	void	(*each_consumer)(struct hub *, struct node *, node_fn *);
	void	(*each_producer)(struct hub *, struct node *, node_fn *);
	/* c is one of several fed by one producer: --slow applies. */
	int	(*fanout)(const struct hub *, const struct node *);
	/* p's input has ended: what that means for its consumers. */
	void	(*eof)(struct hub *, struct node *);
	/* n may have nothing left to do: close what is done. */
	void	(*done)(struct hub *, struct node *);
	/* n has closed (may be NULL). */
	void	(*closed)(struct hub *, struct node *);
};

extern const struct route route_pair, route_proxy, route_shared,
    route_broker;

struct hub {
	struct event_base	*base;
	const struct config	*cfg;
	const struct route	*route;
	const struct route	*shown;		/* the mode as -v names it */
	struct listener		*l;
	int			 lside;		/* the listener's side */
	struct node		*shared;	/* route_shared's own node */
	int			 shared_idle;	/* shared held: no consumer */
	struct nodes		 live;
	struct nodes		 dead;		/* closed, freed by the reaper */
	struct side		 sides[2];
	struct evbuffer		*stage;
	struct event		*reaper;
	struct event		*sigint;
	struct event		*sigterm;
	struct event		*sighup;
	struct event		*sigusr1;
	struct event		*eof_timer;
	struct event		*idle_timer;
	struct event		*flush_timer;
	uint64_t		 nconns;	/* accepted and not yet closed */
	double			 last_traffic;
	uint64_t		 undelivered;
	uint64_t		 delivered;	/* frames, main direction */
	uint64_t		 stage_frames;	/* frames in stage (or spliced) */
	int			 main_side;	/* whose reads -n counts */
	int			 splices[2];	/* what each side reads may */
	int			 draining;
	int			 counted_out;	/* -n frames delivered */
	int			 ending;
	int			 status;
	int			 signo;
	int			 ready;		/* wrote --ready-file */
	struct {
		double		 since;		/* this second began */
		unsigned	 shown;		/* lines in this second */
		uint64_t	 hidden;	/* refusals not shown */
		struct event	*timer;		/* ends the second */
	}			 refusals;
};

const struct addr *hub_side_addr(const struct hub *, int);
struct node	*hub_node_new(struct hub *, const struct addr *, int, int);
void		 hub_node_open(struct hub *, struct node *);
void		 hub_node_opened(struct hub *, struct node *);
void		 hub_node_close(struct hub *, struct node *, int);
int		 hub_usable(const struct node *);
int		 hub_finished(const struct node *);
void		 hub_read_maybe(struct hub *, struct node *);
void		 hub_hold(struct hub *, struct node *, struct node *);
void		 hub_release(struct hub *, struct node *, struct node *);
void		 hub_hold_if_holding(struct hub *, struct node *,
		    struct node *);
void		 hub_finish(struct hub *, int);
void		 hub_conn_done(struct hub *, struct node *);
void		 hub_shut(struct hub *, struct node *, struct node *);
void		 hub_splice(struct hub *, struct node *, struct node *);
void		 hub_each_conn_consumer(struct hub *, struct node *, node_fn *);
void		 hub_each_conn_producer(struct hub *, struct node *, node_fn *);
void		 hub_totals(struct hub *, struct flow_totals *);

#endif
