/*
 * What each kind of transport implements, and the state the engine
 * (transport.c) keeps for every kind.  Only transport*.c, sock.c and
 * listener.c include this; the hub sees transport.h alone.
 */
#ifndef WEIR_TRANSPORT_KIND_H
#define WEIR_TRANSPORT_KIND_H

#include <sys/types.h>
#include <sys/uio.h>

#include <event2/event.h>

#include "flow.h"
#include "kind.h"
#include "transport.h"

/* What a read, write or shutdown needs before it can go on. */
#define TRANSPORT_WANT_READ	1
#define TRANSPORT_WANT_WRITE	2

/*
 * A kind's operations.  I/O left NULL is the descriptors' own (readv,
 * writev, nothing before shutdown(2)).  read and write return what they
 * moved, 0 for end of file (read), or -1 with errno; EAGAIN with t->want
 * set says what to wait for (readability when unset, for a read); a
 * failure the kind words itself leaves the words in t->err, and input
 * that broke the kind's own protocol is EBADMSG with them.  A kind
 * with KIND_MESSAGES reads one message a call, 0 for an empty one, or
 * the start of one that goes on (t->msg_more set: read on before it is
 * a frame); its end, if it has one, is transport_end_input.
 */
struct transport_ops {
	/* Open, connect, handshake: then transport_opened or _fail. */
	void	(*open)(struct transport *);
	ssize_t	(*read)(struct transport *, const struct iovec *, int);
	ssize_t	(*write)(struct transport *, const struct iovec *, int);
	/* Say the end (TLS close_notify) before shutdown(SHUT_WR): 0, -1. */
	int	(*shutdown)(struct transport *);
	/*
	 * Bytes taken from the descriptor and still held inside (messages,
	 * for a kind that carries them: an empty one counts).
	 */
	size_t	(*buffered)(const struct transport *);
	/* Free what the kind holds (connect state, TLS); may repeat. */
	void	(*release)(struct transport *);
	/* An end that takes time (a child to reap): transport_closed. */
	void	(*close)(struct transport *);
	/*
	 * KIND_WHOLE: take back the last n bytes written, a torn frame's
	 * (a file's ftruncate): 0, or -1 when they stay.
	 */
	int	(*cut)(struct transport *, size_t);
	/*
	 * A connection that names the address it is to be paired with (a
	 * SOCKS client's request): its host and port, once open; 0, -1.
	 */
	int	(*target)(const struct transport *, const char **,
		    const char **);
	/*
	 * The partner opened for it is up (p->opened) or failed opening
	 * (p->errnum): a connection that asked for it answers (a SOCKS
	 * reply) before any of the partner's bytes.
	 */
	void	(*partner)(struct transport *, const struct transport *);
	/* A one-way writer still reads until the peer closes. */
	int	 linger;
	/* KIND_MESSAGES: reads a message in parts, so reads may be small. */
	int	 parts;
};

struct note;

/* Where each queued frame ends: lengths from head to tail. */
struct frames {
	size_t			*len;
	size_t			 head;
	size_t			 tail;
	size_t			 cap;
	size_t			 done;		/* of the first, written */
};

struct transport {
	const struct transport_ops *ops;
	/* The accepted connection it is opened for (a proxy's); open only. */
	const struct transport	*via;
	const struct addr	*addr;
	const struct config	*cfg;
	struct event_base	*base;
	char			*name;
	const char		*phase;		/* of opening, for a timeout */
	int			 halves;	/* TRANSPORT_READ, _WRITE */
	int			 rfd;
	int			 wfd;
	int			 accepted;	/* accepted descriptor, or -1 */
	int			 rpoll;		/* rfd works with the backend */
	int			 wpoll;
	int			 wsock;		/* wfd is a socket: half-close */
	int			 sock;		/* opened as a socket: no probe */
	int			 eio_eof;	/* a read's EIO is the end (a pty) */
	int			 opened;	/* writes queued before are flushed */
	int			 connected;	/* just connected: nothing to read yet */
	int			 want;		/* TRANSPORT_WANT_* of the last I/O */
	int			 read_waits;	/* a read waits for writability */
	int			 write_waits;	/* a write waits for readability */
	int			 lingering;	/* reading only to see the peer close */
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;		/* opening deadline, pacing */
	struct event		*notify;	/* ends, told from the loop */
	struct note		*notes;
	struct evbuffer		*in;
	struct evbuffer		*out;
	/*
	 * splice(2): reads go straight into the sink's pipe; the pipe is
	 * this one's output after out's bytes, fed by its source.
	 */
	struct transport	*sink;
	struct transport	*source;
	int			 pipe[2];
	size_t			 piped;		/* bytes in the pipe */
	size_t			 pipe_size;
	size_t			 pipe_full_at;	/* found full below high water */
	int			 sink_full;	/* a read waits for the sink */
	int			 messages;	/* carries messages: keep frames */
	int			 msg_more;	/* the last read's message goes on */
	struct frames		 frames;	/* of out then, or for WHOLE */
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
	void			*conn;		/* connecting (sock.c) */
	void			*kind;		/* the kind's own state */
	char			*err;		/* a kind's own I/O failure */
	int			 errnum;	/* why opening failed: errno, or 0 */
};

void	transport_opened(struct transport *, int, int);
void	transport_fail(struct transport *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	transport_adopt_fd(int);
void	transport_closed(struct transport *);
void	transport_end_input(struct transport *);
void	transport_end_output(struct transport *);
void	transport_wake(struct transport *);

#endif
