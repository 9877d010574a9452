/* Closed-loop load generator for the native Handle protocol (RFC 3652) over UDP or TCP; bench_native compiles it
 * with the system's C compiler into a temporary directory and runs it.
 *
 *   native_load udp|tcp HOST PORT REQUESTS CONNECTIONS SECONDS CHECK_ID PASSES
 *
 * REQUESTS is a file of pre-built request messages (envelope included), each led by its length as a 4-octet
 * big-endian integer. CONNECTIONS UDP sockets (each connect()ed to the server) or TCP connections each keep one
 * request outstanding: the next is sent when the answer arrives. The request id (envelope octets 8-11) of every
 * request is new; with CHECK_ID 1 an answer whose request id is not the outstanding one is counted as stale and
 * ignored (a late answer to a request that timed out), with 0 any answer counts (a server answering a constant).
 *
 * PASSES 0: run SECONDS seconds, requests in the file's order from a random start, shared by all connections.
 * PASSES n > 0 (warming): every connection sends every request of the file n times, then stops (at the latest
 * after SECONDS seconds).
 *
 * Prints one JSON object: answers in the window, requests/s, latency percentiles in milliseconds (1 us
 * resolution), answers whose response code was not RC_SUCCESS (1) or that were truncated (envelope TC flag),
 * UDP requests that timed out (1 s, sent again), stale answers, the size of the last answer in octets, and the CPU
 * seconds this generator used (near SECONDS: it was the bottleneck). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 1000000 /* latency histogram: 1 us buckets up to 1 s, then one overflow bucket */
#define UDP_TIMEOUT_NS 1000000000LL
#define INBUF 300000

typedef struct {
    int fd;
    int64_t sent;
    uint32_t id;
    long next; /* warming: this connection's next request */
    int busy;
    size_t have; /* TCP: octets read of the answer */
    unsigned char *in;
} conn_t;

static unsigned char **req;
static uint32_t *req_len;
static long nreq;
static uint32_t *hist;
static long long completed, nonsuccess, truncated, timeouts, stale, malformed, errors;
static long answer_octets;
static int udp, check_id;
static long passes;
static long cursor;
static uint32_t next_id = 1;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    long cap = 1024;
    req = malloc(cap * sizeof *req);
    req_len = malloc(cap * sizeof *req_len);
    unsigned char head[4];
    while (fread(head, 1, 4, f) == 4) {
        uint32_t n = be32(head);
        if (nreq == cap) {
            cap *= 2;
            req = realloc(req, cap * sizeof *req);
            req_len = realloc(req_len, cap * sizeof *req_len);
        }
        req[nreq] = malloc(n);
        if (fread(req[nreq], 1, n, f) != n) { fprintf(stderr, "short request file\n"); exit(2); }
        req_len[nreq++] = n;
    }
    fclose(f);
    if (nreq == 0) { fprintf(stderr, "no requests\n"); exit(2); }
}

/* Send the connection's next request; 0 when there is none (warming done). */
static int send_next(conn_t *c) {
    long k;
    if (passes > 0) {
        if (c->next >= passes * nreq) return 0;
        k = c->next++ % nreq;
    } else {
        k = cursor++ % nreq;
    }
    unsigned char *m = req[k];
    c->id = next_id++;
    m[8] = c->id >> 24; m[9] = c->id >> 16; m[10] = c->id >> 8; m[11] = c->id;
    c->sent = now_ns();
    c->busy = 1;
    c->have = 0;
    ssize_t n = send(c->fd, m, req_len[k], MSG_NOSIGNAL);
    if (n != (ssize_t)req_len[k]) errors++;
    return 1;
}

/* One whole answer (UDP datagram or TCP envelope + message) arrived on c; 1 if it completed the request. */
static int answered(conn_t *c, const unsigned char *a, size_t n, int64_t end) {
    if (n < 48) { malformed++; return 0; }
    if (check_id && be32(a + 8) != c->id) { stale++; return 0; }
    if (udp && be32(a + 12) != 0) return 0; /* a later packet of a multi-packet answer: counted with the first */
    if (a[2] & 0x20) truncated++;
    if (be32(a + 24) != 1 || (a[2] & 0x20)) nonsuccess++;
    if (udp && be32(a + 16) + 20 > n) nonsuccess++; /* more packets follow: not one datagram */
    answer_octets = (long)n;
    c->busy = 0;
    int64_t t = now_ns(); /* now: the previous answer on this socket may have been read in the same wake-up */
    if (t <= end) {
        int64_t us = (t - c->sent) / 1000;
        if (us < 0) us = 0;
        hist[us < BUCKETS ? us : BUCKETS]++;
        completed++;
    }
    return 1;
}

static double percentile(double p) {
    long long want = (long long)(p * completed), seen = 0;
    if (want >= completed) want = completed - 1;
    for (long i = 0; i <= BUCKETS; i++) {
        seen += hist[i];
        if (seen > want) return i / 1000.0;
    }
    return BUCKETS / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: %s udp|tcp HOST PORT REQUESTS CONNECTIONS SECONDS CHECK_ID PASSES\n", argv[0]);
        return 2;
    }
    udp = strcmp(argv[1], "udp") == 0;
    int nconn = atoi(argv[5]);
    double seconds = atof(argv[6]);
    check_id = atoi(argv[7]);
    passes = atol(argv[8]);
    load(argv[4]);
    hist = calloc(BUCKETS + 1, sizeof *hist);
    srand((unsigned)now_ns());
    cursor = rand() % nreq;

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &addr.sin_addr);
    int ep = epoll_create1(0);
    conn_t *conns = calloc(nconn, sizeof *conns);
    for (int i = 0; i < nconn; i++) {
        conn_t *c = &conns[i];
        c->fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
        if (!udp) {
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        c->in = malloc(INBUF);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }

    int64_t start = now_ns(), end = start + (int64_t)(seconds * 1e9), last_scan = start;
    int active = 0;
    for (int i = 0; i < nconn; i++) active += send_next(&conns[i]);
    struct epoll_event events[256];
    while (active > 0) {
        int64_t t = now_ns();
        if (t >= end) break;
        int n = epoll_wait(ep, events, 256, 10);
        t = now_ns();
        for (int e = 0; e < n; e++) {
            conn_t *c = &conns[events[e].data.u32];
            for (;;) {
                if (udp) {
                    ssize_t got = recv(c->fd, c->in, INBUF, 0);
                    if (got < 0) break;
                    if (!c->busy) continue;
                    if (answered(c, c->in, (size_t)got, end) && !send_next(c)) active--;
                } else {
                    ssize_t got = recv(c->fd, c->in + c->have, INBUF - c->have, 0);
                    if (got == 0) { errors++; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); active -= c->busy; c->busy = 0; break; }
                    if (got < 0) break;
                    c->have += (size_t)got;
                    while (c->have >= 20 && c->have >= 20 + (size_t)be32(c->in + 16)) {
                        size_t whole = 20 + be32(c->in + 16);
                        int done = c->busy && answered(c, c->in, whole, end);
                        memmove(c->in, c->in + whole, c->have - whole);
                        c->have -= whole;
                        if (done && !send_next(c)) active--;
                    }
                    if (c->have >= INBUF) { malformed++; c->have = 0; }
                }
            }
        }
        if (udp && t - last_scan > 10000000LL) { /* every 10 ms: requests lost on the way are sent again */
            last_scan = t;
            for (int i = 0; i < nconn; i++) {
                conn_t *c = &conns[i];
                if (c->busy && t - c->sent > UDP_TIMEOUT_NS) {
                    timeouts++;
                    if (passes > 0) c->next--; /* warming: the same request once more */
                    send_next(c);
                }
            }
        }
    }
    double elapsed = (double)((now_ns() < end ? now_ns() : end) - start) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("{\"answers\": %lld, \"seconds\": %.3f, \"rps\": %.1f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
           "\"max\": %.3f, \"nonsuccess\": %lld, \"truncated\": %lld, \"timeouts\": %lld, \"stale\": %lld, "
           "\"malformed\": %lld, \"errors\": %lld, \"answer_octets\": %ld, \"client_cpu\": %.3f}\n",
           completed, elapsed, completed / elapsed, completed ? percentile(0.50) : 0.0,
           completed ? percentile(0.90) : 0.0, completed ? percentile(0.99) : 0.0,
           completed ? percentile(1.0) : 0.0, nonsuccess, truncated, timeouts, stale, malformed, errors,
           answer_octets, cpu);
    return 0;
}
