/* A bound listening socket that hands each accepted descriptor to its owner. */
#ifndef WEIR_LISTENER_H
#define WEIR_LISTENER_H

struct addr;
struct config;
struct event_base;
struct listener;

struct sockaddr;

typedef void listener_cb(int, const char *, const struct sockaddr *, void *);

struct listener	*listener_new(struct event_base *, const struct addr *,
		    const struct config *, listener_cb *, void *, char **);
const char	*listener_ready(const struct listener *);
void		 listener_close(struct listener *);
void		 listener_resume(struct listener *);
void		 listener_free(struct listener *);

#endif
