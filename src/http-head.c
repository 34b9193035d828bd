/*
 * An HTTP/1.1 head, one byte at a time, so a byte that breaks the
 * grammar fails in the feed that holds it: a client that sends anything
 * but HTTP is turned away at once, not after 8 KiB.  The head is kept in
 * one buffer whose bytes sit at their offsets in the head; the byte
 * after each part (a space, ':', CR or LF, or trailing whitespace) is
 * overwritten with NUL, so the parts are C strings in place.  NUL is
 * never valid in a head, so none is lost.  Lines end in CRLF or a bare
 * LF; a bare CR is an error, and so is obsolete line folding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-head.h"
#include "util.h"

enum {
	R_METHOD,		/* request: in the method */
	R_TARGET,		/* in the request target */
	V_NAME,			/* in "HTTP/" */
	V_MAJOR,		/* its major digit */
	V_DOT,
	V_MINOR,
	V_END,			/* after the version: SP or the line's end */
	C_CODE,			/* response: in the status code */
	C_END,			/* after it: SP or the line's end */
	C_REASON,		/* in the reason phrase */
	L_LF,			/* a CR read, LF must follow */
	F_START,		/* at the start of a field line */
	F_NAME,			/* in a field name */
	F_OWS,			/* after ':' */
	F_VALUE,		/* in a field value */
	E_LF,			/* a CR on the blank line, LF must follow */
	DONE,
	FAILED
};

struct field {
	size_t		 name;		/* offsets in buf */
	size_t		 value;
};

struct http_head {
	enum http_head_kind kind;
	size_t		 max;
	char		*buf;		/* the head, max bytes at most */
	size_t		 len;
	int		 state;
	char		 err[192];
	size_t		 part;		/* where the current part began */
	size_t		 value;		/* where a field value began */
	size_t		 vend;		/* ... and its end, OWS left out */
	int		 version;
	int		 code;
	size_t		 reason;	/* where the reason phrase is */
	int		 ndigits;
	struct field	*fields;
	size_t		 nfields, cap;
};

static int	 fail(struct http_head *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 is_tchar(int);
static int	 is_vchar(int);
static int	 start_line(struct http_head *, int);
static int	 version_byte(struct http_head *, int);
static int	 status_byte(struct http_head *, int);
static int	 field_byte(struct http_head *, int);
static int	 line_end(struct http_head *, int);
static void	 field_add(struct http_head *);
static int	 step(struct http_head *, int);
static int	 list_has(const struct http_head *, const char *, const char *,
		    int);

struct http_head *
http_head_new(enum http_head_kind kind, size_t max)
{
	struct http_head	*h;

	h = xcalloc(1, sizeof *h);
	h->kind = kind;
	h->max = max;
	h->buf = xmalloc(max);
	h->state = kind == HTTP_HEAD_REQUEST ? R_METHOD : V_NAME;
	return h;
}

void
http_head_free(struct http_head *h)
{
	if (h == NULL)
		return;
	free(h->buf);
	free(h->fields);
	free(h);
}

/*
 * Fail for good on the byte at h->len (c, or c < 0: none): "http: <what>,
 * got 'c', at byte N", the byte escaped.  Returns -1.
 */
static int
fail(struct http_head *h, int c, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[128];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	util_codec_error(h->err, sizeof h->err, "http", what, c, h->len);
	h->state = FAILED;
	return -1;
}

/* RFC 9110 5.6.2: the characters of a token. */
static int
is_tchar(int c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Whether n bytes at s are a token (a method, a field name...). */
int
http_head_token(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* A visible character, or obs-text (bytes 0x80-0xff). */
static int
is_vchar(int c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

enum http_head_status
http_head_feed(struct http_head *h, const char *p, size_t n, size_t *used)
{
	size_t	 i;

	*used = 0;
	if (h->state == DONE)
		return HTTP_HEAD_DONE;
	if (h->state == FAILED)
		return HTTP_HEAD_ERROR;
	for (i = 0; i < n; i++) {
		if (h->len == h->max) {
			fail(h, (unsigned char)p[i], "head longer than %zu "
			    "bytes", h->max);
			return HTTP_HEAD_ERROR;
		}
		h->buf[h->len] = p[i];
		if (step(h, (unsigned char)p[i]) == -1)
			return HTTP_HEAD_ERROR;
		h->len++;
		*used = i + 1;
		if (h->state == DONE)
			return HTTP_HEAD_DONE;
	}
	return HTTP_HEAD_MORE;
}

/* One byte, stored at h->buf[h->len]. */
static int
step(struct http_head *h, int c)
{
	switch (h->state) {
	case R_METHOD:
	case R_TARGET:
		return start_line(h, c);
	case V_NAME:
	case V_MAJOR:
	case V_DOT:
	case V_MINOR:
	case V_END:
		return version_byte(h, c);
	case C_CODE:
	case C_END:
	case C_REASON:
		return status_byte(h, c);
	case L_LF:
	case E_LF:
		if (c != '\n')
			return fail(h, c, "CR not followed by LF");
		h->state = h->state == E_LF ? DONE : F_START;
		return 0;
	default:
		return field_byte(h, c);
	}
}

/* The method and the request target, each ended by one space. */
static int
start_line(struct http_head *h, int c)
{
	int	 target = h->state == R_TARGET;

	if (c == ' ' && h->len > h->part) {
		h->buf[h->len] = '\0';
		h->state = target ? V_NAME : R_TARGET;
		h->part = h->len + 1;
		return 0;
	}
	if (!target && !is_tchar(c))
		return fail(h, c, "method expected");
	if (target && !(c > 0x20 && c < 0x7f))
		return fail(h, c, "request target expected");
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT, then the line's end or a space. */
static int
version_byte(struct http_head *h, int c)
{
	switch (h->state) {
	case V_NAME:
		if (c != "HTTP/"[h->len - h->part])
			return fail(h, c, "HTTP version expected");
		if (h->len - h->part == 4)
			h->state = V_MAJOR;
		return 0;
	case V_MAJOR:
	case V_MINOR:
		if (c < '0' || c > '9')
			return fail(h, c, "HTTP version expected");
		h->version = h->version * 10 + (c - '0');
		h->state = h->state == V_MAJOR ? V_DOT : V_END;
		return 0;
	case V_DOT:
		if (c != '.')
			return fail(h, c, "HTTP version expected");
		h->state = V_MINOR;
		return 0;
	}
	if (h->kind == HTTP_HEAD_REQUEST)
		return line_end(h, c);
	if (c != ' ')
		return fail(h, c, "space expected after the HTTP version");
	h->state = C_CODE;
	h->part = h->len + 1;
	return 0;
}

/* Three digits, then a space and the reason phrase, or the line's end. */
static int
status_byte(struct http_head *h, int c)
{
	if (h->state == C_CODE) {
		if (c < '0' || c > '9')
			return fail(h, c, "3-digit status code expected");
		h->code = h->code * 10 + (c - '0');
		if (++h->ndigits == 3)
			h->state = C_END;
		return 0;
	}
	if (h->state == C_END && c == ' ') {
		h->state = C_REASON;
		h->part = h->len + 1;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		if (h->state == C_END)
			h->part = h->len;
		h->reason = h->part;
		h->buf[h->len] = '\0';
		return line_end(h, c);
	}
	if (h->state == C_END)
		return fail(h, c, "space expected after the status code");
	if (!is_vchar(c) && c != ' ' && c != '\t')
		return fail(h, c, "invalid character in the reason phrase");
	return 0;
}

/* CR LF, or a bare LF, ends a line before the blank one. */
static int
line_end(struct http_head *h, int c)
{
	if (c == '\r') {
		h->state = L_LF;
		return 0;
	}
	if (c == '\n') {
		h->state = F_START;
		return 0;
	}
	return fail(h, c, "end of line expected");
}

/* A field line: token ':' OWS value OWS, or the blank line. */
static int
field_byte(struct http_head *h, int c)
{
	switch (h->state) {
	case F_START:
		if (c == '\r' || c == '\n') {
			h->state = c == '\r' ? E_LF : DONE;
			return 0;
		}
		if (c == ' ' || c == '\t')
			return fail(h, c, "obsolete line folding");
		if (!is_tchar(c))
			return fail(h, c, "field name expected");
		h->part = h->len;
		h->state = F_NAME;
		return 0;
	case F_NAME:
		if (c == ':') {
			h->buf[h->len] = '\0';
			h->value = h->vend = h->len + 1;
			h->state = F_OWS;
			return 0;
		}
		if (!is_tchar(c))
			return fail(h, c, "invalid character in a field name");
		return 0;
	}
	if (c == '\r' || c == '\n') {
		if (h->state == F_OWS)
			h->value = h->vend = h->len;
		field_add(h);
		return line_end(h, c);
	}
	if (c == ' ' || c == '\t')
		return 0;
	if (!is_vchar(c))
		return fail(h, c, "invalid character in a field value");
	if (h->state == F_OWS) {
		h->value = h->len;
		h->state = F_VALUE;
	}
	h->vend = h->len + 1;
	return 0;
}

/* The field line just read: its name at part, its value up to vend. */
static void
field_add(struct http_head *h)
{
	struct field	*f;

	if (h->nfields == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->fields = xrealloc(h->fields, h->cap * sizeof *h->fields);
	}
	f = &h->fields[h->nfields++];
	f->name = h->part;
	f->value = h->value;
	h->buf[h->vend] = '\0';
}

const char *
http_head_error(const struct http_head *h)
{
	return h->state == FAILED ? h->err : NULL;
}

const char *
http_head_method(const struct http_head *h)
{
	if (h->state != DONE || h->kind != HTTP_HEAD_REQUEST)
		return NULL;
	return h->buf;
}

const char *
http_head_target(const struct http_head *h)
{
	if (h->state != DONE || h->kind != HTTP_HEAD_REQUEST)
		return NULL;
	return h->buf + strlen(h->buf) + 1;
}

int
http_head_version(const struct http_head *h)
{
	return h->state == DONE ? h->version : 0;
}

int
http_head_code(const struct http_head *h)
{
	if (h->state != DONE || h->kind != HTTP_HEAD_RESPONSE)
		return 0;
	return h->code;
}

const char *
http_head_reason(const struct http_head *h)
{
	if (h->state != DONE || h->kind != HTTP_HEAD_RESPONSE)
		return NULL;
	return h->buf + h->reason;
}

/* Field i (from 0) in the order received: -1 past the last. */
int
http_head_field(const struct http_head *h, size_t i, const char **name,
    const char **value)
{
	if (h->state != DONE || i >= h->nfields)
		return -1;
	*name = h->buf + h->fields[i].name;
	*value = h->buf + h->fields[i].value;
	return 0;
}

/* The value of the first field named name, or NULL. */
const char *
http_head_get(const struct http_head *h, const char *name)
{
	size_t	 i;

	if (h->state != DONE)
		return NULL;
	for (i = 0; i < h->nfields; i++)
		if (strcasecmp(h->buf + h->fields[i].name, name) == 0)
			return h->buf + h->fields[i].value;
	return NULL;
}

/* How many fields are named name. */
size_t
http_head_count(const struct http_head *h, const char *name)
{
	size_t	 i, n = 0;

	if (h->state != DONE)
		return 0;
	for (i = 0; i < h->nfields; i++)
		if (strcasecmp(h->buf + h->fields[i].name, name) == 0)
			n++;
	return n;
}

int
http_head_has_token(const struct http_head *h, const char *name,
    const char *token)
{
	return list_has(h, name, token, 1);
}

int
http_head_has_exact(const struct http_head *h, const char *name,
    const char *token)
{
	return list_has(h, name, token, 0);
}

/*
 * Whether the fields named name, as one comma-separated list (RFC 9110
 * 5.6.1: elements trimmed of OWS, empty ones ignored), hold token.
 */
static int
list_has(const struct http_head *h, const char *name, const char *token,
    int anycase)
{
	const char	*v, *e;
	size_t		 i, len = strlen(token), n;

	if (h->state != DONE)
		return 0;
	for (i = 0; i < h->nfields; i++) {
		if (strcasecmp(h->buf + h->fields[i].name, name) != 0)
			continue;
		for (v = h->buf + h->fields[i].value; *v != '\0'; v = e) {
			v += strspn(v, " \t,");
			e = v + strcspn(v, ",");
			for (n = (size_t)(e - v); n > 0 &&
			    (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
				;
			if (n == len && n > 0 && (anycase ? strncasecmp(v,
			    token, n) : strncmp(v, token, n)) == 0)
				return 1;
		}
	}
	return 0;
}
