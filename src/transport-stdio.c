/* Inherited descriptors: standard input and output, and fd:N. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "transport-kind.h"
#include "util.h"

static int	stdio_allows(const struct addr *);
static int	fd_allows(const struct addr *);
static int	stdio_splices(const struct addr *, int);
static int	fd_splices(const struct addr *, int);
static void	stdio_open(struct transport *);
static int	fd_parse(struct addr *, const char *, char **);
static void	fd_open(struct transport *);

static const struct transport_ops stdio_ops = {
	.open = stdio_open
};

static const struct transport_ops fd_ops = {
	.open = fd_open
};

/* "-" or "stdio"; cli.c finds it by those names alone. */
const struct kind kind_stdio = {
	.name = "stdio",
	.flags = KIND_READS | KIND_WRITES | KIND_STDIO,
	.help = "  -, stdio               standard input and output\n",
	.allows = stdio_allows,
	.splices = stdio_splices,
	.ops = &stdio_ops
};

const struct kind kind_fd = {
	.name = "fd",
	.flags = KIND_READS | KIND_WRITES,
	.help = "  fd:N                   an inherited descriptor, read and/or "
	    "written as opened\n",
	.parse = fd_parse,
	.allows = fd_allows,
	.splices = fd_splices,
	.ops = &fd_ops
};

static int
fd_parse(struct addr *a, const char *arg, char **err)
{
	uint64_t	 fd;

	if (util_parse_uint(arg, INT_MAX, &fd) == -1) {
		*err = xasprintf("%s: invalid descriptor '%s'", a->name, arg);
		return -1;
	}
	a->fd = (int)fd;
	return 0;
}

/*
 * What fd's open mode allows.  One that is not open allows both: opening
 * it fails with the reason.
 */
static int
mode_allows(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return KIND_READS | KIND_WRITES;
	switch (fl & O_ACCMODE) {
	case O_RDONLY:
		return KIND_READS;
	case O_WRONLY:
		return KIND_WRITES;
	default:
		return KIND_READS | KIND_WRITES;
	}
}

/* Standard input as far as it reads, standard output as it writes. */
static int
stdio_allows(const struct addr *a)
{
	(void)a;
	return (mode_allows(0) & KIND_READS) | (mode_allows(1) & KIND_WRITES);
}

static int
fd_allows(const struct addr *a)
{
	return mode_allows(a->fd);
}

static void
stdio_open(struct transport *t)
{
	int	 rfd = -1, wfd = -1;

	if (t->halves & TRANSPORT_READ) {
		if (transport_adopt_fd(0) == -1) {
			transport_fail(t, "standard input: %s",
			    strerror(errno));
			return;
		}
		rfd = 0;
	}
	if (t->halves & TRANSPORT_WRITE) {
		if (transport_adopt_fd(1) == -1) {
			transport_fail(t, "standard output: %s",
			    strerror(errno));
			return;
		}
		wfd = 1;
	}
	transport_opened(t, rfd, wfd);
}

static void
fd_open(struct transport *t)
{
	if (transport_adopt_fd(t->addr->fd) == -1) {
		transport_fail(t, "%s", strerror(errno));
		return;
	}
	transport_opened(t, t->addr->fd, t->addr->fd);
}

/* Standard input to read, standard output to write. */
static int
stdio_splices(const struct addr *a, int writing)
{
	(void)a;
	return util_splices(writing ? STDOUT_FILENO : STDIN_FILENO, writing);
}

static int
fd_splices(const struct addr *a, int writing)
{
	return util_splices(a->fd, writing);
}
