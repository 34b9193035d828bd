/*
 * The request is made whole at the start; the response head is bounded
 * at 8 KiB, and only its status counts: a 2xx to CONNECT has no body
 * (its Content-Length, if any, is ignored, as RFC 9110 says), and the
 * body of a refusal is never read, the connection being dropped.  An
 * interim 1xx is not waited past: no proxy sends one to CONNECT, and it
 * fails as any other status that is not 2xx.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "http-connect.h"
#include "http-head.h"
#include "util.h"

struct http_connect {
	char			*request;
	size_t			 len;		/* left to take */
	struct http_head	*head;
	enum http_head_status	 st;
	char			 err[256];
};

static int	 host_ok(const char *);
static int	 has_ctl(const char *);
static char	*authorization(const char *, const char *);

/*
 * A name or an address, as the authority of a request target: visible
 * ASCII but what would end it or make it a URL's ("/?#@[]"), and a
 * colon only in an IPv6 address, which goes in brackets.
 */
static int
host_ok(const char *host)
{
	const unsigned char	*s;
	struct in6_addr		 a;

	if (strchr(host, ':') != NULL)
		return inet_pton(AF_INET6, host, &a) == 1;
	for (s = (const unsigned char *)host; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f ||
		    strchr("/?#@[]", *s) != NULL)
			return 0;
	return *host != '\0';
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * The Proxy-Authorization line: Basic, base64 of "user:pass" (OpenSSL's
 * encoder, as for the WebSocket keys).
 */
static char *
authorization(const char *user, const char *pass)
{
	char		*plain, *b64, *line;
	size_t		 n;

	plain = xasprintf("%s:%s", user, pass);
	n = strlen(plain);
	b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, (int)n);
	line = xasprintf("Proxy-Authorization: Basic %s\r\n", b64);
	free(plain);
	free(b64);
	return line;
}

struct http_connect *
http_connect_new(const char *host, unsigned port, const char *user,
    const char *pass, char *err, size_t errlen)
{
	struct http_connect	*c;
	char			 buf[64], *auth = NULL, *hostport;

	if (pass == NULL)
		pass = "";
	if (!host_ok(host))
		snprintf(err, errlen, "host \"%s\": not a host",
		    util_escape(host, strlen(host), buf, sizeof buf));
	else if (port > 65535)
		snprintf(err, errlen, "port %u out of range", port);
	else if (user != NULL && strchr(user, ':') != NULL)
		snprintf(err, errlen, "user holds ':'");	/* RFC 7617 2 */
	else if (user != NULL && (has_ctl(user) || has_ctl(pass)))
		snprintf(err, errlen, "user or password holds a control "
		    "character");
	else
		auth = user != NULL ? authorization(user, pass) : xstrdup("");
	if (auth == NULL)
		return NULL;
	c = xcalloc(1, sizeof *c);
	hostport = xasprintf(strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
	c->request = xasprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
	    hostport, hostport, auth);
	c->len = strlen(c->request);
	c->head = http_head_new(HTTP_HEAD_RESPONSE, HTTP_CONNECT_MAX_HEAD);
	c->st = HTTP_HEAD_MORE;
	free(hostport);
	free(auth);
	return c;
}

void
http_connect_free(struct http_connect *c)
{
	if (c == NULL)
		return;
	http_head_free(c->head);
	free(c->request);
	free(c);
}

const char *
http_connect_output(struct http_connect *c, size_t *len)
{
	*len = c->len;
	c->len = 0;
	return c->request;
}

enum http_head_status
http_connect_feed(struct http_connect *c, const char *p, size_t n,
    size_t *used)
{
	const char	*reason;
	char		 buf[128];
	int		 code;

	*used = 0;
	if (c->st != HTTP_HEAD_MORE)
		return c->st;
	c->st = http_head_feed(c->head, p, n, used);
	if (c->st == HTTP_HEAD_ERROR)
		snprintf(c->err, sizeof c->err, "%s",
		    http_head_error(c->head));
	if (c->st != HTTP_HEAD_DONE)
		return c->st;
	code = http_head_code(c->head);
	if (code >= 200 && code <= 299)
		return c->st;
	reason = http_head_reason(c->head);
	snprintf(c->err, sizeof c->err, "%03d%s%s", code, *reason ? " " : "",
	    util_escape(reason, strlen(reason), buf, sizeof buf));
	return c->st = HTTP_HEAD_ERROR;
}

const char *
http_connect_error(const struct http_connect *c)
{
	return c->st == HTTP_HEAD_ERROR ? c->err : NULL;
}

int
http_connect_code(const struct http_connect *c)
{
	return http_head_code(c->head);
}
