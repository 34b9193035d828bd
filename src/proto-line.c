/*
 * line: a frame is the bytes before a delimiter.  memchr finds the
 * delimiter; a line is copied only when it spans feeds.  With crlf a line
 * still ends at LF and one CR just before it is dropped.
 */
#include <string.h>

#include "proto-codec.h"

static int	too_long(const struct proto_dec *, const char *, size_t,
		    size_t *);

/* Byte i of the current line: held bytes first, then those at q. */
static unsigned char
byte_at(const struct proto_dec *d, const char *q, size_t i)
{
	return (unsigned char)(i < d->len ? d->buf[i] : q[i - d->len]);
}

/*
 * Whether a line whose first total bytes are known (the held ones, then
 * those at q) is over max-frame, and if so which byte made it so.  With
 * crlf, byte max-frame may be the CR that is dropped before LF: then only
 * a byte after it is too many.
 */
static int
too_long(const struct proto_dec *d, const char *q, size_t total, size_t *bad)
{
	size_t	 max = d->opts.max_frame;

	if (total <= max)
		return 0;
	if (!d->opts.crlf || byte_at(d, q, max) != '\r') {
		*bad = max;
		return 1;
	}
	if (total > max + 1) {
		*bad = max + 1;
		return 1;
	}
	return 0;
}

enum proto_status
proto_line_feed(struct proto_dec *d, const char *p, size_t n, size_t *used,
    struct proto_frame *f)
{
	const struct proto_opts	*o = &d->opts;
	const char		*q = p, *end = p + n, *nl, *data;
	size_t			 take, plen, bad;

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
		if (too_long(d, q, d->len + take, &bad)) {
			*used = (size_t)(q - p);
			if (!o->skip)
				return proto_dec_fail(d, d->start + bad,
				    byte_at(d, q, bad), "longer than max-frame "
				    "(%zu)", o->max_frame);
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
		d->start = d->offset;
		q = nl + 1;
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
