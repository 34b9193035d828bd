/*
 * Files: file: is read to its end, write: truncates, append: appends.
 * A file written keeps frames whole: a write that fails in the middle
 * of one has what went of it cut off again.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "transport-kind.h"
#include "util.h"

static int	file_parse(struct addr *, const char *, char **);
static void	file_open(struct transport *);
static int	file_cut(struct transport *, size_t);
static int	file_splices(const struct addr *, int);

static const struct transport_ops file_ops = {
	.open = file_open,
	.cut = file_cut
};

const struct kind kind_file = {
	.name = "file",
	.flags = KIND_READS,
	.help = "  file:PATH              read PATH to its end (a source "
	    "only)\n",
	.parse = file_parse,
	.splices = file_splices,
	.ops = &file_ops
};

const struct kind kind_write = {
	.name = "write",
	.flags = KIND_WRITES | KIND_WHOLE,
	.help = "  write:PATH             create or truncate PATH and write it "
	    "(a sink only)\n",
	.parse = file_parse,
	.ops = &file_ops
};

const struct kind kind_append = {
	.name = "append",
	.flags = KIND_WRITES | KIND_WHOLE,
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

/* A file read splices, as does a FIFO. */
static int
file_splices(const struct addr *a, int writing)
{
	struct stat	 st;

	return !writing && stat(a->path, &st) == 0 &&
	    (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode));
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

/*
 * Take back the last n bytes weir wrote, when the file ends where that
 * write left it: its size is the descriptor's offset (O_APPEND too puts
 * the offset at the end of weir's own write).  A file that has grown
 * since has another writer's bytes after them, and is left as it is.
 */
static int
file_cut(struct transport *t, size_t n)
{
	struct stat	 st;
	off_t		 end;

	/* A pipe or a device cannot take anything back. */
	if (fstat(t->wfd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (end = lseek(t->wfd, 0, SEEK_CUR)) == -1)
		return -1;
	if (st.st_size != end) {
		log_debug("%s: %zu bytes of a torn frame left: the file is "
		    "%lld B, weir's last write ended at %lld (another writer)",
		    t->name, n, (long long)st.st_size, (long long)end);
		return -1;
	}
	if (ftruncate(t->wfd, end - (off_t)n) == -1) {
		log_warnx("%s: cannot cut %zu bytes of a torn frame: %s",
		    t->name, n, strerror(errno));
		return -1;
	}
	log_debug("%s: cut %zu bytes of a torn frame", t->name, n);
	return 0;
}
