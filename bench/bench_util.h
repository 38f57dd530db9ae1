/*
 * bench_util.h - what every benchmark shares: the monotonic clock, the rate
 * loop (an operation run in doubling batches until a time budget is spent)
 * and, for the in-process benchmarks (bench_crypto, bench_handshake), the
 * failure report with OpenSSL's error queue. Header-only, like bench_net.h
 * (which includes it).
 */
#ifndef WP_BENCH_UTIL_H
#define WP_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "<prog>: <what> failed", then OpenSSL's error queue, and exit(1). */
static inline void bench_fail(const char *prog, const char *what) __attribute__((noreturn));
static inline void bench_fail(const char *prog, const char *what)
{
    fprintf(stderr, "%s: %s failed\n", prog, what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

#define BENCH_CHECK(cond, prog, what)                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            bench_fail(prog, what);                                                                \
    } while (0)

/*
 * Run fn(arg) once to warm up, then in batches that double up to max_batch
 * calls until budget seconds have passed; return calls per second.
 */
typedef void (*op_fn)(void *arg);
static inline double bench_rate(op_fn fn, void *arg, double budget, unsigned long max_batch)
{
    fn(arg);
    unsigned long n = 0, batch = 1;
    double t0 = now_s(), t;
    do {
        for (unsigned long i = 0; i < batch; i++)
            fn(arg);
        n += batch;
        t = now_s() - t0;
        if (batch < max_batch)
            batch *= 2;
    } while (t < budget);
    return (double)n / t;
}

#endif
