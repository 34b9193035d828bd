/*
 * SOCKS5, one byte at a time, so a byte that breaks the protocol fails in
 * the feed that holds it.  Each message is gathered whole in msg (the
 * longest, RFC 1929's request, is 513 bytes); its length is known from
 * its fixed part and its length bytes as they arrive (need), and when the
 * last byte is in, the message is acted on and the next one begins.
 *
 * Where RFC 1928 leaves a choice: the reserved byte of a request or a
 * reply is not checked (X'00' is sent); a proxy's BND.ADDR is read and
 * dropped, an empty name there included; a server answers a command
 * other than CONNECT with 7, an unknown address type with 8 and a host
 * name that is empty or holds a control character, a space or NUL with
 * 1, and closes; other breaches (a wrong version byte) are closed with
 * no reply.  User and password may be empty (RFC 1929 says 1 to 255).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "socks5.h"
#include "util.h"

#define VERSION		5
#define AUTH_VERSION	1	/* of RFC 1929's sub-negotiation */
#define M_NONE		0x00	/* methods: no authentication */
#define M_USERPASS	0x02
#define M_REFUSED	0xff	/* no acceptable methods */
#define CMD_CONNECT	1

/* The longest: ULEN UNAME PLEN PASSWD; VER and those; a request. */
#define CRED_MAX	(2 + 2 * SOCKS5_MAX_NAME)
#define MSG_MAX		(1 + CRED_MAX)
#define REQUEST_MAX	(4 + 1 + SOCKS5_MAX_NAME + 2)

enum {
	C_METHOD,		/* client: reading the method chosen */
	C_AUTH,			/* ... the sub-negotiation's status */
	C_REPLY,		/* ... the reply to CONNECT */
	S_GREETING,		/* server: reading the methods offered */
	S_AUTH,			/* ... user and password */
	S_REQUEST,		/* ... the request */
	DONE,
	FAILED
};

/* What client and server share: the message read and the bytes to send. */
struct wire {
	int		 state;
	unsigned char	 msg[MSG_MAX];
	size_t		 have, need;
	uint64_t	 off;		/* peer's bytes before msg[have] */
	char		 out[1024];	/* at most 4 + 513 + 262 */
	size_t		 outlen;
	char		 err[256];
};

struct socks5_client {
	struct wire	 w;
	int		 userpass;	/* offered */
	unsigned char	 auth[MSG_MAX];
	size_t		 authlen;
	unsigned char	 request[REQUEST_MAX];
	size_t		 requestlen;
	int		 reply;
};

struct socks5_server {
	struct wire	 w;
	int		 userpass;	/* required */
	unsigned char	 cred[CRED_MAX];	/* as sent, 0-padded */
	char		 host[SOCKS5_MAX_NAME + 1];	/* or an IPv6 */
	unsigned	 port;
};

static int	 fail(struct wire *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 refuse(struct wire *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 put(struct wire *, const void *, size_t);
static void	 next(struct wire *, int, size_t);
static const char *take(struct wire *, size_t *);
static enum socks5_status feed(struct wire *, int (*)(void *, int), void *,
		    const char *, size_t, size_t *);
static int	 name_byte(int);
static int	 name_ok(const char *, size_t);
static size_t	 cred_put(unsigned char *, const char *, const char *);
static int	 cred_check(const char *, const char *, char *, size_t);
static int	 target_check(const char *, unsigned, char *, size_t);
static void	 client_request(struct socks5_client *, const char *,
		    unsigned);
static int	 client_step(void *, int);
static int	 client_method(struct socks5_client *, size_t, int);
static int	 client_auth(struct socks5_client *, size_t, int);
static int	 client_reply(struct socks5_client *, size_t, int);
static int	 server_step(void *, int);
static int	 server_greeting(struct socks5_server *, size_t, int);
static int	 server_choose(struct socks5_server *);
static int	 server_auth(struct socks5_server *, size_t, int);
static int	 server_request(struct socks5_server *, size_t, int);
static int	 server_deny(struct socks5_server *, int, int, const char *);
static void	 server_target(struct socks5_server *);

const char *
socks5_reply_text(int code)
{
	static const char *const text[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused by destination",
		"TTL expired",
		"command not supported",
		"address type not supported"
	};

	if (code < 0 || (size_t)code >= sizeof text / sizeof text[0])
		return "unassigned reply code";
	return text[code];
}

/* What a client is told when this server's connect fails with err. */
int
socks5_errno_code(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return SOCKS5_REFUSED;
	case ENETUNREACH:
	case ENETDOWN:
		return SOCKS5_NET_UNREACH;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return SOCKS5_HOST_UNREACH;
	case ETIMEDOUT:		/* the kernel's, or -w's deadline */
		return SOCKS5_TTL_EXPIRED;
	case EACCES:
	case EPERM:		/* a firewall rule on this host */
		return SOCKS5_NOT_ALLOWED;
	case EAFNOSUPPORT:
		return SOCKS5_BAD_ATYP;
	default:
		return SOCKS5_FAILURE;
	}
}

size_t
socks5_reply(int code, const struct sockaddr *bnd, unsigned char *out)
{
	const struct sockaddr_in6	*sin6;
	const struct sockaddr_in	*sin;

	out[0] = VERSION;
	out[1] = (unsigned char)code;
	out[2] = 0;
	if (bnd != NULL && bnd->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)bnd;
		out[3] = SOCKS5_ATYP_IPV6;
		memcpy(out + 4, &sin6->sin6_addr, 16);
		memcpy(out + 20, &sin6->sin6_port, 2);
		return 22;
	}
	out[3] = SOCKS5_ATYP_IPV4;
	memset(out + 4, 0, 6);
	if (bnd != NULL && bnd->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)bnd;
		memcpy(out + 4, &sin->sin_addr, 4);
		memcpy(out + 8, &sin->sin_port, 2);
	}
	return 10;
}

/*
 * A breach of the protocol at the byte at w->off (c, or c < 0: none):
 * "socks5: <what>, got 'c', at byte N", the byte escaped.  Returns -1.
 */
static int
fail(struct wire *w, int c, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[160];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	util_codec_error(w->err, sizeof w->err, "socks5", what, c, w->off);
	w->state = FAILED;
	return -1;
}

/* A refusal in the protocol's terms, its words alone.  Returns -1. */
static int
refuse(struct wire *w, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	w->state = FAILED;
	return -1;
}

/* Bytes to send; no run of messages outgrows out. */
static void
put(struct wire *w, const void *p, size_t n)
{
	if (w->outlen + n > sizeof w->out)
		abort();
	memcpy(w->out + w->outlen, p, n);
	w->outlen += n;
}

/*
 * The next message to read: in state, need bytes known so far.  msg is
 * cleared, so no byte of the last message passes for one of this, and
 * credentials sit 0-padded for their comparison.
 */
static void
next(struct wire *w, int state, size_t need)
{
	w->state = state;
	w->have = 0;
	w->need = need;
	memset(w->msg, 0, sizeof w->msg);
}

static const char *
take(struct wire *w, size_t *len)
{
	*len = w->outlen;
	w->outlen = 0;
	return w->out;
}

/* Steps through p until done or failed; a failing byte is not used. */
static enum socks5_status
feed(struct wire *w, int (*step)(void *, int), void *arg, const char *p,
    size_t n, size_t *used)
{
	size_t	 i;

	*used = 0;
	for (i = 0; i < n && w->state != DONE && w->state != FAILED; i++) {
		if (step(arg, (unsigned char)p[i]) == -1)
			break;
		w->off++;
		*used = i + 1;
	}
	if (w->state == DONE)
		return SOCKS5_DONE;
	return w->state == FAILED ? SOCKS5_ERROR : SOCKS5_MORE;
}

/*
 * A byte of a host name as it may travel: no control character, space
 * or NUL, which no resolver takes and no log line should carry.
 */
static int
name_byte(int c)
{
	return c > 0x20 && c != 0x7f;
}

static int
name_ok(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!name_byte((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* ULEN UNAME PLEN PASSWD at p; the length. */
static size_t
cred_put(unsigned char *p, const char *user, const char *pass)
{
	size_t	 u = strlen(user), k = strlen(pass);

	p[0] = (unsigned char)u;
	memcpy(p + 1, user, u);
	p[1 + u] = (unsigned char)k;
	memcpy(p + 2 + u, pass, k);
	return 2 + u + k;
}

static int
cred_check(const char *user, const char *pass, char *err, size_t errlen)
{
	if (strlen(user) > SOCKS5_MAX_NAME) {
		snprintf(err, errlen, "user longer than %d bytes",
		    SOCKS5_MAX_NAME);
		return -1;
	}
	if (strlen(pass) > SOCKS5_MAX_NAME) {
		snprintf(err, errlen, "password longer than %d bytes",
		    SOCKS5_MAX_NAME);
		return -1;
	}
	return 0;
}

/* What a client may ask a proxy for. */
static int
target_check(const char *host, unsigned port, char *err, size_t errlen)
{
	char	 buf[64];
	size_t	 n = strlen(host);

	if (n > SOCKS5_MAX_NAME)
		snprintf(err, errlen, "host name longer than %d bytes",
		    SOCKS5_MAX_NAME);
	else if (!name_ok(host, n))
		snprintf(err, errlen, "host \"%s\": not a host name",
		    util_escape(host, n, buf, sizeof buf));
	else if (port > 65535)
		snprintf(err, errlen, "port %u out of range", port);
	else
		return 0;
	return -1;
}

struct socks5_client *
socks5_client_new(const char *host, unsigned port, const char *user,
    const char *pass, char *err, size_t errlen)
{
	struct socks5_client	*c;
	unsigned char		 greeting[] = {
				 VERSION, 1, M_NONE, M_USERPASS
			 };

	if (pass == NULL)
		pass = "";
	if (target_check(host, port, err, errlen) == -1 ||
	    (user != NULL && cred_check(user, pass, err, errlen) == -1))
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->reply = -1;
	if (user != NULL) {
		c->userpass = 1;
		c->auth[0] = AUTH_VERSION;
		c->authlen = 1 + cred_put(c->auth + 1, user, pass);
		greeting[1] = 2;
	}
	client_request(c, host, port);
	put(&c->w, greeting, 2 + greeting[1]);
	next(&c->w, C_METHOD, 2);
	return c;
}

void
socks5_client_free(struct socks5_client *c)
{
	free(c);
}

/*
 * CONNECT to host: an address as one (ATYP 1 or 4), anything else as a
 * name for the proxy to resolve (ATYP 3, as curl's socks5h).
 */
static void
client_request(struct socks5_client *c, const char *host, unsigned port)
{
	unsigned char	*p = c->request;
	size_t		 n = strlen(host);

	*p++ = VERSION;
	*p++ = CMD_CONNECT;
	*p++ = 0;
	if (inet_pton(AF_INET, host, p + 1) == 1) {
		*p = SOCKS5_ATYP_IPV4;
		p += 1 + 4;
	} else if (inet_pton(AF_INET6, host, p + 1) == 1) {
		*p = SOCKS5_ATYP_IPV6;
		p += 1 + 16;
	} else {
		*p++ = SOCKS5_ATYP_NAME;
		*p++ = (unsigned char)n;
		memcpy(p, host, n);
		p += n;
	}
	*p++ = (unsigned char)(port >> 8);
	*p++ = (unsigned char)port;
	c->requestlen = (size_t)(p - c->request);
}

enum socks5_status
socks5_client_feed(struct socks5_client *c, const char *p, size_t n,
    size_t *used)
{
	return feed(&c->w, client_step, c, p, n, used);
}

const char *
socks5_client_output(struct socks5_client *c, size_t *len)
{
	return take(&c->w, len);
}

const char *
socks5_client_error(const struct socks5_client *c)
{
	return c->w.state == FAILED ? c->w.err : NULL;
}

int
socks5_client_reply(const struct socks5_client *c)
{
	return c->reply;
}

/* One byte of the proxy's, at offset at of its message. */
static int
client_step(void *arg, int b)
{
	struct socks5_client	*c = arg;
	size_t			 at = c->w.have;

	c->w.msg[c->w.have++] = (unsigned char)b;
	switch (c->w.state) {
	case C_METHOD:
		return client_method(c, at, b);
	case C_AUTH:
		return client_auth(c, at, b);
	default:
		return client_reply(c, at, b);
	}
}

/* VER METHOD: go on with the method chosen, if it was offered. */
static int
client_method(struct socks5_client *c, size_t at, int b)
{
	if (at == 0) {
		if (b != VERSION)
			return fail(&c->w, b, "version 5 expected");
		return 0;
	}
	if (b == M_REFUSED)
		return refuse(&c->w, "no acceptable methods (offered: no "
		    "authentication%s)", c->userpass ? ", user/password" : "");
	if (b == M_USERPASS && c->userpass) {
		put(&c->w, c->auth, c->authlen);
		next(&c->w, C_AUTH, 2);
		return 0;
	}
	if (b != M_NONE)
		return fail(&c->w, b, "a method not offered");
	put(&c->w, c->request, c->requestlen);
	next(&c->w, C_REPLY, 4);
	return 0;
}

/* VER STATUS of RFC 1929: anything but 0 is a refusal. */
static int
client_auth(struct socks5_client *c, size_t at, int b)
{
	if (at == 0) {
		if (b != AUTH_VERSION)
			return fail(&c->w, b, "user/password version 1 "
			    "expected");
		return 0;
	}
	if (b != 0)
		return refuse(&c->w, "authentication failed");
	put(&c->w, c->request, c->requestlen);
	next(&c->w, C_REPLY, 4);
	return 0;
}

/* VER REP RSV ATYP BND.ADDR BND.PORT; a refusal fails at REP. */
static int
client_reply(struct socks5_client *c, size_t at, int b)
{
	switch (at) {
	case 0:
		if (b != VERSION)
			return fail(&c->w, b, "version 5 expected");
		break;
	case 1:
		c->reply = b;
		if (b != SOCKS5_OK)
			return refuse(&c->w, "%s (%d)", socks5_reply_text(b),
			    b);
		break;
	case 3:
		if (b == SOCKS5_ATYP_IPV4)
			c->w.need = 4 + 4 + 2;
		else if (b == SOCKS5_ATYP_IPV6)
			c->w.need = 4 + 16 + 2;
		else if (b == SOCKS5_ATYP_NAME)
			c->w.need = 4 + 1;
		else
			return fail(&c->w, b, "address type 1, 3 or 4 "
			    "expected");
		break;
	case 4:
		if (c->w.msg[3] == SOCKS5_ATYP_NAME)
			c->w.need = 4 + 1 + (size_t)b + 2;
		break;
	}
	if (c->w.have == c->w.need)
		c->w.state = DONE;
	return 0;
}

/*
 * A server for clients with no authentication, or only for those who
 * give user and password (user not NULL).
 */
struct socks5_server *
socks5_server_new(const char *user, const char *pass, char *err,
    size_t errlen)
{
	struct socks5_server	*s;

	if (pass == NULL)
		pass = "";
	if (user != NULL && cred_check(user, pass, err, errlen) == -1)
		return NULL;
	s = xcalloc(1, sizeof *s);
	if (user != NULL) {
		s->userpass = 1;
		cred_put(s->cred, user, pass);
	}
	next(&s->w, S_GREETING, 2);
	return s;
}

void
socks5_server_free(struct socks5_server *s)
{
	free(s);
}

enum socks5_status
socks5_server_feed(struct socks5_server *s, const char *p, size_t n,
    size_t *used)
{
	return feed(&s->w, server_step, s, p, n, used);
}

const char *
socks5_server_output(struct socks5_server *s, size_t *len)
{
	return take(&s->w, len);
}

const char *
socks5_server_error(const struct socks5_server *s)
{
	return s->w.state == FAILED ? s->w.err : NULL;
}

const char *
socks5_server_host(const struct socks5_server *s)
{
	return s->w.state == DONE ? s->host : NULL;
}

unsigned
socks5_server_port(const struct socks5_server *s)
{
	return s->w.state == DONE ? s->port : 0;
}

int
socks5_server_atyp(const struct socks5_server *s)
{
	return s->w.state == DONE ? s->w.msg[3] : 0;
}

/* One byte of the client's, at offset at of its message. */
static int
server_step(void *arg, int b)
{
	struct socks5_server	*s = arg;
	size_t			 at = s->w.have;

	s->w.msg[s->w.have++] = (unsigned char)b;
	switch (s->w.state) {
	case S_GREETING:
		return server_greeting(s, at, b);
	case S_AUTH:
		return server_auth(s, at, b);
	default:
		return server_request(s, at, b);
	}
}

/* VER NMETHODS METHODS: a method chosen once they are all in. */
static int
server_greeting(struct socks5_server *s, size_t at, int b)
{
	if (at == 0 && b != VERSION)
		return fail(&s->w, b, "version 5 expected");
	if (at == 1)
		s->w.need = 2 + (size_t)b;
	if (s->w.have == s->w.need)
		return server_choose(s);
	return 0;
}

/* The one method this server takes, if offered; else X'FF' and close. */
static int
server_choose(struct socks5_server *s)
{
	unsigned char	 reply[2] = { VERSION, M_REFUSED };
	int		 want = s->userpass ? M_USERPASS : M_NONE;

	if (memchr(s->w.msg + 2, want, s->w.need - 2) == NULL) {
		put(&s->w, reply, sizeof reply);
		return fail(&s->w, -1, "no acceptable methods (%s needed)",
		    s->userpass ? "user/password" : "no authentication");
	}
	reply[1] = (unsigned char)want;
	put(&s->w, reply, sizeof reply);
	if (s->userpass)
		next(&s->w, S_AUTH, 2);
	else
		next(&s->w, S_REQUEST, 4);
	return 0;
}

/*
 * VER ULEN UNAME PLEN PASSWD, compared with the server's in constant
 * time, both 0-padded to CRED_MAX bytes.  The user is not named in the
 * message: it would put the peer's words there, and users type
 * passwords into the wrong field.
 */
static int
server_auth(struct socks5_server *s, size_t at, int b)
{
	unsigned char	 status[2] = { AUTH_VERSION, 0 };
	size_t		 ulen = s->w.msg[1];

	if (at == 0 && b != AUTH_VERSION)
		return fail(&s->w, b, "user/password version 1 expected");
	if (at == 1)
		s->w.need = 2 + (size_t)b + 1;
	else if (at == 2 + ulen)
		s->w.need = 2 + ulen + 1 + (size_t)b;
	if (s->w.have < s->w.need)
		return 0;
	if (CRYPTO_memcmp(s->w.msg + 1, s->cred, CRED_MAX) != 0) {
		status[1] = 1;
		put(&s->w, status, sizeof status);
		return fail(&s->w, -1, "authentication failed");
	}
	put(&s->w, status, sizeof status);
	next(&s->w, S_REQUEST, 4);
	return 0;
}

/* VER CMD RSV ATYP DST.ADDR DST.PORT. */
static int
server_request(struct socks5_server *s, size_t at, int b)
{
	switch (at) {
	case 0:
		if (b != VERSION)
			return fail(&s->w, b, "version 5 expected");
		break;
	case 1:
		if (b != CMD_CONNECT)
			return server_deny(s, SOCKS5_BAD_COMMAND, b,
			    "command CONNECT (1) expected");
		break;
	case 2:
		break;		/* RSV: not checked */
	case 3:
		if (b == SOCKS5_ATYP_IPV4)
			s->w.need = 4 + 4 + 2;
		else if (b == SOCKS5_ATYP_IPV6)
			s->w.need = 4 + 16 + 2;
		else if (b == SOCKS5_ATYP_NAME)
			s->w.need = 4 + 1;
		else
			return server_deny(s, SOCKS5_BAD_ATYP, b,
			    "address type 1, 3 or 4 expected");
		break;
	case 4:
		if (s->w.msg[3] != SOCKS5_ATYP_NAME)
			break;
		if (b == 0)
			return server_deny(s, SOCKS5_FAILURE, b,
			    "empty host name");
		s->w.need = 4 + 1 + (size_t)b + 2;
		break;
	default:
		if (s->w.msg[3] == SOCKS5_ATYP_NAME &&
		    at < 5 + (size_t)s->w.msg[4] && !name_byte(b))
			return server_deny(s, SOCKS5_FAILURE, b,
			    "invalid character in the host name");
	}
	if (s->w.have == s->w.need)
		server_target(s);
	return 0;
}

/* A request refused with code, the reply sent before closing. */
static int
server_deny(struct socks5_server *s, int code, int b, const char *what)
{
	unsigned char	 reply[SOCKS5_REPLY_MAX];

	put(&s->w, reply, socks5_reply(code, NULL, reply));
	return fail(&s->w, b, "%s", what);
}

/* The destination of a whole request, as text. */
static void
server_target(struct socks5_server *s)
{
	const unsigned char	*m = s->w.msg;

	if (m[3] == SOCKS5_ATYP_IPV4)
		inet_ntop(AF_INET, m + 4, s->host, sizeof s->host);
	else if (m[3] == SOCKS5_ATYP_IPV6)
		inet_ntop(AF_INET6, m + 4, s->host, sizeof s->host);
	else {
		memcpy(s->host, m + 5, m[4]);
		s->host[m[4]] = '\0';
	}
	s->port = (unsigned)m[s->w.need - 2] << 8 | m[s->w.need - 1];
	s->w.state = DONE;
}
