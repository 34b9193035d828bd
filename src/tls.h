/*
 * OpenSSL for the TLS kinds: their address options, contexts, the
 * ephemeral certificate and pins, and a handshake's outcome in words.
 * No I/O of its own (OpenSSL reads and writes the descriptor it is
 * given) and nothing of libevent; transport-tls*.c drive it.
 */
#ifndef WEIR_TLS_H
#define WEIR_TLS_H

#include <openssl/ssl.h>

struct tls_opts {
	char		*ca;		/* PEM file or directory */
	char		*cert;		/* PEM chain */
	char		*key;		/* PEM key; NULL: in the cert file */
	char		*sni;		/* client: name sent and checked */
	unsigned char	 pin[32];	/* client: SHA-256 of the certificate */
	int		 has_pin;
	int		 verify;	/* client: 1 unless verify=no */
	int		 server;	/* set before any option is parsed */
};

/* A TLS address's options, and the context made from them once. */
struct tls_addr {
	struct tls_opts	 opts;
	SSL_CTX		*ctx;
};

struct addr;

/* A TLS address ([HOST:]PORT on a server) and its options. */
int	 tls_addr_parse(struct addr *, const char *, int, char **);
int	 tls_addr_option(struct addr *, const char *, const char *, char **);
int	 tls_addr_check(struct addr *, char **);
void	 tls_addr_free(struct addr *);

void	 tls_opts_init(struct tls_opts *, int);
int	 tls_opts_set(struct tls_opts *, const char *, const char *, char **);
int	 tls_opts_check(const struct tls_opts *, char **);
void	 tls_opts_free(struct tls_opts *);

SSL_CTX	*tls_ctx_client(const struct tls_opts *, char **);
SSL_CTX	*tls_ctx_server(const struct tls_opts *, char **);
char	*tls_ctx_pin(SSL_CTX *);

SSL	*tls_client(SSL_CTX *, const struct tls_opts *, const char *, int);
SSL	*tls_server(SSL_CTX *, int);

char	*tls_why(SSL *, int);
int	 tls_truncated(SSL *, int);
char	*tls_describe(SSL *);

/* What a step of the handshake, or a read or write, needs next. */
#define TLS_WANT_READ	1
#define TLS_WANT_WRITE	2

int	 tls_handshake(SSL *, int *, char **);

#endif
