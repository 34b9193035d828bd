/* Diagnostics: one prefix, one place, libevent's own warnings included. */
#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"

static int verbosity;

static void	log_vwrite(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static void	libevent_log_cb(int, const char *);

static void
log_vwrite(const char *fmt, va_list ap)
{
	char	 line[1024], *big = NULL;
	va_list	 again;
	int	 n;

	va_copy(again, ap);
	n = vsnprintf(line, sizeof line, fmt, ap);
	/* Too long for the line: whole all the same, the reason is last. */
	if (n >= (int)sizeof line && vasprintf(&big, fmt, again) == -1)
		big = NULL;
	va_end(again);
	/* One fprintf per line keeps concurrent writers from interleaving. */
	fprintf(stderr, "weir: %s\n", big != NULL ? big : line);
	free(big);
}

static void
libevent_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

void
log_init(int verbose)
{
	verbosity = verbose;
	event_set_log_callback(libevent_log_cb);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap);
	va_end(ap);
}

/* A hex trace: a header line, then 16 bytes a line with their printable form. */
void
log_hexdump(char dir, const char *from, const char *to, const void *data,
    size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*p = data;
	char			 hex[16 * 3 + 1], text[17];
	size_t			 off, i, n, at;

	fprintf(stderr, "weir: %c %zu B %s -> %s\n", dir, len, from, to);
	for (off = 0; off < len; off += 16) {
		n = len - off < 16 ? len - off : 16;
		memset(hex, ' ', sizeof hex - 1);
		hex[sizeof hex - 1] = '\0';
		for (i = 0; i < n; i++) {
			at = i * 3 + (i >= 8);
			hex[at] = digits[p[off + i] >> 4];
			hex[at + 1] = digits[p[off + i] & 0xf];
			text[i] = isprint(p[off + i]) ? (char)p[off + i] : '.';
		}
		text[n] = '\0';
		fprintf(stderr, "weir: %c %04zx  %s |%s|\n", dir, off, hex, text);
	}
}
