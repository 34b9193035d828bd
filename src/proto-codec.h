/*
 * The decoder state every codec shares; only proto-*.c include this.
 */
#ifndef WEIR_PROTO_CODEC_H
#define WEIR_PROTO_CODEC_H

#include "proto.h"

struct proto_dec {
	struct proto_opts opts;
	uint64_t	 offset;	/* stream offset of the next byte */
	uint64_t	 start;		/* where the current frame began */
	uint64_t	 skipped;	/* oversize frames skipped */
	int		 failed;
	char		 err[192];
	char		*buf;		/* a frame that spans feeds */
	size_t		 len;
	size_t		 cap;
	int		 skipping;	/* discarding an oversize frame */
	int		 state;		/* netstring */
	uint64_t	 want;		/* netstring: declared length */
	uint64_t	 have;		/* netstring: payload bytes so far */
};

enum proto_status proto_dec_fail(struct proto_dec *, uint64_t, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void		 proto_dec_hold(struct proto_dec *, const char *, size_t);

enum proto_status proto_relay_feed(struct proto_dec *, const char *, size_t,
		    size_t *, struct proto_frame *);
enum proto_status proto_line_feed(struct proto_dec *, const char *, size_t,
		    size_t *, struct proto_frame *);
enum proto_status proto_line_end(struct proto_dec *, struct proto_frame *);
int		 proto_netstring_idle(const struct proto_dec *);
enum proto_status proto_netstring_feed(struct proto_dec *, const char *,
		    size_t, size_t *, struct proto_frame *);
enum proto_status proto_netstring_end(struct proto_dec *,
		    struct proto_frame *);
size_t		 proto_netstring_enc_size(size_t);
size_t		 proto_netstring_enc_write(char *, const char *, size_t);

#endif
