#include "interrupt.h"

#include <signal.h>

static volatile sig_atomic_t pending;

int hoist_interrupted(void)
{
  return (int)pending;
}

void hoist_interrupt_raise(int sig)
{
  pending = sig;
}
