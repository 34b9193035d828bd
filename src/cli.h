/* The command line, turned into one plain configuration. */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include <stdint.h>

#include "acl.h"
#include "proto.h"
#include "proxy.h"

/* Which ways data flows: LEFT -> RIGHT, RIGHT -> LEFT, or both. */
#define DIR_LR		0x1
#define DIR_RL		0x2
#define DIR_BOTH	(DIR_LR | DIR_RL)

enum slow_policy {
	SLOW_BLOCK,		/* pause every producer */
	SLOW_DROP,		/* drop whole frames for that consumer */
	SLOW_CLOSE		/* close that consumer */
};

enum stats_format {
	STATS_NONE,
	STATS_TEXT,
	STATS_JSON
};

struct kind;

/* Socket options of an address (sock.c parses and applies them). */
struct sock_opts {
	char		*bind_host;	/* bind=: NULL, any address */
	char		*bind_port;	/* NULL: any port */
	int		 sndbuf;	/* 0: the system's */
	int		 rcvbuf;
	int		 nodelay;	/* 1: TCP_NODELAY; 0: off, as sockets start */
	int		 keepalive;	/* 1: SO_KEEPALIVE */
	struct proxy_url proxy;		/* proxy=: kind PROXY_NONE, none */
};

struct addr {
	const struct kind *kind;
	char		*name;		/* as written, options left out */
	char		*host;		/* tcp: NULL means every interface */
	char		*port;
	char		*path;		/* files, unix sockets, exec command */
	int		 fd;
	int		 family;	/* 4 or 6 (tcp4:, tcp6:), 0: as -4/-6 */
	int		 mode;		/* unix-listen socket file, -1: umask */
	uint64_t	 high_water;
	uint64_t	 low_water;
	uint64_t	 rate;		/* bytes per second, 0: unlimited */
	struct proto_opts proto;
	struct sock_opts sock;
	void		*opts;		/* the kind's own options */
};

struct config {
	struct addr	 left;
	struct addr	 right;
	int		 dir;
	int		 family;
	int		 verbose;
	int		 hexdump;
	int		 splice;	/* plain relay may use splice(2) */
	double		 eof_timeout;	/* 0: none */
	double		 connect_timeout;
	double		 idle_timeout;
	uint64_t	 max_frames;	/* main direction, 0: unlimited */
	int		 keep_open;
	uint64_t	 max_conns;
	int		 share;
	int		 broker;
	enum slow_policy slow;
	struct acl	 acl;
	enum stats_format stats;
	char		*ready_file;
	char		*stats_file;	/* --stats=json there, at exit */
	int		 progress;	/* a status line, on a terminal */
	char		*stdio_args[2];	/* "-,OPT=V" rewritten as "stdio,OPT=V" */
};

#define CLI_OK		0
#define CLI_EXIT	1	/* help or version printed */
#define CLI_USAGE	(-1)	/* message printed, exit 2 */

int	 cli_parse(int, char **, struct config *);
void	 cli_free(struct config *);
int	 cli_is_listener(const struct addr *);
struct addr *cli_target_new(const struct addr *, const char *, const char *);
void	 cli_target_free(struct addr *);

#endif
