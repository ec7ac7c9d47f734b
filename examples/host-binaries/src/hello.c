/* The host binary of the host-binaries example: Docker Desktop copies it to the user's machine
** and the extension's UI runs it with ddClient.extension.host.cli.exec("hello", [name]). */
#include <stdio.h>

#ifndef HELLO_TARGET
#define HELLO_TARGET "unknown"
#endif

int main(int argc, char **argv)
{
  printf("hello %s, from a host binary built for %s\n", argc > 1 ? argv[1] : "world", HELLO_TARGET);
  return 0;
}
