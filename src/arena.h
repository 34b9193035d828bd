/* Reads of bulk streams land in a few blocks that are used again. */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

struct evbuffer;

char	*arena_room(size_t *);
int	 arena_commit(struct evbuffer *, char *, size_t);
void	 arena_end(void);

#endif
