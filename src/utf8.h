/*
 * A strict UTF-8 validator (RFC 3629): no overlong forms, no surrogates
 * (U+D800..DFFF), nothing over U+10FFFF, no stray continuation bytes.
 * Incremental: a text may arrive in pieces, and an invalid byte is found
 * in the piece that holds it.
 */
#ifndef WEIR_UTF8_H
#define WEIR_UTF8_H

#include <stddef.h>

/* Where a text is, between pieces; a value, its fields are utf8.c's. */
struct utf8 {
	unsigned char	 need;		/* continuation bytes still to come */
	unsigned char	 lo, hi;	/* the range of the next one */
};

void	 utf8_init(struct utf8 *);
/* n more bytes: n when valid so far, else the first bad byte's index. */
size_t	 utf8_feed(struct utf8 *, const char *, size_t);
/* Whether the text so far ends between characters. */
int	 utf8_done(const struct utf8 *);
/* Whether n bytes are valid UTF-8, whole. */
int	 utf8_valid(const char *, size_t);
/* The longest prefix of at most max bytes not cut inside a character. */
size_t	 utf8_cut(const char *, size_t, size_t);

#endif
