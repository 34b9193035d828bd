/*
 * Listening addresses.  The kind binds; this accepts (or the kind makes
 * each connection itself, as a datagram socket's peers), asks the owner
 * whether to admit each peer, and runs each connection's opening (its
 * kind's handshake, under the engine's deadline) while the connection is
 * this listener's; once open it is handed over.  Accepting never spins:
 * when descriptors run out it stops watching the socket until one frees
 * (the owner calls listener_resume) or a second has passed.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "kind.h"
#include "listener.h"
#include "log.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

/* Accepts per wakeup, so one busy listener cannot starve the rest. */
#define ACCEPT_BATCH	32
/* Out of descriptors and nothing closed: look again this much later. */
#define EMFILE_RETRY_S	1.0

/* A connection still opening (in its handshake). */
struct opening {
	struct listener		*l;
	struct transport	*t;
	int			 failed;
	TAILQ_ENTRY(opening)	 entry;
};
TAILQ_HEAD(openings, opening);

struct listener {
	struct event_base	*base;
	const struct addr	*addr;
	const struct config	*cfg;
	struct bound		 b;
	int			 halves;	/* of each connection */
	struct event		*ev;
	struct event		*retry;
	struct openings		 opening;
	size_t			 nopening;
	int			 starved;	/* out of descriptors */
	int			 warned;	/* said so once: then -v only */
	const struct listener_cbs *cbs;
	void			*arg;
};

static void	accept_cb(evutil_socket_t, short, void *);
static void	retry_cb(evutil_socket_t, short, void *);
static void	accept_failed(struct listener *);
static void	take(struct listener *, int, const struct sockaddr *,
		    socklen_t);
static void	opened_cb(struct transport *, void *);
static void	failed_cb(struct transport *, enum transport_op, const char *,
		    void *);
static void	closed_cb(struct transport *, void *);
static void	ignore_cb(struct transport *, void *);
static void	ignore_read_cb(struct transport *, struct evbuffer *, void *);

/* What a connection still opening tells its listener. */
static const struct transport_cbs opening_cbs = {
	opened_cb,
	ignore_read_cb,
	ignore_cb,
	ignore_cb,
	ignore_cb,
	failed_cb,
	closed_cb,
	NULL
};

struct listener *
listener_new(struct event_base *base, const struct addr *a,
    const struct config *cfg, int halves, const struct listener_cbs *cbs,
    void *arg, char **err)
{
	struct listener	*l;
	struct bound	 b;

	memset(&b, 0, sizeof b);
	if (a->kind->listen->bind(a, &b, err) == -1)
		return NULL;
	l = xcalloc(1, sizeof *l);
	l->base = base;
	l->addr = a;
	l->cfg = cfg;
	l->b = b;
	l->halves = halves;
	l->cbs = cbs;
	l->arg = arg;
	TAILQ_INIT(&l->opening);
	l->ev = event_new(base, b.fd, EV_READ | EV_PERSIST, accept_cb, l);
	l->retry = evtimer_new(base, retry_cb, l);
	event_add(l->ev, NULL);
	return l;
}

const char *
listener_ready(const struct listener *l)
{
	return l->b.ready;
}

/* Connections accepted and still in their handshake. */
size_t
listener_pending(const struct listener *l)
{
	return l == NULL ? 0 : l->nopening;
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 s, i;

	(void)fd;
	(void)what;
	for (i = 0; i < ACCEPT_BATCH && l->b.fd != -1; i++) {
		len = sizeof ss;
		s = l->addr->kind->listen->accept != NULL ?
		    l->addr->kind->listen->accept(l->addr, &l->b, &ss, &len) :
		    accept4(l->b.fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			accept_failed(l);
			return;
		}
		if (l->starved)
			log_debug("%s: accepting again", l->addr->name);
		l->starved = 0;
		take(l, s, (struct sockaddr *)&ss, len);
	}
}

static void
accept_failed(struct listener *l)
{
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		if (!l->starved && !l->warned)
			log_warnx("%s: accept: %s; pausing until a descriptor "
			    "frees", l->addr->name, strerror(errno));
		else if (!l->starved)
			log_debug("%s: accept: %s; pausing again",
			    l->addr->name, strerror(errno));
		l->warned = 1;
		l->starved = 1;
		event_del(l->ev);
		util_timer_add(l->retry, EMFILE_RETRY_S);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warnx("%s: accept: %s", l->addr->name, strerror(errno));
}

/* A peer: admitted or closed, then opened (its handshake) as ours. */
static void
take(struct listener *l, int s, const struct sockaddr *sa, socklen_t len)
{
	struct opening	*o;
	char		*peer = NULL, *name, *err = NULL;

	if (l->addr->kind->flags & KIND_INET)
		peer = sock_peer_name(sa, len);
	if (!l->cbs->admit(peer, sa, l->arg)) {
		if (l->addr->kind->listen->refuse != NULL)
			l->addr->kind->listen->refuse(l->addr, &l->b, s);
		else
			close(s);
		free(peer);
		return;
	}
	name = peer != NULL ? xasprintf("%s (%s)", l->addr->name, peer) :
	    xstrdup(l->addr->name);
	free(peer);
	/* Accepted Unix sockets do not inherit the listener's options. */
	if (sock_opts_apply(s, &l->addr->sock, &err) == -1) {
		l->cbs->failed(name, err, l->arg);
		close(s);
		free(name);
		free(err);
		return;
	}
	o = xcalloc(1, sizeof *o);
	o->l = l;
	o->t = transport_new_accepted(l->base, l->addr, l->cfg, s, name,
	    l->halves, &opening_cbs, o);
	free(name);
	TAILQ_INSERT_TAIL(&l->opening, o, entry);
	l->nopening++;
	transport_open(o->t, NULL);
}

static void
forget(struct opening *o)
{
	TAILQ_REMOVE(&o->l->opening, o, entry);
	o->l->nopening--;
}

static void
opened_cb(struct transport *t, void *arg)
{
	struct opening	*o = arg;
	struct listener	*l = o->l;

	forget(o);
	free(o);
	l->cbs->ready(t, l->arg);
}

static void
failed_cb(struct transport *t, enum transport_op op, const char *msg,
    void *arg)
{
	struct opening	*o = arg;

	(void)op;
	if (o->failed)
		return;
	o->failed = 1;
	o->l->cbs->failed(transport_name(t), msg, o->l->arg);
	transport_abort(t);
}

static void
closed_cb(struct transport *t, void *arg)
{
	struct opening	*o = arg;

	forget(o);
	listener_resume(o->l);
	free(o);
	transport_free(t);
}

static void
ignore_cb(struct transport *t, void *arg)
{
	(void)t;
	(void)arg;
}

static void
ignore_read_cb(struct transport *t, struct evbuffer *in, void *arg)
{
	(void)t;
	(void)in;
	(void)arg;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listener_resume(arg);
}

/* A descriptor may have freed: watch the socket again if accepting starved. */
void
listener_resume(struct listener *l)
{
	if (l == NULL || l->b.fd == -1 || !l->starved)
		return;
	evtimer_del(l->retry);
	event_add(l->ev, NULL);
}

/*
 * Stop listening now, dropping the connections still in their
 * handshake; safe from inside the accept callback.
 */
void
listener_close(struct listener *l)
{
	struct opening	*o;

	if (l == NULL || l->b.fd == -1)
		return;
	event_del(l->ev);
	evtimer_del(l->retry);
	/* Before the socket goes: a kind may still take what it holds. */
	if (l->addr->kind->listen->unbind != NULL)
		l->addr->kind->listen->unbind(l->addr, &l->b);
	close(l->b.fd);
	l->b.fd = -1;
	/* None is inside a callback of its own: free them now. */
	while ((o = TAILQ_FIRST(&l->opening)) != NULL) {
		forget(o);
		transport_abort(o->t);
		transport_free(o->t);
		free(o);
	}
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	listener_close(l);
	event_free(l->ev);
	event_free(l->retry);
	free(l->b.ready);
	free(l);
}
