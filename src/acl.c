/*
 * --allow and --deny: CIDR rules matched against a peer's address before
 * a byte is read.  An IPv4 peer on a dual-stack socket (::ffff:a.b.c.d)
 * matches IPv4 rules.  A deny wins; with any allow, a peer must match one.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "util.h"

static int	rule_matches(const struct acl_rule *, int, const unsigned char *);

/* Add "ADDR" or "ADDR/PREFIX" to the allow (deny == 0) or deny list. */
int
acl_add(struct acl *acl, int deny, const char *s)
{
	struct acl_rule	 r;
	char		 host[64], *slash;
	uint64_t	 prefix;
	unsigned	 max;

	memset(&r, 0, sizeof r);
	if (strlen(s) >= sizeof host)
		return -1;
	strcpy(host, s);
	if ((slash = strchr(host, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, host, r.addr) == 1) {
		r.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, r.addr) == 1) {
		r.family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL && util_parse_uint(slash, max, &prefix) == -1)
		return -1;
	r.prefix = (unsigned)prefix;
	/* Why a peer it matches is refused, for the log. */
	r.text = xasprintf("%s %s", deny ? "denied by --deny" : "--allow", s);
	if (deny) {
		acl->deny = xrealloc(acl->deny, (acl->ndeny + 1) * sizeof r);
		acl->deny[acl->ndeny++] = r;
	} else {
		acl->allow = xrealloc(acl->allow, (acl->nallow + 1) * sizeof r);
		acl->allow[acl->nallow++] = r;
	}
	return 0;
}

static int
rule_matches(const struct acl_rule *r, int family, const unsigned char *a)
{
	unsigned	 full = r->prefix / 8, rest = r->prefix % 8;
	unsigned char	 mask;

	if (r->family != family)
		return 0;
	if (memcmp(r->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (r->addr[full] & mask) == (a[full] & mask);
}

/* NULL if the peer may in, else why not (the rule, or "not in --allow"). */
const char *
acl_check(const struct acl *acl, const struct sockaddr *sa)
{
	const struct sockaddr_in	*in = (const void *)sa;
	const struct sockaddr_in6	*in6 = (const void *)sa;
	const unsigned char		*a;
	int				 family = sa->sa_family;
	size_t				 i;

	if (acl->nallow == 0 && acl->ndeny == 0)
		return NULL;
	if (family == AF_INET)
		a = (const unsigned char *)&in->sin_addr;
	else if (family == AF_INET6) {
		a = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			family = AF_INET;
			a += 12;
		}
	} else
		return NULL;
	for (i = 0; i < acl->ndeny; i++)
		if (rule_matches(&acl->deny[i], family, a))
			return acl->deny[i].text;
	if (acl->nallow == 0)
		return NULL;
	for (i = 0; i < acl->nallow; i++)
		if (rule_matches(&acl->allow[i], family, a))
			return NULL;
	return "not in --allow";
}

void
acl_free(struct acl *acl)
{
	size_t	 i;

	for (i = 0; i < acl->nallow; i++)
		free(acl->allow[i].text);
	for (i = 0; i < acl->ndeny; i++)
		free(acl->deny[i].text);
	free(acl->allow);
	free(acl->deny);
}
