/*
 * A listening address: it accepts connections, lets its owner refuse a
 * peer before any byte is read, runs each connection's handshake (its
 * kind's), and hands the owner a transport only once it is ready.
 */
#ifndef WEIR_LISTENER_H
#define WEIR_LISTENER_H

#include <stddef.h>

struct addr;
struct config;
struct event_base;
struct listener;
struct sockaddr;
struct transport;

struct listener_cbs {
	/* Whether to take this peer (its name, if known); 0 closes it. */
	int	(*admit)(const char *, const struct sockaddr *, void *);
	/* A connection is ready: the owner takes the transport. */
	void	(*ready)(struct transport *, void *);
	/* A connection failed before it was ready (its handshake): closed. */
	void	(*failed)(const char *, const char *, void *);
};

struct listener	*listener_new(struct event_base *, const struct addr *,
		    const struct config *, int, const struct listener_cbs *,
		    void *, char **);
const char	*listener_ready(const struct listener *);
size_t		 listener_pending(const struct listener *);
void		 listener_close(struct listener *);
void		 listener_resume(struct listener *);
void		 listener_free(struct listener *);

#endif
