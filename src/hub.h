/* Routing: wires the configured addresses together and runs the loop. */
#ifndef WEIR_HUB_H
#define WEIR_HUB_H

struct config;

int	hub_run(const struct config *);

#endif
