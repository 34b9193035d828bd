/*
 * Unix stream sockets: connect to PATH or @NAME (Linux abstract namespace),
 * listen on PATH, replacing a stale socket file but never a live one.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

#define LISTEN_BACKLOG	1024
#define SO_ACCEPTCON_FLAG 0x10000	/* __SO_ACCEPTCON in /proc/net/unix */

static int	unix_parse(struct addr *, const char *, char **);
static int	unix_option(struct addr *, const char *, const char *,
		    char **);
static int	unix_listen_option(struct addr *, const char *, const char *,
		    char **);
static void	unix_open(struct transport *);
static socklen_t fill_sun(struct sockaddr_un *, const char *);
static int	socket_is_live(const char *, const struct stat *);
static int	unix_bind(const struct addr *, struct bound *, char **);
static void	unix_unbind(const struct addr *, struct bound *);

static const struct transport_ops unix_ops = {
	.open = unix_open,
	.release = sock_connect_free
};

const struct kind kind_unix = {
	.name = "unix",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS,
	.help = "  unix:PATH              connect to a Unix socket (@NAME: "
	    "abstract)\n",
	.parse = unix_parse,
	.option = unix_option,
	.splices = kind_splices_always,
	.ops = &unix_ops
};

static const struct kind_listen unix_listen = {
	.bind = unix_bind,
	.unbind = unix_unbind,
	.conn = &sock_accepted_ops
};

const struct kind kind_unix_listen = {
	.name = "unix-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS,
	.help = "  unix-listen:PATH       listen for connections on a Unix "
	    "socket\n",
	.help_opts = "  mode=OCTAL             permissions of a unix-listen "
	    "socket file\n",
	.parse = unix_parse,
	.option = unix_listen_option,
	.splices = kind_splices_always,
	.listen = &unix_listen
};

static int
unix_parse(struct addr *a, const char *arg, char **err)
{
	struct sockaddr_un	 sun;

	if (strcmp(arg, "@") == 0)
		arg = "";
	return kind_arg_path(a, arg, sizeof sun.sun_path, err);
}

static int
unix_option(struct addr *a, const char *name, const char *val, char **err)
{
	return sock_option(a, SOCK_OPT_BUF, name, val, err);
}

static int
unix_listen_option(struct addr *a, const char *name, const char *val,
    char **err)
{
	char	*end;
	long	 mode;

	if (strcmp(name, "mode") != 0)
		return unix_option(a, name, val, err);
	mode = strtol(val, &end, 8);
	if (*val < '0' || *val > '7' || *end != '\0' || mode > 0777) {
		*err = xasprintf("invalid mode '%s'", val);
		return -1;
	}
	a->mode = (int)mode;
	return 0;
}

/* A path, or @NAME for the abstract namespace (a leading NUL byte). */
static socklen_t
fill_sun(struct sockaddr_un *sun, const char *path)
{
	size_t	 len = strlen(path);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (socklen_t)sizeof *sun;
}

static void
unix_open(struct transport *t)
{
	struct sock_target	*tg;

	tg = xcalloc(1, sizeof *tg);
	tg->len = fill_sun((struct sockaddr_un *)&tg->ss, t->addr->path);
	tg->type = SOCK_STREAM;
	sock_connect(t, tg, 1, NULL);
}

/*
 * Whether a listening socket is bound to the file st describes.  On Linux
 * /proc/net/unix lists every bound socket with its path, so a live one is
 * found without connecting to it (which would disturb its server).
 * Elsewhere, or when /proc is missing, a connect is the test.
 */
static int
socket_is_live(const char *path, const struct stat *st)
{
	struct sockaddr_un	 sun;
	struct stat		 est;
	FILE			*f;
	char			 line[4096], *p, *entry;
	unsigned long		 flags;
	int			 fd, n, live = 0;

	if ((f = fopen("/proc/net/unix", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			n = 0;
			/* Num RefCount Protocol Flags Type St Inode Path */
			if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n",
			    &flags, &n) != 1 || n == 0)
				continue;
			entry = line + n;
			if (!(flags & SO_ACCEPTCON_FLAG) || *entry == '\0')
				continue;
			if (entry[0] == '/') {
				if (stat(entry, &est) == 0 &&
				    est.st_dev == st->st_dev &&
				    est.st_ino == st->st_ino)
					live = 1;
			} else {
				/* Bound by a relative path: compare names. */
				p = strrchr(path, '/');
				if (strcmp(entry, p != NULL ? p + 1 : path) == 0 ||
				    strcmp(entry, path) == 0)
					live = 1;
			}
			if (live)
				break;
		}
		fclose(f);
		return live;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	live = connect(fd, (struct sockaddr *)&sun, fill_sun(&sun, path)) == 0
	    || errno != ECONNREFUSED;
	close(fd);
	return live;
}

static int
bind_path(const struct addr *a, char **ready, char **err)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	socklen_t		 len;
	mode_t			 mask = 0;
	int			 fd, rv;

	*err = NULL;
	if (a->path[0] != '@' && lstat(a->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*err = xstrdup("exists and is not a socket");
			return -1;
		}
		if (socket_is_live(a->path, &st)) {
			*err = xstrdup("address in use by a live socket");
			return -1;
		}
		if (unlink(a->path) == -1) {
			*err = xasprintf("removing stale socket: %s",
			    strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	len = fill_sun(&sun, a->path);
	if (a->mode >= 0)
		mask = umask(0777 & ~(mode_t)a->mode);
	rv = bind(fd, (struct sockaddr *)&sun, len);
	if (a->mode >= 0)
		umask(mask);
	if (rv == -1) {
		*err = xasprintf("bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (a->mode >= 0 && a->path[0] != '@' &&
	    chmod(a->path, (mode_t)a->mode) == -1) {
		*err = xasprintf("chmod: %s", strerror(errno));
		unlink(a->path);
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		*err = xasprintf("listen: %s", strerror(errno));
		if (a->path[0] != '@')
			unlink(a->path);
		close(fd);
		return -1;
	}
	*ready = xasprintf("unix:%s", a->path);
	return fd;
}

/* Bind, and remember the socket file made, to remove it at exit. */
static int
unix_bind(const struct addr *a, struct bound *b, char **err)
{
	struct stat	*made;

	if ((b->fd = bind_path(a, &b->ready, err)) == -1)
		return -1;
	made = xcalloc(1, sizeof *made);
	if (a->path[0] != '@' && lstat(a->path, made) == 0)
		b->priv = made;
	else
		free(made);
	return b->fd;
}

/* Remove the socket file, if it is still the one weir made. */
static void
unix_unbind(const struct addr *a, struct bound *b)
{
	struct stat	*made = b->priv, st;

	if (made == NULL)
		return;
	if (lstat(a->path, &st) == 0 && st.st_dev == made->st_dev &&
	    st.st_ino == made->st_ino)
		unlink(a->path);
	free(made);
	b->priv = NULL;
}
