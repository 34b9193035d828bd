/*
 * OpenSSL for the TLS kinds: address options, client and server contexts,
 * the ephemeral certificate, pins, and what went wrong in words.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <net/if.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "kind.h"
#include "sock.h"
#include "tls.h"
#include "util.h"

#define PIN_PREFIX	"sha256:"
#define PIN_LEN		32
#define EPHEMERAL_SANS	"DNS:localhost,IP:127.0.0.1,IP:::1"
#define EPHEMERAL_DAYS	30
#define CLOSED		"connection closed by peer"
#define TLS_READ_BUFFER	(64 * 1024)

static int	 set_str(char **, const char *, const char *, const char *,
		     char **);
static int	 set_verify(struct tls_opts *, const char *, char **);
static int	 set_pin(struct tls_opts *, const char *, char **);
static const char *err_words(unsigned long);
static int	 file_err(char **, const char *, const char *, const char *);
static SSL_CTX	*new_ctx(const SSL_METHOD *, char **);
static int	 no_passphrase_cb(char *, int, int, void *);
static int	 load_trust(SSL_CTX *, const char *, char **);
static int	 load_client_cas(SSL_CTX *, const char *, char **);
static int	 load_cert(SSL_CTX *, const struct tls_opts *, char **);
static const char *key_words(void);
static int	 ephemeral(SSL_CTX *, char **);
static X509	*self_signed(EVP_PKEY *);
static int	 random_serial(X509 *);
static int	 add_sans(X509 *);
static void	 pin_index_init(void);
static int	 pin_index(void);
static void	 pin_free(void *, void *, CRYPTO_EX_DATA *, int, long, void *);
static void	 pin_ctx(SSL_CTX *, const unsigned char *);
static const unsigned char *pin_of(SSL_CTX *);
static int	 pin_verify_cb(X509_STORE_CTX *, void *);
static int	 ip_literal(const char *, char *, size_t);
static void	 check_name(SSL *, const struct tls_opts *, const char *);
static char	*failure(SSL *, unsigned long);
static const char *verify_words(SSL *);
static char	*subject_line(X509 *);
static const char *verdict(SSL *, X509 *);

static CRYPTO_ONCE	 pin_once = CRYPTO_ONCE_STATIC_INIT;
static int		 pin_idx = -1;

/* TYPE:ARGS of tls: (HOST:PORT) or tls-listen: ([HOST:]PORT). */
int
tls_addr_parse(struct addr *a, const char *arg, int server, char **err)
{
	struct tls_addr	*ta;

	if (kind_arg_hostport(a, arg, server, err) == -1)
		return -1;
	ta = xcalloc(1, sizeof *ta);
	tls_opts_init(&ta->opts, server);
	a->opts = ta;
	return 0;
}

int
tls_addr_option(struct addr *a, const char *name, const char *val,
    char **err)
{
	struct tls_addr	*ta = a->opts;
	int		 rv;

	if ((rv = tls_opts_set(&ta->opts, name, val, err)) != 1)
		return rv;
	/* Over TCP: its socket options, a client's bind= and proxy= too. */
	return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_TCP |
	    (ta->opts.server ? 0 : SOCK_OPT_BIND | SOCK_OPT_PROXY), name, val,
	    err);
}

int
tls_addr_check(struct addr *a, char **err)
{
	struct tls_addr	*ta = a->opts;

	return tls_opts_check(&ta->opts, err);
}

void
tls_addr_free(struct addr *a)
{
	struct tls_addr	*ta = a->opts;

	if (ta == NULL)
		return;
	tls_opts_free(&ta->opts);
	SSL_CTX_free(ta->ctx);
	free(ta);
	a->opts = NULL;
}

void
tls_opts_init(struct tls_opts *o, int server)
{
	memset(o, 0, sizeof *o);
	o->verify = 1;
	o->server = server;
}

int
tls_opts_set(struct tls_opts *o, const char *name, const char *val,
    char **err)
{
	if (strcmp(name, "ca") == 0)
		return set_str(&o->ca, name, val, "a file or directory", err);
	if (strcmp(name, "cert") == 0)
		return set_str(&o->cert, name, val, "a file", err);
	if (strcmp(name, "key") == 0)
		return set_str(&o->key, name, val, "a file", err);
	if (o->server)
		return 1;
	if (strcmp(name, "sni") == 0)
		return set_str(&o->sni, name, val, "a host name", err);
	if (strcmp(name, "verify") == 0)
		return set_verify(o, val, err);
	if (strcmp(name, "pin") == 0)
		return set_pin(o, val, err);
	return 1;
}

int
tls_opts_check(const struct tls_opts *o, char **err)
{
	if (o->key != NULL && o->cert == NULL) {
		*err = xstrdup("key= needs cert=");
		return -1;
	}
	return 0;
}

void
tls_opts_free(struct tls_opts *o)
{
	free(o->ca);
	free(o->cert);
	free(o->key);
	free(o->sni);
	o->ca = o->cert = o->key = o->sni = NULL;
}

static int
set_str(char **slot, const char *name, const char *val, const char *what,
    char **err)
{
	if (*val == '\0') {
		*err = xasprintf("%s: expected %s", name, what);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(val);
	return 0;
}

static int
set_verify(struct tls_opts *o, const char *val, char **err)
{
	if (strcmp(val, "yes") == 0)
		o->verify = 1;
	else if (strcmp(val, "no") == 0)
		o->verify = 0;
	else {
		*err = xstrdup("verify: expected yes or no");
		return -1;
	}
	return 0;
}

/* sha256:HEX, a colon allowed between byte pairs (as openssl prints it). */
static int
set_pin(struct tls_opts *o, const char *val, char **err)
{
	unsigned char	 pin[PIN_LEN];
	const char	*s = val + strlen(PIN_PREFIX);
	int		 hi, lo;
	size_t		 i;

	if (strncasecmp(val, PIN_PREFIX, strlen(PIN_PREFIX)) != 0)
		goto bad;
	for (i = 0; i < PIN_LEN; i++) {
		if (i > 0 && *s == ':')
			s++;
		if ((hi = util_hexval(s[0])) == -1 || (lo = util_hexval(s[1])) == -1)
			goto bad;
		pin[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '\0')
		goto bad;
	memcpy(o->pin, pin, sizeof pin);
	o->has_pin = 1;
	return 0;
bad:
	*err = xstrdup("pin: expected sha256:HEX (64 hex digits)");
	return -1;
}

/* OpenSSL's words for one queued error; it keeps system errors as errno. */
static const char *
err_words(unsigned long e)
{
	const char	*s;

	if (e == 0)
		return "unknown error";
	if (ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	s = ERR_reason_error_string(e);
	return s != NULL ? s : "unknown error";
}

/* "opt=path: why", the oldest queued error being the most specific. */
static int
file_err(char **err, const char *opt, const char *path, const char *why)
{
	if (why == NULL)
		why = err_words(ERR_peek_error());
	*err = xasprintf("%s=%s: %s", opt, path, why);
	ERR_clear_error();
	return -1;
}

static SSL_CTX *
new_ctx(const SSL_METHOD *method, char **err)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		*err = xasprintf("TLS context: %s",
		    err_words(ERR_peek_error()));
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Partial writes suit a buffer drained as the peer takes it. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/*
	 * Read several records a read(2), not a header and then a body each:
	 * half the system calls of a bulk stream.  The buffer goes while idle.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, TLS_READ_BUFFER);
	/* Encrypted keys fail rather than prompt on the terminal. */
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_cb);
	return ctx;
}

static int
no_passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

SSL_CTX *
tls_ctx_client(const struct tls_opts *o, char **err)
{
	SSL_CTX	*ctx;

	if ((ctx = new_ctx(TLS_client_method(), err)) == NULL)
		return NULL;
	/* An explicit pin is the identity, whatever verify= says. */
	if (o->has_pin)
		pin_ctx(ctx, o->pin);
	else if (o->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (load_trust(ctx, o->ca, err) == -1)
			goto fail;
	}
	if (o->cert != NULL && load_cert(ctx, o, err) == -1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_ctx_server(const struct tls_opts *o, char **err)
{
	static const unsigned char	 sid[] = "weir";
	SSL_CTX				*ctx;

	if ((ctx = new_ctx(TLS_server_method(), err)) == NULL)
		return NULL;
	/* Without it, resuming a session that had a client cert fails. */
	SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
	if ((o->cert != NULL ? load_cert(ctx, o, err) : ephemeral(ctx, err))
	    == -1)
		goto fail;
	if (o->ca != NULL) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		if (load_trust(ctx, o->ca, err) == -1 ||
		    load_client_cas(ctx, o->ca, err) == -1)
			goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The CAs to verify the peer with: ca= (file or directory) or the system's. */
static int
load_trust(SSL_CTX *ctx, const char *ca, char **err)
{
	struct stat	 st;
	int		 ok;

	if (ca == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) == 1)
			return 0;
		*err = xasprintf("system CA store: %s",
		    err_words(ERR_peek_error()));
		ERR_clear_error();
		return -1;
	}
	if (stat(ca, &st) == -1)
		return file_err(err, "ca", ca, strerror(errno));
	if (S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_dir(ctx, ca);
	else
		ok = SSL_CTX_load_verify_file(ctx, ca);
	return ok == 1 ? 0 : file_err(err, "ca", ca, NULL);
}

/* The names a server sends when asking for a client certificate. */
static int
load_client_cas(SSL_CTX *ctx, const char *ca, char **err)
{
	STACK_OF(X509_NAME)	*names;
	struct stat		 st;

	if (stat(ca, &st) == -1)
		return file_err(err, "ca", ca, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		names = SSL_load_client_CA_file(ca);
	else if ((names = sk_X509_NAME_new_null()) != NULL &&
	    !SSL_add_dir_cert_subjects_to_stack(names, ca)) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		names = NULL;
	}
	if (names == NULL)
		return file_err(err, "ca", ca, NULL);
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

/*
 * cert= as a chain, its key from key= or else from the same file.  The key
 * is matched by hand: OpenSSL files a key of another type than the
 * certificate's apart and then only says "no certificate assigned".
 */
static int
load_cert(SSL_CTX *ctx, const struct tls_opts *o, char **err)
{
	const char	*kopt = o->key != NULL ? "key" : "cert";
	const char	*kpath = o->key != NULL ? o->key : o->cert;
	X509		*x;

	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
		return file_err(err, "cert", o->cert, NULL);
	x = SSL_CTX_get0_certificate(ctx);
	if (SSL_CTX_use_PrivateKey_file(ctx, kpath, SSL_FILETYPE_PEM) != 1)
		return file_err(err, kopt, kpath, key_words());
	if (X509_check_private_key(x, SSL_CTX_get0_privatekey(ctx)) != 1)
		return file_err(err, kopt, kpath, NULL);
	return 0;
}

/* Plainer words than OpenSSL's for the usual ways a key file fails. */
static const char *
key_words(void)
{
	unsigned long	 e = ERR_peek_error();

	if (ERR_GET_LIB(e) == ERR_LIB_OSSL_DECODER &&
	    ERR_GET_REASON(e) == ERR_R_UNSUPPORTED)
		return "no private key found";
	/* no_passphrase_cb refused. */
	if (ERR_GET_LIB(e) == ERR_LIB_CRYPTO &&
	    ERR_GET_REASON(e) == ERR_R_INTERRUPTED_OR_CANCELLED)
		return "encrypted keys are not supported";
	return NULL;
}

/* A fresh key and self-signed certificate, trusted only through its pin. */
static int
ephemeral(SSL_CTX *ctx, char **err)
{
	EVP_PKEY	*pk;
	X509		*x = NULL;
	int		 ok;

	ok = (pk = EVP_EC_gen("P-256")) != NULL &&
	    (x = self_signed(pk)) != NULL &&
	    SSL_CTX_use_certificate(ctx, x) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, pk) == 1;
	X509_free(x);
	EVP_PKEY_free(pk);
	if (ok)
		return 0;
	*err = xasprintf("ephemeral certificate: %s",
	    err_words(ERR_peek_error()));
	ERR_clear_error();
	return -1;
}

static X509 *
self_signed(EVP_PKEY *pk)
{
	X509		*x;
	X509_NAME	*name;
	long		 life = EPHEMERAL_DAYS * 86400L;

	if ((x = X509_new()) == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	/* Valid an hour back, for clocks a little behind ours. */
	if (X509_set_version(x, X509_VERSION_3) == 1 && random_serial(x) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), life - 3600) != NULL &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"weir", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, name) == 1 &&
	    X509_set_pubkey(x, pk) == 1 && add_sans(x) &&
	    X509_sign(x, pk, EVP_sha256()) != 0)
		return x;
	X509_free(x);
	return NULL;
}

static int
random_serial(X509 *x)
{
	BIGNUM	*bn;
	int	 ok;

	ok = (bn = BN_new()) != NULL &&
	    BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int
add_sans(X509 *x)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    EPHEMERAL_SANS);
	ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

char *
tls_ctx_pin(SSL_CTX *ctx)
{
	X509		*x;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n, i;
	char		*s;

	if ((x = SSL_CTX_get0_certificate(ctx)) == NULL)
		return NULL;
	if (X509_digest(x, EVP_sha256(), md, &n) != 1)
		xoom();
	s = xmalloc(strlen(PIN_PREFIX) + 2 * n + 1);
	strcpy(s, PIN_PREFIX);
	for (i = 0; i < n; i++)
		snprintf(s + strlen(PIN_PREFIX) + 2 * i, 3, "%02x", md[i]);
	return s;
}

/* The pin lives with its context, found again through ex_data. */
static void
pin_index_init(void)
{
	pin_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, pin_free);
}

static int
pin_index(void)
{
	if (!CRYPTO_THREAD_run_once(&pin_once, pin_index_init) ||
	    pin_idx == -1)
		xoom();
	return pin_idx;
}

static void
pin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/* The pin replaces chain building, name and date checks altogether. */
static void
pin_ctx(SSL_CTX *ctx, const unsigned char *pin)
{
	unsigned char	*p;

	p = xmalloc(PIN_LEN);
	memcpy(p, pin, PIN_LEN);
	if (!SSL_CTX_set_ex_data(ctx, pin_index(), p))
		xoom();
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, pin_verify_cb, p);
}

static const unsigned char *
pin_of(SSL_CTX *ctx)
{
	return SSL_CTX_get_ex_data(ctx, pin_index());
}

/* The error set here becomes SSL_get_verify_result()'s. */
static int
pin_verify_cb(X509_STORE_CTX *store, void *arg)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n;
	X509		*x = X509_STORE_CTX_get0_cert(store);

	if (x != NULL && X509_digest(x, EVP_sha256(), md, &n) == 1 &&
	    n == PIN_LEN && CRYPTO_memcmp(md, arg, PIN_LEN) == 0) {
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}
	X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

SSL *
tls_client(SSL_CTX *ctx, const struct tls_opts *o, const char *host, int fd)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		xoom();
	SSL_set_connect_state(ssl);
	check_name(ssl, o, o->sni != NULL ? o->sni : host);
	return ssl;
}

/*
 * An IP address is matched against IP SANs and never sent as SNI (RFC 6066
 * forbids it); a host name is sent and matched without partial wildcards.
 */
static void
check_name(SSL *ssl, const struct tls_opts *o, const char *name)
{
	char	 ip[INET6_ADDRSTRLEN + IF_NAMESIZE];
	int	 check = o->verify && !o->has_pin;

	if (ip_literal(name, ip, sizeof ip)) {
		if (check && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    ip) != 1)
			xoom();
		return;
	}
	/* Longer cannot be a host name: not sent, so it fails the check. */
	if (strlen(name) <= TLSEXT_MAXLEN_host_name &&
	    SSL_set_tlsext_host_name(ssl, name) != 1)
		xoom();
	if (!check)
		return;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, name) != 1)
		xoom();
}

/* Whether name is an IP address; buf gets it bare, without [] or %zone. */
static int
ip_literal(const char *name, char *buf, size_t size)
{
	struct in6_addr	 a;
	size_t		 n = strlen(name);

	if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
		name++;
		n -= 2;
	}
	if (n >= size)
		return 0;
	memcpy(buf, name, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) == 1)
		return 1;
	buf[strcspn(buf, "%")] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

SSL *
tls_server(SSL_CTX *ctx, int fd)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		xoom();
	SSL_set_accept_state(ssl);
	return ssl;
}

char *
tls_why(SSL *ssl, int ret)
{
	int		 saved = errno;
	unsigned long	 e = ERR_peek_last_error();
	char		*s;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_SSL:
		s = failure(ssl, e);
		break;
	case SSL_ERROR_SYSCALL:
		if (e != 0)
			s = xstrdup(err_words(e));
		else
			s = xstrdup(saved != 0 ? strerror(saved) : CLOSED);
		break;
	case SSL_ERROR_ZERO_RETURN:
		s = xstrdup(CLOSED);
		break;
	default:
		s = xstrdup("unexpected TLS state");
		break;
	}
	ERR_clear_error();
	return s;
}

static char *
failure(SSL *ssl, unsigned long e)
{
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return xasprintf("certificate verify failed: %s",
		    verify_words(ssl));
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return xstrdup(CLOSED);
	return xstrdup(err_words(e));
}

static const char *
verify_words(SSL *ssl)
{
	long	 v = SSL_get_verify_result(ssl);

	if (v == X509_V_ERR_APPLICATION_VERIFICATION &&
	    pin_of(SSL_get_SSL_CTX(ssl)) != NULL)
		return "certificate does not match pin";
	return X509_verify_cert_error_string(v);
}

/*
 * Take the handshake as far as it goes now: 1 done, 0 when it waits
 * (*want says for what), -1 failed, *why the words (a refused
 * certificate says so itself; anything else is the handshake's).
 */
int
tls_handshake(SSL *ssl, int *want, char **why)
{
	char	*s;
	int	 r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(ssl)) == 1)
		return 1;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		*want = SSL_want_write(ssl) ? TLS_WANT_WRITE : TLS_WANT_READ;
		return 0;
	}
	s = tls_why(ssl, r);
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		*why = s;
	else {
		*why = xasprintf("handshake: %s", s);
		free(s);
	}
	return -1;
}

/* OpenSSL 3 reports a TCP EOF without close_notify as an SSL error. */
int
tls_truncated(SSL *ssl, int ret)
{
	unsigned long	 e = ERR_peek_last_error();
	int		 truncated;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_SSL:
		truncated = ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
		break;
	case SSL_ERROR_SYSCALL:
		truncated = e == 0 && errno == 0;
		break;
	default:
		truncated = 0;
		break;
	}
	if (truncated)
		ERR_clear_error();
	return truncated;
}

char *
tls_describe(SSL *ssl)
{
	X509	*peer = SSL_get0_peer_certificate(ssl);
	char	*who, *s;

	who = peer != NULL ? subject_line(peer) :
	    xstrdup("no peer certificate");
	s = xasprintf("%s, %s, %s, %s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), who, verdict(ssl, peer));
	free(who);
	return s;
}

static char *
subject_line(X509 *x)
{
	BIO	*b;
	char	*data, *s;
	long	 n;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_ONELINE) < 0)
		xoom();
	n = BIO_get_mem_data(b, &data);
	if (n > 0)
		s = xasprintf("peer %.*s", (int)n, data);
	else
		s = xstrdup("peer with an empty subject");
	BIO_free(b);
	return s;
}

static const char *
verdict(SSL *ssl, X509 *peer)
{
	if (peer == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return "unverified";
	if (pin_of(SSL_get_SSL_CTX(ssl)) != NULL)
		return "pinned";
	if (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)
		return "verified";
	return "unverified";
}
