/* relay: a frame is whatever one read returned, bytes untouched. */
#include "proto-codec.h"

enum proto_status
proto_relay_feed(struct proto_dec *d, const char *p, size_t n, size_t *used,
    struct proto_frame *f)
{
	*used = n;
	d->offset += n;
	d->start = d->offset;
	if (n == 0)
		return PROTO_MORE;
	f->data = p;
	f->len = n;
	return PROTO_FRAME;
}
