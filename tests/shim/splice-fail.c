/*
 * Preloaded into weir by tests/splice.bats (LD_PRELOAD): splice(2) as a
 * descriptor that takes no splice would answer.  WEIR_SPLICE_FAIL names
 * the way that fails, "in" (into a pipe weir made) or "out" (out of one);
 * WEIR_SPLICE_OK splices that way go through first, then each fails with
 * EINVAL.  WEIR_SPLICE_FAIL=pipe fails pipe2(2) instead, with EMFILE, as
 * when weir has no descriptor left.  Every other call is the real one.
 */
#define _GNU_SOURCE
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define PIPES_MAX	64

static int	pipes[PIPES_MAX];
static int	npipes;
static long	passed;

static int
made_here(int fd)
{
	int	 i;

	for (i = 0; i < npipes; i++)
		if (pipes[i] == fd)
			return 1;
	return 0;
}

int
pipe2(int fd[2], int flags)
{
	int	(*real)(int[2], int) = (int (*)(int[2], int))dlsym(RTLD_NEXT,
	    "pipe2");
	const char *way = getenv("WEIR_SPLICE_FAIL");
	int	 rv;

	if (way != NULL && strcmp(way, "pipe") == 0) {
		errno = EMFILE;
		return -1;
	}
	rv = real(fd, flags);
	if (rv == 0 && npipes + 2 <= PIPES_MAX) {
		pipes[npipes++] = fd[0];
		pipes[npipes++] = fd[1];
	}
	return rv;
}

ssize_t
splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t len,
    unsigned int flags)
{
	ssize_t	(*real)(int, loff_t *, int, loff_t *, size_t, unsigned int) =
	    (ssize_t (*)(int, loff_t *, int, loff_t *, size_t,
	    unsigned int))dlsym(RTLD_NEXT, "splice");
	const char *way = getenv("WEIR_SPLICE_FAIL");
	const char *ok = getenv("WEIR_SPLICE_OK");
	int	 hit;

	hit = way != NULL && ((strcmp(way, "in") == 0 && made_here(out)) ||
	    (strcmp(way, "out") == 0 && made_here(in)));
	if (hit && passed++ >= (ok != NULL ? atol(ok) : 0)) {
		errno = EINVAL;
		return -1;
	}
	return real(in, in_off, out, out_off, len, flags);
}
