/* Three producers and a consumer over a buffered channel (README.md,
 * "Synchronization": the block there is this file; tests/readme_example.sh
 * keeps them equal, ctest readme_sync_example runs it). */
#include <netpoll/netpoll.h>
#include <stdint.h>
#include <stdio.h>

static np_chan *jobs; /* ints, up to 16 in flight */
static np_waitgroup producing = NP_WAITGROUP_INITIALIZER;

static void producer(void *arg)
{
    int base = *(int *)arg;
    for (int i = 1; i <= 100; i++) {
        int v = base + i;
        np_chan_send(jobs, &v); /* parks while the buffer is full */
    }
    np_waitgroup_done(&producing);
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    int v;
    for (;;) {
        np_select_case k[1] = {{.chan = jobs, .op = NP_SELECT_RECV, .elem = &v}};
        int r = np_select(k, 1, np_deadline_after(100 * 1000000)); /* 100 ms */
        if (r == NP_EDEADLINE)
            continue; /* nothing came: idle work would go here */
        if (!k[0].ok)
            break; /* closed and drained */
        sum += v;
    }
    return (void *)(intptr_t)sum;
}

static void run(void *arg)
{
    static int bases[3] = {0, 1000, 2000};
    jobs = np_chan_new(sizeof(int), 16);
    np_task_handle *c;
    np_spawn(consumer, NULL, &c);
    np_waitgroup_add(&producing, 3);
    for (int i = 0; i < 3; i++)
        np_go(producer, &bases[i]);
    np_waitgroup_wait(&producing); /* every value is sent */
    np_chan_close(jobs);           /* the consumer takes the rest, then sees ok = false */
    void *sum;
    np_join(c, &sum);
    np_chan_free(jobs);
    *(long *)arg = (long)(intptr_t)sum;
}

int main(void)
{
    long sum = 0;
    np_main(&(np_config){.workers = 2}, run, &sum);
    printf("sum %ld\n", sum); /* 3 * 5050 + 100 * (1000 + 2000) = 315150 */
    return sum == 315150 ? 0 : 1;
}
