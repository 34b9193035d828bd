/*
 * libFuzzer target for SOCKS5's server and client handshakes.
 *
 * An input is three option bytes, then the bytes:
 *   [0]  bit 0: the bytes are a client's, for a server (0), or a
 *        proxy's, for a client (1); bit 1: with user and password;
 *        bits 2-3: the client's target, a name, an IPv4 or IPv6
 *        address; bit 4: the bytes are instead a client's target and
 *        credentials (below)
 *   [1]  seed of the chunk sizes
 *   [2]  the reply code a server answers a request with
 * The bytes are fed whole, byte by byte and in chunks, which must agree,
 * every call keeping the API's rules.  A server's destination must be
 * one a client can ask for, and asking for it must give it again; the
 * server's reply must end that client's handshake.
 * Build mode: host, user and password, NUL-separated (no user: none);
 * a client made of them must get through a server to that host.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "socks5.h"

#define PORT	8443

/* What feeding gave. */
struct socks_run {
	enum socks5_status st;
	size_t		 used;
	struct fz_buf	 out;
	char		 err[300];
	char		 host[300];
	unsigned	 port;
	int		 atyp, reply;
};

/* One side, whichever it is. */
struct side {
	struct socks5_client	*c;
	struct socks5_server	*s;
};

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 side_new(struct side *, const uint8_t *);
static enum socks5_status side_feed(struct side *, const char *, size_t,
		    size_t *);
static void	 side_output(struct side *, struct fz_buf *);
static const char *side_error(const struct side *);
static void	 check_error(const struct side *, const char *, size_t);
static void	 run(const uint8_t *, const char *, size_t, int, uint32_t,
		    struct socks_run *);
static void	 socks_same(const struct socks_run *,
		    const struct socks_run *);
static void	 check_target(const struct socks_run *);
static void	 check_client_out(const uint8_t *, const struct socks_run *);
static void	 loop(const char *, const char *, const char *, int);
static void	 build(const char *, size_t);

static const char *const targets[] = {
	"example.com", "127.0.0.1", "2001:db8::1", "a"
};

static void
side_new(struct side *sd, const uint8_t *opts)
{
	const char	*user = opts[0] & 2 ? "user" : NULL;
	char		 err[256];

	memset(sd, 0, sizeof *sd);
	if (opts[0] & 1)
		sd->c = socks5_client_new(targets[(opts[0] >> 2) & 3], PORT,
		    user, "pass", err, sizeof err);
	else
		sd->s = socks5_server_new(user, "pass", err, sizeof err);
	if (sd->c == NULL && sd->s == NULL)
		fz_bug("a client or server not made");
}

static enum socks5_status
side_feed(struct side *sd, const char *p, size_t n, size_t *used)
{
	if (sd->c != NULL)
		return socks5_client_feed(sd->c, p, n, used);
	return socks5_server_feed(sd->s, p, n, used);
}

static void
side_output(struct side *sd, struct fz_buf *b)
{
	const char	*p;
	size_t		 n;

	p = sd->c != NULL ? socks5_client_output(sd->c, &n) :
	    socks5_server_output(sd->s, &n);
	fz_buf_add(b, p, n);
}

static const char *
side_error(const struct side *sd)
{
	if (sd->c != NULL)
		return socks5_client_error(sd->c);
	return socks5_server_error(sd->s);
}

/*
 * A breach, "socks5: ..., at byte N" at the byte the feed stopped at;
 * or, from a client, a refusal in its words.
 */
static void
check_error(const struct side *sd, const char *e, size_t at)
{
	char	 want[64];
	int	 code;

	if (e == NULL)
		fz_bug("an error without a message");
	if (strncmp(e, "socks5: ", 8) == 0) {
		if (fz_at(e) != at)
			fz_bug("an error not at the byte it stopped at");
		return;
	}
	if (sd->c == NULL)
		fz_bug("a server's error not \"socks5: ...\"");
	if (strcmp(e, "authentication failed") == 0 ||
	    strncmp(e, "no acceptable methods (", 23) == 0)
		return;
	code = socks5_client_reply(sd->c);
	snprintf(want, sizeof want, "%s (%d)", socks5_reply_text(code), code);
	if (code <= 0 || strcmp(e, want) != 0)
		fz_bug("a refusal not in its words");
}

/* Feeds as a transport does, whole, byte by byte or in chunks. */
static void
run(const uint8_t *opts, const char *in, size_t len, int how, uint32_t seed,
    struct socks_run *r)
{
	struct side	 sd;
	size_t		 off = 0, end, used, n;
	uint32_t	 x = seed * 2654435761u + 1;

	side_new(&sd, opts);
	r->out.len = 0;
	r->err[0] = r->host[0] = '\0';
	r->st = SOCKS5_MORE;
	side_output(&sd, &r->out);
	while (off < len && r->st == SOCKS5_MORE) {
		end = fz_end(how, off, len, &x);
		used = (size_t)-1;
		r->st = side_feed(&sd, in + off, end - off, &used);
		if (used > end - off ||
		    (r->st == SOCKS5_MORE && used != end - off))
			fz_bug("used more or fewer bytes than it may");
		if (r->st == SOCKS5_ERROR) {
			check_error(&sd, side_error(&sd), off + used);
			snprintf(r->err, sizeof r->err, "%s", side_error(&sd));
		} else if (side_error(&sd) != NULL)
			fz_bug("an error message without an error");
		side_output(&sd, &r->out);
		off += used;
	}
	r->used = off;
	n = r->out.len;
	if (r->st != SOCKS5_MORE && (side_feed(&sd, in, len, &used) != r->st ||
	    used != 0))
		fz_bug("a feed after the end took bytes or changed status");
	side_output(&sd, &r->out);
	if (r->out.len != n)
		fz_bug("output after the end");
	if (r->st == SOCKS5_ERROR && strcmp(side_error(&sd), r->err) != 0)
		fz_bug("an error is not sticky");
	if (sd.s != NULL && socks5_server_host(sd.s) != NULL) {
		snprintf(r->host, sizeof r->host, "%s",
		    socks5_server_host(sd.s));
		r->port = socks5_server_port(sd.s);
		r->atyp = socks5_server_atyp(sd.s);
	} else if (sd.s != NULL && (socks5_server_port(sd.s) != 0 ||
	    socks5_server_atyp(sd.s) != 0 || r->st == SOCKS5_DONE))
		fz_bug("a destination and the end disagree");
	r->reply = sd.c != NULL ? socks5_client_reply(sd.c) : -1;
	socks5_client_free(sd.c);
	socks5_server_free(sd.s);
}

static void
socks_same(const struct socks_run *a, const struct socks_run *b)
{
	if (a->st != b->st || a->used != b->used ||
	    a->out.len != b->out.len || (a->out.len > 0 &&
	    memcmp(a->out.p, b->out.p, a->out.len) != 0) ||
	    strcmp(a->err, b->err) != 0 || strcmp(a->host, b->host) != 0 ||
	    a->port != b->port || a->atyp != b->atyp || a->reply != b->reply)
		fz_bug("different handshakes");
}

/* A server's destination: what the request said, in its grammar. */
static void
check_target(const struct socks_run *r)
{
	unsigned char	 a[16];
	char		 back[64];
	const char	*s;
	int		 af;

	if (r->port > 65535 || strlen(r->host) > SOCKS5_MAX_NAME ||
	    r->host[0] == '\0')
		fz_bug("a destination out of range");
	if (r->atyp == SOCKS5_ATYP_NAME) {
		for (s = r->host; *s != '\0'; s++)
			if ((unsigned char)*s <= 0x20 || *s == 0x7f)
				fz_bug("a control character in a name");
		return;
	}
	if (r->atyp != SOCKS5_ATYP_IPV4 && r->atyp != SOCKS5_ATYP_IPV6)
		fz_bug("an unknown address type");
	af = r->atyp == SOCKS5_ATYP_IPV4 ? AF_INET : AF_INET6;
	if (inet_pton(af, r->host, a) != 1 ||
	    inet_ntop(af, a, back, sizeof back) == NULL ||
	    strcmp(back, r->host) != 0)
		fz_bug("an address not in its canonical form");
}

/*
 * A client's bytes: its greeting, the credentials if the proxy chose
 * them, and its request, nothing else.
 */
static void
check_client_out(const uint8_t *opts, const struct socks_run *r)
{
	static const char	 auth[] = "\x01\x04user\x04pass";
	const char		*host = targets[(opts[0] >> 2) & 3];
	char			 req[300];
	unsigned char		*p = (unsigned char *)req;
	size_t			 g = opts[0] & 2 ? 4 : 3;
	size_t			 n = strlen(host);

	memcpy(p, "\x05\x01\x00", 3);
	p += 3;
	if (inet_pton(AF_INET, host, p + 1) == 1) {
		*p = 1;
		p += 5;
	} else if (inet_pton(AF_INET6, host, p + 1) == 1) {
		*p = 4;
		p += 17;
	} else {
		*p++ = 3;
		*p++ = (unsigned char)n;
		memcpy(p, host, n);
		p += n;
	}
	*p++ = PORT >> 8;
	*p++ = PORT & 0xff;
	n = (size_t)((char *)p - req);
	if (r->out.len < g || memcmp(r->out.p, g == 4 ? "\x05\x02\x00\x02" :
	    "\x05\x01\x00", g) != 0)
		fz_bug("a client's greeting");
	if (r->out.len == g)
		return;
	if (r->out.len == g + 11 && memcmp(r->out.p + g, auth, 11) == 0)
		return;
	if (r->out.len < g + n || memcmp(r->out.p + r->out.len - n, req, n)
	    != 0 || (r->out.len != g + n && (r->out.len != g + 11 + n ||
	    memcmp(r->out.p + g, auth, 11) != 0)))
		fz_bug("a client's bytes not greeting, credentials, request");
}

/*
 * A client for host through a server: both must end, the server with
 * host as its destination (an address in its canonical form), the
 * client with the server's reply, code.
 */
static void
loop(const char *host, const char *user, const char *pass, int code)
{
	struct socks5_client	*c;
	struct socks5_server	*s;
	unsigned char		 reply[SOCKS5_REPLY_MAX], a[16];
	const char		*out;
	char			 err[256], canon[64];
	size_t			 len, used, i;
	enum socks5_status	 cst = SOCKS5_MORE, sst = SOCKS5_MORE;

	if ((c = socks5_client_new(host, PORT, user, pass, err,
	    sizeof err)) == NULL)
		fz_bug("a server's destination a client cannot ask for");
	s = socks5_server_new(user, pass, err, sizeof err);
	for (i = 0; i < 4 && sst == SOCKS5_MORE; i++) {
		out = socks5_client_output(c, &len);
		sst = socks5_server_feed(s, out, len, &used);
		out = socks5_server_output(s, &len);
		cst = socks5_client_feed(c, out, len, &used);
	}
	if (sst != SOCKS5_DONE || cst != SOCKS5_MORE)
		fz_bug("a client and a server do not agree");
	if (inet_pton(AF_INET6, host, a) == 1)
		host = inet_ntop(AF_INET6, a, canon, sizeof canon);
	else if (inet_pton(AF_INET, host, a) == 1)
		host = inet_ntop(AF_INET, a, canon, sizeof canon);
	if (strcmp(socks5_server_host(s), host) != 0 ||
	    socks5_server_port(s) != PORT)
		fz_bug("a server's destination not the client's target");
	len = socks5_reply(code, NULL, reply);
	cst = socks5_client_feed(c, (const char *)reply, len, &used);
	if (code == 0 ? cst != SOCKS5_DONE || used != len :
	    cst != SOCKS5_ERROR || socks5_client_reply(c) != code)
		fz_bug("a client misreads a server's reply");
	socks5_client_free(c);
	socks5_server_free(s);
}

/* A client from NUL-separated parts; made, it must reach its host. */
static void
build(const char *in, size_t len)
{
	struct socks5_client	*c;
	const char		*part[3] = { NULL, NULL, NULL };
	char			*copy, err[256];

	fz_parts(in, len, part, 3, &copy);
	err[0] = '\0';
	c = socks5_client_new(part[0], PORT, part[1], part[2], err,
	    sizeof err);
	if (c == NULL && (err[0] == '\0' || strpbrk(err, "\r\n") != NULL))
		fz_bug("a client refused without a clean message");
	if (c != NULL)
		loop(part[0], part[1], part[2], 0);
	socks5_client_free(c);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct socks_run	 whole, bytes, chunks;
	const char		*in;
	size_t			 len;

	if (size < 3)
		return 0;
	in = (const char *)data + 3;
	len = size - 3;
	if (data[0] & 16) {
		build(in, len);
		return 0;
	}
	run(data, in, len, FZ_CHUNKS, data[1], &chunks);
	if (len <= 16384) {
		run(data, in, len, FZ_BYTES, 0, &bytes);
		socks_same(&chunks, &bytes);
	}
	run(data, in, len, FZ_WHOLE, 0, &whole);
	socks_same(&whole, &chunks);
	if (data[0] & 1)
		check_client_out(data, &whole);
	else if (whole.st == SOCKS5_DONE) {
		check_target(&whole);
		loop(whole.host, data[0] & 2 ? "user" : NULL, "pass", data[2]);
	}
	return 0;
}
