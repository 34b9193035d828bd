/*
 * What the codecs share: the decoder object, its sticky error, the buffer
 * for frames that span feeds, encoding dispatch and protocol names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto-codec.h"
#include "util.h"


static const char *const names[] = {
	[PROTO_RELAY] = "relay",
	[PROTO_LINE] = "line",
	[PROTO_NETSTRING] = "netstring"
};

const char *
proto_name(enum proto_kind kind)
{
	return names[kind];
}

int
proto_parse_name(const char *s, enum proto_kind *kind)
{
	size_t	 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			*kind = (enum proto_kind)i;
			return 0;
		}
	return -1;
}

/* lf, crlf, nul, one character, or \xHH. */
int
proto_parse_delim(const char *s, struct proto_opts *o)
{
	int	 hi, lo;

	o->crlf = 0;
	if (strcmp(s, "lf") == 0)
		o->delim = '\n';
	else if (strcmp(s, "crlf") == 0) {
		o->delim = '\n';
		o->crlf = 1;
	} else if (strcmp(s, "nul") == 0)
		o->delim = '\0';
	else if (s[0] != '\0' && s[1] == '\0')
		o->delim = (unsigned char)s[0];
	else if (s[0] == '\\' && s[1] == 'x' && (hi = util_hexval(s[2])) >= 0 &&
	    (lo = util_hexval(s[3])) >= 0 && s[4] == '\0')
		o->delim = (unsigned char)(hi << 4 | lo);
	else
		return -1;
	return 0;
}

struct proto_dec *
proto_dec_new(const struct proto_opts *opts)
{
	struct proto_dec	*d;

	d = xcalloc(1, sizeof *d);
	d->opts = *opts;
	return d;
}

void
proto_dec_free(struct proto_dec *d)
{
	if (d == NULL)
		return;
	free(d->buf);
	free(d);
}

/*
 * Fail for good: "<proto>: <what>, got 'c', at byte N" (c < 0: no byte).
 * The byte is escaped so a message never carries raw payload.
 */
enum proto_status
proto_dec_fail(struct proto_dec *d, uint64_t at, int c, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[128];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	util_codec_error(d->err, sizeof d->err, proto_name(d->opts.kind), what,
	    c, at);
	d->failed = 1;
	return PROTO_ERROR;
}

/* Keep n more bytes of a frame that spans feeds (at most max-frame + 1). */
void
proto_dec_hold(struct proto_dec *d, const char *p, size_t n)
{
	size_t	 cap;

	if (d->len + n > d->cap) {
		cap = d->cap < 256 ? 256 : d->cap;
		while (cap < d->len + n)
			cap *= 2;
		d->buf = xrealloc(d->buf, cap);
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

enum proto_status
proto_dec_feed(struct proto_dec *d, const char *p, size_t n, size_t *used,
    struct proto_frame *f)
{
	*used = 0;
	if (d->failed)
		return PROTO_ERROR;
	switch (d->opts.kind) {
	case PROTO_LINE:
		return proto_line_feed(d, p, n, used, f);
	case PROTO_NETSTRING:
		return proto_netstring_feed(d, p, n, used, f);
	default:
		return proto_relay_feed(d, p, n, used, f);
	}
}

enum proto_status
proto_dec_end(struct proto_dec *d, struct proto_frame *f)
{
	if (d->failed)
		return PROTO_ERROR;
	switch (d->opts.kind) {
	case PROTO_LINE:
		return proto_line_end(d, f);
	case PROTO_NETSTRING:
		return proto_netstring_end(d, f);
	default:
		return PROTO_MORE;
	}
}

/* At a frame boundary holding nothing: bytes may pass around it. */
int
proto_dec_idle(const struct proto_dec *d)
{
	if (d->failed || d->skipping || d->len != 0)
		return 0;
	return d->opts.kind != PROTO_NETSTRING || proto_netstring_idle(d);
}

/* The caller moved n bytes of whole frames itself; keep offsets right. */
void
proto_dec_pass(struct proto_dec *d, size_t n, uint64_t frames)
{
	(void)frames;
	d->offset += n;
	d->start = d->offset;
}

const char *
proto_dec_error(const struct proto_dec *d)
{
	return d->failed ? d->err : NULL;
}

/* Bytes of a frame begun and not finished (read, not yet deliverable). */
uint64_t
proto_dec_partial(const struct proto_dec *d)
{
	return proto_dec_idle(d) ? 0 : d->offset - d->start;
}

uint64_t
proto_dec_skipped(const struct proto_dec *d)
{
	return d->skipped;
}

size_t
proto_enc_size(const struct proto_opts *o, size_t len)
{
	switch (o->kind) {
	case PROTO_LINE:
		return len + (o->crlf ? 2 : 1);
	case PROTO_NETSTRING:
		return proto_netstring_enc_size(len);
	default:
		return len;
	}
}

size_t
proto_enc_write(const struct proto_opts *o, char *dst, const char *p,
    size_t len)
{
	switch (o->kind) {
	case PROTO_LINE:
		if (len > 0)
			memcpy(dst, p, len);
		if (o->crlf) {
			dst[len] = '\r';
			dst[len + 1] = '\n';
			return len + 2;
		}
		dst[len] = (char)o->delim;
		return len + 1;
	case PROTO_NETSTRING:
		return proto_netstring_enc_write(dst, p, len);
	default:
		if (len > 0)
			memcpy(dst, p, len);
		return len;
	}
}
