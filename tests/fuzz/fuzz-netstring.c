/*
 * libFuzzer target for the netstring decoder: options from the first bytes
 * (see fuzz-common.h), the rest decoded whole, byte by byte and in chunks,
 * which must agree; the frames encoded again decode to the same frames,
 * and are the input itself when nothing failed or was skipped (the
 * encoding is canonical: no leading zeros).
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_opts	 o;
	const char		*in;
	size_t			 len, i, off, need;

	if (size < 3)
		return 0;
	fz_opts(data, &o, PROTO_NETSTRING);
	in = (const char *)data + 3;
	len = size - 3;

	fz_decode(&o, in, len, FZ_WHOLE, 0, &whole);
	fz_decode(&o, in, len, FZ_CHUNKS, data[2], &chunks);
	fz_same(&whole, &chunks);
	if (len <= 4096) {
		fz_decode(&o, in, len, FZ_BYTES, 0, &bytes);
		fz_same(&whole, &bytes);
	}

	for (i = 0, need = 0; i < whole.n; i++)
		need += proto_enc_size(&o, whole.lens[i]);
	if (need + 1 > enccap) {
		enccap = need + 1;
		if ((enc = realloc(enc, enccap)) == NULL)
			abort();
	}
	for (i = 0, off = 0, need = 0; i < whole.n; i++) {
		need += proto_enc_write(&o, enc + need, whole.data + off,
		    whole.lens[i]);
		off += whole.lens[i];
	}
	if (!whole.fails && whole.skipped == 0 &&
	    (need != len || memcmp(enc, in, len) != 0))
		fz_bug("the frames encoded are not the input");
	fz_decode(&o, enc, need, FZ_CHUNKS, data[2] ^ 0x55, &again);
	if (again.fails || again.skipped != 0)
		fz_bug("the frames encoded do not decode");
	fz_same_frames(&whole, &again);
	return 0;
}
