/*
 * The engine's own functions that its two files share: transport.c (the
 * buffered path, opening, ending) and transport-splice.c (splice(2)).
 * Only they include this.
 */
#ifndef WEIR_TRANSPORT_ENGINE_H
#define WEIR_TRANSPORT_ENGINE_H

#include <sys/types.h>

#include <stddef.h>

struct transport;

/* transport.c */
void	read_some(struct transport *, short);
void	read_failed(struct transport *);
void	watch_read(struct transport *);
void	write_soon(struct transport *);
int	spent(struct transport *, size_t);
int	retry(struct transport *, ssize_t);

/* transport-splice.c */
void	splice_maybe(struct transport *, size_t);
void	splice_read(struct transport *, short);
int	splice_write(struct transport *, int *);
void	splice_drop(struct transport *);
void	splice_unlink(struct transport *);

#endif
