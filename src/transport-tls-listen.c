/*
 * tls-listen:[HOST:]PORT, a TLS server over TCP: each accepted
 * connection's handshake runs before the hub sees it (a stream of
 * transport-tls.c).  Without cert= a fresh self-signed certificate is
 * made at start; the ready line carries its pin either way.
 */
#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "transport-kind.h"
#include "util.h"

extern const struct transport_ops transport_tls_accepted_ops;

static int	tls_listen_parse(struct addr *, const char *, char **);
static int	tls_bind(const struct addr *, struct bound *, char **);

static const struct kind_listen tls_listen = {
	.bind = tls_bind,
	.conn = &transport_tls_accepted_ops
};

const struct kind kind_tls_listen = {
	.name = "tls-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET,
	.help = "  tls-listen:[HOST:]PORT listen for TLS connections\n",
	.help_opts = "  cert=PATH, key=PATH, ca=PATH\n"
	    "                         tls-listen: its certificate (default: "
	    "a fresh one);\n"
	    "                         client certificates signed by ca= "
	    "required\n",
	.parse = tls_listen_parse,
	.option = tls_addr_option,
	.check = tls_addr_check,
	.free = tls_addr_free,
	.listen = &tls_listen
};

static int
tls_listen_parse(struct addr *a, const char *arg, char **err)
{
	return tls_addr_parse(a, arg, 1, err);
}

/* The context first (a bad certificate binds nothing), then the socket. */
static int
tls_bind(const struct addr *a, struct bound *b, char **err)
{
	struct tls_addr	*ta = a->opts;
	char		*ready, *pin;

	if (ta->ctx == NULL && (ta->ctx = tls_ctx_server(&ta->opts, err)) ==
	    NULL)
		return -1;
	if ((b->fd = sock_bind(a, SOCK_STREAM, "tls", &ready, err)) == -1)
		return -1;
	pin = tls_ctx_pin(ta->ctx);
	if (ta->opts.cert == NULL)
		log_debug("%s: a fresh self-signed certificate, %s", a->name,
		    pin);
	b->ready = xasprintf("%s,pin=%s", ready, pin);
	free(ready);
	free(pin);
	return b->fd;
}
