/* Sockets; see net.h. */
#include "base/net.h"
#include "base/clock.h"
#include "base/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_parse_host_port(const char *s, uint16_t default_port, char host[NET_HOST_MAX],
                        uint16_t *port, struct error *err)
{
  const char *host_start = s, *host_end, *port_str = NULL;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close)
      return error_set(err, ERR_BAD_ARGUMENTS, "address '%s': missing ']'", s);
    host_start = s + 1;
    host_end = close;
    if (close[1] == ':')
      port_str = close + 2;
    else if (close[1] != '\0')
      return error_set(err, ERR_BAD_ARGUMENTS, "address '%s': junk after ']'", s);
  } else {
    const char *colon = strrchr(s, ':');
    /* More than one colon without brackets is a bare IPv6 address. */
    if (colon && strchr(s, ':') == colon) {
      host_end = colon;
      port_str = colon + 1;
    } else {
      host_end = s + strlen(s);
    }
  }
  size_t hlen = (size_t)(host_end - host_start);
  if (hlen >= NET_HOST_MAX)
    return error_set(err, ERR_BAD_ARGUMENTS, "address '%s': host too long", s);
  memcpy(host, host_start, hlen);
  host[hlen] = '\0';
  *port = default_port;
  if (port_str) {
    char *end;
    errno = 0;
    long v = strtol(port_str, &end, 10);
    if (*port_str == '\0' || *end != '\0' || errno || v < 0 || v > 65535)
      return error_set(err, ERR_BAD_ARGUMENTS, "address '%s': bad port", s);
    *port = (uint16_t)v;
  }
  return 0;
}

int net_listen(const char *host, uint16_t port, bool reuseport, int backlog, int *fd_out,
               struct error *err)
{
  int rc = 0, fd = -1;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
  struct addrinfo *res = NULL;
  char port_str[8];
  snprintf(port_str, sizeof port_str, "%u", (unsigned)port);
  const char *node = (host && *host && strcmp(host, "*") != 0) ? host : NULL;
  int gai = getaddrinfo(node, port_str, &hints, &res);
  if (gai != 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "cannot resolve listen host '%s': %s",
                     node ? node : "*", gai_strerror(gai));
  int last_errno = 0;
  const char *what = "socket";
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      what = "socket";
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      last_errno = errno;
      what = "SO_REUSEPORT";
    } else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
      last_errno = errno;
      what = "bind";
    } else if (listen(fd, backlog) < 0) {
      last_errno = errno;
      what = "listen";
    } else {
      break;
    }
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    rc = error_set(err, ERR_NETWORK_ERROR, "cannot listen on %s:%u: %s: %s", node ? node : "*",
                   (unsigned)port, what, strerror(last_errno ? last_errno : EADDRNOTAVAIL));
    goto out_free;
  }
  *fd_out = fd;

out_free:
  freeaddrinfo(res);
  return rc;
}

int net_local_port(int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
    return -errno;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -EAFNOSUPPORT;
}

int net_set_nonblocking(int fd, bool on)
{
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0)
    return -errno;
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

int net_set_nodelay(int fd)
{
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}

void net_peer_string(int fd, char out[NET_ADDR_STR_MAX])
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "?";
  out[0] = '\0';
  if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
    snprintf(out, NET_ADDR_STR_MAX, "unknown");
    return;
  }
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    snprintf(out, NET_ADDR_STR_MAX, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    snprintf(out, NET_ADDR_STR_MAX, "[%s]:%u", ip, (unsigned)ntohs(sin6->sin6_port));
  } else {
    snprintf(out, NET_ADDR_STR_MAX, "local");
  }
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_ready(int fd, short events, int64_t deadline_ns)
{
  for (;;) {
    int64_t left_ns = deadline_ns - clock_monotonic_ns();
    if (left_ns <= 0)
      return -ETIMEDOUT;
    struct pollfd p = { .fd = fd, .events = events };
    int n = poll(&p, 1, (int)((left_ns + 999999) / 1000000));
    if (n > 0)
      return 0;
    if (n == 0)
      return -ETIMEDOUT;
    if (errno != EINTR)
      return -errno;
  }
}

ssize_t net_recv_timeout(int fd, void *buf, size_t len, int timeout_ms)
{
  int64_t deadline = clock_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return -errno;
    int rc = wait_ready(fd, POLLIN, deadline);
    if (rc < 0)
      return rc;
  }
}

int net_sendv_all_timeout(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
  int64_t deadline = clock_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  while (iovcnt > 0) {
    if (iov->iov_len == 0) {
      iov++;
      iovcnt--;
      continue;
    }
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
    ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -errno;
      int rc = wait_ready(fd, POLLOUT, deadline);
      if (rc < 0)
        return rc;
      continue;
    }
    /* Advance past what went out; the caller's iovecs are consumed. */
    size_t left = (size_t)n;
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      iovcnt--;
    }
    if (iovcnt > 0) {
      iov->iov_base = (char *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

int net_send_all_timeout(int fd, const void *buf, size_t len, int timeout_ms)
{
  struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
  return net_sendv_all_timeout(fd, &iov, 1, timeout_ms);
}
