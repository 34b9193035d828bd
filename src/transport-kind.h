/*
 * What each kind of transport implements, and the state every kind shares.
 * Only transport*.c include this; the hub sees transport.h alone.
 */
#ifndef WEIR_TRANSPORT_KIND_H
#define WEIR_TRANSPORT_KIND_H

#include <sys/types.h>

#include <event2/event.h>

#include "flow.h"
#include "transport.h"

struct transport_ops {
	/* Open or connect; call transport_opened() or transport_fail(). */
	void	(*open)(struct transport *);
	/* Everything is done: release what the kind holds beyond the fds. */
	void	(*close)(struct transport *);
};

struct transport {
	const struct transport_ops *ops;
	const struct addr	*addr;
	const struct config	*cfg;
	struct event_base	*base;
	char			*name;
	int			 halves;	/* TRANSPORT_READ, _WRITE */
	int			 rfd;
	int			 wfd;
	int			 rpoll;		/* rfd works with the backend */
	int			 wpoll;
	int			 wsock;		/* wfd is a socket: half-close */
	int			 sock;		/* opened as a socket: no probe */
	int			 opened;	/* writes queued before are flushed */
	int			 connected;	/* just connected: nothing to read yet */
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;		/* connect timeout, pacing */
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct flow_stats	 stats;
	struct flow_rate	 rate;
	uint64_t		 lost;		/* bytes a failed write left */
	size_t			 read_size;	/* the next read's buffer */
	int			 reading;
	int			 read_eof;
	int			 want_shutdown;
	int			 shut;
	int			 write_failed;
	int			 closing;
	int			 aborted;
	int			 pacing;
	const struct transport_cbs *cbs;
	void			*arg;
	void			*kind;		/* the kind's own state */
};

extern const struct transport_ops transport_stdio_ops;
extern const struct transport_ops transport_fd_ops;
extern const struct transport_ops transport_file_ops;
extern const struct transport_ops transport_tcp_ops;
extern const struct transport_ops transport_unix_ops;
extern const struct transport_ops transport_exec_ops;
extern const struct transport_ops transport_accepted_ops;

void	transport_opened(struct transport *, int, int);
void	transport_fail(struct transport *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	transport_adopt_fd(int);
void	transport_closed(struct transport *);

#endif
