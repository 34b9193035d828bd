/*
 * libFuzzer target for the line decoder: options from the first bytes
 * (see fuzz-common.h), the rest decoded whole, byte by byte and in chunks,
 * which must agree; frames never hold the delimiter, and encoding them
 * gives back the input (without skipping) and decodes to the same frames.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fz_run	 whole, bytes, chunks, again;
static char		*enc;
static size_t		 enccap;

/* The frames encoded back to back (enc, returned length). */
static size_t
encode_all(const struct proto_opts *o, const struct fz_run *r)
{
	size_t	 i, need, off;

	for (i = 0, need = 0; i < r->n; i++)
		need += proto_enc_size(o, r->lens[i]);
	if (need + 1 > enccap) {
		enccap = need + 1;
		if ((enc = realloc(enc, enccap)) == NULL)
			abort();
	}
	for (i = 0, off = 0, need = 0; i < r->n; i++) {
		need += proto_enc_write(o, enc + need, r->data + off,
		    r->lens[i]);
		off += r->lens[i];
	}
	return need;
}

/*
 * Whether the lines, each followed by a bare delimiter (e), are what a
 * clean decode without skipping read: the input, less one CR before each
 * LF with crlf, plus a delimiter when its last line had none.
 */
static int
same_as_input(const struct proto_opts *o, const char *in, size_t len,
    const char *e, size_t elen)
{
	size_t	 i, k;

	for (i = 0, k = 0; i < len; i++) {
		if (o->crlf && in[i] == '\r' && i + 1 < len &&
		    in[i + 1] == '\n')
			continue;
		if (k >= elen || e[k] != in[i])
			return 0;
		k++;
	}
	if (len > 0 && (unsigned char)in[len - 1] != o->delim)
		return k + 1 == elen && (unsigned char)e[k] == o->delim;
	return k == elen;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_opts	 o, bare;
	const char		*in;
	size_t			 len, i, elen;

	if (size < 3)
		return 0;
	fz_opts(data, &o, PROTO_LINE);
	in = (const char *)data + 3;
	len = size - 3;

	fz_decode(&o, in, len, FZ_WHOLE, 0, &whole);
	fz_decode(&o, in, len, FZ_CHUNKS, data[2], &chunks);
	fz_same(&whole, &chunks);
	if (len <= 4096) {
		fz_decode(&o, in, len, FZ_BYTES, 0, &bytes);
		fz_same(&whole, &bytes);
	}

	for (i = 0; i < whole.len; i++)
		if ((unsigned char)whole.data[i] == o.delim)
			fz_bug("a line holds its delimiter");

	if (!whole.fails && !o.skip) {
		bare = o;
		bare.crlf = 0;
		elen = encode_all(&bare, &whole);
		if (!same_as_input(&o, in, len, enc, elen))
			fz_bug("the lines encoded are not the input");
	}
	elen = encode_all(&o, &whole);
	fz_decode(&o, enc, elen, FZ_CHUNKS, data[2] ^ 0x55, &again);
	if (again.fails || again.skipped != 0)
		fz_bug("the lines encoded do not decode");
	fz_same_frames(&whole, &again);
	return 0;
}
