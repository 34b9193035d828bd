/*
 * UTF-8 validation, one byte at a time after the lead byte: each lead
 * byte sets how many continuation bytes follow and the range the first
 * of them must fall in, which is what excludes overlong forms (E0, F0),
 * surrogates (ED) and code points over U+10FFFF (F4).
 */
#include "utf8.h"

void
utf8_init(struct utf8 *u)
{
	u->need = 0;
	u->lo = 0x80;
	u->hi = 0xbf;
}

/*
 * A lead byte: 0 when it starts no sequence (lo and hi are then as they
 * were, as they always are between characters), else the bytes to follow.
 */
static int
lead(struct utf8 *u, unsigned char c)
{
	u->lo = 0x80;
	u->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 1;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			u->lo = 0xa0;
		else if (c == 0xed)
			u->hi = 0x9f;
		return 2;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			u->lo = 0x90;
		else if (c == 0xf4)
			u->hi = 0x8f;
		return 3;
	}
	return 0;
}

/*
 * Takes n more bytes of a text.  Returns n when all of them are valid so
 * far, else the index of the first invalid one, with u left as it was
 * just before that byte.
 */
size_t
utf8_feed(struct utf8 *u, const char *p, size_t n)
{
	size_t		 i;
	unsigned char	 c;
	int		 k;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				return i;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xbf;
		} else if (c >= 0x80) {
			if ((k = lead(u, c)) == 0)
				return i;
			u->need = (unsigned char)k;
		}
	}
	return n;
}

/* Whether the text so far ends between characters. */
int
utf8_done(const struct utf8 *u)
{
	return u->need == 0;
}

int
utf8_valid(const char *p, size_t n)
{
	struct utf8	 u;

	utf8_init(&u);
	return utf8_feed(&u, p, n) == n && utf8_done(&u);
}

/*
 * The longest prefix of p (n bytes of valid UTF-8) of at most max bytes
 * that does not end inside a character.
 */
size_t
utf8_cut(const char *p, size_t n, size_t max)
{
	size_t	 k;

	if (n <= max)
		return n;
	/* Back over at most 3 continuation bytes to the character's start. */
	for (k = max; k > 0 && max - k < 3; k--)
		if (((unsigned char)p[k] & 0xc0) != 0x80)
			return k;
	return ((unsigned char)p[k] & 0xc0) == 0x80 ? max : k;
}
