/* core/record.c - the trace recorder (netpoll/record.h).
 *
 * Two halves.
 *
 * While recording, each pollDesc operation opens a section on its pollDesc
 * (np__rec_begin: the pollDesc's own recording lock, pd->rec_lock) around
 * the step where it takes effect, and appends raw records to the calling
 * thread's buffer. The first record of a section takes the next number of
 * one global sequence (a fetch-add), inside the pollDesc lock: the sections
 * of one pollDesc are serialised by that lock, so their numbers are in the
 * order their effects took place; and a section that happens before another
 * (program order, a task handed to the scheduler, a write seen by the peer's
 * epoll) took its number before the other's (the counter is one atomic
 * object: its modification order follows happens-before). Sections of
 * different pollDescs that run concurrently touch disjoint state, so their
 * order in the sequence is as good as the order of the process-wide lock
 * this replaces. No state shared by all threads is written except the
 * counter.
 *
 * At np_record_stop the buffers are merged by sequence number and the trace
 * is computed in that order (post_event): slot and task numbers in order of
 * first appearance, the trace clock, ready tags, the deadline and fire
 * stamping rules - what the old recorder did under its global lock. Clock
 * readings (the TSC where it is CLOCK_MONOTONIC's source) are mapped to
 * np_now() time then too (see "the clock").
 */
#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "poll_desc.h"
#include "scheduler.h"
#include "spinlock.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#define REC_HAVE_TSC 1
#else
#define REC_HAVE_TSC 0
#endif

_Atomic bool np__rec_on;

/* Raw records beside the np_tr_kind ones. */
enum {
    REC_WOKE = NP_TR_FIRE + 1, /* only the woke count of a section that recorded nothing else */
    REC_RAN,                   /* task g ran its wake-up step on slot (ready: found readiness) */
    REC_CAL, /* a clock calibration pair: real = TSC, u = np_now() (see "the clock") */
};

/* Raw records are stored as 64-bit words: 16 bytes a record on average
 * where they were 32, 18 to 19 bytes per trace event of the live workloads
 * (the memory a recording fills is much of its cost:
 * every page is new, and on the VMs measured a new page costs ~1 ns a byte
 * to fault in and zero; bench/RESULTS.md). A record is:
 *
 *   word h          W_SLOT, W_G, and the H_* fields below
 *   [section word]  if W_START (the first record of its section): the
 *                   section's sequence number << 24 | its clock reading's
 *                   distance from the previous section's of this buffer
 *   [clock]         if W_FULLCLK: that distance did not fit; the reading
 *   [u]             open, ready, deadline, fire: see rec_ev
 *   [tsc, ns]       REC_CAL: a calibration pair
 *
 * Records of one section are consecutive in one buffer (a section holds its
 * buffer), so they share its number and clock. */
#define W_SLOT_BITS   20 /* raw slot numbers below 2^20: pollDescs (not incarnations) seen */
#define W_G_BITS      28 /* raw task numbers below 2^28 per recording */
#define W_G_SHIFT     W_SLOT_BITS
#define W_START       (UINT64_C(1) << 52)
#define W_FULLCLK     (UINT64_C(1) << 53)
#define SEC_SEQ_SHIFT 24 /* section word: sequence number (40 bits) << 24 | clock distance */
#define SEC_SEQ_MAX   ((UINT64_C(1) << 40) - 1)
#define SEC_DELTA_MAX ((UINT64_C(1) << SEC_SEQ_SHIFT) - 1)

#define H_KIND_SHIFT          48 /* 4 bits: np_tr_kind, REC_WOKE, REC_RAN or REC_CAL */
#define H_MODE_SHIFT          55 /* 2 bits: 0 none, 1 r, 2 w, 3 rw (enc_mode) */
#define H_ERR                 (UINT64_C(1) << 57) /* ready: error-only */
#define H_RES_SHIFT           58                  /* 3 bits: reset, wake: NP_POLL_* + 1; else 0 */
#define H_WOKE_SHIFT          61 /* 2 bits: tasks the step handed to the scheduler after this record */
#define H_READY               (UINT64_C(1) << 63) /* REC_RAN: the wake-up found readiness */
#define H_GET(h, shift, bits) ((unsigned)((h) >> (shift)) & ((1u << (bits)) - 1))
_Static_assert(REC_CAL < 16 && NP_TR_FIRE < 16, "kinds fit in 4 bits");

/* Words after h and the section's words: what each kind carries. */
static unsigned extra_words(unsigned kind)
{
    switch (kind) {
    case NP_TR_OPEN:
    case NP_TR_READY:
    case NP_TR_DEADLINE:
    case NP_TR_FIRE:
        return 1;
    case REC_CAL:
        return 2;
    default:
        return 0;
    }
}

/* One record as read back at the stop. */
typedef struct {
    uint64_t h;    /* the stored h: H_* (and W_*) */
    uint64_t seq;  /* its section's place in the global order */
    int64_t real;  /* the clock at the section's start (REC_CAL: the pair's TSC) */
    uint64_t u;    /* deadline, fire: the runtime's absolute time (deadline: -1
                      expired); ready: the event's tag | the pollDesc's incarnation
                      at the step << 32; open: the fd | the incarnation opened << 32;
                      REC_CAL: the pair's np_now() */
    uint32_t slot; /* the pollDesc's raw slot number (never 0 for an np_tr_kind) */
    uint32_t g;    /* raw task number: the task of wait/reset/wake/park/ran; the
                      calling task of deadline/unblock/close; 0 none */
} rec_ev;

static unsigned enc_mode(int mode)
{
    return mode == NP_MODE_R ? 1 : mode == NP_MODE_W ? 2 : mode == NP_MODE_RW ? 3 : 0;
}

static int dec_mode(unsigned m)
{
    static const int modes[4] = {0, NP_MODE_R, NP_MODE_W, NP_MODE_RW};
    return modes[m & 3];
}

/* Records are stored in 2 MiB chunks, each allocated and faulted in by its
 * thread outside any lock one chunk ahead: a page fault inside a section
 * would hold the pollDesc's lock for microseconds. */
#define CHUNK_BYTES   ((size_t)2 << 20)
#define CHUNK_WORDS   ((CHUNK_BYTES - 2 * sizeof(void *)) / sizeof(uint64_t))
#define REC_MAX_WORDS 5 /* h, section word, clock, two more (REC_CAL) */

typedef struct chunk {
    struct chunk *next;
    size_t n; /* words used; a record never spans two chunks */
    uint64_t w[CHUNK_WORDS];
} chunk;
_Static_assert(sizeof(chunk) <= CHUNK_BYTES, "a chunk fills its allocation");

/* A thread's buffer. Its thread appends under lock (never contended but by
 * np_record_stop collecting); cache-line aligned, so that threads' buffers
 * share no line. */
typedef struct rec_buf {
    np__spinlock lock;
    chunk *spare;         /* the next chunk, ready; only its thread touches it */
    uint32_t gen;         /* [lock] the recording its chunks belong to, 0: none */
    bool oom;             /* [lock] a record could not be stored */
    bool overflow;        /* [lock] a number outgrew its field (W_*, SEC_SEQ_MAX) */
    bool have_clock;      /* [lock] clock holds the latest section's reading */
    int64_t clock;        /* [lock] that reading (the next distance's origin) */
    chunk *head, *tail;   /* [lock] */
    uint64_t *wp, *wend;  /* [lock] the tail's next free word and its end (the
                             tail's n is brought up to date when it is left:
                             no store to its header line per record) */
    bool owned;           /* [reg] a live thread uses it */
    struct rec_buf *next; /* [reg] every buffer made */
} __attribute__((aligned(64))) rec_buf;

static struct {
    /* The global order; alone on its line: it is the one line the workers
     * all write. */
    _Alignas(64) _Atomic uint64_t seq;
    /* Read by every section; written by start and stop. */
    _Alignas(64) _Atomic uint32_t cur; /* the recording in progress, 0: none */
    /* Written at each first open of a pollDesc, first record of a task. */
    _Alignas(64) _Atomic uint32_t slots; /* raw slot numbers given out */
    _Atomic uint32_t tasks;              /* raw task numbers given out */
    _Atomic bool oom;                    /* a buffer could not be made */
    /* Start, stop, the list of buffers. */
    _Alignas(64) pthread_mutex_t reg;
    rec_buf *bufs;     /* [reg] */
    uint32_t gen;      /* [reg] the latest recording's number */
    int64_t t0;        /* [reg] clock value of trace time 0 */
    uint64_t cal_tsc0; /* [reg] a calibration pair taken at the start (use_tsc) */
    int64_t cal_ns0;
    pthread_key_t key; /* releases a thread's buffer when the thread exits */
    pthread_once_t once;
} rec = {.reg = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT};

/* The calling thread's buffer and open section. initial-exec: no
 * __tls_get_addr call (as core/scheduler.c's tls_worker). A section never
 * spans a task switch, so a cached thread-local address cannot go stale. */
typedef struct rec_sec {
    rec_buf *buf;
    uint32_t gen;     /* the recording the open section records for, 0: none */
    uint64_t seq;     /* its sequence number, 0 until its first record */
    int64_t clock;    /* the clock at its start: np_now(), or the TSC (use_tsc) */
    uint64_t cal_tsc; /* TSC of this thread's latest calibration pair */
    uint64_t *last;   /* its latest record's h */
#if NP_SIM
    uint32_t buf_gen; /* the recording buf was taken for (see below) */
#endif
} rec_sec;

#if NP_SIM
/* The sim builds run every simulated thread on one OS thread, and a section
 * spans scheduling points there: the open section is the simulated
 * thread's (a task of the world, a thread of the machine), in storage the
 * simulator keeps for it (core/seam.h, np__sim_rec_sec). Its buffer is its
 * own for one recording: taken at its first section, handed back to the
 * free buffers by the stop (buf_gen tells a buffer of an earlier recording,
 * which another thread may own by now). The buffers' locks are not taken:
 * one OS thread, and no stop while a section is open (the simulator stops
 * between runs). pd->rec_lock is a simulated lock (poll_desc.h), so that a
 * section's owner switched out keeps the others of its pollDesc waiting,
 * as a preempted thread does. */
_Static_assert(sizeof(rec_sec) <= NP_SIM_REC_SEC_BYTES, "the simulator keeps room for a section");
#define sec           (*(rec_sec *)np__sim_rec_sec())
#define BUF_LOCK(b)   ((void)(b))
#define BUF_UNLOCK(b) ((void)(b))
#define PD_LOCK(pd)   NP_LOCK(&(pd)->rec_lock)
#define PD_UNLOCK(pd) NP_UNLOCK(&(pd)->rec_lock)
uint64_t np__rec_sim_hist; /* every record appended so far, folded (the explorer's state hash) */
void (*np__sim_rec_read)(void); /* record.h: set by np_sim_set_hooks */
#else
static _Thread_local rec_sec sec __attribute__((tls_model("initial-exec")));
#define BUF_LOCK(b)   np__spin_lock(&(b)->lock)
#define BUF_UNLOCK(b) np__spin_unlock(&(b)->lock)
#define PD_LOCK(pd)   np__spin_lock(&(pd)->rec_lock)
#define PD_UNLOCK(pd) np__spin_unlock(&(pd)->rec_lock)
#endif

/* ---- the clock -------------------------------------------------------------- */

/* A section reads the clock before its locks. Where CLOCK_MONOTONIC is
 * itself the TSC (clocksource "tsc", x86-64), it reads the TSC: about 25 ns
 * against 60 for clock_gettime on the VMs measured (bench/RESULTS.md), and a
 * section per event. Each thread then adds a calibration pair (REC_CAL: TSC
 * and np_now() read together) at most every CAL_CYCLES, and
 * np_record_stop maps every TSC reading to np_now()'s time by
 * interpolating between the pairs of all threads (one TSC timeline;
 * CLOCK_MONOTONIC is linear in it between the kernel's frequency
 * adjustments). Else, or with NETPOLL_RECORD_TSC=0 in the environment, it
 * reads np_now() itself. Decided once per process. */
#define CAL_CYCLES (UINT64_C(1) << 21) /* ~1 ms */

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;
static bool use_tsc; /* written once, under tsc_once (which orders it for every reader) */
/* Set (release) once tsc_once has run: a section then reads use_tsc after
 * one acquire load (a plain load on x86) instead of a pthread_once call. */
static _Atomic bool tsc_known;

static bool tsc_is_clock(void)
{
#if NP_SIM
    return false; /* the simulator's clock is virtual: np_now() */
#endif
#if REC_HAVE_TSC
    const char *env = getenv("NETPOLL_RECORD_TSC");
    if (env && env[0] == '0')
        return false;
    char buf[32] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    return strcmp(buf, "tsc\n") == 0 || strcmp(buf, "tsc") == 0;
#else
    return false;
#endif
}

static void detect_tsc(void)
{
    use_tsc = tsc_is_clock();
    atomic_store_explicit(&tsc_known, true, memory_order_release);
}

static uint64_t tsc_now(void)
{
#if REC_HAVE_TSC
    return __rdtsc();
#else
    return 0;
#endif
}

/* A calibration pair: the TSC halfway through an np_now() call. */
static void cal_pair(uint64_t *tsc, int64_t *ns)
{
    uint64_t a = tsc_now();
    *ns = np_now();
    uint64_t b = tsc_now();
    *tsc = a + (b - a) / 2;
}

/* ---- buffers -------------------------------------------------------------- */

static void buf_release(void *p)
{
    rec_buf *b = p;
    pthread_mutex_lock(&rec.reg);
    b->owned = false; /* its chunks, if any, are still collected by the stop */
    pthread_mutex_unlock(&rec.reg);
}

static void make_key(void)
{
    if (pthread_key_create(&rec.key, buf_release) != 0)
        rec.key = (pthread_key_t)-1;
}

static rec_buf *buf_get(void)
{
    pthread_once(&rec.once, make_key);
    pthread_mutex_lock(&rec.reg);
    rec_buf *b = rec.bufs;
    while (b && b->owned)
        b = b->next;
    if (!b && (b = aligned_alloc(64, sizeof *b)) != NULL) {
        memset(b, 0, sizeof *b);
        np__spin_init(&b->lock);
        b->next = rec.bufs;
        rec.bufs = b;
    }
    if (b) {
        b->owned = true;
#if !NP_SIM
        if (rec.key != (pthread_key_t)-1)
            pthread_setspecific(rec.key, b);
#endif
    }
    pthread_mutex_unlock(&rec.reg);
    return b;
}

/* A new chunk, faulted in. NULL if out of memory. */
static chunk *chunk_alloc(void)
{
    chunk *c = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
    if (!c)
        return NULL;
    /* Small pages, on purpose. A transparent huge page costs 0.1 ns a byte
     * to fault in where the kernel recycles one, but 3.6 where it must find
     * a new one (on the VMs measured the host then backs it afresh), and
     * which one a chunk gets is luck. (A hint: ignored where THP is off.) */
    (void)madvise(c, CHUNK_BYTES, MADV_NOHUGEPAGE);
    memset(c, 0, CHUNK_BYTES);
    return c;
}

/* The reserve (np_record_reserve): chunks allocated and faulted in ahead,
 * kept from one recording to the next. Memory a process touches for the
 * first time is what a recording costs most on the VMs measured - from 0.7
 * to 4 ns a byte, as the host backs the guest's new pages or not, about 230
 * bytes per echo round trip (bench/RESULTS.md) - so a recorder that must not
 * slow the run it records allocates before it starts, as perf's and
 * LTTng's buffers are. Beyond the reserve, chunks are allocated as needed. */
static struct {
    pthread_mutex_t lock;
    chunk *free; /* [lock] chunks ready for use */
    size_t n;    /* [lock] how many */
    size_t keep; /* [lock] the reserve: chunks kept when a recording hands them back */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Takes up to n chunks out of the reserve, as a list; pool.lock held. */
static chunk *pool_take(size_t n)
{
    chunk *out = NULL;
    for (; pool.free && n; n--) {
        chunk *c = pool.free;
        pool.free = c->next;
        pool.n--;
        c->next = out;
        out = c;
    }
    return out;
}

/* A chunk ready for records: from the reserve, else new. NULL if out of
 * memory. Not under a section's locks (it may fault in 2 MiB). */
static chunk *chunk_new(void)
{
    pthread_mutex_lock(&pool.lock);
    chunk *c = pool_take(1);
    pthread_mutex_unlock(&pool.lock);
    return c ? c : chunk_alloc();
}

/* Puts list c's first n chunks (all if n is SIZE_MAX) into the reserve;
 * pool.lock held. Returns the rest. */
static chunk *pool_put(chunk *c, size_t n)
{
    for (; c && n; n--) {
        chunk *next = c->next;
        c->next = pool.free;
        pool.free = c;
        pool.n++;
        c = next;
    }
    return c;
}

/* Frees a list of chunks. */
static void free_list(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* Hands a list of chunks back: to the reserve while it is short, else to
 * the system. */
static void free_chunks(chunk *c)
{
    pthread_mutex_lock(&pool.lock);
    c = pool_put(c, pool.n < pool.keep ? pool.keep - pool.n : 0);
    pthread_mutex_unlock(&pool.lock);
    free_list(c);
}

int np_record_reserve(size_t bytes)
{
    size_t want = bytes / CHUNK_BYTES + (bytes % CHUNK_BYTES != 0);
    pthread_mutex_lock(&pool.lock);
    pool.keep = want;
    chunk *extra = pool_take(pool.n > want ? pool.n - want : 0); /* a smaller reserve */
    size_t have = pool.n;
    pthread_mutex_unlock(&pool.lock);
    free_list(extra);
    /* Faulted in outside the lock (a recording may be taking chunks). */
    int err = 0;
    chunk *add = NULL;
    for (; have < want; have++) {
        chunk *c = chunk_alloc();
        if (!c) {
            err = -ENOMEM;
            break;
        }
        c->next = add;
        add = c;
    }
    pthread_mutex_lock(&pool.lock);
    (void)pool_put(add, SIZE_MAX);
    pthread_mutex_unlock(&pool.lock);
    return err;
}

/* Stores a new record of the open section (buffer locked, sec.gen != 0):
 * h (its H_* fields), the raw slot and task numbers, and nx more words x0,
 * x1; the first record of the section also stores the section's number and
 * clock. Returns where its h is, or NULL. */
static uint64_t *append(uint64_t h, uint32_t slot, uint32_t g, unsigned nx, uint64_t x0,
                        uint64_t x1)
{
    rec_buf *b = sec.buf;
    if (slot >> W_SLOT_BITS || g >> W_G_BITS) {
        b->overflow = true;
        return NULL;
    }
    uint64_t *w = b->wp;
    if (!w || b->wend - w < REC_MAX_WORDS) {
        chunk *nc = b->spare; /* np__rec_begin makes the next one */
        b->spare = NULL;
        if (!nc)
            nc = chunk_new();
        if (!nc) {
            b->oom = true;
            return NULL;
        }
        nc->next = NULL;
        nc->n = 0;
        chunk *c = b->tail;
        if (c) {
            c->n = (size_t)(w - c->w);
            c->next = nc;
        } else {
            b->head = nc;
        }
        b->tail = nc;
        w = nc->w;
        b->wend = nc->w + CHUNK_WORDS;
    }
    size_t k = 1;
    h |= slot | (uint64_t)g << W_G_SHIFT;
    if (!sec.seq) { /* the section's place in the global order (see the top) */
        sec.seq = atomic_fetch_add(&rec.seq, 1) + 1;
        if (sec.seq > SEC_SEQ_MAX)
            b->overflow = true; /* (2^40 sections: days of recording) */
        h |= W_START;
        uint64_t d = (uint64_t)sec.clock - (uint64_t)b->clock;
        if (b->have_clock && d <= SEC_DELTA_MAX) {
            w[k++] = sec.seq << SEC_SEQ_SHIFT | d;
        } else {
            h |= W_FULLCLK;
            w[k++] = sec.seq << SEC_SEQ_SHIFT;
            w[k++] = (uint64_t)sec.clock;
        }
        b->clock = sec.clock;
        b->have_clock = true;
    }
    if (nx > 0)
        w[k++] = x0;
    if (nx > 1)
        w[k++] = x1;
    w[0] = h;
    b->wp = w + k;
#if NP_SIM
    for (size_t i = 0; i < k; i++)
        np__rec_sim_hist = (np__rec_sim_hist ^ w[i]) * UINT64_C(0x100000001b3);
#endif
    /* The chunk's lines left the cache since it was faulted in: ask for the
     * next ones now, so that later records are not stores that miss. */
    if (b->wend - b->wp > 16)
        __builtin_prefetch(b->wp + 16, 1);
    sec.last = w;
    return w;
}

/* Empties b (its chunks freed or handed on by the caller) for recording gen
 * (0: none). b->lock held. */
static void buf_reset(rec_buf *b, uint32_t gen)
{
    b->head = b->tail = NULL;
    b->wp = b->wend = NULL;
    b->oom = b->overflow = b->have_clock = false;
    b->gen = gen;
}

/* ---- recording -------------------------------------------------------------- */

void np__rec_begin(np_poll_desc *pd, bool clock)
{
#if NP_SIM
    /* No buffer while nothing is recorded: every simulated thread would
     * take one (and a spare chunk) that no stop hands back. */
    uint32_t cur = atomic_load(&rec.cur);
    if (sec.buf && sec.buf_gen != cur)
        sec.buf = NULL; /* of an earlier recording: the stop freed it */
    if (!sec.buf && cur && (sec.buf = buf_get()) != NULL)
        sec.buf_gen = cur;
    if (!sec.buf && cur)
        atomic_store(&rec.oom, true);
#else
    if (!sec.buf && !(sec.buf = buf_get()))
        atomic_store(&rec.oom, true);
#endif
    if (sec.buf && !sec.buf->spare)
        sec.buf->spare = chunk_new(); /* NULL: append tries again, then fails */
    if (!atomic_load_explicit(&tsc_known, memory_order_acquire))
        pthread_once(&tsc_once, detect_tsc);
    uint64_t cal_tsc = 0;
    int64_t cal_ns = 0;
    if (clock && !use_tsc) {
        sec.clock = np_now(); /* before the locks, to keep them short */
    } else if (clock) {
        uint64_t t = tsc_now();
        if (t - sec.cal_tsc > CAL_CYCLES) {
            cal_pair(&cal_tsc, &cal_ns);
            sec.cal_tsc = t = cal_tsc;
        }
        sec.clock = (int64_t)t;
    }
    sec.seq = 0;
    sec.last = NULL;
    PD_LOCK(pd);
    rec_buf *b = sec.buf;
    sec.gen = 0;
    if (b) {
        BUF_LOCK(b);
        /* Read under the buffer's lock: np_record_stop clears cur before it
         * takes each buffer's lock, so a section either sees its recording
         * stopped or is collected by that stop. */
        uint32_t g = atomic_load(&rec.cur);
        if (g && b->gen != g) { /* first section of this recording on this thread */
            free_chunks(b->head);
            buf_reset(b, g);
        }
        sec.gen = g;
        if (g && cal_ns)
            (void)append((uint64_t)REC_CAL << H_KIND_SHIFT, 0, 0, 2, cal_tsc, (uint64_t)cal_ns);
    }
}

void np__rec_end(np_poll_desc *pd)
{
    if (sec.buf)
        BUF_UNLOCK(sec.buf);
    PD_UNLOCK(pd);
}

/* t's raw number in recording gen; t is the calling task (or the one parking
 * on this thread), so only this thread touches its rec_ fields. */
static uint32_t task_id(np_task *t, uint32_t gen)
{
    if (!t)
        return 0;
    if (t->rec_gen != gen) {
        t->rec_gen = gen;
        t->rec_id = atomic_fetch_add(&rec.tasks, 1) + 1;
    }
    return t->rec_id;
}

void np__rec(np_tr_kind kind, np_poll_desc *pd, np_task *g, int mode, int64_t at, uint32_t ev_tag,
             int err, int res)
{
    uint32_t gen = sec.gen;
    if (!gen)
        return;
    /* pd->rec_gen, rec_slot: under pd->rec_lock, held. */
    if (kind == NP_TR_OPEN && pd->rec_gen != gen) { /* first time this recording sees the pd */
        pd->rec_gen = gen;
        pd->rec_slot = atomic_fetch_add(&rec.slots, 1) + 1;
    }
    if (pd->rec_gen != gen)
        return; /* opened before this recording began */
    if (kind == NP_TR_DEADLINE || kind == NP_TR_UNBLOCK || kind == NP_TR_CLOSE)
        g = np_self(); /* unblock, close: its g; deadline: for the stamping rule */
    uint64_t h = (uint64_t)kind << H_KIND_SHIFT | (uint64_t)enc_mode(mode) << H_MODE_SHIFT;
    if (err)
        h |= H_ERR;
    if (res >= NP_POLL_OK && res <= NP_POLL_NOTPOLLABLE)
        h |= (uint64_t)(res + 1) << H_RES_SHIFT;
    uint64_t u = 0;
    switch (kind) {
    case NP_TR_OPEN:
        u = (uint32_t)pd->fd | (uint64_t)np__pd_incarnation(pd) << 32;
        break;
    case NP_TR_READY:
        u = ev_tag | (uint64_t)np__pd_incarnation(pd) << 32;
        break;
    case NP_TR_DEADLINE:
    case NP_TR_FIRE:
        u = (uint64_t)at;
        break;
    default:
        break;
    }
    (void)append(h, pd->rec_slot, task_id(g, gen), extra_words(kind), u, 0);
}

void np__rec_woke(np_task *t)
{
    if (!t || !sec.gen)
        return;
    /* t is parked (its step just took it off the pollDesc): nobody else
     * touches rec_woken until the scheduler hands it over. */
    t->rec_woken = sec.gen;
    uint64_t *h = sec.last;
    if (!h || H_GET(*h, H_WOKE_SHIFT, 2) == 3) /* (a step wakes at most 2) */
        h = append((uint64_t)REC_WOKE << H_KIND_SHIFT, 0, 0, 0, 0, 0);
    if (h)
        *h += UINT64_C(1) << H_WOKE_SHIFT;
}

void np__rec_ran(np_task *t, np_poll_desc *pd, bool ready)
{
    if (!t || !sec.gen || t->rec_woken != sec.gen)
        return;
    t->rec_woken = 0;
    (void)append((uint64_t)REC_RAN << H_KIND_SHIFT | (ready ? H_READY : 0),
                 pd->rec_gen == sec.gen ? pd->rec_slot : 0, task_id(t, sec.gen), 0, 0, 0);
}

/* ---- start, stop ---------------------------------------------------------------- */

int np_record_start(void)
{
    pthread_mutex_lock(&rec.reg);
    if (atomic_load(&np__rec_on)) {
        pthread_mutex_unlock(&rec.reg);
        return -EBUSY;
    }
    if (++rec.gen == 0)
        rec.gen = 1; /* 0 means "none" */
    /* No section of the last recording is still open (its stop took every
     * buffer's lock after clearing cur), so numbering can start again. */
    atomic_store(&rec.seq, 0);
    atomic_store(&rec.slots, 0);
    atomic_store(&rec.tasks, 0);
    atomic_store(&rec.oom, false);
    /* 1 ns before now: every event time is >= 1, so an expired deadline
     * can always be written as at <= its line's time with at > 0. */
    rec.t0 = np_now() - 1;
    pthread_once(&tsc_once, detect_tsc);
    if (use_tsc)
        cal_pair(&rec.cal_tsc0, &rec.cal_ns0);
    atomic_store(&rec.cur, rec.gen);
    atomic_store(&np__rec_on, true);
    pthread_mutex_unlock(&rec.reg);
    return 0;
}

typedef struct {
    bool held;           /* a record of it is held back (hold, below) */
    int32_t fd;          /* the descriptor of its latest open posted */
    int64_t noready_t;   /* the step in which task noready_g ran a wake-up on it decided
                            without readiness (0: none; cleared by that task's next
                            stimulus) */
    uint32_t noready_g;  /* ... that task (raw number) */
    uint32_t nr_pending; /* tasks woken from it without readiness that have not run */
    uint32_t out;        /* output slot number, 0 until its first open */
    uint32_t inc;        /* incarnations opened during the recording */
    uint32_t tag;        /* the tag of the latest of them */
    int64_t at[2];       /* the r/w deadlines as written: a fire may not come before them */
} post_slot;

typedef struct {
    bool held;         /* a record naming it is held back (hold, below) */
    uint32_t out;      /* output task number, 0 until its first line */
    uint32_t ran_slot; /* the slot it last ran a no-readiness wake-up on, 0: none */
    int64_t ran_t;     /* the trace time at which it ran it */
} post_task;

typedef struct {
    np_trace tr;
    int64_t *real;
    int64_t t0;
    int64_t last_t;   /* the latest event time written */
    uint32_t pending; /* tasks woken from a pollDesc wait that have not run yet */
    uint32_t slots, tasks;
    post_slot *slot;
    post_task *task;
    rec_ev *hold;       /* records held back, in sequence order (hold, below) */
    int64_t *hold_real; /* ... and their clock readings */
    size_t nhold, caphold;
    bool flushing; /* posting the held records with no holding among them */
    /* Of the pending tasks, those woken without readiness (by a fire, a
     * deadline or an unblock: the slots' nr_pending summed). A task woken
     * by readiness returns ok whatever comes next; these are the ones whose
     * step must not end early. */
    uint32_t pending_nr;
} post;

/* At most this many records are held back at once; one more posts them all
 * with the clock moved on, as before holding existed (the limit of
 * traces/README.md). */
#define POST_HOLD_MAX 4096

static int post_event(post *P, const rec_ev *e, int64_t real);

/* Holding. While a task woken from a wait has not run yet, the trace clock
 * stands still (post_rec). Some records must still move it on: a fire due
 * after the current time, and a stimulus on a pollDesc whose task has run,
 * in this step, a wake-up decided without readiness (it opens the next
 * step, so that the replay runs that wake-up first). Moving the clock there
 * ends the step in which the still-pending tasks run when replayed (rule
 * 1c): one of them woken without readiness whose readiness is recorded
 * after that line would replay without it - a divergence the live run did
 * not have. So while such a task is pending (pending_nr), that record is
 * held back instead, with every later record on its pollDesc or naming its
 * task (and, in turn, theirs; and an open of a descriptor number a held
 * pollDesc had), and posted as soon as no such task is pending or the clock
 * may move on (no task pending at all: a held line stamped late could cross
 * a deadline). Each pollDesc's lines and each task's stay in their order;
 * only lines of disjoint pollDescs and tasks change places, which the
 * replay of one pollDesc never observes. */
static int hold(post *P, const rec_ev *e, int64_t real)
{
    if (P->nhold == P->caphold) {
        size_t cap = P->caphold ? 2 * P->caphold : 16;
        rec_ev *h = realloc(P->hold, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        P->hold = h;
        int64_t *r = realloc(P->hold_real, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        P->hold_real = r;
        P->caphold = cap;
    }
    P->hold[P->nhold] = *e;
    P->hold_real[P->nhold++] = real;
    if (e->slot)
        P->slot[e->slot].held = true;
    if (e->g)
        P->task[e->g].held = true;
    return 0;
}

/* Does record e follow a held one: its pollDesc's, its task's, or - an
 * open - the close of a held pollDesc with the same descriptor (the kernel
 * reuses descriptor numbers; a trace opens a descriptor in one slot at a
 * time)? */
static bool held(const post *P, const rec_ev *e)
{
    if (!P->nhold)
        return false;
    if ((e->slot && P->slot[e->slot].held) || (e->g && P->task[e->g].held))
        return true;
    if (H_GET(e->h, H_KIND_SHIFT, 4) != NP_TR_OPEN)
        return false;
    int32_t fd = (int32_t)(uint32_t)e->u;
    for (size_t i = 0; i < P->nhold; i++) {
        const rec_ev *h = &P->hold[i];
        int32_t hfd = H_GET(h->h, H_KIND_SHIFT, 4) == NP_TR_OPEN ? (int32_t)(uint32_t)h->u
                                                                 : P->slot[h->slot].fd;
        if (hfd == fd)
            return true;
    }
    return false;
}

/* Posts the held records, in their order, with no holding among them. */
static int flush(post *P)
{
    int err = 0;
    P->flushing = true;
    for (size_t i = 0; i < P->nhold && !err; i++)
        err = post_event(P, &P->hold[i], P->hold_real[i]);
    for (size_t i = 0; i < P->nhold; i++) {
        P->slot[P->hold[i].slot].held = false;
        P->task[P->hold[i].g].held = false;
    }
    P->nhold = 0;
    P->flushing = false;
    return err;
}

/* One record, in sequence order: what np__rec did under the old global lock.
 * 0, 1 if it was held back (hold), or -ENOMEM. */
static int post_rec(post *P, const rec_ev *e, int64_t real)
{
    const int64_t real0 = real;
    np_tr_kind kind = (np_tr_kind)H_GET(e->h, H_KIND_SHIFT, 4);
    post_slot *S = &P->slot[e->slot];
    np_tr_event ev = {.kind = kind,
                      .mode = dec_mode(H_GET(e->h, H_MODE_SHIFT, 2)),
                      .tag = -1,
                      .err = (e->h & H_ERR) != 0,
                      .res = (int)H_GET(e->h, H_RES_SHIFT, 3) - 1};
    /* The trace clock follows the real one, except that it stands still
     * while a task woken from a wait has not run yet: whatever happens in
     * that window then shares the waking event's time, and the replay (rule
     * 1c: woken tasks run after the stimuli of their time) sees it before
     * the task finishes its wait, as the live run did. A fire is stamped no
     * earlier than its deadline, so that it is due when replayed (rule 5). */
    real -= P->t0;
    ev.t = P->pending ? P->last_t : real;
    if (kind == NP_TR_FIRE) { /* due when replayed: not before the deadline written */
        int64_t due = ev.mode == NP_MODE_R   ? S->at[0]
                      : ev.mode == NP_MODE_W ? S->at[1]
                      : S->at[0] > S->at[1]  ? S->at[0]
                                             : S->at[1];
        int64_t at = (int64_t)e->u;
        if (at > 0 && at - P->t0 > due)
            due = at - P->t0;
        if (due > ev.t)
            ev.t = due;
    }
    /* A deadline that a task sets on the pollDesc it has just been woken
     * from without readiness, in the same step: the replay must run that
     * task's wake-up (rule 1c) before it, and a deadline line names no task,
     * so it opens the next step. (unblock and close name their task: rule 2
     * orders them.) While another woken task is pending it is held back
     * (hold, above). */
    if (kind == NP_TR_DEADLINE && e->g) {
        const post_task *T = &P->task[e->g];
        if (T->ran_slot == e->slot && T->ran_t == P->last_t && ev.t <= P->last_t)
            ev.t = P->last_t + 1;
    }
    /* The same for any stimulus on a pollDesc after a task ran such a
     * wake-up on it in this step, before that task issued its next stimulus
     * (rule 2 orders what comes after): readiness, a deadline, a fire, a
     * close by another task. In the same step the replay would apply it
     * before the task's wake-up (rule 1c), which the live run did not. */
    if ((kind == NP_TR_READY || kind == NP_TR_DEADLINE || kind == NP_TR_FIRE ||
         ((kind == NP_TR_UNBLOCK || kind == NP_TR_CLOSE) && e->g != S->noready_g)) &&
        S->noready_t == P->last_t && ev.t <= P->last_t)
        ev.t = P->last_t + 1;
    if (ev.t < P->last_t)
        ev.t = P->last_t;
    if (ev.t > P->last_t && P->pending_nr && !P->flushing && P->nhold < POST_HOLD_MAX) {
        int err = hold(P, e, real0);
        return err ? err : 1;
    }
    if (kind == NP_TR_OPEN) {
        if (!S->out)
            S->out = ++P->slots;
        S->inc++;
        S->tag = (uint32_t)(e->u >> 32);
        ev.fd = (int32_t)(uint32_t)e->u;
        S->fd = ev.fd;
    } else if (!S->out) {
        return 0; /* not reached: a slot's first record is its open */
    }
    ev.pd = (int32_t)S->out;
    post_task *T = NULL;
    if (e->g && kind != NP_TR_DEADLINE) { /* unblock, close: optional g; orders them (rule 2) */
        T = &P->task[e->g];
        if (!T->out)
            T->out = ++P->tasks;
        ev.g = (int32_t)T->out;
    }
    switch (kind) {
    case NP_TR_DEADLINE: {
        /* Follow the runtime's verdict, not a second clock read: an expired
         * deadline (-1) as the line's own time; a future one at least 1 ns
         * after the line, even if the clock passed it since it was judged. */
        int64_t at = (int64_t)e->u;
        ev.at = at == 0 ? 0 : at < 0 ? ev.t : at - P->t0 > ev.t ? at - P->t0 : ev.t + 1;
        if (ev.mode != NP_MODE_W)
            S->at[0] = ev.at;
        if (ev.mode != NP_MODE_R)
            S->at[1] = ev.at;
        break;
    }
    case NP_TR_READY: {
        /* tag: omitted when it names the open, current incarnation; else the
         * incarnation's number (inc counts them; tags step by one per
         * recycle, so the distance back from the latest is exact) */
        uint32_t back = (S->tag - (uint32_t)e->u) & NP_TAG_MASK;
        if (back >= S->inc)
            return 0; /* registered before this recording: not expressible */
        if (back != 0 || (uint32_t)(e->u >> 32) != S->tag)
            ev.tag = S->inc - back;
        break;
    }
    case NP_TR_FIRE:
        /* Not written to the file (a fire line has no `at`): kept in memory
         * so that timing reports can compute the timer's lateness. */
        ev.at = (int64_t)e->u > 0 ? (int64_t)e->u - P->t0 : 0;
        break;
    default:
        break;
    }
    if (np_trace_append(&P->tr, &ev) != 0)
        return -ENOMEM;
    P->real[P->tr.n - 1] = real;
    /* A stimulus naming its task makes the replay finish that task's wake-up
     * first (rule 2): from now on its deadlines need no new step. */
    if (T && (kind == NP_TR_WAIT || kind == NP_TR_RESET || kind == NP_TR_UNBLOCK ||
              kind == NP_TR_CLOSE)) {
        if (T->ran_slot && P->slot[T->ran_slot].noready_g == e->g)
            P->slot[T->ran_slot].noready_t = 0;
        T->ran_slot = 0;
    }
    P->last_t = ev.t;
    return 0;
}

/* real: the record's clock reading as np_now() time. */
static int post_event(post *P, const rec_ev *e, int64_t real)
{
    int err = 0;
    unsigned kind = H_GET(e->h, H_KIND_SHIFT, 4);
    if (!P->flushing && held(P, e)) {
        if (P->nhold < POST_HOLD_MAX)
            return hold(P, e, real);
        if ((err = flush(P)) != 0)
            return err;
    }
    if (kind == REC_RAN) {
        /* A wake-up decided without readiness depends on the deadline (a
         * readiness wake returns ok whatever the deadline does). */
        post_task *T = &P->task[e->g];
        T->ran_t = P->last_t;
        T->ran_slot = e->h & H_READY ? 0 : e->slot;
        if (T->ran_slot) {
            P->slot[e->slot].noready_t = P->last_t;
            P->slot[e->slot].noready_g = e->g;
        }
        if (P->pending)
            P->pending--;
        if (e->slot && P->slot[e->slot].nr_pending) {
            P->slot[e->slot].nr_pending--;
            P->pending_nr--;
        }
    } else if (kind != REC_WOKE && kind != REC_CAL) {
        err = post_rec(P, e, real);
        if (err == 1)
            return 0; /* held: its woken tasks count when it is posted */
        unsigned woke = H_GET(e->h, H_WOKE_SHIFT, 2);
        if (!err && woke && e->slot && kind != NP_TR_READY) {
            P->slot[e->slot].nr_pending += woke;
            P->pending_nr += woke;
        }
    }
    P->pending += H_GET(e->h, H_WOKE_SHIFT, 2); /* after the record: its own time is the real one */
    /* Posted as soon as no task woken without readiness is pending, or the
     * clock may move on (held lines stamped late could cross a deadline). */
    if (!err && P->nhold && !P->flushing && (!P->pending_nr || !P->pending))
        err = flush(P);
    return err;
}

/* Reads one buffer's records in order. */
typedef struct {
    const chunk *c; /* NULL: no more */
    size_t i;       /* the next record's first word in c */
    uint64_t seq;   /* the section being read */
    int64_t clock;  /* its clock reading */
    rec_ev e;       /* the record read last */
} cursor;

/* Reads the next record into q->e. false at the end (q->c is then NULL). */
static bool cur_next(cursor *q)
{
    while (q->c && q->i >= q->c->n) {
        q->c = q->c->next;
        q->i = 0;
    }
    if (!q->c)
        return false;
    const uint64_t *w = &q->c->w[q->i];
    uint64_t h = w[0];
    size_t k = 1;
    if (h & W_START) {
        q->seq = w[k] >> SEC_SEQ_SHIFT;
        if (h & W_FULLCLK) {
            q->clock = (int64_t)w[k + 1];
            k += 2;
        } else {
            q->clock = (int64_t)((uint64_t)q->clock + (w[k] & SEC_DELTA_MAX));
            k++;
        }
    }
    unsigned kind = H_GET(h, H_KIND_SHIFT, 4);
    q->e = (rec_ev){.h = h,
                    .seq = q->seq,
                    .real = q->clock,
                    .slot = (uint32_t)(h & ((UINT64_C(1) << W_SLOT_BITS) - 1)),
                    .g = (uint32_t)(h >> W_G_SHIFT) & ((UINT32_C(1) << W_G_BITS) - 1)};
    if (kind == REC_CAL) {
        q->e.real = (int64_t)w[k];
        q->e.u = w[k + 1];
    } else if (extra_words(kind)) {
        q->e.u = w[k];
    }
    q->i += k + extra_words(kind);
    return true;
}

/* The TSC-to-np_now() map (use_tsc): calibration pairs by TSC, np_now()
 * non-decreasing. */
typedef struct {
    uint64_t tsc;
    int64_t ns;
} cal_pt;

static int cal_cmp(const void *a, const void *b)
{
    uint64_t x = ((const cal_pt *)a)->tsc, y = ((const cal_pt *)b)->tsc;
    return x < y ? -1 : x > y;
}

/* Sorts the pairs and keeps a strictly increasing TSC with a non-decreasing
 * time. Returns how many are kept. */
static size_t cal_make(cal_pt *p, size_t n)
{
    qsort(p, n, sizeof *p, cal_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || (p[i].tsc > p[k - 1].tsc && p[i].ns >= p[k - 1].ns))
            p[k++] = p[i];
    return k;
}

/* np_now() time of TSC reading t: linear between the pairs around it (the
 * nearest two beyond the ends). n >= 2. */
static int64_t cal_conv(const cal_pt *p, size_t n, uint64_t t)
{
    size_t i = 0;
    if (t >= p[n - 1].tsc) {
        i = n - 2;
    } else if (t > p[0].tsc) {
        size_t lo = 0, hi = n - 1; /* p[lo].tsc <= t < p[hi].tsc */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (p[mid].tsc <= t)
                lo = mid;
            else
                hi = mid;
        }
        i = lo;
    }
    __int128 d = (__int128)(int64_t)(t - p[i].tsc) * (p[i + 1].ns - p[i].ns);
    return p[i].ns + (int64_t)(d / (int64_t)(p[i + 1].tsc - p[i].tsc));
}

/* The post-processing's state for n records on raw slots up to max_slot and
 * tasks up to max_g. 0 or -ENOMEM (post_end frees what was allocated). */
static int post_begin(post *P, int64_t t0, uint32_t max_slot, uint32_t max_g, size_t n)
{
    *P = (post){.t0 = t0, .last_t = 1};
    P->slot = calloc((size_t)max_slot + 1, sizeof *P->slot);
    P->task = calloc((size_t)max_g + 1, sizeof *P->task);
    P->real = malloc((n ? n : 1) * sizeof *P->real);
    P->tr.ev = malloc((n ? n : 1) * sizeof *P->tr.ev);
    P->tr.cap = n ? n : 1;
    return P->slot && P->task && P->real && P->tr.ev ? 0 : -ENOMEM;
}

/* Posts what is still held (err: 0 so far) and frees the state; on success
 * the trace goes to *out and the clock readings to *real_out (freed if
 * NULL). Returns the error. */
static int post_end(post *P, int err, np_trace *out, int64_t **real_out)
{
    if (!err && P->nhold)
        err = flush(P);
    free(P->slot);
    free(P->task);
    free(P->hold);
    free(P->hold_real);
    if (err) {
        np_trace_free(&P->tr);
        free(P->real);
        return err;
    }
    *out = P->tr;
    if (real_out)
        *real_out = P->real;
    else
        free(P->real);
    return 0;
}

/* Tests (tests/test_record_post.c): the stop's post-processing, on records
 * given directly, in sequence order, with t0 as the recording's start. */
int np__rec_post_test(const np__rec_test_ev *v, size_t n, int64_t t0, np_trace *out)
{
    uint32_t max_slot = 0, max_g = 0;
    for (size_t i = 0; i < n; i++) {
        max_slot = v[i].slot > max_slot ? v[i].slot : max_slot;
        max_g = v[i].g > max_g ? v[i].g : max_g;
    }
    post P;
    int err = post_begin(&P, t0, max_slot, max_g, n);
    for (size_t i = 0; i < n && !err; i++) {
        const np__rec_test_ev *t = &v[i];
        unsigned kind = t->kind == NP__REC_TEST_RAN ? REC_RAN : (unsigned)t->kind;
        rec_ev e = {
            .h = (uint64_t)kind << H_KIND_SHIFT | (uint64_t)enc_mode(t->mode) << H_MODE_SHIFT |
                 (uint64_t)(t->kind == NP_TR_RESET || t->kind == NP_TR_WAKE ? t->res + 1 : 0)
                     << H_RES_SHIFT |
                 (uint64_t)(t->woke & 3) << H_WOKE_SHIFT | (t->ready ? H_READY : 0),
            .seq = i + 1,
            .real = t->real,
            .u = (uint64_t)t->u,
            .slot = t->slot,
            .g = t->g};
        err = post_event(&P, &e, t->real);
    }
    return post_end(&P, err, out, NULL);
}

/* Merges the collected buffers (each in sequence order) by sequence number
 * and computes the trace. ends: the start and stop calibration pairs when
 * the clock was the TSC, else NULL. Frees nothing. 0 or -ENOMEM. */
static int build(chunk **lists, size_t nl, int64_t t0, const cal_pt *ends, np_trace *out,
                 int64_t **real_out)
{
    size_t n = 0, ncal = 0;
    uint32_t max_slot = 0, max_g = 0;
    for (size_t k = 0; k < nl; k++)
        for (cursor q = {.c = lists[k]}; cur_next(&q);) {
            n++;
            if (q.e.slot > max_slot)
                max_slot = q.e.slot;
            if (q.e.g > max_g)
                max_g = q.e.g;
            ncal += H_GET(q.e.h, H_KIND_SHIFT, 4) == REC_CAL;
        }
    cal_pt *cal = NULL;
    if (ends) {
        if (!(cal = malloc((ncal + 2) * sizeof *cal)))
            return -ENOMEM;
        ncal = 0;
        cal[ncal++] = ends[0];
        cal[ncal++] = ends[1];
        for (size_t k = 0; k < nl; k++)
            for (cursor q = {.c = lists[k]}; cur_next(&q);)
                if (H_GET(q.e.h, H_KIND_SHIFT, 4) == REC_CAL)
                    cal[ncal++] = (cal_pt){(uint64_t)q.e.real, (int64_t)q.e.u};
        ncal = cal_make(cal, ncal);
        if (ncal < 2) { /* (a stop in the same TSC tick as its start) */
            cal[1] = (cal_pt){cal[0].tsc + 1, cal[0].ns};
            ncal = 2;
        }
    }
    post P;
    cursor *cur = calloc(nl ? nl : 1, sizeof *cur);
    int err = post_begin(&P, t0, max_slot, max_g, n);
    if (!cur)
        err = -ENOMEM;
    for (size_t k = 0; k < nl; k++)
        if (cur) {
            cur[k] = (cursor){.c = lists[k]};
            (void)cur_next(&cur[k]);
        }
    while (!err) {
        /* The smallest head; K is the number of recording threads (a few).
         * Equal numbers come from one section, hence one buffer, in order. */
        size_t best = nl;
        for (size_t k = 0; k < nl; k++)
            if (cur[k].c && (best == nl || cur[k].e.seq < cur[best].e.seq))
                best = k;
        if (best == nl)
            break;
        cursor *q = &cur[best];
        const rec_ev *e = &q->e;
        err = post_event(&P, e, cal ? cal_conv(cal, ncal, (uint64_t)e->real) : e->real);
        (void)cur_next(q);
    }
    free(cur);
    free(cal);
    return post_end(&P, err, out, real_out);
}

int np_record_stop_real(np_trace *out, int64_t **real)
{
    pthread_mutex_lock(&rec.reg);
    if (!atomic_load(&np__rec_on)) {
        pthread_mutex_unlock(&rec.reg);
        return -ESRCH;
    }
    uint32_t gen = atomic_load(&rec.cur);
    atomic_store(&rec.cur, 0); /* before each buffer's lock: see np__rec_begin */
    atomic_store(&np__rec_on, false);
    size_t nb = 0;
    for (rec_buf *b = rec.bufs; b; b = b->next)
        nb++;
    chunk **lists = calloc(nb ? nb : 1, sizeof *lists);
    bool oom = !lists || atomic_load(&rec.oom);
    bool overflow = false;
    size_t nl = 0;
    for (rec_buf *b = rec.bufs; b; b = b->next) {
        BUF_LOCK(b);
        if (b->gen == gen) {
            oom |= b->oom;
            overflow |= b->overflow;
            if (b->tail)
                b->tail->n = (size_t)(b->wp - b->tail->w);
            if (lists && b->head) {
                lists[nl++] = b->head;
            } else {
                free_chunks(b->head);
            }
        }
        buf_reset(b, 0);
#if NP_SIM
        b->owned = false; /* each simulated thread takes one again (rec_sec) */
#endif
        BUF_UNLOCK(b);
    }
    int64_t t0 = rec.t0;
    cal_pt ends[2] = {{rec.cal_tsc0, rec.cal_ns0}, {0, 0}};
    if (use_tsc) /* (set before this recording started: tsc_once ran in start) */
        cal_pair(&ends[1].tsc, &ends[1].ns);
    pthread_mutex_unlock(&rec.reg);
    int err = oom ? -ENOMEM : overflow ? -EOVERFLOW : 0;
    if (!err) {
        if (real)
            *real = NULL;
        err = build(lists, nl, t0, use_tsc ? ends : NULL, out, real);
    }
    for (size_t k = 0; k < nl; k++)
        free_chunks(lists[k]);
    free(lists);
    return err;
}

int np_record_stop(np_trace *out)
{
    return np_record_stop_real(out, NULL);
}
