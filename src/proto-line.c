/*
 * line: a frame is the bytes before a delimiter.  memchr finds the
 * delimiter; a line is copied only when it spans feeds.  With crlf a line
 * still ends at LF and one CR just before it is dropped.
 */
#include <string.h>

#include "proto-codec.h"

static enum proto_status oversize(struct proto_dec *, int);

/* A line longer than max-frame: an error, or skipped when asked. */
static enum proto_status
oversize(struct proto_dec *d, int c)
{
	if (!d->opts.skip)
		return proto_dec_fail(d, d->start + d->opts.max_frame +
		    (d->opts.crlf ? 1 : 0), c, "longer than max-frame (%zu)",
		    d->opts.max_frame);
	return PROTO_MORE;
}

enum proto_status
proto_line_feed(struct proto_dec *d, const char *p, size_t n, size_t *used,
    struct proto_frame *f)
{
	const struct proto_opts	*o = &d->opts;
	/* With crlf the byte after max-frame may be a CR yet to be dropped. */
	size_t			 limit = o->max_frame + (o->crlf ? 1 : 0);
	const char		*q = p, *end = p + n, *nl, *data;
	size_t			 take, plen;

	while (q < end) {
		nl = memchr(q, o->delim, (size_t)(end - q));
		take = (size_t)((nl != NULL ? nl : end) - q);
		if (d->skipping) {
			d->offset += take;
			if (nl == NULL)
				break;
			d->offset++;
			q = nl + 1;
			d->skipping = 0;
			d->skipped++;
			d->start = d->offset;
			continue;
		}
		if (d->len + take > limit) {
			*used = (size_t)(q - p);
			if (oversize(d, (unsigned char)q[limit - d->len]) ==
			    PROTO_ERROR)
				return PROTO_ERROR;
			d->len = 0;
			d->skipping = 1;
			continue;
		}
		if (nl == NULL) {
			proto_dec_hold(d, q, take);
			d->offset += take;
			break;
		}
		if (d->len == 0) {
			data = q;
			plen = take;
		} else {
			proto_dec_hold(d, q, take);
			data = d->buf;
			plen = d->len;
			d->len = 0;
		}
		if (o->crlf && plen > 0 && data[plen - 1] == '\r')
			plen--;
		d->offset += take + 1;
		q = nl + 1;
		if (plen > o->max_frame) {
			*used = (size_t)(q - p);
			if (!o->skip)
				return proto_dec_fail(d, d->start + o->max_frame,
				    (unsigned char)data[o->max_frame],
				    "longer than max-frame (%zu)",
				    o->max_frame);
			d->skipped++;
			d->start = d->offset;
			continue;
		}
		d->start = d->offset;
		*used = (size_t)(q - p);
		f->data = data;
		f->len = plen;
		return PROTO_FRAME;
	}
	*used = n;
	return PROTO_MORE;
}

/* End of input: a last line without its delimiter is still a frame. */
enum proto_status
proto_line_end(struct proto_dec *d, struct proto_frame *f)
{
	if (d->skipping) {
		d->skipping = 0;
		d->skipped++;
		return PROTO_MORE;
	}
	if (d->len == 0)
		return PROTO_MORE;
	if (d->len > d->opts.max_frame) {
		if (!d->opts.skip)
			return proto_dec_fail(d, d->start + d->opts.max_frame,
			    (unsigned char)d->buf[d->opts.max_frame],
			    "longer than max-frame (%zu)", d->opts.max_frame);
		d->len = 0;
		d->skipped++;
		return PROTO_MORE;
	}
	f->data = d->buf;
	f->len = d->len;
	d->len = 0;
	d->start = d->offset;
	return PROTO_FRAME;
}
