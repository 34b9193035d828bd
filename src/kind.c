/*
 * The table of kinds, and the parsers of arguments that several kinds
 * share: paths, and [HOST:]PORT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "kind.h"
#include "transport.h"
#include "util.h"

#define HOST_MAX	253	/* the longest DNS name */
#define NAME_LONG	256	/* a name longer than this is shown cut */
#define NAME_SHOWN	60	/* of a name shown cut */

extern const struct kind kind_fd, kind_file, kind_write, kind_append,
    kind_tcp, kind_tcp_listen, kind_unix, kind_unix_listen, kind_exec,
    kind_tls, kind_tls_listen, kind_udp, kind_udp_listen, kind_ws,
    kind_ws_listen, kind_wss, kind_wss_listen, kind_socks5_listen;

/* Every kind an address may name, "-" (kind_stdio) included. */
static const struct kind *const kinds[] = {
	&kind_stdio,
	&kind_fd,
	&kind_file,
	&kind_write,
	&kind_append,
	&kind_tcp,
	&kind_tcp_listen,
	&kind_unix,
	&kind_unix_listen,
	&kind_exec,
	&kind_tls,
	&kind_tls_listen,
	&kind_udp,
	&kind_udp_listen,
	&kind_ws,
	&kind_ws_listen,
	&kind_wss,
	&kind_wss_listen,
	&kind_socks5_listen,
};

static int	host_chars_ok(const char *, size_t);

static const struct kind *
kind_named(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i]->name) == len &&
		    strncasecmp(kinds[i]->name, name, len) == 0)
			return kinds[i];
	return NULL;
}

/*
 * The kind a TYPE names, in any case, as socat's are; tcp4, tcp6-listen
 * and the like name a KIND_FAMILY kind with the family fixed (in *family,
 * 0 when the name fixes none).
 */
const struct kind *
kind_find(const char *name, size_t len, int *family)
{
	const struct kind *k;
	char		 base[32];
	size_t		 at;

	*family = 0;
	if ((k = kind_named(name, len)) != NULL)
		return k;
	/* The digit ends the name, or comes before "-listen". */
	at = len >= 8 && strncasecmp(name + len - 7, "-listen", 7) == 0 ?
	    len - 8 : len - 1;
	if (len < 2 || len > sizeof base || (name[at] != '4' &&
	    name[at] != '6'))
		return NULL;
	memcpy(base, name, at);
	memcpy(base + at, name + at + 1, len - at - 1);
	/* tcp4-listen, never tcp-listen4. */
	if ((k = kind_named(base, len - 1)) == NULL ||
	    !(k->flags & KIND_FAMILY) ||
	    (at == len - 1 && (k->flags & KIND_LISTENS)))
		return NULL;
	*family = name[at] - '0';
	return k;
}

/* --help's lines on each kind's addresses, or on their own options. */
void
kind_help(FILE *f, int opts)
{
	size_t	 i;
	const char *text;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if ((text = opts ? kinds[i]->help_opts : kinds[i]->help) !=
		    NULL)
			fputs(text, f);
}

/*
 * The largest frame an address takes as one unit, where each frame ends
 * matters to it: a message kind's largest message, any size for one
 * that keeps frames whole (unless it finds the ends itself); 0 when it
 * takes a stream.
 */
size_t
kind_message_max(const struct addr *a)
{
	if (!(a->kind->flags & (KIND_MESSAGES | KIND_WHOLE)) ||
	    transport_finds_ends(a))
		return 0;
	return a->kind->message_max != NULL ? a->kind->message_max(a) :
	    SIZE_MAX;
}

/* The kind of address each connection of listener a names, or NULL. */
const struct kind *
kind_dials(const struct addr *a)
{
	return a->kind->listen != NULL ? a->kind->listen->dials : NULL;
}

/* Whether splice(2) will take a's descriptor, for reading or writing. */
int
kind_splices(const struct addr *a, int writing)
{
	return a->kind->splices != NULL && a->kind->splices(a, writing);
}

/* A kind whose descriptors are stream sockets. */
int
kind_splices_always(const struct addr *a, int writing)
{
	(void)a;
	(void)writing;
	return 1;
}

/* An address's name for a message, cut when it would flood the screen. */
static char *
shown(const struct addr *a)
{
	if (strlen(a->name) <= NAME_LONG)
		return xstrdup(a->name);
	return xasprintf("%.*s...", NAME_SHOWN, a->name);
}

/* A path (or command) of at most max - 1 bytes. */
int
kind_arg_path(struct addr *a, const char *arg, size_t max, char **err)
{
	char	*name;

	if (*arg == '\0') {
		*err = xasprintf("%s: missing path", a->name);
		return -1;
	}
	if (strlen(arg) >= max) {
		name = shown(a);
		*err = xasprintf("%s: path too long (at most %zu bytes)", name,
		    max - 1);
		free(name);
		return -1;
	}
	a->path = xstrdup(arg);
	return 0;
}

/*
 * A host name or address: no spaces or control bytes, valid UTF-8 (a
 * resolver may know names beyond ASCII; bytes that are no text it cannot).
 */
static int
host_chars_ok(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s, *end = p + n;
	size_t			 len, i;
	unsigned		 cp, min;

	while (p < end) {
		if (*p < 0x80) {
			if (*p <= 0x20 || *p == 0x7f)
				return 0;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			len = 2, cp = *p & 0x1f, min = 0x80;
		else if ((*p & 0xf0) == 0xe0)
			len = 3, cp = *p & 0x0f, min = 0x800;
		else if ((*p & 0xf8) == 0xf0)
			len = 4, cp = *p & 0x07, min = 0x10000;
		else
			return 0;
		if ((size_t)(end - p) < len)
			return 0;
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		p += len;
	}
	return 1;
}

/* A port is a number, 0 only where any port will do (listening, bind=). */
static int
port_ok(const char *who, const char *port, int zero_ok, char **err)
{
	uint64_t	 num;

	if (*port == '\0')
		*err = xasprintf("%s: missing port", who);
	else if (util_parse_uint(port, 65535, &num) == -1)
		*err = xasprintf("%s: invalid port '%s'", who, port);
	else if (num == 0 && !zero_ok)
		*err = xasprintf("%s: port 0 cannot be connected to", who);
	return *err == NULL ? 0 : -1;
}

/*
 * HOST:PORT, or as how says (HOSTPORT_*); HOST may be [IPv6].  What is
 * absent stays NULL; messages start with who.
 */
int
kind_hostport(const char *who, const char *s, int how, char **hostp,
    char **portp, char **err)
{
	const char	*colon, *host = NULL, *port = NULL;
	size_t		 hlen = 0;

	*err = NULL;
	if (*s == '\0' && how == HOSTPORT_SOURCE) {
		*err = xasprintf("%s: missing address", who);
		return -1;
	}
	if (*s == '[') {
		if ((colon = strchr(s, ']')) == NULL)
			*err = xasprintf("%s: missing ']'", who);
		else if (colon[1] != ':' && (colon[1] != '\0' ||
		    how != HOSTPORT_SOURCE))
			*err = xasprintf("%s: missing port", who);
		else if (colon == s + 1)
			*err = xasprintf("%s: missing host", who);
		if (*err != NULL)
			return -1;
		host = s + 1;
		hlen = (size_t)(colon - host);
		if (colon[1] == ':')
			port = colon + 2;
	} else if ((colon = strrchr(s, ':')) == NULL) {
		if (how == HOSTPORT_CONNECT) {
			*err = xasprintf("%s: missing port", who);
			return -1;
		}
		if (how == HOSTPORT_LISTEN)
			port = s;
		else {
			host = s;
			hlen = strlen(s);
		}
	} else {
		host = s;
		hlen = (size_t)(colon - s);
		port = colon + 1;
		if (memchr(host, ':', hlen) != NULL)
			*err = xasprintf("%s: an IPv6 address needs brackets",
			    who);
		else if (hlen == 0 && how != HOSTPORT_SOURCE)
			*err = xasprintf("%s: missing host", who);
		if (*err != NULL)
			return -1;
		/* bind=:PORT: any address. */
		if (hlen == 0)
			host = NULL;
	}
	if (port != NULL && port_ok(who, port, how != HOSTPORT_CONNECT, err)
	    == -1)
		return -1;
	if (host != NULL && hlen > HOST_MAX) {
		*err = xasprintf("%.*s%s: host name too long (at most %d "
		    "bytes)", NAME_SHOWN, who, strlen(who) > NAME_SHOWN ?
		    "..." : "", HOST_MAX);
		return -1;
	}
	if (host != NULL && !host_chars_ok(host, hlen)) {
		*err = xasprintf("%s: invalid host name", who);
		return -1;
	}
	*hostp = host != NULL ? xasprintf("%.*s", (int)hlen, host) : NULL;
	*portp = port != NULL ? xstrdup(port) : NULL;
	return 0;
}

/* A kind's [HOST:]PORT (listen) or HOST:PORT, into a->host and a->port. */
int
kind_arg_hostport(struct addr *a, const char *s, int listen, char **err)
{
	return kind_hostport(a->name, s, listen ? HOSTPORT_LISTEN :
	    HOSTPORT_CONNECT, &a->host, &a->port, err);
}
