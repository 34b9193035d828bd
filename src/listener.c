/*
 * Listening sockets (tcp-listen:, unix-listen:).  Accepting never spins:
 * when descriptors run out it stops watching the socket until one frees
 * (the owner calls listener_resume) or a second has passed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "listener.h"
#include "log.h"
#include "sock.h"
#include "util.h"

/* Accepts per wakeup, so one busy listener cannot starve the rest. */
#define ACCEPT_BATCH	32
/* Out of descriptors and nothing closed: look again this much later. */
#define EMFILE_RETRY_S	1.0

struct listener {
	const struct addr	*addr;
	int			 fd;
	struct event		*ev;
	struct event		*retry;
	char			*ready;
	struct stat		 made;		/* the socket file, unix-listen */
	int			 has_file;
	int			 starved;	/* out of descriptors */
	int			 warned;	/* said so once: then -v only */
	listener_cb		*cb;
	void			*arg;
};

static void	accept_cb(evutil_socket_t, short, void *);
static void	retry_cb(evutil_socket_t, short, void *);

struct listener *
listener_new(struct event_base *base, const struct addr *a,
    const struct config *cfg, listener_cb *cb, void *arg, char **err)
{
	struct listener	*l;
	int		 fd;
	char		*ready = NULL;

	if (a->type == ADDR_TCP_LISTEN)
		fd = transport_tcp_bind(a, cfg->family, &ready, err);
	else
		fd = transport_unix_bind(a, &ready, err);
	if (fd == -1)
		return NULL;
	l = xcalloc(1, sizeof *l);
	l->addr = a;
	l->fd = fd;
	l->ready = ready;
	l->cb = cb;
	l->arg = arg;
	if (a->type == ADDR_UNIX_LISTEN && a->path[0] != '@' &&
	    lstat(a->path, &l->made) == 0)
		l->has_file = 1;
	l->ev = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb, l);
	l->retry = evtimer_new(base, retry_cb, l);
	event_add(l->ev, NULL);
	return l;
}

const char *
listener_ready(const struct listener *l)
{
	return l->ready;
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			*peer, *name;
	int			 s, i;

	(void)fd;
	(void)what;
	for (i = 0; i < ACCEPT_BATCH && l->fd != -1; i++) {
		len = sizeof ss;
		s = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (!l->starved && !l->warned)
					log_warnx("%s: accept: %s; pausing until "
					    "a descriptor frees", l->addr->name,
					    strerror(errno));
				else if (!l->starved)
					log_debug("%s: accept: %s; pausing "
					    "again", l->addr->name,
					    strerror(errno));
				l->warned = 1;
				l->starved = 1;
				event_del(l->ev);
				util_timer_add(l->retry, EMFILE_RETRY_S);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warnx("%s: accept: %s", l->addr->name,
				    strerror(errno));
			return;
		}
		if (l->addr->type == ADDR_TCP_LISTEN) {
			peer = sock_peer_name((struct sockaddr *)&ss, len);
			name = xasprintf("%s (%s)", l->addr->name, peer);
			free(peer);
		} else
			name = xstrdup(l->addr->name);
		if (l->starved)
			log_debug("%s: accepting again", l->addr->name);
		l->starved = 0;
		l->cb(s, name, (struct sockaddr *)&ss, l->arg);
		free(name);
	}
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
	if (l == NULL || l->fd == -1 || !l->starved)
		return;
	evtimer_del(l->retry);
	event_add(l->ev, NULL);
}

/* Stop listening now; safe from inside the accept callback. */
void
listener_close(struct listener *l)
{
	if (l == NULL || l->fd == -1)
		return;
	event_del(l->ev);
	evtimer_del(l->retry);
	close(l->fd);
	l->fd = -1;
	if (l->has_file)
		transport_unix_unbind(l->addr, &l->made);
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	listener_close(l);
	event_free(l->ev);
	event_free(l->retry);
	free(l->ready);
	free(l);
}
