/*
 * Protocols cut what a producer reads into frames and build what a
 * consumer writes from frames.  relay is the first: a frame is whatever
 * one read returned, passed on untouched.
 */
#ifndef WEIR_PROTO_H
#define WEIR_PROTO_H

#include <stdint.h>

struct evbuffer;
struct proto;

struct proto	*proto_new(const char *, const char *);
void		 proto_free(struct proto *);
const char	*proto_in_name(const struct proto *);
const char	*proto_out_name(const struct proto *);
int		 proto_forward(struct proto *, struct evbuffer *,
		    struct evbuffer *, uint64_t *);

#endif
