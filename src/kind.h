/*
 * A kind of address, described once in its own file (transport-*.c): its
 * name, what it can do, how its arguments and options parse, and the
 * operations of its transports (transport-kind.h).  kind.c holds the
 * table of kinds and the argument parsers several kinds share.
 */
#ifndef WEIR_KIND_H
#define WEIR_KIND_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct addr;
struct config;
struct transport_ops;

/* What a kind can do. */
#define KIND_READS	0x01	/* can be read from */
#define KIND_WRITES	0x02	/* can be written to */
#define KIND_LISTENS	0x04	/* accepts connections */
#define KIND_REOPENS	0x08	/* can be opened again for each connection */
#define KIND_STDIO	0x10	/* standard input and output */
#define KIND_INET	0x20	/* its peers have IP addresses (--allow) */
#define KIND_MESSAGES	0x40	/* carries messages: one frame, one message */
#define KIND_FAMILY	0x80	/* IP: TYPE4 and TYPE6 fix the family */
#define KIND_WHOLE	0x100	/* keeps frames whole: cuts a torn one back */

/* A listening socket, bound. */
struct bound {
	int		 fd;
	char		*ready;		/* an address another weir connects to */
	void		*priv;		/* the kind's, for unbind */
};

struct kind_listen {
	int	(*bind)(const struct addr *, struct bound *, char **);
	void	(*unbind)(const struct addr *, struct bound *);
	/*
	 * A kind that makes its connections itself (sorting datagrams by
	 * peer): the next new peer's descriptor and address, or -1 with
	 * errno (EAGAIN: none now).  NULL: accept(2).
	 */
	int	(*accept)(const struct addr *, struct bound *,
		    struct sockaddr_storage *, socklen_t *);
	/* A peer its accept gave and the owner refused: closed by the kind. */
	void	(*refuse)(const struct addr *, struct bound *, int);
	/* What each accepted connection is, handshake included. */
	const struct transport_ops *conn;
	/*
	 * Its connections each name the address to pair them with (their
	 * transports' target op), one of this kind; NULL: the other side.
	 */
	const struct kind *dials;
	const char	*mode;		/* then: the mode's name for -v */
};

struct kind {
	const char	*name;
	int		 flags;
	const char	*help;		/* --help: its addresses */
	const char	*help_opts;	/* --help: its options, if any */
	/* A listener's: -i for its peers when none is given (0: none). */
	double		 idle_timeout;
	/* TYPE:ARGS's ARGS; -1 with a message (without "weir: "). */
	int	(*parse)(struct addr *, const char *, char **);
	/*
	 * OPT=VALUE, or a switch (VALUE NULL); 1: not an option of this
	 * kind; -1 with a message.
	 */
	int	(*option)(struct addr *, const char *, const char *, char **);
	/* What its descriptors' open modes allow: KIND_READS, _WRITES. */
	int	(*allows)(const struct addr *);
	/* Its options that take no value (exec's pty), NULL-terminated. */
	const char *const *switches;
	/* Once every option is in. */
	int	(*check)(struct addr *, char **);
	/* Releases what parse and option made beyond the common fields. */
	void	(*free)(struct addr *);
	/*
	 * Whether splice(2) takes its descriptor for reading, or writing
	 * (a stream socket, a pipe); NULL: never.
	 */
	int	(*splices)(const struct addr *, int);
	/* KIND_MESSAGES: the largest message it sends (NULL: any size). */
	size_t	(*message_max)(const struct addr *);
	const struct transport_ops *ops;	/* open, read, write, ... */
	const struct kind_listen *listen;	/* listeners only */
};

extern const struct kind kind_stdio;

#include <stdio.h>

const struct kind *kind_find(const char *, size_t, int *);
void	 kind_help(FILE *, int);

size_t	 kind_message_max(const struct addr *);
const struct kind *kind_dials(const struct addr *);
int	 kind_splices(const struct addr *, int);
int	 kind_splices_always(const struct addr *, int);
int	 kind_arg_path(struct addr *, const char *, size_t, char **);
int	 kind_arg_hostport(struct addr *, const char *, int, char **);

/* How kind_hostport reads its argument. */
#define HOSTPORT_CONNECT	0	/* HOST:PORT */
#define HOSTPORT_LISTEN		1	/* [HOST:]PORT, PORT 0: any */
#define HOSTPORT_SOURCE		2	/* HOST[:PORT] or :PORT (bind=) */

int	 kind_hostport(const char *, const char *, int, char **, char **,
	     char **);

#endif
