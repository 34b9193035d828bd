/*
 * Diagnostics: one prefix, one place, libevent's own warnings included.
 * The --progress status line is drawn here too, so every other line can
 * erase it, print, and draw it again in one write: nothing tears it.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "util.h"

/* Back to the line's start, and erase to its end (ANSI, as pv does). */
#define CR		"\r"
#define ERASE_EOL	"\033[K"

/* A hex dump is written this many lines at a time. */
#define HEXDUMP_BATCH	32

static int	 verbosity;
static char	*status;		/* the status line, NULL: none */
static int	 status_shown;		/* it is on the screen now */

static void	log_vwrite(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static void	log_emit(const char *, size_t, const char *, size_t);
static void	put(struct iovec *, int);
static void	libevent_log_cb(int, const char *);

/*
 * Write all of iov to stderr in one writev where the terminal takes it.
 * A non-blocking stderr (one open file shared with a non-blocking stdin
 * or stdout) that is full drops the rest, as stdio would.
 */
static void
put(struct iovec *iov, int n)
{
	ssize_t	 w;
	int	 saved = errno;

	while (n > 0) {
		if ((w = writev(STDERR_FILENO, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	errno = saved;
}

/*
 * Lines (each ending in a newline): a and b, one after the other.  With a
 * status line on the screen, it is erased first and drawn again below
 * them, in the same write.
 */
static void
log_emit(const char *a, size_t alen, const char *b, size_t blen)
{
	struct iovec	 iov[6];
	int		 n = 0;

	if (status_shown) {
		iov[n].iov_base = (void *)(CR ERASE_EOL);
		iov[n++].iov_len = sizeof(CR ERASE_EOL) - 1;
	}
	iov[n].iov_base = (void *)a;
	iov[n++].iov_len = alen;
	iov[n].iov_base = (void *)b;
	iov[n++].iov_len = blen;
	if (status != NULL) {
		iov[n].iov_base = (void *)CR;
		iov[n++].iov_len = sizeof CR - 1;
		iov[n].iov_base = status;
		iov[n++].iov_len = strlen(status);
		iov[n].iov_base = (void *)ERASE_EOL;
		iov[n++].iov_len = sizeof ERASE_EOL - 1;
		status_shown = 1;
	}
	put(iov, n);
}

static void
log_vwrite(const char *fmt, va_list ap)
{
	char	 line[1024], *big = NULL, *msg;
	va_list	 again;
	int	 n;

	va_copy(again, ap);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	/* Too long for the line: whole all the same, the reason is last. */
	if (n >= (int)sizeof line - 1 && vasprintf(&big, fmt, again) == -1)
		big = NULL;
	va_end(again);
	if (n < 0)
		n = 0;
	if (big != NULL)
		msg = big;
	else {
		msg = line;
		if (n > (int)sizeof line - 2)
			n = (int)sizeof line - 2;
	}
	/* One write per line keeps concurrent writers from interleaving. */
	msg[n] = '\n';
	log_emit("weir: ", 6, msg, (size_t)n + 1);
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
	char			 batch[HEXDUMP_BATCH * 96];
	size_t			 off, i, n, at, used = 0;

	log_warnx("%c %zu B %s -> %s", dir, len, from, to);
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
		used += (size_t)snprintf(batch + used, sizeof batch - used,
		    "weir: %c %04zx  %s |%s|\n", dir, off, hex, text);
		/* Whole lines per write, the status line redrawn per batch. */
		if (sizeof batch - used < 96 || off + 16 >= len) {
			log_emit(batch, used, "", 0);
			used = 0;
		}
	}
}

/*
 * Show line as the status line (--progress), drawn in place with a
 * carriage return; NULL erases it for good.  The caller keeps it within
 * the terminal's width, so it never wraps.
 */
void
log_status(const char *line)
{
	struct iovec	 iov[3];

	if (line == NULL) {
		log_status_erase();
		free(status);
		status = NULL;
		return;
	}
	if (status_shown && strcmp(status, line) == 0)
		return;
	free(status);
	status = xstrdup(line);
	iov[0].iov_base = (void *)CR;
	iov[0].iov_len = sizeof CR - 1;
	iov[1].iov_base = status;
	iov[1].iov_len = strlen(status);
	iov[2].iov_base = (void *)ERASE_EOL;
	iov[2].iov_len = sizeof ERASE_EOL - 1;
	put(iov, 3);
	status_shown = 1;
}

/*
 * Take the status line off the screen, for a writer that does not come
 * through here (--stats on SIGUSR1) or before _exit; the next log line
 * or log_status draws it again.
 */
void
log_status_erase(void)
{
	struct iovec	 iov;

	if (!status_shown)
		return;
	iov.iov_base = (void *)(CR ERASE_EOL);
	iov.iov_len = sizeof(CR ERASE_EOL) - 1;
	put(&iov, 1);
	status_shown = 0;
}
