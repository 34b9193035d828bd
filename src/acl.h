/* Access control for listeners: --allow and --deny CIDR lists. */
#ifndef WEIR_ACL_H
#define WEIR_ACL_H

#include <stddef.h>

struct sockaddr;

struct acl_rule {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 prefix;
	char		*text;		/* "denied by --deny CIDR" */
};

struct acl {
	struct acl_rule	*allow;
	size_t		 nallow;
	struct acl_rule	*deny;
	size_t		 ndeny;
};

int		 acl_add(struct acl *, int, const char *);
const char	*acl_check(const struct acl *, const struct sockaddr *);
void		 acl_free(struct acl *);

#endif
