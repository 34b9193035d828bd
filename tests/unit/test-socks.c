/*
 * Unit tests of the proxy handshakes: SOCKS5's client and server
 * (src/socks5.c) and HTTP CONNECT's client (src/http-connect.c),
 * printing TAP.
 *
 * Every exchange is fed whole, byte by byte, split in two at every
 * position and in random chunks, with bytes of the tunnel after a
 * handshake that ends; each way must give what is expected: the same
 * bytes to send, status, bytes taken (none of the tunnel's), error (from
 * the feed that holds the offending byte) and destination.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "http-connect.h"
#include "socks5.h"
#include "tap.h"

#define B(s)		{ (s), sizeof(s) - 1 }
#define ALL		SIZE_MAX	/* bytes taken: the whole input */
#define TAIL		"\x05tunnel"	/* after a handshake */

enum { CLIENT, SERVER, HTTP };
enum { MORE, DONE, ERROR };

struct bytes {
	const char	*p;
	size_t		 n;
};

struct vec {
	const char	*name;
	int		 side;
	const char	*host;		/* the target: client, HTTP */
	unsigned	 port;
	const char	*user, *pass;	/* credentials: all three */
	struct bytes	 in;		/* from the peer */
	struct bytes	 out;		/* all that is to be sent */
	int		 st;
	size_t		 used;		/* bytes of in taken */
	const char	*what;		/* the error; or party_end's */
};

/* One side of a handshake, whichever it is. */
struct party {
	int			 side;
	struct socks5_client	*c;
	struct socks5_server	*s;
	struct http_connect	*h;
};

/* What feeding an exchange one way gave. */
struct result {
	int		 st;
	size_t		 used;
	struct str	 out;
	char		 err[256];
	struct str	 end;		/* what party_end says */
	char		 fault[256];
};

static int	 party_new(struct party *, const struct vec *, char *,
		    size_t);
static void	 party_free(struct party *);
static int	 party_feed(struct party *, const char *, size_t, size_t *);
static void	 party_output(struct party *, struct str *);
static const char *party_error(const struct party *);
static void	 party_end(const struct party *, struct str *);
static void	 run(const struct vec *, const char *, size_t,
		    const struct feeds *, struct result *);
static int	 expected(const struct vec *, const struct result *,
		    const char *);
static void	 test_vec(const struct vec *);
static void	 test_reply_codes(void);
static void	 test_reply_bnd(void);
static void	 test_reply_text(void);
static void	 test_errno(void);
static void	 test_client_new(void);
static void	 test_server_new(void);
static void	 test_long_names(void);
static void	 test_output_taken(void);
static void	 test_loop(const char *, const char *, const char *,
		    const char *, const char *);
static void	 test_http_new(void);
static void	 test_http_bound(void);
static void	 test_base64(void);
static void	 test_basic(void);

static int
party_new(struct party *p, const struct vec *v, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->side = v->side;
	switch (v->side) {
	case CLIENT:
		p->c = socks5_client_new(v->host, v->port, v->user, v->pass,
		    err, errlen);
		return p->c != NULL ? 0 : -1;
	case SERVER:
		p->s = socks5_server_new(v->user, v->pass, err, errlen);
		return p->s != NULL ? 0 : -1;
	default:
		p->h = http_connect_new(v->host, v->port, v->user, v->pass,
		    err, errlen);
		return p->h != NULL ? 0 : -1;
	}
}

static void
party_free(struct party *p)
{
	socks5_client_free(p->c);
	socks5_server_free(p->s);
	http_connect_free(p->h);
}

/* MORE, DONE or ERROR. */
static int
party_feed(struct party *p, const char *in, size_t n, size_t *used)
{
	/* SOCKS5_ and HTTP_HEAD_: MORE, DONE, ERROR alike. */
	static const int	 st[] = { MORE, DONE, ERROR };

	switch (p->side) {
	case CLIENT:
		return st[socks5_client_feed(p->c, in, n, used)];
	case SERVER:
		return st[socks5_server_feed(p->s, in, n, used)];
	default:
		return st[http_connect_feed(p->h, in, n, used)];
	}
}

/* What there is to send, added to s. */
static void
party_output(struct party *p, struct str *s)
{
	const char	*out;
	size_t		 len;

	if (p->side == CLIENT)
		out = socks5_client_output(p->c, &len);
	else if (p->side == SERVER)
		out = socks5_server_output(p->s, &len);
	else
		out = http_connect_output(p->h, &len);
	str_add(s, out, len);
}

static const char *
party_error(const struct party *p)
{
	if (p->side == CLIENT)
		return socks5_client_error(p->c);
	if (p->side == SERVER)
		return socks5_server_error(p->s);
	return http_connect_error(p->h);
}

/*
 * How it ended: a server's destination "host port atyp", HTTP's status
 * code, a client's reply code.
 */
static void
party_end(const struct party *p, struct str *s)
{
	const char	*host;

	s->len = 0;
	str_add(s, "", 0);
	if (p->side == CLIENT)
		str_fmt(s, "%d", socks5_client_reply(p->c));
	else if (p->side == HTTP)
		str_fmt(s, "%d", http_connect_code(p->h));
	else if ((host = socks5_server_host(p->s)) != NULL) {
		str_add(s, host, strlen(host));
		str_fmt(s, " %u %d", socks5_server_port(p->s),
		    socks5_server_atyp(p->s));
	}
	else if (socks5_server_port(p->s) != 0 || socks5_server_atyp(p->s))
		str_fmt(s, "a destination before the end");
}

/*
 * Feeds in in f's chunks until the handshake ends, checking each call;
 * then once more, which must change nothing.
 */
static void
run(const struct vec *v, const char *in, size_t len, const struct feeds *f,
    struct result *r)
{
	struct party	 p;
	const char	*e;
	char		 err[256];
	size_t		 c, off = 0, used, n;
	int		 st = MORE;

	r->out.len = 0;
	str_add(&r->out, "", 0);
	r->err[0] = r->fault[0] = '\0';
	if (party_new(&p, v, err, sizeof err) == -1) {
		fault(r, "no %d: %s", v->side, err);
		return;
	}
	party_output(&p, &r->out);
	for (c = 0; c < f->n && st == MORE; c++) {
		used = SIZE_MAX;
		st = party_feed(&p, in + off, f->chunks[c], &used);
		if (used > f->chunks[c] || (st == MORE && used !=
		    f->chunks[c]))
			fault(r, "status %d with used %zu of %zu", st, used,
			    f->chunks[c]);
		party_output(&p, &r->out);
		if (st == ERROR) {
			e = party_error(&p);
			snprintf(r->err, sizeof r->err, "%s", e ? e : "(null)");
			if (tap_at(r->err) != UINT64_MAX &&
			    tap_at(r->err) != off + used)
				fault(r, "error %s from a feed of bytes "
				    "%zu..%zu, used %zu", r->err, off,
				    off + f->chunks[c] - 1, used);
		} else if (party_error(&p) != NULL)
			fault(r, "status %d with an error", st);
		off += used;
	}
	r->st = st;
	r->used = off;
	party_end(&p, &r->end);
	n = r->out.len;
	if (st != MORE && (party_feed(&p, in, len, &used) != st || used != 0))
		fault(r, "a feed after the end took bytes or changed status");
	party_output(&p, &r->out);
	if (r->out.len != n)
		fault(r, "output after the end");
	if (st == ERROR && ((e = party_error(&p)) == NULL ||
	    strcmp(e, r->err) != 0))
		fault(r, "the error is not sticky");
	party_free(&p);
}

static int
expected(const struct vec *v, const struct result *r, const char *mode)
{
	size_t	 used = v->used == ALL ? v->in.n : v->used;

	nchecks++;
	if (r->fault[0] != '\0') {
		diag("%s: %s", mode, r->fault);
		return 0;
	}
	if (r->st != v->st || r->used != used || r->out.len != v->out.n ||
	    memcmp(r->out.p, v->out.p, v->out.n) != 0 ||
	    strcmp(r->err, v->st == ERROR ? v->what : "") != 0 ||
	    (v->st == DONE && v->what != NULL &&
	    strcmp(r->end.p, v->what) != 0)) {
		diag("%s: status %d, used %zu, sent %s, error %s, end %s",
		    mode, r->st, r->used, esc(r->out.p, r->out.len), r->err,
		    r->end.p);
		diag("expected status %d, used %zu, sent %s, %s", v->st, used,
		    esc(v->out.p, v->out.n), v->what ? v->what : "");
		return 0;
	}
	return 1;
}

static void
test_vec(const struct vec *v)
{
	static struct result	 r;
	static struct feeds	 f;
	static struct str	 in;

	in.len = 0;
	str_add(&in, v->in.p, v->in.n);
	if (v->st == DONE)
		str_add(&in, TAIL, sizeof TAIL - 1);
	feeds_start(&f, in.len, 1);
	while (feeds_next(&f)) {
		run(v, in.p, in.len, &f, &r);
		if (!expected(v, &r, f.mode))
			break;
	}
	point("%s: %s", v->side == CLIENT ? "socks5 client" :
	    v->side == SERVER ? "socks5 server" : "http connect", v->name);
}

/* What a client sends. */
#define GREET0		"\x05\x01\x00"
#define GREET2		"\x05\x02\x00\x02"
#define AUTH		"\x01\x04" "user" "\x04" "pass"
#define REQ_NAME	"\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb"
#define REQ_V4		"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"
#define V6		"\x20\x01\x0d\xb8" "\0\0\0\0" "\0\0\0\0" "\0\0\0\x01"
#define REQ_V6		"\x05\x01\x00\x04" V6 "\x1f\x90"

/* What a proxy answers. */
#define OK_V4		"\x05\x00\x00\x01\x0a\x00\x00\x01\x1f\x90"
#define OK_V6		"\x05\x00\x00\x04" V6 "\x04\x38"
#define OK_NAME		"\x05\x00\x00\x03\x05" "proxy" "\x04\x38"
#define DENY(code)	"\x05" code "\x00\x01\0\0\0\0\0\0"

#define CL(name, host, port, in, out, st, used, what) \
	{ name, CLIENT, host, port, NULL, NULL, B(in), B(out), st, used, what }
#define CLU(name, in, out, st, used, what) \
	{ name, CLIENT, "example.com", 443, "user", "pass", B(in), B(out), \
	  st, used, what }
#define SV(name, in, out, st, used, what) \
	{ name, SERVER, NULL, 0, NULL, NULL, B(in), B(out), st, used, what }
#define SVU(name, in, out, st, used, what) \
	{ name, SERVER, NULL, 0, "user", "pass", B(in), B(out), st, used, \
	  what }

#define H200		"HTTP/1.1 200 Connection established\r\n\r\n"
#define H502		"HTTP/1.1 502 Bad Gateway\r\n" \
			"Content-Length: 3\r\n\r\n"
#define CONNECT(hp)	"CONNECT " hp " HTTP/1.1\r\nHost: " hp "\r\n"
#define HC(name, host, port, in, out, st, used, what) \
	{ name, HTTP, host, port, NULL, NULL, B(in), B(out), st, used, what }

static const struct vec vecs[] = {
	CL("a name, no authentication", "example.com", 443, "\x05\x00" OK_V4,
	    GREET0 REQ_NAME, DONE, ALL, "0"),
	CL("an IPv4 address", "127.0.0.1", 80, "\x05\x00" OK_V4,
	    GREET0 REQ_V4, DONE, ALL, "0"),
	CL("an IPv6 address, bound to one", "2001:db8::1", 8080,
	    "\x05\x00" OK_V6, GREET0 REQ_V6, DONE, ALL, "0"),
	CL("bound to a name", "example.com", 443, "\x05\x00" OK_NAME,
	    GREET0 REQ_NAME, DONE, ALL, "0"),
	CL("bound to an empty name", "example.com", 443,
	    "\x05\x00" "\x05\x00\x00\x03\x00\x00\x00", GREET0 REQ_NAME, DONE,
	    ALL, "0"),
	CL("a reserved byte not 0", "example.com", 443,
	    "\x05\x00" "\x05\x00\xff\x01\x0a\x00\x00\x01\x1f\x90",
	    GREET0 REQ_NAME, DONE, ALL, "0"),
	CLU("user and password", "\x05\x02" "\x01\x00" OK_V4,
	    GREET2 AUTH REQ_NAME, DONE, ALL, "0"),
	CLU("credentials offered, none asked for", "\x05\x00" OK_V4,
	    GREET2 REQ_NAME, DONE, ALL, "0"),
	CLU("authentication failed", "\x05\x02" "\x01\x01", GREET2 AUTH,
	    ERROR, 3, "authentication failed"),
	CLU("authentication failed with another status", "\x05\x02\x01\xff",
	    GREET2 AUTH, ERROR, 3, "authentication failed"),
	CL("no acceptable methods", "example.com", 443, "\x05\xff", GREET0,
	    ERROR, 1, "no acceptable methods (offered: no authentication)"),
	CLU("no acceptable methods, credentials offered", "\x05\xff", GREET2,
	    ERROR, 1, "no acceptable methods (offered: no authentication, "
	    "user/password)"),
	CL("user/password chosen, not offered", "example.com", 443,
	    "\x05\x02", GREET0, ERROR, 1,
	    "socks5: a method not offered, got '\\x02', at byte 1"),
	CLU("GSSAPI chosen", "\x05\x01", GREET2, ERROR, 1,
	    "socks5: a method not offered, got '\\x01', at byte 1"),
	CL("a SOCKS4 answer", "example.com", 443, "\x00\x5a", GREET0, ERROR,
	    0, "socks5: version 5 expected, got '\\x00', at byte 0"),
	CLU("authentication version 5", "\x05\x02\x05\x00", GREET2 AUTH,
	    ERROR, 2, "socks5: user/password version 1 expected, "
	    "got '\\x05', at byte 2"),
	CL("reply version 4", "example.com", 443, "\x05\x00\x04\x00",
	    GREET0 REQ_NAME, ERROR, 2,
	    "socks5: version 5 expected, got '\\x04', at byte 2"),
	CL("reply with address type 2", "example.com", 443,
	    "\x05\x00\x05\x00\x00\x02\x00\x00", GREET0 REQ_NAME, ERROR, 5,
	    "socks5: address type 1, 3 or 4 expected, got '\\x02', at byte 5"),
	CL("nothing yet", "example.com", 443, "", GREET0, MORE, ALL, NULL),
	CL("the method only", "example.com", 443, "\x05\x00",
	    GREET0 REQ_NAME, MORE, ALL, NULL),
	CL("a reply cut short", "example.com", 443,
	    "\x05\x00\x05\x00\x00\x01\x0a\x00\x00\x01\x1f", GREET0 REQ_NAME,
	    MORE, ALL, NULL),
	CL("a name reply cut short", "example.com", 443,
	    "\x05\x00\x05\x00\x00\x03\x05" "prox", GREET0 REQ_NAME, MORE, ALL,
	    NULL),
	CLU("an authentication status cut short", "\x05\x02\x01",
	    GREET2 AUTH, MORE, ALL, NULL),

	SV("CONNECT to a name", GREET0 REQ_NAME, "\x05\x00", DONE, ALL,
	    "example.com 443 3"),
	SV("CONNECT to an IPv4 address", GREET0 REQ_V4, "\x05\x00", DONE,
	    ALL, "127.0.0.1 80 1"),
	SV("CONNECT to an IPv6 address", GREET0 REQ_V6, "\x05\x00", DONE,
	    ALL, "2001:db8::1 8080 4"),
	SV("user/password offered too", GREET2 REQ_NAME, "\x05\x00", DONE,
	    ALL, "example.com 443 3"),
	SV("methods in another order, port 65535",
	    "\x05\x03\x80\x02\x00" "\x05\x01\x00\x01\x0a\x00\x00\x01\xff\xff",
	    "\x05\x00", DONE, ALL, "10.0.0.1 65535 1"),
	SV("a reserved byte not 0, port 0",
	    GREET0 "\x05\x01\x07\x03\x01" "h" "\x00\x00", "\x05\x00", DONE,
	    ALL, "h 0 3"),
	SV("a 255-byte name",
	    GREET0 "\x05\x01\x00\x03\xff"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\x00\x16", "\x05\x00", DONE, ALL,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " 22 3"),
	SVU("user and password", GREET2 AUTH REQ_NAME, "\x05\x02\x01\x00",
	    DONE, ALL, "example.com 443 3"),
	SVU("methods by the dozen, then user and password",
	    "\x05\x14" "\x00\x01\x03\x04\x05\x06\x07\x08\x09\x0a"
	    "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x02"
	    AUTH REQ_NAME, "\x05\x02\x01\x00", DONE, ALL, "example.com 443 3"),
	{ "credentials like an address type, then RSV", SERVER, NULL, 0,
	  "a\x03", "", B(GREET2 "\x01\x02" "a\x03" "\x00" REQ_NAME),
	  B("\x05\x02\x01\x00"), DONE, ALL, "example.com 443 3" },
	SVU("a wrong password", GREET2 "\x01\x04" "user" "\x04" "pasS",
	    "\x05\x02\x01\x01", ERROR, 14,
	    "socks5: authentication failed, at byte 14"),
	SVU("a wrong user", GREET2 "\x01\x05" "users" "\x04" "pass",
	    "\x05\x02\x01\x01", ERROR, 15,
	    "socks5: authentication failed, at byte 15"),
	SVU("a longer password", GREET2 "\x01\x04" "user" "\x05" "passs",
	    "\x05\x02\x01\x01", ERROR, 15,
	    "socks5: authentication failed, at byte 15"),
	SVU("an empty user and password", GREET2 "\x01\x00\x00",
	    "\x05\x02\x01\x01", ERROR, 6,
	    "socks5: authentication failed, at byte 6"),
	SVU("a user like a message, with a control character, not named",
	    GREET2 "\x01\x0d" "x, at byte 1\n" "\x00", "\x05\x02\x01\x01",
	    ERROR, 19, "socks5: authentication failed, at byte 19"),
	SVU("no authentication offered", GREET0, "\x05\xff", ERROR, 2,
	    "socks5: no acceptable methods (user/password needed), "
	    "at byte 2"),
	SV("only user/password offered", "\x05\x01\x02", "\x05\xff", ERROR,
	    2, "socks5: no acceptable methods (no authentication needed), "
	    "at byte 2"),
	SV("no methods offered", "\x05\x00", "\x05\xff", ERROR, 1,
	    "socks5: no acceptable methods (no authentication needed), "
	    "at byte 1"),
	SV("a SOCKS4 request", "\x04\x01\x00\x50\x7f\x00\x00\x01\x00", "",
	    ERROR, 0, "socks5: version 5 expected, got '\\x04', at byte 0"),
	SV("an HTTP request", "GET / HTTP/1.1\r\n\r\n", "", ERROR, 0,
	    "socks5: version 5 expected, got 'G', at byte 0"),
	SVU("authentication version 5", GREET2 "\x05\x04" "user",
	    "\x05\x02", ERROR, 4,
	    "socks5: user/password version 1 expected, got '\\x05', "
	    "at byte 4"),
	SV("request version 4", GREET0 "\x04\x01\x00\x01", "\x05\x00", ERROR,
	    3, "socks5: version 5 expected, got '\\x04', at byte 3"),
	SV("BIND", GREET0 "\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50",
	    "\x05\x00" DENY("\x07"), ERROR, 4,
	    "socks5: command CONNECT (1) expected, got '\\x02', at byte 4"),
	SV("UDP ASSOCIATE", GREET0 "\x05\x03\x00\x01\x7f\x00\x00\x01\x00\x50",
	    "\x05\x00" DENY("\x07"), ERROR, 4,
	    "socks5: command CONNECT (1) expected, got '\\x03', at byte 4"),
	SV("command 0", GREET0 "\x05\x00", "\x05\x00" DENY("\x07"), ERROR, 4,
	    "socks5: command CONNECT (1) expected, got '\\x00', at byte 4"),
	SV("address type 2", GREET0 "\x05\x01\x00\x02\x7f\x00",
	    "\x05\x00" DENY("\x08"), ERROR, 6,
	    "socks5: address type 1, 3 or 4 expected, got '\\x02', at byte 6"),
	SV("an empty name", GREET0 "\x05\x01\x00\x03\x00\x00\x50",
	    "\x05\x00" DENY("\x01"), ERROR, 7,
	    "socks5: empty host name, got '\\x00', at byte 7"),
	SV("NUL in a name", GREET0 "\x05\x01\x00\x03\x03" "a\0b" "\x00\x50",
	    "\x05\x00" DENY("\x01"), ERROR, 9,
	    "socks5: invalid character in the host name, got '\\x00', "
	    "at byte 9"),
	SV("NUL ending a name", GREET0 "\x05\x01\x00\x03\x03" "ab\0" "\x00",
	    "\x05\x00" DENY("\x01"), ERROR, 10,
	    "socks5: invalid character in the host name, got '\\x00', "
	    "at byte 10"),
	SV("a space in a name", GREET0 "\x05\x01\x00\x03\x03" "a b" "\x00",
	    "\x05\x00" DENY("\x01"), ERROR, 9,
	    "socks5: invalid character in the host name, got ' ', at byte 9"),
	SV("a greeting cut short", "\x05\x02\x00", "", MORE, ALL, NULL),
	SVU("credentials cut short", GREET2 "\x01\x04" "user" "\x04" "pas",
	    "\x05\x02", MORE, ALL, NULL),
	SV("a request cut short", GREET0 "\x05\x01\x00\x03\x0b" "exam",
	    "\x05\x00", MORE, ALL, NULL),
	SV("an IPv6 request cut short", GREET0 "\x05\x01\x00\x04" V6 "\x1f",
	    "\x05\x00", MORE, ALL, NULL),

	HC("200", "example.com", 443, H200, CONNECT("example.com:443") "\r\n",
	    DONE, ALL, "200"),
	HC("HTTP/1.0 200 with a Content-Length, ignored", "192.0.2.1", 22,
	    "HTTP/1.0 200 OK\r\nProxy-Agent: x\r\nContent-Length: 5\r\n\r\n",
	    CONNECT("192.0.2.1:22") "\r\n", DONE, ALL, "200"),
	HC("204, bare LFs, an IPv6 address", "2001:db8::1", 8080,
	    "HTTP/1.1 204 No Content\n\n", CONNECT("[2001:db8::1]:8080") "\r\n",
	    DONE, ALL, "204"),
	HC("407", "example.com", 443, "HTTP/1.1 407 Proxy Authentication "
	    "Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, ALL,
	    "407 Proxy Authentication Required"),
	HC("502 with a body, not taken", "example.com", 443, H502 "bad",
	    CONNECT("example.com:443") "\r\n", ERROR, sizeof H502 - 1,
	    "502 Bad Gateway"),
	HC("299", "example.com", 443, "HTTP/1.1 299 Odd\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", DONE, ALL, "299"),
	HC("302", "example.com", 443, "HTTP/1.1 302 Found\r\nLocation: /x"
	    "\r\n\r\n", CONNECT("example.com:443") "\r\n", ERROR, ALL,
	    "302 Found"),
	HC("199", "example.com", 443, "HTTP/1.1 199 Odd\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, ALL, "199 Odd"),
	HC("403 with no reason", "example.com", 443, "HTTP/1.1 403 \r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, ALL, "403"),
	HC("500 with obs-text", "example.com", 443,
	    "HTTP/1.1 500 Fehl\xe4r\\\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, ALL,
	    "500 Fehl\\xe4r\\x5c"),
	HC("100 Continue", "example.com", 443,
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, 25, "100 Continue"),
	HC("101", "example.com", 443, "HTTP/1.1 101 Switching Protocols\r\n"
	    "\r\n", CONNECT("example.com:443") "\r\n", ERROR, ALL,
	    "101 Switching Protocols"),
	HC("a status not 3 digits", "example.com", 443,
	    "HTTP/1.1 2x0 OK\r\n\r\n", CONNECT("example.com:443") "\r\n",
	    ERROR, 10, "http: 3-digit status code expected, got 'x', at "
	    "byte 10"),
	HC("not HTTP", "example.com", 443, "SSH-2.0-OpenSSH_9.2\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, 0,
	    "http: HTTP version expected, got 'S', at byte 0"),
	HC("a SOCKS5 answer", "example.com", 443, "\x05\x00",
	    CONNECT("example.com:443") "\r\n", ERROR, 0,
	    "http: HTTP version expected, got '\\x05', at byte 0"),
	HC("a bare CR", "example.com", 443, "HTTP/1.1 200 OK\r\rX: y\r\n\r\n",
	    CONNECT("example.com:443") "\r\n", ERROR, 16,
	    "http: CR not followed by LF, got '\\x0d', at byte 16"),
	HC("a head cut short", "example.com", 443,
	    "HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n",
	    CONNECT("example.com:443") "\r\n", MORE, ALL, NULL),
	{ "user and password", HTTP, "example.com", 443, "Aladdin",
	  "open sesame", B(H200), B(CONNECT("example.com:443")
	  "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"),
	  DONE, ALL, "200" },
};

/* Every reply code, as a server builds it and as a client reads it. */
static void
test_reply_codes(void)
{
	static const int	 codes[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255
	};
	unsigned char		 reply[SOCKS5_REPLY_MAX];
	char			 in[64], err[64];
	struct vec		 v = CL("", "example.com", 443, "", GREET0
				     REQ_NAME, DONE, ALL, "0");
	size_t			 i, n;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		n = socks5_reply(codes[i], NULL, reply);
		check(n == 10 && reply[0] == 5 && reply[1] == codes[i] &&
		    reply[2] == 0 && reply[3] == 1 &&
		    memcmp(reply + 4, "\0\0\0\0\0\0", 6) == 0,
		    "reply %d: %s", codes[i], esc((char *)reply, n));
		memcpy(in, "\x05\x00", 2);
		memcpy(in + 2, reply, n);
		v.name = "a reply code";
		v.in.p = in;
		v.in.n = 2 + n;
		v.st = codes[i] == 0 ? DONE : ERROR;
		v.used = codes[i] == 0 ? ALL : 3;
		snprintf(err, sizeof err, "%s (%d)",
		    socks5_reply_text(codes[i]), codes[i]);
		v.what = codes[i] == 0 ? "0" : err;
		test_vec(&v);
	}
}

/* A success carries the address bound; a client reads either family. */
static void
test_reply_bnd(void)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr		 sa;
	unsigned char		 reply[SOCKS5_REPLY_MAX];
	size_t			 n;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8080);
	inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
	n = socks5_reply(0, (struct sockaddr *)&sin, reply);
	check(n == 10 && memcmp(reply, OK_V4, n) == 0, "IPv4: %s",
	    esc((char *)reply, n));
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(1080);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	n = socks5_reply(0, (struct sockaddr *)&sin6, reply);
	check(n == 22 && memcmp(reply, OK_V6, n) == 0, "IPv6: %s",
	    esc((char *)reply, n));
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	n = socks5_reply(1, &sa, reply);
	check(n == 10 && memcmp(reply, DENY("\x01"), n) == 0, "AF_UNIX: %s",
	    esc((char *)reply, n));
	n = socks5_reply(5, NULL, reply);
	check(n == 10 && memcmp(reply, DENY("\x05"), n) == 0, "NULL: %s",
	    esc((char *)reply, n));
	point("socks5_reply: IPv4 and IPv6 bound addresses, 0.0.0.0:0 for "
	    "none or another family");
}

static void
test_reply_text(void)
{
	static const char *const text[] = {
		"succeeded", "general SOCKS server failure",
		"connection not allowed by ruleset", "network unreachable",
		"host unreachable", "connection refused by destination",
		"TTL expired", "command not supported",
		"address type not supported"
	};
	int	 i;

	for (i = 0; i < 9; i++)
		check(strcmp(socks5_reply_text(i), text[i]) == 0, "%d: %s", i,
		    socks5_reply_text(i));
	check(strcmp(socks5_reply_text(9), "unassigned reply code") == 0 &&
	    strcmp(socks5_reply_text(255), "unassigned reply code") == 0 &&
	    strcmp(socks5_reply_text(-1), "unassigned reply code") == 0,
	    "9, 255 or -1: not unassigned");
	point("socks5_reply_text: RFC 1928's words, DESIGN.md's for 5");
}

static void
test_errno(void)
{
	static const struct {
		int	 err, code;
	} t[] = {
		{ ECONNREFUSED, 5 }, { ENETUNREACH, 3 }, { ENETDOWN, 3 },
		{ EHOSTUNREACH, 4 }, { EHOSTDOWN, 4 }, { ETIMEDOUT, 6 },
		{ EACCES, 2 }, { EPERM, 2 }, { EAFNOSUPPORT, 8 },
		{ ECONNRESET, 1 }, { EMFILE, 1 }, { 0, 1 }
	};
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		check(socks5_errno_code(t[i].err) == t[i].code, "%s: %d, not "
		    "%d", strerror(t[i].err), socks5_errno_code(t[i].err),
		    t[i].code);
	point("socks5_errno_code: a failed connect's errno to a reply code");
}

/* What a client cannot ask for, and the longest it can. */
static void
test_client_new(void)
{
	static const struct {
		const char	*host;
		unsigned	 port;
		int		 userlen, passlen;	/* -1: none */
		const char	*err;			/* NULL: made */
	} t[] = {
		{ "", 1, -1, -1, "host \"\": not a host name" },
		{ "a b", 1, -1, -1, "host \"a b\": not a host name" },
		{ "a\r\n", 1, -1, -1, "host \"a\\x0d\\x0a\": not a host name" },
		{ "h\x7f", 1, -1, -1, "host \"h\\x7f\": not a host name" },
		{ "h", 65536, -1, -1, "port 65536 out of range" },
		{ "h", 65535, -1, -1, NULL },
		{ "h", 1, 256, 1, "user longer than 255 bytes" },
		{ "h", 1, 1, 256, "password longer than 255 bytes" },
		{ "h", 1, 255, 255, NULL },
		{ "h", 1, 0, 0, NULL },
		{ "h", 1, 0, -1, NULL },
	};
	struct socks5_client	*c;
	char			 user[300], pass[300], err[128];
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(user, 'u', sizeof user);
		memset(pass, 'p', sizeof pass);
		if (t[i].userlen >= 0)
			user[t[i].userlen] = '\0';
		if (t[i].passlen >= 0)
			pass[t[i].passlen] = '\0';
		err[0] = '\0';
		c = socks5_client_new(t[i].host, t[i].port, t[i].userlen >= 0 ?
		    user : NULL, t[i].passlen >= 0 ? pass : NULL, err,
		    sizeof err);
		check(t[i].err == NULL ? c != NULL : c == NULL &&
		    strcmp(err, t[i].err) == 0, "%zu %s: %s, expected %s", i,
		    esc(t[i].host, strlen(t[i].host)), c ? "made" : err,
		    t[i].err ? t[i].err : "made");
		socks5_client_free(c);
	}
	point("socks5_client_new: names, ports and credentials that do not "
	    "fit, and the longest that do");
}

static void
test_server_new(void)
{
	struct socks5_server	*s;
	char			 user[300], err[128];

	memset(user, 'u', sizeof user);
	user[256] = '\0';
	s = socks5_server_new(user, "p", err, sizeof err);
	check(s == NULL && strcmp(err, "user longer than 255 bytes") == 0,
	    "a 256-byte user: %s", s ? "made" : err);
	socks5_server_free(s);
	s = socks5_server_new("u", user, err, sizeof err);
	check(s == NULL && strcmp(err, "password longer than 255 bytes") == 0,
	    "a 256-byte password: %s", s ? "made" : err);
	socks5_server_free(s);
	user[255] = '\0';
	s = socks5_server_new(user, user, err, sizeof err);
	check(s != NULL, "255 bytes each: %s", err);
	socks5_server_free(s);
	socks5_server_free(NULL);
	socks5_client_free(NULL);
	http_connect_free(NULL);
	point("socks5_server_new: credentials over 255 bytes; every _free "
	    "takes NULL");
}

/* 255 bytes of name and credentials, each side, at every split. */
static void
test_long_names(void)
{
	static char	 name[256], user[256], pass[256];
	static char	 in[1024], out[1024], end[300];
	struct vec	 v;
	size_t		 n;

	memset(name, 'n', 255);
	memset(user, 'u', 255);
	memset(pass, 'p', 255);
	memcpy(in, "\x05\x02\x01\x00" OK_V4, 14);
	memcpy(out, GREET2 "\x01\xff", 6);
	memcpy(out + 6, user, 255);
	memcpy(out + 261, "\xff", 1);
	memcpy(out + 262, pass, 255);
	memcpy(out + 517, "\x05\x01\x00\x03\xff", 5);
	memcpy(out + 522, name, 255);
	memcpy(out + 777, "\x01\xbb", 2);
	v = (struct vec){ "255 bytes of name, user and password", CLIENT,
	    name, 443, user, pass, { in, 14 }, { out, 779 }, DONE, ALL, "0" };
	test_vec(&v);

	memcpy(in, GREET2, 4);
	memcpy(in + 4, out + 4, 513 + 262);
	n = 4 + 513 + 262;
	snprintf(end, sizeof end, "%s 443 3", name);
	v = (struct vec){ "255 bytes of name, user and password", SERVER,
	    NULL, 0, user, pass, { in, n }, B("\x05\x02\x01\x00"), DONE, ALL,
	    end };
	test_vec(&v);
}

/* A client's output is taken: each message once, when it is due. */
static void
test_output_taken(void)
{
	struct socks5_client	*c;
	struct http_connect	*h;
	const char		*out;
	char			 err[128];
	size_t			 len, used;

	c = socks5_client_new("example.com", 443, "user", "pass", err,
	    sizeof err);
	out = socks5_client_output(c, &len);
	check(len == 4 && memcmp(out, GREET2, 4) == 0, "greeting %s",
	    esc(out, len));
	socks5_client_output(c, &len);
	check(len == 0, "the greeting twice");
	socks5_client_feed(c, "\x05", 1, &used);
	socks5_client_output(c, &len);
	check(len == 0, "output before the method is whole");
	socks5_client_feed(c, "\x02", 1, &used);
	out = socks5_client_output(c, &len);
	check(len == 11 && memcmp(out, AUTH, 11) == 0, "auth %s",
	    esc(out, len));
	socks5_client_feed(c, "\x01\x00", 2, &used);
	out = socks5_client_output(c, &len);
	check(len == sizeof REQ_NAME - 1 && memcmp(out, REQ_NAME, len) == 0,
	    "request %s", esc(out, len));
	check(socks5_client_reply(c) == -1, "a reply code before the reply");
	socks5_client_free(c);

	h = http_connect_new("h", 1, NULL, NULL, err, sizeof err);
	http_connect_output(h, &len);
	check(len > 0, "no request");
	http_connect_output(h, &len);
	check(len == 0 && http_connect_code(h) == 0, "the request twice");
	http_connect_free(h);
	point("output is taken: each message once, when it is due");
}

/*
 * A client and a server of these, talking: the server's destination is
 * the client's target, and its reply ends the client's handshake.
 */
static void
test_loop(const char *host, const char *cuser, const char *cpass,
    const char *suser, const char *spass)
{
	struct socks5_client	*c;
	struct socks5_server	*s;
	struct sockaddr_in	 sin;
	unsigned char		 reply[SOCKS5_REPLY_MAX];
	const char		*out;
	char			 err[128];
	size_t			 len, used, rounds;
	int			 cst = SOCKS5_MORE, sst = SOCKS5_MORE;
	int			 ok = suser == NULL || (cuser != NULL &&
				     strcmp(cuser, suser) == 0 &&
				     strcmp(cpass, spass) == 0);

	c = socks5_client_new(host, 8443, cuser, cpass, err, sizeof err);
	s = socks5_server_new(suser, spass, err, sizeof err);
	for (rounds = 0; rounds < 4 && cst == SOCKS5_MORE &&
	    sst == SOCKS5_MORE; rounds++) {
		out = socks5_client_output(c, &len);
		sst = socks5_server_feed(s, out, len, &used);
		check(used == len || sst == SOCKS5_ERROR, "the server left "
		    "%zu of %zu", len - used, len);
		out = socks5_server_output(s, &len);
		cst = socks5_client_feed(c, out, len, &used);
	}
	check(ok ? sst == SOCKS5_DONE && cst == SOCKS5_MORE :
	    sst == SOCKS5_ERROR && cst == SOCKS5_ERROR, "client %d %s, "
	    "server %d %s", cst, socks5_client_error(c) ?
	    socks5_client_error(c) : "", sst, socks5_server_error(s) ?
	    socks5_server_error(s) : "");
	if (ok && sst == SOCKS5_DONE) {
		check(strcmp(socks5_server_host(s), host) == 0 &&
		    socks5_server_port(s) == 8443, "destination %s %u",
		    socks5_server_host(s), socks5_server_port(s));
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		len = socks5_reply(0, (struct sockaddr *)&sin, reply);
		check(socks5_client_feed(c, (char *)reply, len, &used) ==
		    SOCKS5_DONE && used == len, "the client took the reply");
	}
	socks5_client_free(c);
	socks5_server_free(s);
	point("a client to %s with %s, a server with %s", host,
	    cuser ? cuser : "no credentials", suser ? suser : "none");
}

/* What an HTTP CONNECT request cannot carry. */
static void
test_http_new(void)
{
	static const struct {
		const char	*host;
		unsigned	 port;
		const char	*user, *pass;
		const char	*err;
	} t[] = {
		{ "", 1, NULL, NULL, "host \"\": not a host" },
		{ "a b", 1, NULL, NULL, "host \"a b\": not a host" },
		{ "h\r\nX: y", 1, NULL, NULL,
		  "host \"h\\x0d\\x0aX: y\": not a host" },
		{ "h/p", 1, NULL, NULL, "host \"h/p\": not a host" },
		{ "u@h", 1, NULL, NULL, "host \"u@h\": not a host" },
		{ "a:b", 1, NULL, NULL, "host \"a:b\": not a host" },
		{ "[::1]", 1, NULL, NULL, "host \"[::1]\": not a host" },
		{ "h\xc3\xa9", 1, NULL, NULL,
		  "host \"h\\xc3\\xa9\": not a host" },
		{ "h", 65536, NULL, NULL, "port 65536 out of range" },
		{ "h", 1, "a:b", "c", "user holds ':'" },
		{ "h", 1, "a", "b\r\nX: y",
		  "user or password holds a control character" },
		{ "h", 1, "a\x7f", "b",
		  "user or password holds a control character" },
	};
	struct http_connect	*h;
	char			 err[128];
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		err[0] = '\0';
		h = http_connect_new(t[i].host, t[i].port, t[i].user,
		    t[i].pass, err, sizeof err);
		check(h == NULL && strcmp(err, t[i].err) == 0, "%zu %s: %s, "
		    "expected %s", i, esc(t[i].host, strlen(t[i].host)),
		    h ? "made" : err, t[i].err);
		http_connect_free(h);
	}
	point("http_connect_new: hosts, ports and credentials a request "
	    "cannot carry");
}

/* A response head of 8 KiB is taken; one byte more fails. */
static void
test_http_bound(void)
{
	static char		 in[HTTP_CONNECT_MAX_HEAD + 16];
	struct http_connect	*h;
	char			 err[128];
	size_t			 n, used;
	int			 extra;

	for (extra = 0; extra < 2; extra++) {
		n = HTTP_CONNECT_MAX_HEAD + (size_t)extra;
		memset(in, 'x', n);
		memcpy(in, "HTTP/1.1 200 OK\r\nX: ", 20);
		memcpy(in + n - 4, "\r\n\r\n", 4);
		memcpy(in + n, TAIL, sizeof TAIL - 1);
		h = http_connect_new("h", 1, NULL, NULL, err, sizeof err);
		if (extra == 0)
			check(http_connect_feed(h, in, n + 7, &used) ==
			    HTTP_HEAD_DONE && used == n, "8 KiB: used %zu",
			    used);
		else
			check(http_connect_feed(h, in, n + 7, &used) ==
			    HTTP_HEAD_ERROR && used == n - 1 &&
			    strstr(http_connect_error(h), "longer than 8192")
			    != NULL, "8 KiB + 1: %s",
			    http_connect_error(h) ? http_connect_error(h) :
			    "taken");
		http_connect_free(h);
	}
	point("http connect: a head of 8 KiB is taken, 8 KiB + 1 fails");
}

/*
 * RFC 4648 section 10's vectors through the tree's base64, OpenSSL's
 * EVP_EncodeBlock (the WebSocket keys use it too), sized as
 * http-connect sizes it.
 */
static void
test_base64(void)
{
	static const char *const t[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" }
	};
	char	 out[16];
	size_t	 i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = strlen(t[i][0]);
		memset(out, '#', sizeof out);
		EVP_EncodeBlock((unsigned char *)out,
		    (const unsigned char *)t[i][0], (int)n);
		check(strcmp(out, t[i][1]) == 0 && out[4 * ((n + 2) / 3)] ==
		    '\0', "%s: %s, expected %s", t[i][0], out, t[i][1]);
	}
	point("base64: RFC 4648's test vectors");
}

/* Basic credentials of each length modulo 3, and UTF-8 (RFC 7617). */
static void
test_basic(void)
{
	static const char *const t[][3] = {
		{ "a", "b", "YTpi" }, { "ab", "c", "YWI6Yw==" },
		{ "abc", "d", "YWJjOmQ=" }, { "user", "", "dXNlcjo=" },
		{ "user", NULL, "dXNlcjo=" }, { "", "", "Og==" },
		{ "\xc3\xa9", "\xc3\xa9", "w6k6w6k=" },
		{ "Aladdin", "open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==" }
	};
	struct http_connect	*h;
	const char		*out;
	char			 want[256], err[128];
	size_t			 i, len;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(want, sizeof want, CONNECT("h:1")
		    "Proxy-Authorization: Basic %s\r\n\r\n", t[i][2]);
		h = http_connect_new("h", 1, t[i][0], t[i][1], err,
		    sizeof err);
		out = h ? http_connect_output(h, &len) : err;
		check(h != NULL && len == strlen(want) &&
		    memcmp(out, want, len) == 0, "%s:%s: %s", t[i][0],
		    t[i][1] ? t[i][1] : "(null)", esc(out, h ? len :
		    strlen(out)));
		http_connect_free(h);
	}
	point("http connect: Proxy-Authorization Basic for each padding");
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		test_vec(&vecs[i]);
	test_reply_codes();
	test_reply_bnd();
	test_reply_text();
	test_errno();
	test_client_new();
	test_server_new();
	test_long_names();
	test_output_taken();
	test_loop("example.com", NULL, NULL, NULL, NULL);
	test_loop("192.0.2.7", "user", "pass", NULL, NULL);
	test_loop("2001:db8::7", "user", "pass", "user", "pass");
	test_loop("example.com", "user", "pass", "user", "wrong");
	test_loop("example.com", NULL, NULL, "user", "pass");
	test_http_new();
	test_http_bound();
	test_base64();
	test_basic();
	return tap_end();
}
