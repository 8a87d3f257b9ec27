/* Sockets: listening (host:port parsing, SO_REUSEPORT so each network thread
 * owns a listener and the kernel spreads connections), per-connection options,
 * and the timed blocking-style I/O used by handler threads (poll + non-blocking
 * syscalls, so a socket never changes mode between loop and handler). I/O
 * helpers return negative errno (-ETIMEDOUT on timeout) like the rest of the
 * I/O layer; set-up functions return ERR_ codes with a message. */
#ifndef SPANHOUSE_BASE_NET_H
#define SPANHOUSE_BASE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct error;

enum { NET_HOST_MAX = 256, NET_ADDR_STR_MAX = 64 };

/* "host:port", "[v6]:port", "host" (port = default_port), ":port". */
int  net_parse_host_port(const char *s, uint16_t default_port, char host[NET_HOST_MAX],
                         uint16_t *port, struct error *err);
/* Non-blocking listening TCP socket on host:port (host may be a name, an
 * IPv4/IPv6 literal, "" or "*" for any). reuseport lets several threads bind
 * the same port. Port 0 picks a free one (read it back with net_local_port). */
int  net_listen(const char *host, uint16_t port, bool reuseport, int backlog, int *fd_out,
                struct error *err);
int  net_local_port(int fd);                                /* port or -errno */
int  net_set_nonblocking(int fd, bool on);                  /* 0 or -errno */
int  net_set_nodelay(int fd);                               /* 0 or -errno */
void net_peer_string(int fd, char out[NET_ADDR_STR_MAX]);    /* "1.2.3.4:5678", "[::1]:5" */

/* Timed I/O for handler threads on non-blocking sockets. recv returns bytes,
 * 0 at EOF, or -errno; send_all/sendv_all return 0 once everything is sent. */
ssize_t net_recv_timeout(int fd, void *buf, size_t len, int timeout_ms);
int     net_send_all_timeout(int fd, const void *buf, size_t len, int timeout_ms);
int     net_sendv_all_timeout(int fd, struct iovec *iov, int iovcnt, int timeout_ms);

#endif
