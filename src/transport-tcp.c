/* TCP: connect to HOST:PORT (every address it resolves to, in order), listen. */
#include <sys/types.h>

#include <stdlib.h>

#include "cli.h"
#include "sock.h"
#include "transport-kind.h"

static int	tcp_parse(struct addr *, const char *, char **);
static int	tcp_listen_parse(struct addr *, const char *, char **);
static int	tcp_option(struct addr *, const char *, const char *, char **);
static int	tcp_listen_option(struct addr *, const char *, const char *,
		    char **);
static void	tcp_open(struct transport *);
static int	tcp_bind(const struct addr *, struct bound *, char **);

static const struct transport_ops tcp_ops = {
	.open = tcp_open,
	.release = sock_connect_free
};

const struct kind kind_tcp = {
	.name = "tcp",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS | KIND_FAMILY,
	.help = "  tcp:HOST:PORT          connect over TCP (HOST a name, IPv4 "
	    "or [IPv6])\n",
	.help_opts = "  bind=HOST[:PORT]       tcp:, tls:, udp: connect from this "
	    "source address\n"
	    "  sndbuf=SIZE, rcvbuf=SIZE\n"
	    "                         the kernel's socket buffers (tcp, tls, "
	    "unix, udp, and\n"
	    "                         their -listen; udp: rcvbuf 1M by "
	    "default)\n"
	    "  nodelay=yes|no, keepalive=yes|no\n"
	    "                         TCP_NODELAY, SO_KEEPALIVE (tcp, tls, and "
	    "their\n"
	    "                         -listen; default no)\n"
	    "  proxy=socks5://[USER:PASS@]HOST:PORT, proxy=http://[USER:PASS@]"
	    "HOST:PORT\n"
	    "                         tcp:, tls:, ws://, wss://: connect through "
	    "this SOCKS5\n"
	    "                         or HTTP CONNECT proxy (the proxy "
	    "resolves the name)\n",
	.parse = tcp_parse,
	.option = tcp_option,
	.splices = kind_splices_always,
	.ops = &tcp_ops
};

static const struct kind_listen tcp_listen = {
	.bind = tcp_bind,
	.conn = &sock_accepted_ops
};

const struct kind kind_tcp_listen = {
	.name = "tcp-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET |
	    KIND_FAMILY,
	.help = "  tcp-listen:[HOST:]PORT listen for TCP connections (PORT 0: "
	    "any free port)\n"
	    "  tcp4:, tcp6:, tcp4-listen:, tcp6-listen:\n"
	    "                         the same, over IPv4 or IPv6 only\n",
	.parse = tcp_listen_parse,
	.option = tcp_listen_option,
	.splices = kind_splices_always,
	.listen = &tcp_listen
};

static int
tcp_parse(struct addr *a, const char *arg, char **err)
{
	return kind_arg_hostport(a, arg, 0, err);
}

static int
tcp_listen_parse(struct addr *a, const char *arg, char **err)
{
	return kind_arg_hostport(a, arg, 1, err);
}

static int
tcp_option(struct addr *a, const char *name, const char *val, char **err)
{
	return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_TCP | SOCK_OPT_BIND |
	    SOCK_OPT_PROXY, name, val, err);
}

static int
tcp_listen_option(struct addr *a, const char *name, const char *val,
    char **err)
{
	return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_TCP, name, val, err);
}

static void
tcp_open(struct transport *t)
{
	sock_dial(t, SOCK_STREAM, NULL);
}

static int
tcp_bind(const struct addr *a, struct bound *b, char **err)
{
	b->fd = sock_bind(a, SOCK_STREAM, "tcp", &b->ready, err);
	return b->fd;
}
