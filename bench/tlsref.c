/*
 * bench/tls.sh's reference peers: the TLS jobs that weir does, written
 * plainly with blocking sockets and OpenSSL (TLS 1.3, one process per
 * role), so that weir's figures have a floor to be compared with.
 *
 *   tlsref send HOST PORT BYTES|- [CAFILE]
 *       handshake, then BYTES zero bytes in 64 KiB SSL_writes (or, with
 *       "-", standard input to its end, read 64 KiB at a time), then
 *       close_notify and shutdown(SHUT_WR), then read until the peer
 *       closes (its session tickets and its close_notify). CAFILE (or
 *       "-": no verification) is trusted, and the name checked is HOST.
 *   tlsref recv READYFILE CERT KEY [COUNTFILE]
 *       listen on 127.0.0.1:0, write the port to READYFILE, accept one
 *       connection, write what it reads to standard output (several
 *       records per write when they are already there) until
 *       close_notify or EOF, answer close_notify, write the byte count
 *       to COUNTFILE (or standard error).
 *   tlsref echo READYFILE CERT KEY
 *       sequential TLS echo server (TCP_NODELAY): each connection is
 *       echoed until close_notify or EOF, then closed with close_notify.
 *   tlsref conns HOST PORT N SIZE CAFILE|- RESULT
 *       N sequential connections, each a full handshake (no resumption),
 *       SIZE bytes sent, close_notify + SHUT_WR, the echo read to EOF and
 *       compared; RESULT gets "secs p50_ms p99_ms ok errors first-error"
 *       as bench/conns.c writes it.
 *   tlsref idle PID PORT N ROUNDS RESULT fin|rst
 *       ROUNDS times: open N TLS connections (handshakes done, nothing
 *       sent) to 127.0.0.1:PORT, wait until process PID holds them (its
 *       descriptors), sample its VmRSS, check that it closed and wrote
 *       none of them, close them (fin: close_notify and FIN; rst: a
 *       reset) and wait until PID has let go of them. RESULT gets the
 *       lines bench/helpers.py's idle writes ("fresh", "round", "hwm").
 *   tlsref tcpsink PORTFILE COUNTFILE
 *       plain TCP sink on 127.0.0.1:0 for one connection (1 MiB reads).
 *   tlsref count COUNTFILE
 *       count standard input (a pipe) to its end, spliced to /dev/null
 *       so that the count costs next to nothing.
 *
 * TLSREF_INFO=PATH appends "ROLE VERSION CIPHER" for each finished
 * handshake of send and recv.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "benchutil.h"

#define CHUNK	(64 * 1024)

/* die(), with OpenSSL's queued errors after the message */
static void
die_ssl(const char *what)
{
	complain(what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void
sslerr(SSL *ssl, int r, const char *what, char *buf, size_t len)
{
	unsigned long	 e = ERR_peek_last_error();
	int		 se = SSL_get_error(ssl, r);

	if (e)
		snprintf(buf, len, "%s: %s", what, ERR_reason_error_string(e));
	else if (se == SSL_ERROR_SYSCALL)
		snprintf(buf, len, "%s: %s", what,
		    errno ? strerror(errno) : "EOF");
	else
		snprintf(buf, len, "%s: SSL error %d", what, se);
	ERR_clear_error();
}

/*
 * Did SSL call r end at the peer's EOF? close_notify, or a TCP EOF without
 * one (OpenSSL 3: "unexpected eof while reading"; 1.1: SYSCALL, errno 0).
 * *clean tells which.
 */
static int
ended(SSL *ssl, int r, int *clean)
{
	unsigned long	 e;

	*clean = 0;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		*clean = 1;
		return 1;
	case SSL_ERROR_SYSCALL:
		return errno == 0 && ERR_peek_error() == 0;
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 1;
		}
#endif
		return 0;
	default:
		return 0;
	}
}

/*
 * send's and recv's handshake, FN (SSL_connect, SSL_accept) on SSL: 0, and
 * "ROLE VERSION CIPHER" to TLSREF_INFO; or 1, the error on standard error.
 */
static int
handshake(SSL *ssl, int (*fn)(SSL *), const char *role)
{
	const char	*path = getenv("TLSREF_INFO");
	char		 err[512];
	FILE		*f;
	int		 r;

	if ((r = fn(ssl)) != 1) {
		sslerr(ssl, r, "handshake", err, sizeof err);
		fprintf(stderr, "%s: %s\n", bench_who, err);
		return 1;
	}
	if (path != NULL && (f = fopen(path, "a")) != NULL) {
		fprintf(f, "%s %s %s\n", role, SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl));
		fclose(f);
	}
	return 0;
}

static SSL_CTX *
ctx_client(const char *cafile)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (cafile != NULL && strcmp(cafile, "-") != 0) {
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
			die_ssl(cafile);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

static SSL_CTX *
ctx_server(const char *cert, const char *key)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		die_ssl(cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die_ssl(key);
	return ctx;
}

/* a client SSL on fd, checking HOST (a name or an IP address) */
static SSL *
ssl_client(SSL_CTX *ctx, int fd, const char *host)
{
	SSL		*ssl;
	X509_VERIFY_PARAM *vp;

	if ((ssl = SSL_new(ctx)) == NULL)
		die_ssl("SSL_new");
	SSL_set_fd(ssl, fd);
	if (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) {
		vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
			ERR_clear_error();
			SSL_set_tlsext_host_name(ssl, host);
			SSL_set1_host(ssl, host);
		}
	}
	return ssl;
}

/* a count file (write_atomic) */
static void
put_count(const char *countfile, unsigned long long total)
{
	char	 text[64];

	snprintf(text, sizeof text, "%llu\n", total);
	if (write_atomic(countfile, text) == -1)
		die(countfile);
}

static int
ssl_writeall(SSL *ssl, const char *p, size_t n)
{
	int	 w;

	while (n > 0) {
		if ((w = SSL_write(ssl, p, (int)(n > INT_MAX ? INT_MAX : n))) <= 0)
			return w;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

/* read until close_notify or EOF: 0, or -1 on an error */
static int
drain(SSL *ssl)
{
	char	 buf[16384];
	int	 r, clean;

	errno = 0;
	while ((r = SSL_read(ssl, buf, sizeof buf)) > 0)
		;
	if (ended(ssl, r, &clean))
		return 0;
	/* a reset after our close_notify: the peer read all it wanted */
	if (SSL_get_error(ssl, r) == SSL_ERROR_SYSCALL && errno == ECONNRESET) {
		ERR_clear_error();
		return 0;
	}
	return -1;
}

/* send HOST PORT BYTES|- [CAFILE] */
static int
do_send(char **av)
{
	static char	 buf[CHUNK];
	const char	*host = av[0], *port = av[1], *bytes = av[2];
	SSL_CTX		*ctx = ctx_client(av[3]);
	SSL		*ssl;
	unsigned long long left = 0, sent = 0;
	char		 err[512];
	ssize_t		 n;
	int		 fd, r, fromstdin = strcmp(bytes, "-") == 0;

	if (!fromstdin)
		left = strtoull(bytes, NULL, 10);
	if ((fd = dial(SOCK_STREAM, host, port)) == -1)
		die("connect");
	ssl = ssl_client(ctx, fd, host);
	if (handshake(ssl, SSL_connect, "send") != 0)
		return 1;
	for (;;) {
		if (fromstdin) {
			if ((n = read_some(0, buf, sizeof buf)) == -1)
				die("read stdin");
			if (n == 0)
				break;
		} else {
			if (left == 0)
				break;
			n = left < CHUNK ? (ssize_t)left : CHUNK;
			left -= (unsigned long long)n;
		}
		if ((r = ssl_writeall(ssl, buf, (size_t)n)) <= 0) {
			sslerr(ssl, r, "write", err, sizeof err);
			fprintf(stderr, "%s: %s after %llu bytes\n", bench_who,
			    err, sent);
			return 1;
		}
		sent += (unsigned long long)n;
	}
	SSL_shutdown(ssl);
	shutdown(fd, SHUT_WR);
	if (drain(ssl) == -1) {
		sslerr(ssl, -1, "read", err, sizeof err);
		fprintf(stderr, "%s: %s\n", bench_who, err);
		return 1;
	}
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return 0;
}

/* recv READYFILE CERT KEY [COUNTFILE] */
static int
do_recv(char **av)
{
	static char	 buf[256 * 1024];
	const char	*ready = av[0], *countfile = av[3];
	SSL_CTX		*ctx = ctx_server(av[1], av[2]);
	SSL		*ssl;
	unsigned long long total = 0;
	char		 err[512];
	size_t		 fill;
	int		 c, r = 0, clean;

	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, CHUNK);
	if ((c = accept_one(ready)) == -1)
		die("listen and accept");
	if ((ssl = SSL_new(ctx)) == NULL)
		die_ssl("SSL_new");
	SSL_set_fd(ssl, c);
	if (handshake(ssl, SSL_accept, "recv") != 0)
		return 1;
	for (;;) {
		/* one write for the records already read */
		fill = 0;
		do {
			errno = 0;
			r = SSL_read(ssl, buf + fill, (int)(sizeof buf - fill));
			if (r <= 0)
				break;
			fill += (size_t)r;
		} while (sizeof buf - fill >= 16384 && SSL_has_pending(ssl));
		if (fill > 0 && writeall(1, buf, fill) == -1)
			die("write stdout");
		total += fill;
		if (r <= 0)
			break;
	}
	if (!ended(ssl, r, &clean)) {
		sslerr(ssl, r, "read", err, sizeof err);
		fprintf(stderr, "%s: %s after %llu bytes\n", bench_who, err,
		    total);
		return 1;
	}
	if (!clean)
		fprintf(stderr, "%s: EOF without close_notify after "
		    "%llu bytes\n", bench_who, total);
	else
		SSL_shutdown(ssl);
	SSL_free(ssl);
	close(c);
	if (countfile != NULL)
		put_count(countfile, total);
	else
		fprintf(stderr, "%llu\n", total);
	SSL_CTX_free(ctx);
	return 0;
}

/* echo READYFILE CERT KEY */
static int
do_echo(char **av)
{
	static char	 buf[CHUNK];
	const char	*ready = av[0];
	SSL_CTX		*ctx = ctx_server(av[1], av[2]);
	SSL		*ssl;
	char		 err[512];
	int		 s, c, r, on = 1;

	if ((s = listen_loopback(ready)) == -1)
		die("listen");
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		if ((ssl = SSL_new(ctx)) == NULL)
			die_ssl("SSL_new");
		SSL_set_fd(ssl, c);
		if ((r = SSL_accept(ssl)) != 1) {
			sslerr(ssl, r, "handshake", err, sizeof err);
			fprintf(stderr, "%s: %s\n", bench_who, err);
		} else {
			while ((r = SSL_read(ssl, buf, sizeof buf)) > 0)
				if (ssl_writeall(ssl, buf, (size_t)r) <= 0)
					break;
			/* close_notify or EOF (without one): answer both */
			if (r <= 0)
				SSL_shutdown(ssl);
		}
		ERR_clear_error();
		SSL_free(ssl);
		close(c);
	}
	/* NOTREACHED */
	return 0;
}

/* conns HOST PORT N SIZE CAFILE|- RESULT */
static int
do_conns(char **av)
{
	const char	*host = av[0], *port = av[1], *result = av[5];
	int		 nconns = atoi(av[2]);
	size_t		 size = (size_t)strtoul(av[3], NULL, 10);
	SSL_CTX		*ctx = ctx_client(av[4]);
	SSL		*ssl;
	struct timeval	 tv = { 10, 0 };
	double		*lat, t0, a, secs;
	char		*payload, *got, first[512] = "", err[400];
	size_t		 have;
	int		 i, s, r, ok = 0, nerr = 0, on = 1, bad, clean;

	payload = malloc(size + 1);
	got = malloc(size + 65536);
	lat = calloc((size_t)nconns + 1, sizeof *lat);
	if (payload == NULL || got == NULL || lat == NULL)
		die("malloc");
	for (have = 0; have < size; have++)
		payload[have] = (char)('a' + have % 26);
	t0 = now();
	for (i = 0; i < nconns && nerr < 3; i++) {
		a = now();
		err[0] = '\0';
		if ((s = dial(SOCK_STREAM, host, port)) == -1) {
			snprintf(err, sizeof err, "connect: %s",
			    strerror(errno));
			goto fail;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		ssl = ssl_client(ctx, s, host);
		bad = 0;
		if ((r = SSL_connect(ssl)) != 1) {
			sslerr(ssl, r, "handshake", err, sizeof err);
			bad = 1;
		} else if (size > 0 &&
		    (r = ssl_writeall(ssl, payload, size)) <= 0) {
			sslerr(ssl, r, "write", err, sizeof err);
			bad = 1;
		} else {
			SSL_shutdown(ssl);
			shutdown(s, SHUT_WR);
			have = 0;
			errno = 0;
			while (have < size + 65536 && (r = SSL_read(ssl,
			    got + have, (int)(size + 65536 - have))) > 0)
				have += (size_t)r;
			if (!ended(ssl, r, &clean)) {
				sslerr(ssl, r, "read", err, sizeof err);
				bad = 1;
			} else if (have != size ||
			    memcmp(got, payload, size) != 0) {
				snprintf(err, sizeof err, "echo of %zu B "
				    "differs (got %zu B)", size, have);
				bad = 1;
			}
		}
		ERR_clear_error();
		SSL_free(ssl);
		close(s);
		if (!bad) {
			lat[ok++] = now() - a;
			continue;
		}
fail:
		if (!nerr++)
			snprintf(first, sizeof first, "connection %d: %s", i,
			    err);
	}
	secs = now() - t0;
	if (write_conns_result(result, secs, lat, ok, nerr, first) == -1)
		die(result);
	free(payload);
	free(got);
	free(lat);
	SSL_CTX_free(ctx);
	return 0;
}

/* /proc/PID/status field in KiB */
static long
status_kib(int pid, const char *field)
{
	char	 path[64], line[256];
	size_t	 len = strlen(field);
	FILE	*f;
	long	 v = -1;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int
nfds(int pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* wait until ok(nfds) holds: at most 30 s, or 5 s without a change */
static void
settle(int pid, int base, int want, int above)
{
	double	 start = now(), changed = start;
	int	 last = -2, k;

	for (;;) {
		k = nfds(pid) - base;
		if (above ? k >= want : k <= want)
			return;
		if (k != last) {
			last = k;
			changed = now();
		}
		if (now() - start > 30 || now() - changed > 5)
			return;
		usleep(2000);
	}
}

/* idle PID PORT N ROUNDS RESULT fin|rst */
static int
do_idle(char **av)
{
	const char	*port = av[1], *result = av[4], *how = av[5];
	int		 pid = atoi(av[0]), n = atoi(av[2]);
	int		 rounds = atoi(av[3]);
	SSL_CTX		*ctx = ctx_client("-");
	SSL		**ssl;
	struct rlimit	 rl;
	struct linger	 lg = { 1, 0 };
	struct pollfd	*pfd;
	struct timeval	 tv = { 10, 0 };
	double		 t0, topen, deadline;
	char		 first[512], err[400], buf[4096];
	long		 fresh, before, full, after;
	FILE		*f;
	int		*fd, base, r, i, k, opened, held, closed, left, nerr;
	int		 rst = strcmp(how, "rst") == 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > (rlim_t)n + 64 ? (rlim_t)n + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ssl = calloc((size_t)n, sizeof *ssl);
	fd = calloc((size_t)n, sizeof *fd);
	pfd = calloc((size_t)n, sizeof *pfd);
	if ((f = fopen(result, "w")) == NULL || !ssl || !fd || !pfd)
		die(result);
	usleep(200000);
	base = nfds(pid);
	fresh = status_kib(pid, "VmRSS");
	fprintf(f, "fresh %ld %d\n", fresh, base);
	for (r = 1; r <= rounds; r++) {
		before = status_kib(pid, "VmRSS");
		opened = 0;
		nerr = 0;
		first[0] = '\0';
		t0 = now();
		for (i = 0; i < n && nerr < 3; i++) {
			err[0] = '\0';
			if ((fd[opened] = dial(SOCK_STREAM, LOOPBACK,
			    port)) == -1) {
				snprintf(err, sizeof err, "connect: %s",
				    strerror(errno));
			} else {
				setsockopt(fd[opened], SOL_SOCKET, SO_RCVTIMEO,
				    &tv, sizeof tv);
				ssl[opened] = ssl_client(ctx, fd[opened],
				    LOOPBACK);
				if ((k = SSL_connect(ssl[opened])) != 1) {
					sslerr(ssl[opened], k, "handshake",
					    err, sizeof err);
					SSL_free(ssl[opened]);
					close(fd[opened]);
				} else
					opened++;
			}
			if (err[0] != '\0' && !nerr++)
				snprintf(first, sizeof first,
				    "connection %d: %s", i, err);
			if (opened % 256 == 0) {
				/* let the server catch up with its accept queue */
				deadline = now() + 10;
				while (nfds(pid) - base < opened &&
				    now() < deadline)
					usleep(1000);
			}
		}
		topen = now() - t0;
		settle(pid, base, opened, 1);
		usleep(500000);
		held = nfds(pid) - base;
		full = status_kib(pid, "VmRSS");
		/* closed by the server, or written to? (session tickets aside) */
		closed = 0;
		for (i = 0; i < opened; i++) {
			pfd[i].fd = fd[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		poll(pfd, (nfds_t)opened, 0);
		for (i = 0; i < opened; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK);
			errno = 0;
			k = SSL_read(ssl[i], buf, sizeof buf);
			if (k > 0 || SSL_get_error(ssl[i], k) !=
			    SSL_ERROR_WANT_READ) {
				if (!closed++ && first[0] == '\0') {
					if (k > 0)
						snprintf(err, sizeof err,
						    "%d bytes came", k);
					else
						sslerr(ssl[i], k, "read", err,
						    sizeof err);
					snprintf(first, sizeof first,
					    "connection %d: %s", i, err);
				}
			}
			ERR_clear_error();
		}
		for (i = 0; i < opened; i++) {
			if (rst)
				setsockopt(fd[i], SOL_SOCKET, SO_LINGER, &lg,
				    sizeof lg);
			else {
				fcntl(fd[i], F_SETFL,
				    fcntl(fd[i], F_GETFL) | O_NONBLOCK);
				SSL_shutdown(ssl[i]);
			}
			ERR_clear_error();
			SSL_free(ssl[i]);
			close(fd[i]);
		}
		settle(pid, base, 0, 0);
		usleep(300000);
		left = nfds(pid) - base;
		after = status_kib(pid, "VmRSS");
		fprintf(f, "round %d %d %d %d %ld %ld %ld %d %.3f %d %s\n", r,
		    opened, held, closed, before, full, after, left, topen,
		    nerr, first[0] ? first : "-");
		fflush(f);
		if (nerr || held < opened || closed || left)
			break;
	}
	fprintf(f, "hwm %ld\n", status_kib(pid, "VmHWM"));
	fclose(f);
	return 0;
}

/* tcpsink PORTFILE COUNTFILE */
static int
do_tcpsink(char **av)
{
	const char	*portfile = av[0], *countfile = av[1];
	static char	 buf[1 << 20];
	unsigned long long total = 0;
	ssize_t		 n;
	int		 c;

	if ((c = accept_one(portfile)) == -1)
		die("listen and accept");
	while ((n = read_some(c, buf, sizeof buf)) > 0)
		total += (unsigned long long)n;
	if (n == -1)
		die("read");
	close(c);
	put_count(countfile, total);
	return 0;
}

/* count COUNTFILE */
static int
do_count(char **av)
{
	const char	*countfile = av[0];
	static char	 buf[1 << 16];
	unsigned long long total = 0;
	ssize_t		 n;
	int		 null, splicing = 1;

	if ((null = open("/dev/null", O_WRONLY)) == -1)
		die("/dev/null");
	for (;;) {
		if (splicing) {
			n = splice(0, NULL, null, NULL, 1 << 20, SPLICE_F_MOVE);
			if (n == -1 && errno == EINVAL) {
				splicing = 0;
				continue;
			}
		} else
			n = read(0, buf, sizeof buf);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("count");
		}
		total += (unsigned long long)n;
	}
	put_count(countfile, total);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct command	 cmds[] = {
		{ "send", 3, do_send, 1 }, { "recv", 3, do_recv, 1 },
		{ "echo", 3, do_echo, 0 }, { "conns", 6, do_conns, 0 },
		{ "idle", 6, do_idle, 0 }, { "tcpsink", 2, do_tcpsink, 0 },
		{ "count", 1, do_count, 0 },
	};

	signal(SIGPIPE, SIG_IGN);
	return run_command("tlsref", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: tlsref send HOST PORT BYTES|- [CAFILE]\n"
	    "       tlsref recv READYFILE CERT KEY [COUNTFILE]\n"
	    "       tlsref echo READYFILE CERT KEY\n"
	    "       tlsref conns HOST PORT N SIZE CAFILE|- RESULT\n"
	    "       tlsref idle PID PORT N ROUNDS RESULT fin|rst\n"
	    "       tlsref tcpsink PORTFILE COUNTFILE\n"
	    "       tlsref count COUNTFILE\n");
}
