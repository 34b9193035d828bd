/*
 * A transport moves bytes over one stream: it reads into its input buffer,
 * writes its output buffer, can pause and resume reading, half-close after
 * draining, and close.  Every kind sits behind this one interface; the hub
 * never asks which kind it holds.  The callbacks that end something (eof,
 * shutdown, failed, closed) come from the loop, never from inside a call
 * the owner made.
 */
#ifndef WEIR_TRANSPORT_H
#define WEIR_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct addr;
struct config;
struct event_base;
struct evbuffer;
struct flow_stats;
struct transport;

/* What failed, as a transport reports it. */
enum transport_op {
	TRANSPORT_OP_OPEN,	/* open, connect, spawn */
	TRANSPORT_OP_READ,
	TRANSPORT_OP_WRITE,
	TRANSPORT_OP_CLOSE,	/* e.g. a command's exit status */
	TRANSPORT_OP_PROTO	/* input broke the kind's protocol (a frame) */
};

/* What a transport tells its owner.  Every callback gets the owner's arg. */
struct transport_cbs {
	void	(*opened)(struct transport *, void *);
	void	(*readable)(struct transport *, struct evbuffer *, void *);
	void	(*eof)(struct transport *, void *);
	void	(*wrote)(struct transport *, void *);	/* output shrank */
	void	(*shutdown)(struct transport *, void *); /* half-close done */
	void	(*failed)(struct transport *, enum transport_op, const char *,
		    void *);
	void	(*closed)(struct transport *, void *);
	/* n bytes read went straight to the sink's output (splice). */
	void	(*spliced)(struct transport *, size_t, void *);
};

/* Which halves a transport uses. */
#define TRANSPORT_READ	0x1
#define TRANSPORT_WRITE	0x2

struct transport *transport_new(struct event_base *, const struct addr *,
		    const struct config *, int, const struct transport_cbs *,
		    void *);
struct transport *transport_new_accepted(struct event_base *,
		    const struct addr *, const struct config *, int,
		    const char *, int, const struct transport_cbs *, void *);
void		 transport_set_owner(struct transport *,
		    const struct transport_cbs *, void *);
void		 transport_open(struct transport *, const struct transport *);
const char	*transport_splice(struct transport *, struct transport *);
void		 transport_read_start(struct transport *);
void		 transport_read_stop(struct transport *);
void		 transport_write(struct transport *, struct evbuffer *,
		    const size_t *, size_t);
void		 transport_write_shared(struct transport *, struct evbuffer *,
		    const size_t *, size_t);
void		 transport_shutdown(struct transport *);
void		 transport_close(struct transport *);
void		 transport_abort(struct transport *);
void		 transport_free(struct transport *);
size_t		 transport_pending(const struct transport *);
struct evbuffer	*transport_input(struct transport *);
uint64_t	 transport_lost(const struct transport *);
const char	*transport_name(const struct transport *);
struct flow_stats *transport_stats(struct transport *);
uint64_t	 transport_high_water(const struct transport *);
uint64_t	 transport_low_water(const struct transport *);
void		 transport_restore_stdio(void);
void		 transport_exec_cleanup(void);
void		 transport_exec_kill_all(void);
int		 transport_finds_ends(const struct addr *);
int		 transport_target(const struct transport *, const char **,
		    const char **);
void		 transport_partner(struct transport *,
		    const struct transport *);

#endif
