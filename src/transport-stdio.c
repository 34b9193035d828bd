/* Inherited descriptors: standard input and output, and fd:N. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "transport-kind.h"

static void	stdio_open(struct transport *);
static void	fd_open(struct transport *);

const struct transport_ops transport_stdio_ops = {
	stdio_open,
	NULL
};

const struct transport_ops transport_fd_ops = {
	fd_open,
	NULL
};

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
