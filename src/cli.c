/*
 * Options and addresses into one struct config.  Everything is checked
 * here, before anything is opened, so a usage error creates nothing.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "kind.h"
#include "util.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.1.0"
#endif

#define DEFAULT_HIGH_WATER	(1024 * 1024)
#define MAX_WATER		((uint64_t)1 << 40)
#define MAX_RATE		((uint64_t)1 << 40)
#define MAX_FRAME_LIMIT		((uint64_t)1 << 40)
#define DEFAULT_MAX_CONNS	256

/* Global flow settings an address may override. */
struct flow_opts {
	uint64_t	 high_water;
	uint64_t	 low_water;
	uint64_t	 rate;
	int		 has_high;
	int		 has_low;
	struct proto_opts proto;
};

static int	next_is_optarg(const char *);
static int	usage_error(const char *, ...) __attribute__((format(printf, 1, 2)));
static int	parse_size_opt(const char *, const char *, uint64_t, uint64_t,
		    uint64_t *);
static int	option_shaped(const char *, const struct kind *);
static void	split_addr(const char *, const struct kind *, char ***,
		    size_t *);
static const struct kind *addr_kind(const char *, size_t *, int *);
static int	parse_addr(struct addr *, const char *, const struct flow_opts *);
static void	flow_apply(struct addr *, const struct flow_opts *);
static void	dialed_addr(struct addr *, const struct kind *,
		    const struct flow_opts *);
static int	parse_addr_option(struct addr *, const char *, const char *,
		    struct flow_opts *);
static int	kind_option(struct addr *, const char *, const char *, size_t,
		    const char *);
static int	addr_can(const struct addr *);
static int	family_of(struct addr *, int);
static int	choose_direction(struct config *, int, int);
static const char *long_name(const char *, char *, size_t);
static void	addr_free(struct addr *);
static char	*addr_shown(const char *);
static size_t	 secret_len(const char *, size_t, size_t *);


static const char usage_text[] =
"Usage: weir [OPTIONS] ADDRESS [ADDRESS]\n"
"Wire two byte streams together, with flow control.\n"
"\n"
"With one ADDRESS the other side is '-' (standard input and output).\n"
"Data flows both ways: LEFT -> RIGHT and RIGHT -> LEFT.\n"
"\n"
"Addresses:\n";

/* After each kind's own lines on its addresses. */
static const char usage_addr_options[] =
"Address options, after a comma (ADDRESS,OPT=VALUE,...):\n"
"  proto=NAME, delim=D, max-frame=SIZE          as the flags, for that address\n"
"  high-water=SIZE, low-water=SIZE, rate=SIZE   as the flags, for that address\n";

/* After each kind's own lines on its options. */
static const char usage_options[] =
"\n"
"Options:\n"
"  -u                     one way only: LEFT -> RIGHT\n"
"  -U                     one way only: RIGHT -> LEFT\n"
"  -4, -6                 use IPv4 or IPv6 only\n"
"  -p, --proto NAME       cut frames as relay (bytes, the default), line or\n"
"                         netstring; sides that differ are converted\n"
"      --delim D          line delimiter: lf (default), crlf, nul, a character\n"
"                         or \\xHH\n"
"      --max-frame SIZE   the largest frame payload accepted (1M)\n"
"      --oversize ACTION  a frame over max-frame: error (default) or skip\n"
"  -n, --max-frames N     exit 0 once N frames went the main way\n"
"  -k, --keep-open        keep accepting connections (listeners)\n"
"  -m, --max-conns N      at most N connections at once (256)\n"
"      --share            connections share the other side, even a re-openable one\n"
"      --broker           one listener: each client's frames go to all the others\n"
"      --slow POLICY      fan-out to a consumer above high water: block (default),\n"
"                         drop its frames, or close it\n"
"      --allow CIDR       admit only peers in CIDR (repeatable)\n"
"      --deny CIDR        refuse peers in CIDR (repeatable)\n"
"  -q, --eof-timeout SEC  after the first EOF, end at most SEC later;\n"
"                         with -k, close that connection alone\n"
"  -w, --connect-timeout SEC  give up a connect after SEC\n"
"  -i, --idle-timeout SEC end after SEC without traffic either way;\n"
"                         with -k, close a connection idle that long\n"
"      --high-water SIZE  pause producers when a consumer holds SIZE (1M)\n"
"      --low-water SIZE   resume them when it drains to SIZE (high-water/4)\n"
"      --rate SIZE        write at most SIZE bytes per second to each consumer\n"
"      --no-splice        copy relayed bytes through weir, never splice(2)\n"
"      --stats[=FORMAT]   print counters at exit on stderr (text or json),\n"
"                         and on SIGUSR1 so far\n"
"      --stats-file PATH  write the counters to PATH as JSON at exit\n"
"      --progress         show a live status line on stderr (a terminal)\n"
"      --ready-file PATH  write listener addresses to PATH once bound\n"
"                         (removed at exit)\n"
"  -v, --verbose          log wiring, pauses and resumes (repeat for more)\n"
"  -x, --hexdump          trace traffic on stderr as hex\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"SIZE takes the suffixes k, M, G (powers of 1024); SEC may be a fraction.\n"
"Exit status: 0 done, 1 transport failure, 2 usage, 3 protocol error,\n"
"129/130/143 signal (HUP, INT, TERM).\n";

enum {
	OPT_HIGH_WATER = 256,
	OPT_LOW_WATER,
	OPT_RATE,
	OPT_STATS,
	OPT_READY_FILE,
	OPT_STATS_FILE,
	OPT_DELIM,
	OPT_MAX_FRAME,
	OPT_OVERSIZE,
	OPT_SHARE,
	OPT_BROKER,
	OPT_SLOW,
	OPT_ALLOW,
	OPT_DENY,
	OPT_PROGRESS,
	OPT_NO_SPLICE
};

static const struct option long_options[] = {
	{ "proto",		required_argument,	NULL, 'p' },
	{ "delim",		required_argument,	NULL, OPT_DELIM },
	{ "max-frame",		required_argument,	NULL, OPT_MAX_FRAME },
	{ "oversize",		required_argument,	NULL, OPT_OVERSIZE },
	{ "max-frames",		required_argument,	NULL, 'n' },
	{ "keep-open",		no_argument,		NULL, 'k' },
	{ "max-conns",		required_argument,	NULL, 'm' },
	{ "share",		no_argument,		NULL, OPT_SHARE },
	{ "broker",		no_argument,		NULL, OPT_BROKER },
	{ "slow",		required_argument,	NULL, OPT_SLOW },
	{ "allow",		required_argument,	NULL, OPT_ALLOW },
	{ "deny",		required_argument,	NULL, OPT_DENY },
	{ "eof-timeout",	required_argument,	NULL, 'q' },
	{ "connect-timeout",	required_argument,	NULL, 'w' },
	{ "idle-timeout",	required_argument,	NULL, 'i' },
	{ "high-water",		required_argument,	NULL, OPT_HIGH_WATER },
	{ "low-water",		required_argument,	NULL, OPT_LOW_WATER },
	{ "rate",		required_argument,	NULL, OPT_RATE },
	{ "stats",		optional_argument,	NULL, OPT_STATS },
	{ "ready-file",		required_argument,	NULL, OPT_READY_FILE },
	{ "stats-file",		required_argument,	NULL, OPT_STATS_FILE },
	{ "progress",		no_argument,		NULL, OPT_PROGRESS },
	{ "no-splice",		no_argument,		NULL, OPT_NO_SPLICE },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "hexdump",		no_argument,		NULL, 'x' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static const char short_options[] = ":uU46p:n:km:q:w:i:vxhV";

/* Whether the argument after arg is arg's option argument, as getopt sees it. */
static int
next_is_optarg(const char *arg)
{
	const struct option	*o, *found = NULL;
	const char		*p, *spec;
	size_t			 len;

	if (arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (arg[1] != '-') {
		/* A cluster: the first option taking an argument ends it. */
		for (p = arg + 1; *p != '\0'; p++)
			if (*p != ':' && (spec = strchr(short_options, *p)) !=
			    NULL && spec[1] == ':')
				return p[1] == '\0';
		return 0;
	}
	len = strcspn(arg + 2, "=");
	if (len == 0 || arg[2 + len] == '=')
		return 0;
	/* getopt_long takes a unique prefix of a name, or the exact name. */
	for (o = long_options; o->name != NULL; o++)
		if (strncmp(o->name, arg + 2, len) == 0) {
			if (strlen(o->name) == len) {
				found = o;
				break;
			}
			if (found != NULL)
				return 0;
			found = o;
		}
	return found != NULL && found->has_arg == required_argument;
}

static int
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fputs("weir: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'weir --help'.\n", stderr);
	return CLI_USAGE;
}

static int
parse_size_opt(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char	 err[128];

	if (util_parse_size(s, min, max, out, err, sizeof err) == -1)
		return usage_error("%s: %s", what, err);
	return 0;
}

/*
 * Whether s, what follows a comma, is an option: NAME=... or one of the
 * kind's switches alone.  Any other comma belongs to the argument.
 */
static int
option_shaped(const char *s, const struct kind *k)
{
	const char *const *sw;
	size_t		 n;

	if (*s < 'a' || *s > 'z')
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (s[n] == '=')
		return 1;
	if (s[n] != ',' && s[n] != '\0')
		return 0;
	for (sw = k->switches; sw != NULL && *sw != NULL; sw++)
		if (strlen(*sw) == n && strncmp(*sw, s, n) == 0)
			return 1;
	return 0;
}

/*
 * Cut an address at the commas that start options (every comma, for
 * stdio's, which has no argument), undoing "\," and "\\" in each
 * piece; any other backslash stays as written.
 */
static void
split_addr(const char *s, const struct kind *k, char ***pieces,
    size_t *npieces)
{
	char	**v = NULL, *cur;
	size_t	  n = 0, len = 0;

	cur = xmalloc(strlen(s) + 1);
	for (;; s++) {
		if (*s == '\\' && (s[1] == ',' || s[1] == '\\')) {
			cur[len++] = *++s;
			continue;
		}
		if ((*s == ',' && (k == &kind_stdio ||
		    option_shaped(s + 1, k))) || *s == '\0') {
			cur[len] = '\0';
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n++] = xstrdup(cur);
			len = 0;
			if (*s == '\0')
				break;
			continue;
		}
		cur[len++] = *s;
	}
	free(cur);
	*pieces = v;
	*npieces = n;
}

/* One OPT=VALUE of an address; messages name the address as written. */
static int
parse_addr_option(struct addr *a, const char *text, const char *opt,
    struct flow_opts *fo)
{
	const char	*eq, *val;
	size_t		 len;
	uint64_t	 v;

	if ((eq = strchr(opt, '=')) == NULL) {
		if (option_shaped(opt, a->kind))
			return kind_option(a, text, opt, strlen(opt), NULL);
		if (*opt == '\0')
			return usage_error("%s: empty address option", text);
		return usage_error("%s: option '%s' needs a value", text,
		    opt);
	}
	len = (size_t)(eq - opt);
	val = eq + 1;
	if (len == 10 && strncmp(opt, "high-water", len) == 0) {
		if (parse_size_opt(text, val, 1, MAX_WATER, &v) != 0)
			return CLI_USAGE;
		fo->high_water = v;
		fo->has_high = 1;
	} else if (len == 9 && strncmp(opt, "low-water", len) == 0) {
		if (parse_size_opt(text, val, 0, MAX_WATER, &v) != 0)
			return CLI_USAGE;
		fo->low_water = v;
		fo->has_low = 1;
	} else if (len == 4 && strncmp(opt, "rate", len) == 0) {
		if (parse_size_opt(text, val, 1, MAX_RATE, &v) != 0)
			return CLI_USAGE;
		fo->rate = v;
	} else if (len == 5 && strncmp(opt, "proto", len) == 0) {
		if (a->kind->flags & KIND_MESSAGES)
			return usage_error("%s: proto= does not apply: each "
			    "message is one frame", text);
		if (proto_parse_name(val, &fo->proto.kind) == -1)
			return usage_error("%s: unknown protocol '%s' (relay, "
			    "line or netstring)", text, val);
	} else if (len == 5 && strncmp(opt, "delim", len) == 0) {
		if (proto_parse_delim(val, &fo->proto) == -1)
			return usage_error("%s: invalid delimiter '%s'", text,
			    val);
	} else if (len == 9 && strncmp(opt, "max-frame", len) == 0) {
		if (parse_size_opt(text, val, 1, MAX_FRAME_LIMIT, &v) != 0)
			return CLI_USAGE;
		fo->proto.max_frame = (size_t)v;
	} else
		return kind_option(a, text, opt, len, val);
	return 0;
}

/* An option of the address's own kind, or none at all. */
static int
kind_option(struct addr *a, const char *text, const char *opt, size_t len,
    const char *val)
{
	char	*key, *err = NULL;
	int	 rv = 1;

	key = xasprintf("%.*s", (int)len, opt);
	if (a->kind->option != NULL)
		rv = a->kind->option(a, key, val, &err);
	if (rv == -1)
		usage_error("%s: %s", text, err);
	else if (rv == 1)
		usage_error("%s: unknown option '%.31s' (a comma that is part "
		    "of the address is written \\,)", text, key);
	free(key);
	free(err);
	return rv == 0 ? 0 : CLI_USAGE;
}

/*
 * The kind TYPE names ("-" and "stdio" have no ARGS), its length in
 * *tlen; NULL with a message printed.
 */
static const struct kind *
addr_kind(const char *text, size_t *tlen, int *family)
{
	const struct kind *k;
	size_t		 n = strcspn(text, ":,");

	*tlen = n;
	if ((n == 1 && text[0] == '-') || (n == 5 &&
	    strncasecmp(text, "stdio", 5) == 0 && text[n] != ':'))
		return &kind_stdio;
	if (text[n] != ':') {
		usage_error("%.*s: unknown address (expected TYPE:ARGS)",
		    (int)strcspn(text, ","), *text != '\0' ? text : "''");
		return NULL;
	}
	if ((k = kind_find(text, n, family)) == NULL || k == &kind_stdio) {
		usage_error("%.*s: unknown address type '%.*s'",
		    (int)strcspn(text, ","), text, (int)n, text);
		return NULL;
	}
	return k;
}

/* How long an option's value runs at s: to a comma not escaped. */
static size_t
value_len(const char *s)
{
	size_t	 n = 0;

	while (s[n] != '\0' && s[n] != ',')
		n += s[n] == '\\' && s[n + 1] != '\0' ? 2 : 1;
	return n;
}

/*
 * A password in the option at s (its value n bytes from it): where it
 * starts, in *at, and its length; 0 when there is none.  pass= is one,
 * and so is PASS in proxy=SCHEME://USER:PASS@HOST:PORT.
 */
static size_t
secret_len(const char *s, size_t n, size_t *at)
{
	const char	*v, *end, *colon, *sign;

	if (strncmp(s, "pass=", 5) == 0) {
		*at = 5;
		return n - 5;
	}
	if (strncmp(s, "proxy=", 6) != 0 || (v = strstr(s, "://")) == NULL ||
	    v >= s + n)
		return 0;
	end = s + n;
	for (sign = end; sign > v && sign[-1] != '@'; sign--)
		;
	if (sign == v || (colon = memchr(v + 3, ':', (size_t)(sign - v - 3)))
	    == NULL)
		return 0;
	*at = (size_t)(colon + 1 - s);
	return (size_t)(sign - 1 - colon - 1);
}

/*
 * The address as usage errors quote it: passwords shown as ***, as -v
 * and the proxy's errors show them.
 */
static char *
addr_shown(const char *text)
{
	/* A secret of one byte grows by two; its option takes six. */
	char	*out = xmalloc(2 * strlen(text) + 1), *o = out;
	const char *s = text;
	size_t	 n, at, len;

	while (*s != '\0') {
		n = value_len(s);
		if ((len = secret_len(s, n, &at)) > 0) {
			memcpy(o, s, at);
			memcpy(o + at, "***", 3);
			memcpy(o + at + 3, s + at + len, n - at - len);
			o += n - len + 3;
		} else {
			memcpy(o, s, n);
			o += n;
		}
		s += n;
		if (*s == ',')
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static int
parse_addr(struct addr *a, const char *text, const struct flow_opts *global)
{
	struct flow_opts  fo = *global;
	char		**pieces, *err = NULL, *shown;
	size_t		  npieces, i, tlen;
	int		  rv = CLI_USAGE;

	memset(a, 0, sizeof *a);
	a->mode = -1;
	if ((a->kind = addr_kind(text, &tlen, &a->family)) == NULL)
		return CLI_USAGE;
	split_addr(text, a->kind, &pieces, &npieces);
	shown = addr_shown(text);
	a->name = xstrdup(pieces[0]);
	if (a->kind != &kind_stdio &&
	    a->kind->parse(a, a->name + tlen + 1, &err) == -1) {
		usage_error("%s", err);
		free(err);
		goto out;
	}

	for (i = 1; i < npieces; i++)
		if (parse_addr_option(a, shown, pieces[i], &fo) != 0)
			goto out;
	flow_apply(a, &fo);
	if (a->low_water >= a->high_water) {
		usage_error("%s: low-water (%llu) must be below high-water "
		    "(%llu)", a->name, (unsigned long long)a->low_water,
		    (unsigned long long)a->high_water);
		goto out;
	}
	if (a->kind->check != NULL && a->kind->check(a, &err) == -1) {
		usage_error("%s: %s", shown, err);
		free(err);
		goto out;
	}
	rv = 0;
out:
	for (i = 0; i < npieces; i++)
		free(pieces[i]);
	free(pieces);
	free(shown);
	return rv;
}

/* The flow settings an address ends up with, its own or the flags'. */
static void
flow_apply(struct addr *a, const struct flow_opts *fo)
{
	a->high_water = fo->high_water;
	a->rate = fo->rate;
	a->proto = fo->proto;
	/* A message is a frame as it is: -p is for the other side. */
	if (a->kind->flags & KIND_MESSAGES)
		a->proto.kind = PROTO_RELAY;
	if (fo->has_low)
		a->low_water = fo->low_water;
	else
		a->low_water = fo->high_water / 4;
}

/*
 * RIGHT, for a listener whose connections each name their own: an
 * address of kind k with no host yet, the flags' settings for them all.
 */
static void
dialed_addr(struct addr *a, const struct kind *k, const struct flow_opts *fo)
{
	memset(a, 0, sizeof *a);
	a->kind = k;
	a->mode = -1;
	a->name = xstrdup(k->name);
	flow_apply(a, fo);
}

/*
 * The address one connection named: tmpl's settings, host and port its
 * own (cli_target_free frees what is its own alone).
 */
struct addr *
cli_target_new(const struct addr *tmpl, const char *host, const char *port)
{
	struct addr	*a;

	a = xmalloc(sizeof *a);
	*a = *tmpl;
	a->host = xstrdup(host);
	a->port = xstrdup(port);
	a->name = xasprintf(strchr(host, ':') != NULL ? "%s:[%s]:%s" :
	    "%s:%s:%s", tmpl->name, host, port);
	return a;
}

void
cli_target_free(struct addr *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->host);
	free(a->port);
	free(a);
}

int
cli_is_listener(const struct addr *a)
{
	return (a->kind->flags & KIND_LISTENS) != 0;
}

/* What an address can do: its kind's, as far as its open modes allow. */
static int
addr_can(const struct addr *a)
{
	int	 can = a->kind->flags & (KIND_READS | KIND_WRITES);

	if (a->kind->allows != NULL)
		can &= a->kind->allows(a);
	return can;
}

/* The family an address uses: its own (tcp6:), or -4/-6's. */
static int
family_of(struct addr *a, int family)
{
	if (a->family != 0 && family != 0 && a->family != family)
		return usage_error("%s: IPv%d address with -%d", a->name,
		    a->family, family);
	if (a->family == 0)
		a->family = family;
	return 0;
}

static int
choose_direction(struct config *cfg, int only_lr, int only_rl)
{
	struct addr	*l = &cfg->left, *r = &cfg->right;
	int		 lr, rl;

	lr = (addr_can(l) & KIND_READS) && (addr_can(r) & KIND_WRITES);
	rl = (addr_can(r) & KIND_READS) && (addr_can(l) & KIND_WRITES);
	if (only_lr) {
		if (!lr)
			return usage_error("-u: %s cannot flow to %s", l->name,
			    r->name);
		cfg->dir = DIR_LR;
	} else if (only_rl) {
		if (!rl)
			return usage_error("-U: %s cannot flow to %s", r->name,
			    l->name);
		cfg->dir = DIR_RL;
	} else if ((l->kind->flags & r->kind->flags & KIND_STDIO) != 0)
		cfg->dir = DIR_LR;	/* "- -" copies stdin to stdout */
	else {
		cfg->dir = (lr ? DIR_LR : 0) | (rl ? DIR_RL : 0);
		if (cfg->dir == 0)
			return usage_error("%s and %s: no direction can flow",
			    l->name, r->name);
	}
	return 0;
}

/* "--name" of a long option as written ("--name=value"), in buf. */
static const char *
long_name(const char *arg, char *buf, size_t size)
{
	size_t	 n = strcspn(arg, "=");

	if (n >= size)
		n = size - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

int
cli_parse(int argc, char **argv, struct config *cfg)
{
	struct flow_opts  fo;
	struct addr	  tmp;
	const struct kind *dials;
	uint64_t	  v;
	int		  i, nstdio = 0, has_max_conns = 0, has_slow = 0;
	int		  has_idle = 0;
	char		  err[128], optname[64], **path;
	int		  ch, only_lr = 0, only_rl = 0, nargs;

	memset(cfg, 0, sizeof *cfg);
	memset(&fo, 0, sizeof fo);
	fo.high_water = DEFAULT_HIGH_WATER;
	cfg->max_conns = DEFAULT_MAX_CONNS;
	cfg->splice = 1;
	fo.proto.kind = PROTO_RELAY;
	fo.proto.delim = '\n';
	fo.proto.max_frame = PROTO_DEFAULT_MAX_FRAME;
	/*
	 * "-,OPT=VALUE" is standard input and output with options; getopt
	 * would take it for a cluster of short options, so say it as stdio.
	 * An option's argument ("-p -,x") is left as written.
	 */
	for (i = 1; i < argc && nstdio < 2 && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "-,", 2) == 0)
			argv[i] = cfg->stdio_args[nstdio++] =
			    xasprintf("stdio%s", argv[i] + 1);
		else if (next_is_optarg(argv[i]))
			i++;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, short_options, long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'u':
			only_lr = 1;
			break;
		case 'U':
			only_rl = 1;
			break;
		case '4':
		case '6':
			if (cfg->family != 0 && cfg->family != ch - '0')
				return usage_error("-4 and -6: only one may "
				    "be chosen");
			cfg->family = ch - '0';
			break;
		case 'p':
			if (proto_parse_name(optarg, &fo.proto.kind) == -1)
				return usage_error("-p: unknown protocol '%s' "
				    "(relay, line or netstring)", optarg);
			break;
		case OPT_DELIM:
			if (proto_parse_delim(optarg, &fo.proto) == -1)
				return usage_error("--delim: invalid delimiter "
				    "'%s' (lf, crlf, nul, C or \\xHH)", optarg);
			break;
		case OPT_MAX_FRAME:
			if (parse_size_opt("--max-frame", optarg, 1,
			    MAX_FRAME_LIMIT, &v) != 0)
				return CLI_USAGE;
			fo.proto.max_frame = (size_t)v;
			break;
		case OPT_OVERSIZE:
			if (strcmp(optarg, "error") == 0)
				fo.proto.skip = 0;
			else if (strcmp(optarg, "skip") == 0)
				fo.proto.skip = 1;
			else
				return usage_error("--oversize: unknown action "
				    "'%s' (error or skip)", optarg);
			break;
		case 'n':
			if (util_parse_uint(optarg, UINT64_MAX, &v) == -1 ||
			    v == 0)
				return usage_error("-n: invalid number of frames "
				    "'%s'", optarg);
			cfg->max_frames = v;
			break;
		case 'k':
			cfg->keep_open = 1;
			break;
		case 'm':
			if (util_parse_uint(optarg, 1000000, &v) == -1 ||
			    v == 0)
				return usage_error("-m: invalid number of "
				    "connections '%s' (1 to 1000000)", optarg);
			cfg->max_conns = v;
			has_max_conns = 1;
			break;
		case OPT_SHARE:
			cfg->share = 1;
			break;
		case OPT_BROKER:
			cfg->broker = 1;
			break;
		case OPT_SLOW:
			if (strcmp(optarg, "block") == 0)
				cfg->slow = SLOW_BLOCK;
			else if (strcmp(optarg, "drop") == 0)
				cfg->slow = SLOW_DROP;
			else if (strcmp(optarg, "close") == 0)
				cfg->slow = SLOW_CLOSE;
			else
				return usage_error("--slow: unknown policy '%s' "
				    "(block, drop or close)", optarg);
			has_slow = 1;
			break;
		case OPT_ALLOW:
		case OPT_DENY:
			if (acl_add(&cfg->acl, ch == OPT_DENY, optarg) == -1)
				return usage_error("--%s: invalid address or "
				    "CIDR '%s'", ch == OPT_DENY ? "deny" :
				    "allow", optarg);
			break;
		case 'q':
		case 'w':
		case 'i':
			has_idle |= ch == 'i';
			if (util_parse_seconds(optarg, ch == 'q' ?
			    &cfg->eof_timeout : ch == 'w' ?
			    &cfg->connect_timeout : &cfg->idle_timeout,
			    err, sizeof err) == -1)
				return usage_error("-%c: %s", ch, err);
			break;
		case OPT_HIGH_WATER:
			if (parse_size_opt("--high-water", optarg, 1,
			    MAX_WATER, &fo.high_water) != 0)
				return CLI_USAGE;
			fo.has_high = 1;
			break;
		case OPT_LOW_WATER:
			if (parse_size_opt("--low-water", optarg, 0,
			    MAX_WATER, &fo.low_water) != 0)
				return CLI_USAGE;
			fo.has_low = 1;
			break;
		case OPT_RATE:
			if (parse_size_opt("--rate", optarg, 1, MAX_RATE,
			    &fo.rate) != 0)
				return CLI_USAGE;
			break;
		case OPT_STATS:
			if (optarg == NULL || strcmp(optarg, "text") == 0)
				cfg->stats = STATS_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cfg->stats = STATS_JSON;
			else
				return usage_error("--stats: unknown format "
				    "'%s' (text or json)", optarg);
			break;
		case OPT_READY_FILE:
		case OPT_STATS_FILE:
			if (*optarg == '\0')
				return usage_error("--%s-file: empty path",
				    ch == OPT_READY_FILE ? "ready" : "stats");
			path = ch == OPT_READY_FILE ? &cfg->ready_file :
			    &cfg->stats_file;
			free(*path);
			*path = xstrdup(optarg);
			break;
		case OPT_PROGRESS:
			cfg->progress = 1;
			break;
		case OPT_NO_SPLICE:
			cfg->splice = 0;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'x':
			cfg->hexdump = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			kind_help(stdout, 0);
			fputs(usage_addr_options, stdout);
			kind_help(stdout, 1);
			fputs(usage_options, stdout);
			return CLI_EXIT;
		case 'V':
			printf("weir %s\n", WEIR_VERSION);
			return CLI_EXIT;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) != 0)
				return usage_error("-%c: missing argument",
				    optopt);
			return usage_error("%s: missing argument",
			    long_name(argv[optind - 1], optname,
			    sizeof optname));
		default:
			if (strncmp(argv[optind - 1], "--", 2) != 0)
				return usage_error("-%c: unknown option",
				    optopt);
			long_name(argv[optind - 1], optname, sizeof optname);
			/* getopt says '?' for --flag=VALUE too. */
			if (optopt != 0 && strchr(argv[optind - 1], '=') != NULL)
				return usage_error("%s: takes no argument",
				    optname);
			return usage_error("%s: unknown option", optname);
		}
	}
	if (only_lr && only_rl)
		return usage_error("-u and -U: only one direction may be chosen");
	if (fo.has_low && fo.low_water >= fo.high_water)
		return usage_error("--low-water (%llu) must be below "
		    "--high-water (%llu)", (unsigned long long)fo.low_water,
		    (unsigned long long)fo.high_water);

	nargs = argc - optind;
	if (nargs == 0)
		return usage_error("missing address");
	if (nargs > 2)
		return usage_error("too many addresses");
	if (parse_addr(&cfg->left, argv[optind], &fo) != 0)
		return CLI_USAGE;
	/* A listener whose clients each name their RIGHT stands alone. */
	if ((dials = kind_dials(&cfg->left)) != NULL) {
		if (nargs == 2)
			return usage_error("%s: takes no second address (each "
			    "client names its own)", cfg->left.name);
		if (cfg->broker || cfg->share)
			return usage_error("--%s: %s: each client names its "
			    "own RIGHT", cfg->broker ? "broker" : "share",
			    cfg->left.name);
		dialed_addr(&cfg->right, dials, &fo);
	} else if (parse_addr(&cfg->right, nargs == 2 ? argv[optind + 1] :
	    "-", &fo) != 0)
		return CLI_USAGE;
	else if (kind_dials(&cfg->right) != NULL)
		return usage_error("%s: takes no second address (each client "
		    "names its own)", cfg->right.name);
	for (i = 0; i < 2; i++)
		if (family_of(i == 0 ? &cfg->left : &cfg->right, cfg->family)
		    != 0)
			return CLI_USAGE;
	/* Messages call "-,OPT=V" what the user wrote: "-". */
	for (i = 0; i < nargs; i++)
		if (argv[optind + i] == cfg->stdio_args[0] ||
		    argv[optind + i] == cfg->stdio_args[1]) {
			free(i == 0 ? cfg->left.name : cfg->right.name);
			*(i == 0 ? &cfg->left.name : &cfg->right.name) =
			    xstrdup("-");
		}
	/* As with nc, a lone address is RIGHT unless it is a listener. */
	if (nargs == 1 && !cli_is_listener(&cfg->left)) {
		tmp = cfg->left;
		cfg->left = cfg->right;
		cfg->right = tmp;
	}
	/*
	 * Peers that never say goodbye (datagrams) are forgotten when idle;
	 * a lone peer is not, nor is a listener waiting for its first.
	 */
	for (i = 0; i < 2 && !has_idle && (cfg->keep_open || cfg->broker); i++)
		if (cli_is_listener(i == 0 ? &cfg->left : &cfg->right))
			cfg->idle_timeout = (i == 0 ? &cfg->left :
			    &cfg->right)->kind->idle_timeout;
	if (cli_is_listener(&cfg->left) && cli_is_listener(&cfg->right))
		return usage_error("%s and %s: only one listener is allowed",
		    cfg->left.name, cfg->right.name);
	if (cfg->broker) {
		if (nargs != 1 || !cli_is_listener(&cfg->left))
			return usage_error("--broker: takes exactly one listener "
			    "address");
		cfg->keep_open = 1;
		cfg->dir = DIR_BOTH;
	}
	if (!cli_is_listener(&cfg->left) && !cli_is_listener(&cfg->right)) {
		if (cfg->keep_open || has_max_conns || cfg->share)
			return usage_error("%s: needs a listener address",
			    cfg->keep_open ? "-k" : has_max_conns ? "-m" :
			    "--share");
	}
	if ((cfg->acl.nallow > 0 || cfg->acl.ndeny > 0) &&
	    !(cli_is_listener(&cfg->left) &&
	    (cfg->left.kind->flags & KIND_INET)) &&
	    !(cli_is_listener(&cfg->right) &&
	    (cfg->right.kind->flags & KIND_INET)))
		return usage_error("--%s: needs a listener with IP peers",
		    cfg->acl.nallow > 0 ? "allow" : "deny");
	if (cfg->share && !cfg->keep_open)
		return usage_error("--share: needs -k (one connection has "
		    "nothing to share with)");
	if (has_slow && !cfg->keep_open)
		return usage_error("--slow: needs -k or --broker (only "
		    "fan-out has slow consumers to drop or close)");
	if (cfg->broker)
		return 0;
	return choose_direction(cfg, only_lr, only_rl);
}

static void
addr_free(struct addr *a)
{
	if (a->kind != NULL && a->kind->free != NULL)
		a->kind->free(a);
	free(a->name);
	free(a->host);
	free(a->port);
	free(a->path);
	free(a->sock.bind_host);
	free(a->sock.bind_port);
}

void
cli_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	addr_free(&cfg->left);
	addr_free(&cfg->right);
	free(cfg->ready_file);
	free(cfg->stats_file);
	free(cfg->stdio_args[0]);
	free(cfg->stdio_args[1]);
	acl_free(&cfg->acl);
}
