/*
 * bench/udpref.c: the datagram ends of bench/udp.sh, and its direct path.
 *
 *   udpref send PORT COUNT SIZE RATE
 *	COUNT datagrams of SIZE bytes to 127.0.0.1:PORT, each starting with
 *	its sequence number (8 bytes, when SIZE allows), RATE a second (0:
 *	as fast as sendmmsg goes).  Prints "sent N".
 *   udpref lines PORT SENDERS COUNT RATE nl|bare
 *	SENDERS processes, each with a socket of its own, send COUNT
 *	datagrams of one line each ("S SEQ PAD\n", 48 bytes; bare: 47,
 *	without the newline, for a collector that adds it), RATE a second
 *	each (0: full speed).  Prints "sent N".
 *   udpref recv READY COUNT SIZE IDLE
 *	binds 127.0.0.1:0, writes its port to READY, reads datagrams until
 *	COUNT came or none for IDLE seconds.  Prints "received N bad B
 *	kdrops K secs S": B of a size other than SIZE, K the kernel's drops
 *	at this socket (SO_MEMINFO), S from the first datagram to the last.
 *   udpref collect READY FILE IDLE
 *	the reference collector: each datagram appended to FILE (one
 *	write each); ends after IDLE seconds without one.  Prints as recv.
 *   udpref check FILE SENDERS COUNT
 *	reads the collected lines: "lines N torn T dup D lost L".
 *   udpref drops PORT
 *	the kernel's drops summed over the UDP sockets bound to PORT
 *	(/proc/net/udp), for the tools that do not count their own.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#define BATCH	64
#define LINE	48
#define BIG	65536

/* Wait until n datagrams are due at rate a second from start. */
static void
pace(double start, long n, double rate)
{
	double		due, d;
	struct timespec	ts;

	if (rate <= 0)
		return;
	due = start + n / rate;
	while ((d = due - now()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* Send count datagrams, build(buf, seq) filling each; batches of BATCH. */
static long
blast(int fd, long count, size_t size, double rate,
    void (*build)(char *, long, int), int id)
{
	static char	 bufs[BATCH][BIG];
	struct mmsghdr	 m[BATCH];
	struct iovec	 iov[BATCH];
	double		 start = now();
	long		 sent = 0;
	int		 i, n, batch;

	batch = rate > 0 && rate < 20000 ? 1 : BATCH;
	while (sent < count) {
		n = count - sent < batch ? (int)(count - sent) : batch;
		pace(start, sent + n, rate);
		for (i = 0; i < n; i++) {
			build(bufs[i], sent + i, id);
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = size;
			memset(&m[i], 0, sizeof m[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = sendmmsg(fd, m, n, 0)) == -1) {
			if (errno == EINTR || errno == ENOBUFS ||
			    errno == ECONNREFUSED)
				continue;
			die("sendmmsg");
		}
		sent += n;
	}
	return sent;
}

static void
build_seq(char *buf, long seq, int id)
{
	(void)id;
	memcpy(buf, &seq, sizeof seq);
}

/* "S SEQ xxx\n", LINE bytes; sent with or without its newline. */
static void
build_line(char *buf, long seq, int id)
{
	int	n;

	n = snprintf(buf, LINE, "%d %ld ", id, seq);
	memset(buf + n, 'x', LINE - 1 - n);
	buf[LINE - 1] = '\n';
}

static int
cmd_send(char **av)
{
	int	fd;
	size_t	size = strtoul(av[2], NULL, 10);
	long	sent;

	if ((fd = dial(SOCK_DGRAM, LOOPBACK, av[0])) == -1)
		die("connect");
	if (size > BIG)
		size = BIG;
	sent = blast(fd, atol(av[1]), size, atof(av[3]), build_seq, 0);
	printf("sent %ld\n", sent);
	return 0;
}

static int
cmd_lines(char **av)
{
	int	senders = atoi(av[1]), fd, i, st, bad = 0;
	long	count = atol(av[2]);
	size_t	size = strcmp(av[4], "nl") == 0 ? LINE : LINE - 1;
	double	rate = atof(av[3]);
	pid_t	pid;

	for (i = 0; i < senders; i++) {
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0) {
			if ((fd = dial(SOCK_DGRAM, LOOPBACK, av[0])) == -1)
				die("connect");
			blast(fd, count, size, rate, build_line, i);
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	printf("sent %ld\n", bad ? 0 : count * senders);
	return bad;
}

/* A socket bound to 127.0.0.1:0, its port written to ready. */
static int
bound(const char *ready)
{
	int	fd, buf = 4 << 20;

	if ((fd = bind_loopback(SOCK_DGRAM)) == -1)
		die("bind");
	/*
	 * A consumer that is not itself what loses (4 MiB, as far as
	 * net.core.rmem_max allows): the same for every tool; set before
	 * the port is out.
	 */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (write_port(fd, ready) == -1)
		die(ready);
	return fd;
}

static unsigned
kdrops(int fd)
{
	uint32_t	mem[SK_MEMINFO_VARS];
	socklen_t	len = sizeof mem;

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == -1)
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

/*
 * Read until count came or none for idle seconds; each datagram given to
 * sink (if any).  Prints what came.
 */
static void
drain(int fd, long count, size_t size, double idle, int sink)
{
	static char	 bufs[BATCH][BIG];
	struct mmsghdr	 m[BATCH];
	struct iovec	 iov[BATCH];
	struct pollfd	 p = { fd, POLLIN, 0 };
	double		 first = 0, last = 0;
	long		 got = 0, bad = 0;
	int		 i, n;

	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BIG;
	}
	while (count == 0 || got < count) {
		if (poll(&p, 1, (int)(idle * 1000)) == 0)
			break;
		for (i = 0; i < BATCH; i++) {
			memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		last = now();
		if (got == 0)
			first = last;
		for (i = 0; i < n; i++) {
			bad += size != 0 && m[i].msg_len != size;
			if (sink != -1)
				put(sink, bufs[i], m[i].msg_len);
		}
		got += n;
	}
	printf("received %ld bad %ld kdrops %u secs %.6f\n", got, bad,
	    kdrops(fd), last - first);
}

static int
cmd_recv(char **av)
{
	int	fd = bound(av[0]);

	drain(fd, atol(av[1]), strtoul(av[2], NULL, 10), atof(av[3]), -1);
	return 0;
}

static int
cmd_collect(char **av)
{
	int	fd = bound(av[0]), out;

	if ((out = open(av[1], O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		die(av[1]);
	drain(fd, 0, 0, atof(av[2]), out);
	return 0;
}

/* One line "S SEQ xxx\n" of LINE bytes: its sender and number, or -1. */
static int
parse_line(const char *s, size_t len, int senders, long count, long *seq)
{
	int	id, n;
	size_t	i;

	if (len != LINE || sscanf(s, "%d %ld %n", &id, seq, &n) != 2 ||
	    id < 0 || id >= senders || *seq < 0 || *seq >= count)
		return -1;
	for (i = (size_t)n; i < LINE - 1; i++)
		if (s[i] != 'x')
			return -1;
	return id;
}

static int
cmd_check(char **av)
{
	FILE		*f;
	int		 senders = atoi(av[1]), id;
	long		 count = atol(av[2]), seq, lines = 0, torn = 0, dup = 0;
	unsigned char	*seen;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;

	if ((f = fopen(av[0], "r")) == NULL)
		die(av[0]);
	if ((seen = calloc((size_t)senders * count, 1)) == NULL)
		die("calloc");
	while ((len = getline(&line, &cap, f)) != -1) {
		lines++;
		id = parse_line(line, (size_t)len, senders, count, &seq);
		if (id == -1)
			torn++;
		else if (seen[id * count + seq]++)
			dup++;
	}
	printf("lines %ld torn %ld dup %ld lost %ld\n", lines, torn, dup,
	    senders * count - (lines - torn - dup));
	return 0;
}

/* /proc/net/udp: "sl local rem st tx:rx tr tm retr uid tmo inode ref ptr drops" */
static int
cmd_drops(char **av)
{
	const char	*files[] = { "/proc/net/udp", "/proc/net/udp6" };
	unsigned	 port = (unsigned)atoi(av[0]), p, i;
	unsigned long	 sum = 0, d;
	size_t		 len;
	char		 line[512], *colon, *last;
	FILE		*f;

	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			colon = strchr(line, ':');
			if (colon == NULL || (colon = strchr(colon + 1, ':')) ==
			    NULL || sscanf(colon + 1, "%x", &p) != 1 || p != port)
				continue;
			len = strlen(line);
			while (len > 0 && (line[len - 1] == ' ' ||
			    line[len - 1] == '\n'))
				line[--len] = '\0';
			if ((last = strrchr(line, ' ')) != NULL &&
			    sscanf(last, "%lu", &d) == 1)
				sum += d;
		}
		fclose(f);
	}
	printf("%lu\n", sum);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct command	 cmds[] = {
		{ "send", 4, cmd_send, 0 }, { "lines", 5, cmd_lines, 0 },
		{ "recv", 4, cmd_recv, 0 }, { "collect", 3, cmd_collect, 0 },
		{ "check", 3, cmd_check, 0 }, { "drops", 1, cmd_drops, 0 },
	};

	return run_command("udpref", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: udpref send|lines|recv|collect|check|drops ...\n");
}
