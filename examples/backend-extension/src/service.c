/* The backend of the backend-extension example: a tiny HTTP server on the Unix socket Docker
** Desktop gives it (-socket PATH). Every request gets {"hello": "from <arch>"}; the UI calls it
** with ddClient.extension.vm.service.get("/hello"). Built statically per architecture. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SERVICE_ARCH
#define SERVICE_ARCH "unknown"
#endif

int main(int argc, char **argv)
{
  const char *path = "/run/guest-services/backend.sock";
  struct sockaddr_un addr;
  int fd, i;
  for (i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "-socket") == 0)
      path = argv[i + 1];
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "service: socket path too long: %s\n", path);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  unlink(path);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0) {
    perror("service: cannot listen");
    return 1;
  }
  fprintf(stderr, "service: listening on %s\n", path);
  for (;;) {
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Connection: close\r\nContent-Length: %d\r\n\r\n%s";
    char request[4096], body[64], reply[256];
    int c = accept(fd, NULL, NULL), n;
    if (c < 0)
      continue;
    n = (int)read(c, request, sizeof request); /* one read: the request line is all we need */
    (void)n;
    snprintf(body, sizeof body, "{\"hello\": \"from %s\"}\n", SERVICE_ARCH);
    n = snprintf(reply, sizeof reply, answer, (int)strlen(body), body);
    if (write(c, reply, (size_t)n) < 0)
      perror("service: write");
    close(c);
  }
}
