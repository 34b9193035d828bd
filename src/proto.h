/*
 * Protocols: how a stream is cut into frames and how frames are written.
 *
 * The codecs are sans-IO: a decoder takes bytes and gives frames, an
 * encoder takes a frame and gives bytes; neither does I/O nor knows
 * libevent, so they are tested and fuzzed on their own (tests/unit,
 * tests/fuzz).  struct proto, at the end, is one direction's glue: it
 * feeds a producer's buffer through a decoder and an encoder into a
 * consumer's buffer.
 */
#ifndef WEIR_PROTO_H
#define WEIR_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum proto_kind {
	PROTO_RELAY,		/* a frame is whatever one read returned */
	PROTO_LINE,		/* bytes before a delimiter */
	PROTO_NETSTRING		/* LEN:DATA, */
};

struct proto_opts {
	enum proto_kind	 kind;
	unsigned char	 delim;		/* line: the delimiter byte */
	int		 crlf;		/* line: CRLF out, one CR before LF dropped in */
	size_t		 max_frame;	/* largest payload accepted */
	int		 skip;		/* oversize: skip (count) instead of error */
};

#define PROTO_DEFAULT_MAX_FRAME	(1024 * 1024)

enum proto_status {
	PROTO_MORE,		/* all input used, no whole frame yet */
	PROTO_FRAME,		/* a frame is ready */
	PROTO_ERROR		/* sticky; proto_dec_error() says why */
};

struct proto_frame {
	const char	*data;		/* valid until the next call */
	size_t		 len;
};

struct proto_dec;

/* Decoding. */
struct proto_dec *proto_dec_new(const struct proto_opts *);
void		 proto_dec_free(struct proto_dec *);
enum proto_status proto_dec_feed(struct proto_dec *, const char *, size_t,
		    size_t *, struct proto_frame *);
enum proto_status proto_dec_end(struct proto_dec *, struct proto_frame *);
int		 proto_dec_idle(const struct proto_dec *);
const char	*proto_dec_error(const struct proto_dec *);
uint64_t	 proto_dec_skipped(const struct proto_dec *);
uint64_t	 proto_dec_partial(const struct proto_dec *);
void		 proto_dec_pass(struct proto_dec *, size_t, uint64_t);

/* Encoding. */
size_t		 proto_enc_size(const struct proto_opts *, size_t);
size_t		 proto_enc_write(const struct proto_opts *, char *,
		    const char *, size_t);

/* Names. */
const char	*proto_name(enum proto_kind);
int		 proto_parse_name(const char *, enum proto_kind *);
int		 proto_parse_delim(const char *, struct proto_opts *);

/* One direction's glue over libevent buffers. */
struct evbuffer;
struct proto;

struct proto	*proto_new(const struct proto_opts *, const struct proto_opts *,
		    int, size_t);
void		 proto_free(struct proto *);
int		 proto_forward(struct proto *, struct evbuffer *,
		    struct evbuffer *, int, uint64_t, uint64_t *);
const char	*proto_error(const struct proto *);
uint64_t	 proto_skipped(const struct proto *);
uint64_t	 proto_partial(const struct proto *);
const size_t	*proto_frames(const struct proto *, size_t *);

#endif
