/* loadgen_tcp: connecting to the target. The socket ends up non-blocking
 * because the timed I/O helpers of base/net.h (poll + non-blocking calls)
 * are what both transports use to bound every wait. */
#include "tools/loadgen.h"
#include "base/error.h"
#include "base/net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A non-blocking connect bounded by timeout_ms: 0 or -errno. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t sa_len, int timeout_ms)
{
  if (connect(fd, sa, sa_len) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return -errno;
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };
  int n;
  do
    n = poll(&pfd, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return -ETIMEDOUT;
  if (n < 0)
    return -errno;
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
    return -errno;
  return -so_error;
}

int loadgen_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out, struct error *err)
{
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *list;
  int gai = getaddrinfo(host, service, &hints, &list);
  if (gai != 0)
    return error_set(err, ERR_NETWORK_ERROR, "cannot resolve %s: %s", host, gai_strerror(gai));
  int rc = -ECONNREFUSED;
  for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      rc = -errno;
      continue;
    }
    rc = connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
    if (rc == 0) {
      net_set_nodelay(fd);
      *fd_out = fd;
      break;
    }
    close(fd);
  }
  freeaddrinfo(list);
  if (rc != 0)
    return error_set(err, ERR_NETWORK_ERROR, "cannot connect to %s:%u: %s", host, (unsigned)port, strerror(-rc));
  return 0;
}
