/*
** interrupt: the process-wide "stop now" flag a SIGINT or SIGTERM raises.
**
** The CLI's signal handler calls hoist_interrupt_raise (async-signal-safe: it
** only stores to a sig_atomic_t). Long-running cores poll hoist_interrupted
** between units of work (an HTTP transfer's progress callback, a layer's next
** block) and give up with HOIST_EINTR, so that control returns to Lua, which
** unwinds, and the CLI removes the temp files it registered before it exits.
*/
#ifndef HOIST_INTERRUPT_H
#define HOIST_INTERRUPT_H

#include "err.h" /* HOIST_EINTR */

/* The signal that asked us to stop, or 0. */
int hoist_interrupted(void);
/* Records sig (async-signal-safe). */
void hoist_interrupt_raise(int sig);

#endif
