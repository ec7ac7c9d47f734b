/*
** condwait: condition variables that wait a bounded time on the monotonic clock, so that a
** change of the wall clock (NTP, a suspended laptop) never shortens or stretches a wait. Used by
** the threads that poll for SIGINT/SIGTERM or report progress at a fixed pace.
*/
#ifndef HOIST_CONDWAIT_H
#define HOIST_CONDWAIT_H

#include <pthread.h>

/* pthread_cond_init with the monotonic clock; 0, or an errno value. */
int hoist_cond_init(pthread_cond_t *cv);

/* Waits on cv (initialised by hoist_cond_init, mu held) for at most ms milliseconds. */
void hoist_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms);

#endif
