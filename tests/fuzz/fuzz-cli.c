/*
 * libFuzzer target for the command line: the input, cut at its NUL bytes,
 * is argv after "weir" (at most MAX_ARGS pieces, each its own allocation so
 * ASan sees a read past its end).  cli_parse must come back with one of
 * its three codes, never exit, and leave a configuration that keeps the
 * rules below; what it prints is caught in memory and checked too: a
 * usage error is "weir: ..." then "Try 'weir --help'." on stderr alone,
 * with no control byte (NUL included) that argv did not hold; help and
 * version go to stdout alone; a success prints nothing.  Leaks are found
 * by libFuzzer's leak check after cli_free.
 */
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kind.h"

#define MAX_ARGS	256
#define TRY_LINE	"\nTry 'weir --help'.\n"

int		 LLVMFuzzerInitialize(int *, char ***);
int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__ubsan_default_options(void);

static void	 bug(const char *);
static int	 is(const struct addr *, const char *);
static int	 hostport(const struct addr *);
static void	 check_addr(const struct addr *, int);
static void	 check_config(const struct config *, int);
static int	 timeout_ok(double);

static FILE	*real_stdout, *real_stderr;

/* Undefined behaviour is a crash too, not a line in the log. */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static void
bug(const char *what)
{
	fprintf(real_stderr, "cli invariant broken: %s\n", what);
	abort();
}

/*
 * libFuzzer keeps the FILE stderr was when it started for its own output
 * and the sanitizers write to descriptor 2, so pointing glibc's stdout and
 * stderr variables at memory streams during each run catches what cli.c
 * prints and nothing else; here the real ones are kept to restore.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	real_stdout = stdout;
	real_stderr = stderr;
	return 0;
}

/* Whether a is of the kind named. */
static int
is(const struct addr *a, const char *kind)
{
	return strcmp(a->kind->name, kind) == 0;
}

/* The kinds whose argument is [HOST:]PORT. */
static int
hostport(const struct addr *a)
{
	return is(a, "tcp") || is(a, "tcp-listen") || is(a, "tls") ||
	    is(a, "tls-listen") || is(a, "udp") || is(a, "udp-listen") ||
	    is(a, "ws") || is(a, "ws-listen") || is(a, "wss") ||
	    is(a, "wss-listen") || is(a, "socks5-listen");
}

/*
 * An address as given, or (dialed) the RIGHT of a listener whose clients
 * name their own: of its kind, with no host or port yet.
 */
static void
check_addr(const struct addr *a, int dialed)
{
	int	 family;

	if (a->name == NULL)
		bug("an address without a name");
	if (a->kind == NULL || kind_find(a->kind->name,
	    strlen(a->kind->name), &family) != a->kind || family != 0)
		bug("an address of no kind in the table");
	if (a->family != 0 && a->family != 4 && a->family != 6)
		bug("a family neither 4 nor 6");
	if ((is(a, "stdio") || is(a, "fd")) && a->fd < 0)
		bug("a negative descriptor");
	if (dialed) {
		if (a->host != NULL || a->port != NULL || a->path != NULL)
			bug("a dialed RIGHT with a host, port or path of its own");
	} else if (hostport(a)) {
		if (a->port == NULL || *a->port == '\0')
			bug("an IP address without a port");
		if (!cli_is_listener(a) && a->host == NULL)
			bug("a connecting address without a host");
		if (a->host != NULL && *a->host == '\0')
			bug("an empty host");
	} else if (is(a, "unix") || is(a, "unix-listen")) {
		if (a->path == NULL || *a->path == '\0')
			bug("a Unix address without a path");
		if (strlen(a->path) > 107)
			bug("a Unix path longer than sun_path");
	} else if (!is(a, "stdio") && !is(a, "fd")) {
		if (a->path == NULL || *a->path == '\0')
			bug("a file or exec address without a path");
	}
	if (a->mode != -1 && (!is(a, "unix-listen") || a->mode < 0 ||
	    a->mode > 0777))
		bug("mode= out of range or not on unix-listen:");
	if (a->high_water < 1 || a->high_water > ((uint64_t)1 << 40))
		bug("high-water out of range");
	if (a->low_water >= a->high_water)
		bug("low-water not below high-water");
	if (a->rate > ((uint64_t)1 << 40))
		bug("rate out of range");
	if ((unsigned)a->proto.kind > PROTO_NETSTRING)
		bug("a protocol out of range");
	if ((a->kind->flags & KIND_MESSAGES) && a->proto.kind != PROTO_RELAY)
		bug("a message address with a protocol of its own");
	if (a->proto.max_frame < 1 || a->proto.max_frame > ((size_t)1 << 40))
		bug("max-frame out of range");
	if (a->proto.crlf && a->proto.delim != '\n')
		bug("crlf with a delimiter other than LF");
	if (a->proto.skip != 0 && a->proto.skip != 1)
		bug("skip neither 0 nor 1");
}

static int
timeout_ok(double s)
{
	return isfinite(s) && s >= 0 && s <= 365 * 86400.0;
}

static void
check_config(const struct config *cfg, int nlisten)
{
	const struct addr	*l = &cfg->left, *r = &cfg->right;

	check_addr(l, 0);
	if (kind_dials(r) != NULL)
		bug("a listener whose clients name their RIGHT on the right");
	if (kind_dials(l) != NULL && r->kind != kind_dials(l))
		bug("a dialed RIGHT of another kind than its listener's");
	check_addr(r, kind_dials(l) != NULL);
	if (nlisten > 1)
		bug("two listeners");
	if (cfg->dir != DIR_LR && cfg->dir != DIR_RL && cfg->dir != DIR_BOTH)
		bug("no direction");
	if ((cfg->dir & DIR_LR) && !((l->kind->flags & KIND_READS) &&
	    (r->kind->flags & KIND_WRITES)))
		bug("LEFT -> RIGHT with a side that cannot");
	if ((cfg->dir & DIR_RL) && !((r->kind->flags & KIND_READS) &&
	    (l->kind->flags & KIND_WRITES)))
		bug("RIGHT -> LEFT with a side that cannot");
	if (cfg->family != 0 && cfg->family != 4 && cfg->family != 6)
		bug("a family other than 4 or 6");
	if (!timeout_ok(cfg->eof_timeout) || !timeout_ok(cfg->connect_timeout)
	    || !timeout_ok(cfg->idle_timeout))
		bug("a timeout out of range");
	if (cfg->max_conns < 1 || cfg->max_conns > 1000000)
		bug("max-conns out of range");
	if ((cfg->keep_open || cfg->share || cfg->broker) && nlisten == 0)
		bug("-k, --share or --broker without a listener");
	if (cfg->broker && (!cfg->keep_open || !cli_is_listener(l)))
		bug("--broker without -k or with RIGHT the listener");
	if (cfg->share && !cfg->keep_open)
		bug("--share without -k");
	if ((unsigned)cfg->slow > SLOW_CLOSE)
		bug("a slow policy out of range");
	if (cfg->slow != SLOW_BLOCK && !cfg->keep_open)
		bug("--slow without -k");
	if ((unsigned)cfg->stats > STATS_JSON)
		bug("a stats format out of range");
	if ((cfg->acl.nallow > 0 || cfg->acl.ndeny > 0) &&
	    !(cli_is_listener(l) && (l->kind->flags & KIND_INET)) &&
	    !(cli_is_listener(r) && (r->kind->flags & KIND_INET)))
		bug("--allow or --deny without a listener with IP peers");
	if (cfg->ready_file != NULL && *cfg->ready_file == '\0')
		bug("an empty ready file");
	if (cfg->verbose < 0)
		bug("a negative verbosity");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg;
	char		*args[MAX_ARGS + 2], *argv[MAX_ARGS + 2];
	char		*out = NULL, *err = NULL;
	size_t		 outlen = 0, errlen = 0, off, len, k, tl;
	int		 argc, i, rv, nlisten;
	const uint8_t	*nul;
	unsigned char	 seen[256], c;

	memset(seen, 0, sizeof seen);	/* the bytes a message may echo */
	argc = 0;
	if ((args[argc++] = strdup("weir")) == NULL)
		abort();
	for (off = 0; off < size && argc < MAX_ARGS + 1; off += len + 1) {
		nul = memchr(data + off, '\0', size - off);
		len = nul != NULL ? (size_t)(nul - (data + off)) : size - off;
		if ((args[argc] = malloc(len + 1)) == NULL)
			abort();
		memcpy(args[argc], data + off, len);
		args[argc][len] = '\0';
		for (k = 0; k < len; k++)
			seen[(unsigned char)args[argc][k]] = 1;
		argc++;
	}
	/* cli_parse may replace pointers and getopt permutes them: a copy. */
	memcpy(argv, args, (size_t)argc * sizeof *argv);
	argv[argc] = NULL;

	if ((stdout = open_memstream(&out, &outlen)) == NULL ||
	    (stderr = open_memstream(&err, &errlen)) == NULL)
		abort();
	optind = 0;		/* glibc: start over, forgetting the last run */
	rv = cli_parse(argc, argv, &cfg);
	fclose(stdout);
	fclose(stderr);
	stdout = real_stdout;
	stderr = real_stderr;

	switch (rv) {
	case CLI_OK:
		if (outlen != 0 || errlen != 0)
			bug("a good command line printed something");
		nlisten = cli_is_listener(&cfg.left) +
		    cli_is_listener(&cfg.right);
		check_config(&cfg, nlisten);
		break;
	case CLI_EXIT:
		if (errlen != 0)
			bug("help or version wrote to stderr");
		if (strncmp(out, "Usage: weir ", 12) != 0 &&
		    strncmp(out, "weir ", 5) != 0)
			bug("help or version printed something else");
		if (outlen == 0 || out[outlen - 1] != '\n')
			bug("help or version without a final newline");
		break;
	case CLI_USAGE:
		tl = strlen(TRY_LINE);
		if (outlen != 0)
			bug("a usage error wrote to stdout");
		if (errlen < 6 + tl || strncmp(err, "weir: ", 6) != 0)
			bug("a usage error not starting with \"weir: \"");
		if (strcmp(err + errlen - tl, TRY_LINE) != 0)
			bug("a usage error not ending with the hint");
		for (k = 0; k < errlen - tl; k++) {
			c = (unsigned char)err[k];
			if ((c < 0x20 || c == 0x7f) && !seen[c])
				bug("a usage error with a control byte that "
				    "was not in argv");
		}
		break;
	default:
		bug("cli_parse returned an unknown code");
	}
	cli_free(&cfg);
	free(out);
	free(err);
	for (i = 0; i < argc; i++)
		free(args[i]);
	return 0;
}
