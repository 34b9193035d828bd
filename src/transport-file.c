/* Files: file: is read to its end, write: truncates, append: appends. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "transport-kind.h"
#include "util.h"

static void	file_open(struct transport *);

const struct transport_ops transport_file_ops = {
	file_open,
	NULL
};

static void
file_open(struct transport *t)
{
	int	 fd, flags = O_CLOEXEC | O_NOCTTY;

	switch (t->addr->type) {
	case ADDR_FILE:
		flags |= O_RDONLY;
		break;
	case ADDR_WRITE:
		flags |= O_WRONLY | O_CREAT | O_TRUNC;
		break;
	default:
		flags |= O_WRONLY | O_CREAT | O_APPEND;
		break;
	}
	/* A FIFO blocks here until its other end opens, as with cat. */
	if ((fd = open(t->addr->path, flags, 0666)) == -1) {
		transport_fail(t, "%s", strerror(errno));
		return;
	}
	if (util_set_nonblock(fd) == -1) {
		transport_fail(t, "%s", strerror(errno));
		close(fd);
		return;
	}
	transport_opened(t, fd, fd);
}
