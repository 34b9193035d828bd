/*
 * netstring: LEN:DATA, as D. J. Bernstein defined it.  LEN is decimal
 * with no leading zeros and is checked against max-frame digit by digit,
 * so an absurd length fails at once, before any data or allocation.
 */
#include <string.h>

#include "proto-codec.h"

enum {
	NS_START,		/* before the first digit */
	NS_ZERO,		/* LEN is "0": ':' must follow */
	NS_LEN,			/* in the digits */
	NS_DATA,		/* in the payload */
	NS_COMMA		/* the payload is complete, ',' must follow */
};

static enum proto_status too_long(struct proto_dec *, int);

int
proto_netstring_idle(const struct proto_dec *d)
{
	return d->state == NS_START;
}

/* A length over max-frame: an error, or its frame is skipped. */
static enum proto_status
too_long(struct proto_dec *d, int c)
{
	if (!d->opts.skip)
		return proto_dec_fail(d, d->offset, c,
		    "length exceeds max-frame (%zu)", d->opts.max_frame);
	d->skipping = 1;
	return PROTO_MORE;
}

enum proto_status
proto_netstring_feed(struct proto_dec *d, const char *p, size_t n,
    size_t *used, struct proto_frame *f)
{
	const char	*q = p, *end = p + n;
	size_t		 take;
	int		 c;

	while (q < end) {
		c = (unsigned char)*q;
		*used = (size_t)(q - p);
		switch (d->state) {
		case NS_START:
			if (c < '0' || c > '9')
				return proto_dec_fail(d, d->offset, c,
				    "length expected");
			d->start = d->offset;
			d->want = (uint64_t)(c - '0');
			d->have = 0;
			d->len = 0;
			d->skipping = 0;
			d->state = c == '0' ? NS_ZERO : NS_LEN;
			if (d->want > d->opts.max_frame &&
			    too_long(d, c) == PROTO_ERROR)
				return PROTO_ERROR;
			break;
		case NS_ZERO:
			if (c >= '0' && c <= '9')
				return proto_dec_fail(d, d->offset, c,
				    "length has a leading zero");
			if (c != ':')
				return proto_dec_fail(d, d->offset, c,
				    "':' expected after the length");
			d->state = NS_DATA;
			break;
		case NS_LEN:
			if (c == ':') {
				d->state = NS_DATA;
				break;
			}
			if (c < '0' || c > '9')
				return proto_dec_fail(d, d->offset, c,
				    "':' expected after the length");
			if (d->want > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
				return proto_dec_fail(d, d->offset, c,
				    "length too large");
			d->want = d->want * 10 + (uint64_t)(c - '0');
			if (d->want > d->opts.max_frame && !d->skipping &&
			    too_long(d, c) == PROTO_ERROR)
				return PROTO_ERROR;
			break;
		case NS_DATA:
			take = (size_t)(end - q);
			if (take > d->want - d->have)
				take = (size_t)(d->want - d->have);
			if (!d->skipping && d->have == 0 && take == d->want &&
			    take < (size_t)(end - q)) {
				/* Payload and comma are both here: no copy. */
				if (q[take] != ',') {
					d->offset += take;
					*used += take;
					return proto_dec_fail(d, d->offset,
					    (unsigned char)q[take], "',' expected "
					    "after %llu-byte payload",
					    (unsigned long long)d->want);
				}
				d->offset += take + 1;
				d->start = d->offset;	/* none of the next */
				d->state = NS_START;
				*used = (size_t)(q - p) + take + 1;
				f->data = q;
				f->len = take;
				return PROTO_FRAME;
			}
			if (!d->skipping)
				proto_dec_hold(d, q, take);
			d->have += take;
			d->offset += take;
			q += take;
			if (d->have == d->want)
				d->state = NS_COMMA;
			continue;
		case NS_COMMA:
			if (c != ',')
				return proto_dec_fail(d, d->offset, c,
				    "',' expected after %llu-byte payload",
				    (unsigned long long)d->want);
			d->offset++;
			q++;
			d->state = NS_START;
			if (d->skipping) {
				d->skipping = 0;
				d->skipped++;
				continue;
			}
			*used = (size_t)(q - p);
			d->start = d->offset;	/* none of the next */
			f->data = d->len > 0 ? d->buf : q;
			f->len = d->len;
			d->len = 0;
			return PROTO_FRAME;
		}
		q++;
		d->offset++;
	}
	*used = n;
	return PROTO_MORE;
}

enum proto_status
proto_netstring_end(struct proto_dec *d, struct proto_frame *f)
{
	(void)f;
	if (d->state == NS_START)
		return PROTO_MORE;
	return proto_dec_fail(d, d->offset, -1,
	    "end of input inside a frame");
}

size_t
proto_netstring_enc_size(size_t len)
{
	size_t	 digits = 1, v = len;

	while (v >= 10) {
		v /= 10;
		digits++;
	}
	return digits + 1 + len + 1;
}

/* LEN ":" DATA ","; the digits by hand, as snprintf costs more than a frame. */
size_t
proto_netstring_enc_write(char *dst, const char *p, size_t len)
{
	char	 digits[24];
	size_t	 n = 0, i, v = len;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		dst[i] = digits[n - 1 - i];
	dst[n] = ':';
	if (len > 0)
		memcpy(dst + n + 1, p, len);
	dst[n + 1 + len] = ',';
	return n + 1 + len + 1;
}
