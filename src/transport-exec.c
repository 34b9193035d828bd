/*
 * exec:COMMAND runs /bin/sh -c COMMAND with its stdin and stdout on pipes
 * to weir; a half weir does not use is inherited from weir itself.  The
 * child is reaped before the transport counts as closed, so its exit
 * status is known: anything but 0 is a failure.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "transport-kind.h"
#include "util.h"

extern char **environ;

struct child {
	struct transport	*t;
	pid_t			 pid;
	int			 group;		/* leads its own process group */
	int			 status;
	int			 reaped;
	struct child		*next;
};

static struct child	*children;
static struct event	*sigchld_ev;

static int	exec_parse(struct addr *, const char *, char **);
static void	exec_open(struct transport *);
static void	exec_close(struct transport *);
static void	sigchld_cb(evutil_socket_t, short, void *);
static void	child_done(struct child *);
static void	child_term(const struct child *);

static const struct transport_ops exec_ops = {
	.open = exec_open,
	.close = exec_close
};

const struct kind kind_exec = {
	.name = "exec",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS,
	.help = "  exec:COMMAND           run /bin/sh -c COMMAND, wired to its "
	    "stdin and stdout\n",
	.parse = exec_parse,
	.ops = &exec_ops
};

static int
exec_parse(struct addr *a, const char *arg, char **err)
{
	if (*arg == '\0') {
		*err = xasprintf("%s: missing command", a->name);
		return -1;
	}
	a->path = xstrdup(arg);
	return 0;
}

static void
exec_open(struct transport *t)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 def, none;
	struct child			*c;
	char				*argv[4];
	int				 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int				 rv, group;

	if (sigchld_ev == NULL) {
		sigchld_ev = evsignal_new(t->base, SIGCHLD, sigchld_cb, NULL);
		evsignal_add(sigchld_ev, NULL);
	}
	if (((t->halves & TRANSPORT_WRITE) && pipe2(in, O_CLOEXEC) == -1) ||
	    ((t->halves & TRANSPORT_READ) && pipe2(out, O_CLOEXEC) == -1)) {
		rv = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	if (in[0] != -1)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	if (out[1] != -1)
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	/* weir ignores SIGPIPE; the command gets the usual dispositions. */
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	/*
	 * Its own process group, so that ending it ends what the shell
	 * started too; not when it reads a terminal it inherited, which a
	 * background group may not.
	 */
	group = in[0] != -1 || !isatty(STDIN_FILENO);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK | (group ? POSIX_SPAWN_SETPGROUP : 0));
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = t->addr->path;
	argv[3] = NULL;
	c = xcalloc(1, sizeof *c);
	rv = posix_spawn(&c->pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rv != 0) {
		free(c);
		goto fail;
	}
	c->t = t;
	c->group = group;
	c->next = children;
	children = c;
	t->kind = c;
	log_debug("%s: started process %ld", t->name, (long)c->pid);
	if (in[0] != -1)
		close(in[0]);
	if (out[1] != -1)
		close(out[1]);
	if ((in[1] != -1 && util_set_nonblock(in[1]) == -1) ||
	    (out[0] != -1 && util_set_nonblock(out[0]) == -1)) {
		rv = errno;
		if (in[1] != -1)
			close(in[1]);
		if (out[0] != -1)
			close(out[0]);
		transport_fail(t, "%s", strerror(rv));
		return;
	}
	transport_opened(t, out[0], in[1]);
	return;
fail:
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	transport_fail(t, "%s", strerror(rv));
}

static void
sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child	*c, *next;

	(void)fd;
	(void)what;
	(void)arg;
	for (c = children; c != NULL; c = next) {
		next = c->next;
		if (c->reaped || waitpid(c->pid, &c->status, WNOHANG) <= 0)
			continue;
		c->reaped = 1;
		log_debug("%s: process %ld ended", c->t->name, (long)c->pid);
		if (c->t->closing)
			child_done(c);
	}
}

/* The transport is closed and its child reaped: report, unlink, done. */
static void
child_done(struct child *c)
{
	struct transport	*t = c->t;
	struct child		**pp;
	int			 st = c->status;

	for (pp = &children; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	t->kind = NULL;
	free(c);
	if (!t->aborted) {
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			transport_fail(t, "exited with status %d",
			    WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			transport_fail(t, "killed by signal %d (%s)",
			    WTERMSIG(st), strsignal(WTERMSIG(st)));
	}
	transport_closed(t);
}

/* SIGTERM to the command, its whole group when it leads one. */
static void
child_term(const struct child *c)
{
	kill(c->group ? -c->pid : c->pid, SIGTERM);
}

static void
exec_close(struct transport *t)
{
	struct child	*c = t->kind;

	if (c == NULL) {
		transport_closed(t);
		return;
	}
	if (!c->reaped && t->aborted)
		child_term(c);
	if (c->reaped)
		child_done(c);
}

/* Leaving at once (a second signal): end every command still running. */
void
transport_exec_kill_all(void)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		if (!c->reaped)
			child_term(c);
}

/* At exit: the SIGCHLD watcher goes with the event base. */
void
transport_exec_cleanup(void)
{
	if (sigchld_ev != NULL)
		event_free(sigchld_ev);
	sigchld_ev = NULL;
}
