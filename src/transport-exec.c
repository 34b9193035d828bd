/*
 * exec:COMMAND runs /bin/sh -c COMMAND with its stdin and stdout on pipes
 * to weir, or with pty on a pseudo-terminal; a half weir does not use is
 * inherited from weir itself.  The child is reaped before the transport
 * counts as closed, so its exit status is known: anything but 0 is a
 * failure.  Its environment names the connection it serves, if any.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ttydefaults.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

/* A child still running this long after SIGTERM gets SIGKILL. */
#define KILL_AFTER_S	2.0

extern char **environ;

/* The kind's own options (struct addr's opts). */
struct exec_opts {
	int		 pty;
};

struct child {
	struct transport	*t;
	pid_t			 pid;
	int			 group;		/* leads its own process group */
	int			 master;	/* its terminal, held until reaped */
	int			 eofs;		/* EOF characters sent to it */
	int			 serves;	/* a connection's: ends with it */
	int			 ended;		/* by weir: its end is no failure */
	int			 status;
	int			 reaped;
	struct event		*kill;		/* SIGKILL, once SIGTERM is sent */
	struct child		*next;
};

/* A child's stdin and stdout and weir's ends of them; -1: inherited. */
struct wiring {
	int	 in[2];		/* pipe: [0] its stdin, [1] weir's */
	int	 out[2];	/* pipe: [1] its stdout, [0] weir's */
	int	 master;	/* pty: weir's end, both ways */
	int	 keep;		/* a copy of master, for the child */
	int	 slave;		/* the child's end, open until it runs */
	char	 tty[64];	/* and its name */
};

/* The variables that name a child's connection. */
static const char *const conn_vars[] = {
	"WEIR_PEER_ADDR", "WEIR_PEER_PORT", "WEIR_LOCAL_ADDR", "WEIR_LOCAL_PORT"
};

static struct child	*children;
static struct event	*sigchld_ev;

static int	exec_parse(struct addr *, const char *, char **);
static int	exec_option(struct addr *, const char *, const char *,
		    char **);
static void	exec_free(struct addr *);
static int	exec_splices(const struct addr *, int);
static void	exec_open(struct transport *);
static int	exec_shutdown(struct transport *);
static void	exec_close(struct transport *);
static int	on_pty(const struct transport *);
static int	wire_pipes(const struct transport *, struct wiring *);
static int	wire_pty(struct wiring *);
static int	spawn(struct transport *, struct wiring *);
static void	child_actions(posix_spawn_file_actions_t *,
		    const struct wiring *, int);
static void	child_attr(posix_spawnattr_t *, int, int);
static char	**env_new(const struct transport *, size_t *);
static void	env_free(char **, size_t);
static int	conn_var(const char *);
static void	env_sock(char **, size_t *, int, int);
static int	unix_name(const struct sockaddr_storage *, socklen_t, char *,
		    size_t);
static void	close_fd(int *);
static void	sigchld_cb(evutil_socket_t, short, void *);
static void	kill_cb(evutil_socket_t, short, void *);
static int	reap(struct child *);
static void	child_reaped(struct child *);
static void	child_done(struct child *);
static void	child_term(struct child *);
static void	child_signal(const struct child *, int);

static const struct transport_ops exec_ops = {
	.open = exec_open,
	.shutdown = exec_shutdown,
	.close = exec_close
};

const struct kind kind_exec = {
	.name = "exec",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS,
	.help = "  exec:COMMAND           run /bin/sh -c COMMAND, wired to its "
	    "stdin and stdout\n",
	.help_opts = "  pty                    exec: run COMMAND on a "
	    "pseudo-terminal, not pipes\n",
	.parse = exec_parse,
	.option = exec_option,
	.switches = (const char *const[]){ "pty", NULL },
	.free = exec_free,
	.splices = exec_splices,
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

static int
exec_option(struct addr *a, const char *name, const char *val, char **err)
{
	struct exec_opts	*eo;

	if (strcmp(name, "pty") != 0)
		return 1;
	if (val != NULL) {
		*err = xstrdup("pty takes no value");
		return -1;
	}
	if ((eo = a->opts) == NULL)
		eo = a->opts = xcalloc(1, sizeof *eo);
	eo->pty = 1;
	return 0;
}

/* Pipes splice; a terminal does not. */
static int
exec_splices(const struct addr *a, int writing)
{
	const struct exec_opts	*eo = a->opts;

	(void)writing;
	return eo == NULL || !eo->pty;
}

static void
exec_free(struct addr *a)
{
	free(a->opts);
	a->opts = NULL;
}

static int
on_pty(const struct transport *t)
{
	const struct exec_opts	*eo = t->addr->opts;

	return eo != NULL && eo->pty;
}

static void
exec_open(struct transport *t)
{
	struct wiring	 w = { { -1, -1 }, { -1, -1 }, -1, -1, -1, "" };
	int		 rv, rfd, wfd;

	if (sigchld_ev == NULL) {
		sigchld_ev = evsignal_new(t->base, SIGCHLD, sigchld_cb, NULL);
		evsignal_add(sigchld_ev, NULL);
	}
	rv = on_pty(t) ? wire_pty(&w) : wire_pipes(t, &w);
	if (rv == 0)
		rv = spawn(t, &w);
	/* The child's ends are its own now, or no one's. */
	close_fd(&w.in[0]);
	close_fd(&w.out[1]);
	close_fd(&w.slave);
	close_fd(&w.keep);
	rfd = w.master != -1 ? w.master : w.out[0];
	wfd = w.master != -1 ? w.master : w.in[1];
	if (rv == 0 && ((rfd != -1 && util_set_nonblock(rfd) == -1) ||
	    (wfd != -1 && util_set_nonblock(wfd) == -1)))
		rv = errno;
	if (rv != 0) {
		close_fd(&w.in[1]);
		close_fd(&w.out[0]);
		close_fd(&w.master);
		transport_fail(t, "%s", strerror(rv));
		return;
	}
	/* Once the child's side is closed, its terminal reads EIO. */
	t->eio_eof = w.master != -1;
	transport_opened(t, rfd, wfd);
}

/* A pipe for each half weir uses; 0 or an errno. */
static int
wire_pipes(const struct transport *t, struct wiring *w)
{
	if (((t->halves & TRANSPORT_WRITE) && pipe2(w->in, O_CLOEXEC) == -1) ||
	    ((t->halves & TRANSPORT_READ) && pipe2(w->out, O_CLOEXEC) == -1))
		return errno;
	return 0;
}

/*
 * A pseudo-terminal in canonical mode, so that the EOF character ends
 * the child's input, without echo (weir would read back what it wrote)
 * or output processing (bytes come as the child wrote them); nor does
 * CR become NL, or ^S stop the child's output.  0 or an errno.
 */
static int
wire_pty(struct wiring *w)
{
	struct termios	 tio;

	if ((w->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(w->master) == -1 || unlockpt(w->master) == -1)
		return errno;
	if ((errno = ptsname_r(w->master, w->tty, sizeof w->tty)) != 0)
		return errno;
	if ((w->slave = open(w->tty, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    tcgetattr(w->slave, &tio) == -1)
		return errno;
	tio.c_lflag |= ICANON;
	tio.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL);
	tio.c_iflag &= ~(ICRNL | INLCR | IGNCR | IXON | IXOFF);
	tio.c_oflag &= ~OPOST;
	if (tcsetattr(w->slave, TCSANOW, &tio) == -1 ||
	    (w->keep = fcntl(w->master, F_DUPFD_CLOEXEC, 0)) == -1)
		return errno;
	return 0;
}

/* Start the command on w's descriptors; 0 or an errno. */
static int
spawn(struct transport *t, struct wiring *w)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	struct child			*c;
	char				*argv[4], **env;
	size_t				 kept = 0;
	int				 rv;

	c = xcalloc(1, sizeof *c);
	/*
	 * Its own process group, so that ending it ends what the shell
	 * started too; not when it reads a terminal it inherited, which a
	 * background group may not.  On a pty it leads a session.
	 */
	c->group = w->master != -1 || w->in[0] != -1 ||
	    !isatty(STDIN_FILENO);
	child_actions(&fa, w, t->halves);
	child_attr(&attr, w->master != -1, c->group);
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = t->addr->path;
	argv[3] = NULL;
	env = env_new(t->via, &kept);
	rv = posix_spawn(&c->pid, "/bin/sh", &fa, &attr, argv,
	    env != NULL ? env : environ);
	env_free(env, kept);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rv != 0) {
		free(c);
		return rv;
	}
	/* Closing weir's end of its terminal early would hang it up. */
	c->master = w->keep;
	w->keep = -1;
	c->t = t;
	c->serves = t->via != NULL;
	c->next = children;
	children = c;
	t->kind = c;
	log_debug("%s: started process %ld%s%s", t->name, (long)c->pid,
	    w->master != -1 ? " on " : "", w->tty);
	return 0;
}

/* Its stdin and stdout as wired; any other descriptor it inherits. */
static void
child_actions(posix_spawn_file_actions_t *fa, const struct wiring *w,
    int halves)
{
	int	 fd;

	posix_spawn_file_actions_init(fa);
	if (w->master != -1) {
		/* Opened by name once it leads a session: its terminal. */
		fd = (halves & TRANSPORT_WRITE) ? 0 : 1;
		posix_spawn_file_actions_addopen(fa, fd, w->tty, O_RDWR, 0);
		if (fd == 0 && (halves & TRANSPORT_READ))
			posix_spawn_file_actions_adddup2(fa, 0, 1);
		return;
	}
	if (w->in[0] != -1)
		posix_spawn_file_actions_adddup2(fa, w->in[0], 0);
	if (w->out[1] != -1)
		posix_spawn_file_actions_adddup2(fa, w->out[1], 1);
}

/* The usual signal dispositions (weir ignores SIGPIPE), and its group. */
static void
child_attr(posix_spawnattr_t *attr, int pty, int group)
{
	sigset_t	 def, none;
	short		 flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;

	posix_spawnattr_init(attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(attr, &def);
	posix_spawnattr_setsigmask(attr, &none);
	if (pty)
		flags |= POSIX_SPAWN_SETSID;
	else if (group) {
		posix_spawnattr_setpgroup(attr, 0);
		flags |= POSIX_SPAWN_SETPGROUP;
	}
	posix_spawnattr_setflags(attr, flags);
}

/*
 * A child serving a connection (via) finds it in WEIR_*: weir's own
 * environment with those four replaced, and only what is known set (a
 * Unix socket has no port, an unnamed one no path).  Serving none, it
 * gets weir's environment untouched (NULL here), so what a weir started
 * by an exec: child was told passes on.  env[*kept] on are ours to free.
 */
static char **
env_new(const struct transport *via, size_t *kept)
{
	char	**env;
	size_t	  n, i, k = 0;
	int	  fd;

	if (via == NULL)
		return NULL;
	for (n = 0; environ[n] != NULL; n++)
		;
	env = xcalloc(n + 5, sizeof *env);
	for (i = 0; i < n; i++)
		if (!conn_var(environ[i]))
			env[k++] = environ[i];
	*kept = k;
	fd = via->rfd != -1 ? via->rfd : via->wfd;
	env_sock(env, &k, fd, 1);
	env_sock(env, &k, fd, 0);
	return env;
}

static void
env_free(char **env, size_t kept)
{
	size_t	 i;

	if (env == NULL)
		return;
	for (i = kept; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static int
conn_var(const char *s)
{
	size_t	 i, len;

	for (i = 0; i < sizeof conn_vars / sizeof conn_vars[0]; i++) {
		len = strlen(conn_vars[i]);
		if (strncmp(s, conn_vars[i], len) == 0 && s[len] == '=')
			return 1;
	}
	return 0;
}

/* WEIR_PEER_* (peer) or WEIR_LOCAL_*: what fd's address tells. */
static void
env_sock(char **env, size_t *k, int fd, int peer)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 host[NI_MAXHOST], port[NI_MAXSERV];
	const char		*who = peer ? "PEER" : "LOCAL";
	int			 rv;

	memset(&ss, 0, sizeof ss);
	rv = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
	    getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rv == -1)
		return;
	if (ss.ss_family == AF_UNIX) {
		if (unix_name(&ss, len, host, sizeof host) == 0)
			env[(*k)++] = xasprintf("WEIR_%s_ADDR=%s", who, host);
		return;
	}
	sock_unmap_v4(&ss, &len);
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port,
	    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	env[(*k)++] = xasprintf("WEIR_%s_ADDR=%s", who, host);
	env[(*k)++] = xasprintf("WEIR_%s_PORT=%s", who, port);
}

/* A Unix socket's path, @NAME in the abstract namespace; -1: unnamed. */
static int
unix_name(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t size)
{
	const struct sockaddr_un *sun = (const void *)ss;
	size_t			 off = offsetof(struct sockaddr_un, sun_path);
	int			 n;

	if (len <= off || (sun->sun_path[0] == '\0' && len == off + 1))
		return -1;
	n = (int)(len - off);
	if (sun->sun_path[0] == '\0')
		snprintf(buf, size, "@%.*s", n - 1, sun->sun_path + 1);
	else
		snprintf(buf, size, "%.*s", n, sun->sun_path);
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * The other side's end, on a terminal: its EOF character, which ends a
 * read in canonical mode.  Sent twice, since after a line without a
 * newline the first only ends that line; after a whole line the second
 * is a second end of file, as a pipe would give.  Nothing on pipes, or
 * once the child is gone.
 */
static int
exec_shutdown(struct transport *t)
{
	struct child	*c = t->kind;
	struct termios	 tio;
	char		 eof[2];
	ssize_t		 n;

	if (c == NULL || c->master == -1)
		return 0;
	eof[0] = eof[1] = tcgetattr(t->wfd, &tio) == 0 ?
	    (char)tio.c_cc[VEOF] : CEOF;
	while (c->eofs < 2) {
		if ((n = write(t->wfd, eof, (size_t)(2 - c->eofs))) == -1)
			return -1;
		c->eofs += (int)n;
	}
	return 0;
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
		if (reap(c) && c->t->closing)
			child_done(c);
	}
}

/* Whether c has ended, reaping it if it just has. */
static int
reap(struct child *c)
{
	if (c->reaped)
		return 1;
	if (waitpid(c->pid, &c->status, WNOHANG) <= 0)
		return 0;
	child_reaped(c);
	log_debug("%s: process %ld ended", c->t->name, (long)c->pid);
	return 1;
}

/* Gone: nothing left to kill, nor a terminal to hold for it. */
static void
child_reaped(struct child *c)
{
	c->reaped = 1;
	if (c->kill != NULL)
		event_free(c->kill);
	c->kill = NULL;
	close_fd(&c->master);
}

/* The transport is closed and its child reaped: report, unlink, done. */
static void
child_done(struct child *c)
{
	struct transport	*t = c->t;
	struct child		**pp;
	int			 st = c->status, ended = c->ended;

	for (pp = &children; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	t->kind = NULL;
	free(c);
	if (!t->aborted && !ended) {
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			transport_fail(t, "exited with status %d",
			    WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			transport_fail(t, "killed by signal %d (%s)",
			    WTERMSIG(st), strsignal(WTERMSIG(st)));
	}
	transport_closed(t);
}

/* SIGTERM now, and SIGKILL if it is still there KILL_AFTER_S later. */
static void
child_term(struct child *c)
{
	if (c->kill != NULL)
		return;
	child_signal(c, SIGTERM);
	if ((c->kill = evtimer_new(c->t->base, kill_cb, c)) == NULL)
		xoom();
	util_timer_add(c->kill, KILL_AFTER_S);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child	*c = arg;

	(void)fd;
	(void)what;
	log_debug("%s: process %ld still running %g s after SIGTERM: SIGKILL",
	    c->t->name, (long)c->pid, KILL_AFTER_S);
	child_signal(c, SIGKILL);
}

/* To the command, its whole group when it leads one. */
static void
child_signal(const struct child *c, int sig)
{
	kill(c->group ? -c->pid : c->pid, sig);
}

static void
exec_close(struct transport *t)
{
	struct child	*c = t->kind;

	if (c == NULL) {
		transport_closed(t);
		return;
	}
	/*
	 * Weir's end of the terminal is closed: hang it up, as closing
	 * pipes ends a child's input and output, unless all the child has
	 * left to do is read the input it was given, up to its EOF.
	 */
	if (t->aborted || (t->halves & TRANSPORT_READ) || c->eofs < 2)
		close_fd(&c->master);
	/*
	 * A command serving a connection that is gone, closed both ways:
	 * nothing it does can reach anyone, so it is ended.
	 */
	if (!reap(c) && (t->aborted || c->serves)) {
		c->ended = 1;
		child_term(c);
	}
	if (c->reaped)
		child_done(c);
}

/*
 * Leaving at once (a second signal), with no time to wait: kill every
 * command still running, group and all.
 */
void
transport_exec_kill_all(void)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		if (!c->reaped)
			child_signal(c, SIGKILL);
}

/* At exit: the SIGCHLD watcher goes with the event base. */
void
transport_exec_cleanup(void)
{
	if (sigchld_ev != NULL)
		event_free(sigchld_ev);
	sigchld_ev = NULL;
}
