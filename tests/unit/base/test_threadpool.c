/* Thread pool: every task runs once, shutdown drains the queue, submit after
 * shutdown is refused, tasks run concurrently. */
#include "base/error.h"
#include "base/threadpool.h"
#include "tests/unit/test.h"

#include <stdatomic.h>
#include <unistd.h>

static _Atomic int counter;
static _Atomic int running, max_running;

static void add_one(void *arg)
{
  (void)arg;
  atomic_fetch_add(&counter, 1);
}

static void slow_task(void *arg)
{
  int now = atomic_fetch_add(&running, 1) + 1;
  int m = atomic_load(&max_running);
  while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
    ;
  usleep(20000);
  atomic_fetch_sub(&running, 1);
  atomic_fetch_add(&counter, *(int *)arg);
}

int main(void)
{
  struct threadpool *pool;
  struct error err;
  REQUIRE(threadpool_create(&pool, 4, "test", &err) == 0);
  for (int i = 0; i < 10000; i++)
    REQUIRE(threadpool_submit(pool, add_one, NULL) == 0);
  threadpool_shutdown(pool);                 /* drains all queued tasks */
  CHECK_EQ_INT(atomic_load(&counter), 10000);
  CHECK(threadpool_submit(pool, add_one, NULL) != 0);
  threadpool_shutdown(pool);                 /* idempotent */
  threadpool_destroy(pool);

  atomic_store(&counter, 0);
  REQUIRE(threadpool_create(&pool, 4, "slow", &err) == 0);
  int two = 2;
  for (int i = 0; i < 8; i++)
    REQUIRE(threadpool_submit(pool, slow_task, &two) == 0);
  usleep(5000);
  CHECK(threadpool_busy(pool) >= 1);
  threadpool_destroy(pool);                  /* destroy also drains */
  CHECK_EQ_INT(atomic_load(&counter), 16);
  CHECK(atomic_load(&max_running) >= 2);
  CHECK(atomic_load(&max_running) <= 4);
  TEST_DONE();
}
