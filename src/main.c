/* weir: wire byte streams together, with flow control. */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>

#include "cli.h"
#include "hub.h"
#include "log.h"

static void	xfsz_cb(int);

/*
 * A write past the file size limit (ulimit -f) is an error (EFBIG) like
 * a full disk.  Caught rather than ignored: a command run by exec: gets
 * the default back, as it would not an ignored signal.
 */
static void
xfsz_cb(int sig)
{
	(void)sig;
}

int
main(int argc, char **argv)
{
	struct config	 cfg;
	int		 rv;

	switch (cli_parse(argc, argv, &cfg)) {
	case CLI_EXIT:
		cli_free(&cfg);
		return 0;
	case CLI_USAGE:
		cli_free(&cfg);
		return 2;
	}
#ifdef M_TRIM_THRESHOLD
	/*
	 * Buffer chains come and go all the time; let glibc keep freed
	 * memory instead of returning and faulting it in again per read.
	 * Peak memory is still what the buffers bound.
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024);
#endif
	/* A peer that goes away is a write error (EPIPE), not a signal. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, xfsz_cb);
	log_init(cfg.verbose);
	rv = hub_run(&cfg);
	cli_free(&cfg);
	return rv;
}
