/* Files: file: is read to its end, write: truncates, append: appends. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "transport-kind.h"
#include "util.h"

static int	file_parse(struct addr *, const char *, char **);
static void	file_open(struct transport *);

static const struct transport_ops file_ops = {
	.open = file_open
};

const struct kind kind_file = {
	.name = "file",
	.flags = KIND_READS,
	.help = "  file:PATH              read PATH to its end (a source "
	    "only)\n",
	.parse = file_parse,
	.ops = &file_ops
};

const struct kind kind_write = {
	.name = "write",
	.flags = KIND_WRITES,
	.help = "  write:PATH             create or truncate PATH and write it "
	    "(a sink only)\n",
	.parse = file_parse,
	.ops = &file_ops
};

const struct kind kind_append = {
	.name = "append",
	.flags = KIND_WRITES,
	.help = "  append:PATH            append to PATH, creating it (a sink "
	    "only)\n",
	.parse = file_parse,
	.ops = &file_ops
};

static int
file_parse(struct addr *a, const char *arg, char **err)
{
	return kind_arg_path(a, arg, PATH_MAX, err);
}

static void
file_open(struct transport *t)
{
	int	 fd, flags = O_CLOEXEC | O_NOCTTY;

	if (t->addr->kind == &kind_file)
		flags |= O_RDONLY;
	else if (t->addr->kind == &kind_write)
		flags |= O_WRONLY | O_CREAT | O_TRUNC;
	else
		flags |= O_WRONLY | O_CREAT | O_APPEND;
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
