/*
 * Diagnostics on stderr, every line prefixed with "weir: ", and the one
 * status line of --progress, which they print above.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stddef.h>

void	log_init(int verbose);
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_hexdump(char, const char *, const char *, const void *, size_t);
void	log_status(const char *);
void	log_status_erase(void);

#endif
