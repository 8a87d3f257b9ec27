/* Event loop tests, run against every backend this machine allows (io_uring
 * may be refused in containers; epoll always works; skip only if neither):
 * accept/recv/send over TCP with a 4 MiB send (short writes resolved inside),
 * EOF, timers, cancel of a timer and of a recv, cross-thread post and stop,
 * counters. */
#include "base/alloc.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/evloop.h"
#include "base/net.h"
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BIG = 4 << 20 };

struct state {
  struct evloop *loop;
  int listen_fd, conn_fd, port;
  struct evloop_op accept_op, recv_op, send_op, timer_short, timer_long, cancel_recv_op, stop_timer;
  char rbuf[64];
  size_t rlen;
  char *big;
  int64_t timer_start_ns, timer_fired_ns;
  int64_t long_res, cancel_res, send_res;
  bool saw_eof, posted_ran;
  int pair[2];
  struct evloop_task task;
};

static void on_eof(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  if (res > 0) {                      /* late bytes: keep reading until EOF */
    evloop_recv(loop, op, s->conn_fd, s->rbuf, sizeof s->rbuf, on_eof, s);
    return;
  }
  CHECK_EQ_INT(res, 0);
  s->saw_eof = true;
}

static void on_sent(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  s->send_res = res;
  evloop_recv(loop, &s->recv_op, s->conn_fd, s->rbuf, sizeof s->rbuf, on_eof, s);
}

static void on_hello(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  REQUIRE(res > 0);
  s->rlen += (size_t)res;
  if (s->rlen < 5) {
    evloop_recv(loop, op, s->conn_fd, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen, on_hello, s);
    return;
  }
  CHECK_EQ_MEM(s->rbuf, s->rlen, "hello");
  evloop_send(loop, &s->send_op, s->conn_fd, s->big, BIG, on_sent, s);
}

static void on_accept(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  REQUIRE(res >= 0);
  s->conn_fd = (int)res;
  evloop_recv(loop, &s->recv_op, s->conn_fd, s->rbuf, sizeof s->rbuf, on_hello, s);
}

static void on_long(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  s->long_res = res;
}

static void on_cancelled_recv(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  s->cancel_res = res;
}

static void on_short(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  CHECK_EQ_INT(res, 0);
  s->timer_fired_ns = clock_monotonic_ns();
  evloop_cancel(loop, &s->timer_long);
  evloop_cancel(loop, &s->cancel_recv_op);
}

static void on_posted(struct evloop *loop, struct evloop_task *task)
{
  struct state *s = task->ctx;
  s->posted_ran = true;
}

static void on_stop_check(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct state *s = op->ctx;
  if (s->saw_eof && s->posted_ran && s->cancel_res && s->long_res) {
    evloop_stop(loop);
    return;
  }
  evloop_timer(loop, op, 10, on_stop_check, s);
}

static void *client_main(void *arg)
{
  struct state *s = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  REQUIRE(write(fd, "hel", 3) == 3);
  usleep(10000);
  REQUIRE(write(fd, "lo", 2) == 2);
  size_t got = 0;
  char *buf = mem_alloc(65536);
  bool same = true;
  while (got < BIG) {
    ssize_t n = read(fd, buf, 65536);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != (char)((got + (size_t)i) % 251))
        same = false;
    got += (size_t)n;
  }
  CHECK_EQ_INT(got, BIG);
  CHECK(same);
  mem_free(buf);
  close(fd);
  return NULL;
}

static void *poster_main(void *arg)
{
  struct state *s = arg;
  usleep(30000);
  evloop_post(s->loop, &s->task, on_posted, s);
  return NULL;
}

static void run_backend(enum evloop_backend backend)
{
  struct state *s = mem_calloc(1, sizeof *s);
  struct error err;
  if (evloop_create(&s->loop, backend, &err) != 0) {
    fprintf(stderr, "backend %s unavailable: %s\n", evloop_backend_name(backend), err.message);
    mem_free(s);
    return;
  }
  CHECK(evloop_get_backend(s->loop) == backend);
  REQUIRE(net_listen("127.0.0.1", 0, true, 16, &s->listen_fd, &err) == 0);
  s->port = net_local_port(s->listen_fd);
  REQUIRE(s->port > 0);
  s->big = mem_alloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    s->big[i] = (char)(i % 251);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s->pair) == 0);

  evloop_accept(s->loop, &s->accept_op, s->listen_fd, on_accept, s);
  s->timer_start_ns = clock_monotonic_ns();
  evloop_timer(s->loop, &s->timer_short, 20, on_short, s);
  evloop_timer(s->loop, &s->timer_long, 10000, on_long, s);
  evloop_recv(s->loop, &s->cancel_recv_op, s->pair[0], s->rbuf, sizeof s->rbuf, on_cancelled_recv, s);
  evloop_timer(s->loop, &s->stop_timer, 10, on_stop_check, s);

  pthread_t client, poster;
  pthread_create(&client, NULL, client_main, s);
  pthread_create(&poster, NULL, poster_main, s);
  int64_t t0 = clock_monotonic_ns();
  CHECK_EQ_INT(evloop_run(s->loop), 0);
  pthread_join(client, NULL);
  pthread_join(poster, NULL);

  CHECK(clock_monotonic_ns() - t0 < 5000000000LL);
  CHECK(s->timer_fired_ns - s->timer_start_ns >= 15000000);
  CHECK_EQ_INT(s->long_res, -ECANCELED);
  CHECK_EQ_INT(s->cancel_res, -ECANCELED);
  CHECK_EQ_INT(s->send_res, BIG);
  CHECK(s->saw_eof);
  CHECK(s->posted_ran);
  /* the accept op is still pending: cancel it and run until it completes */
  evloop_cancel(s->loop, &s->accept_op);
  struct evloop_stats st;
  evloop_get_stats(s->loop, &st);
  CHECK(st.ops_queued >= 8);
  CHECK(st.posts >= 1);
  fprintf(stderr, "%s: %llu ops queued, %llu completed, %llu sq full\n", evloop_backend_name(backend),
          (unsigned long long)st.ops_queued, (unsigned long long)st.ops_completed, (unsigned long long)st.sq_full);
  /* drain the cancelled accept: a loop whose only op is that one */
  struct evloop_op stop2;
  memset(&stop2, 0, sizeof stop2);
  s->saw_eof = s->posted_ran = true;
  evloop_timer(s->loop, &stop2, 50, on_stop_check, s);
  evloop_run(s->loop);
  CHECK(!s->accept_op.pending);
  evloop_get_stats(s->loop, &st);
  CHECK_EQ_INT(st.ops_queued, st.ops_completed);

  close(s->pair[0]);
  close(s->pair[1]);
  close(s->conn_fd);
  close(s->listen_fd);
  evloop_destroy(s->loop);
  mem_free(s->big);
  mem_free(s);
}

int main(void)
{
  int ran = 0;
  enum evloop_backend chosen = evloop_backend_select(EVLOOP_AUTO);
  if (chosen == EVLOOP_URING) {
    run_backend(EVLOOP_URING);
    ran++;
  } else {
    fprintf(stderr, "io_uring refused here: testing epoll only\n");
  }
  struct evloop *probe;
  struct error err;
  if (evloop_create(&probe, EVLOOP_EPOLL, &err) == 0) {
    evloop_destroy(probe);
    run_backend(EVLOOP_EPOLL);
    ran++;
  }
  if (!ran)
    TEST_SKIP("neither io_uring nor epoll works here");
  TEST_DONE();
}
