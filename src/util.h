/* Small helpers: allocation that never returns NULL, bounded number parsing. */
#ifndef WEIR_UTIL_H
#define WEIR_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct event;

void	 xoom(void) __attribute__((noreturn));
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

int	 util_parse_size(const char *, uint64_t, uint64_t, uint64_t *,
	     char *, size_t);
int	 util_parse_seconds(const char *, double *, char *, size_t);
int	 util_parse_uint(const char *, uint64_t, uint64_t *);
int	 util_hexval(int);
const char *util_escape(const char *, size_t, char *, size_t);
void	 util_codec_error(char *, size_t, const char *, const char *, int,
	     uint64_t);
int	 util_set_nonblock(int);
int	 util_pollable(int);
int	 util_splices(int, int);
double	 util_now(void);
void	 util_timer_add(struct event *, double);

#endif
