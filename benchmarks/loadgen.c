/* Native load generator for ticker's benchmarks (see benchmarks/loadgen.py for the
 * protocol and the JSON it prints; this is the same program in C so that the
 * generator costs a fraction of the server it measures on a 2-core machine).
 *
 * Single-threaded epoll. Per connection: non-blocking connect, HTTP upgrade,
 * one masked subscribe frame, then read. Per complete text frame in the window:
 * count "type":"update" and bin (receive time - "ts") into the histogram whose
 * edges are read from stdin (one integer per line, microseconds).
 *
 * Build: cc -O2 -o loadgen loadgen.c   (the harness does this and caches it)
 */
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

#define BUF 262144

typedef struct {
    int fd;
    int state; /* 0 connecting, 1 awaiting 101, 2 open, 3 closed */
    int stalled;
    size_t len;
    char *buf;
    int index;
} conn_t;

static long long *edges; static int nedges; static long long *hist;
static long long updates, frames, bytes_, subscribed, warnings, closed_during, max_lat;
static int measuring;
static int close_codes[16][2]; static int nclose;

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static long long now_us(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1000000LL + t.tv_nsec / 1000; }
static double cpu_s(void) { struct rusage r; getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6; }

static void bin(long long lat) {
    /* edges ascending; bin i covers (edges[i], edges[i+1]] like numpy.histogram's [ , ) closely enough */
    int lo = 0, hi = nedges - 1;
    if (lat > max_lat) max_lat = lat;
    while (hi - lo > 1) { int mid = (lo + hi) / 2; if (edges[mid] <= lat) lo = mid; else hi = mid; }
    hist[lo]++;
}

static void scan(const char *p, size_t n, long long t) {
    static const char up[] = "\"type\":\"update\"";
    static const char ts[] = "\"ts\":";
    const char *end = p + n, *q = p;
    while ((q = memmem(q, end - q, up, sizeof up - 1))) { updates++; q += sizeof up - 1; }
    q = p;
    while ((q = memmem(q, end - q, ts, sizeof ts - 1))) {
        q += sizeof ts - 1;
        long long v = 0;
        while (q < end && *q >= '0' && *q <= '9') v = v * 10 + (*q++ - '0');
        bin(t - v);
    }
}

static void note_close(int code) {
    for (int i = 0; i < nclose; i++) if (close_codes[i][0] == code) { close_codes[i][1]++; return; }
    if (nclose < 16) { close_codes[nclose][0] = code; close_codes[nclose][1] = 1; nclose++; }
}

static void frames_in(conn_t *c) {
    size_t pos = 0; long long t = now_us();
    while (c->len - pos >= 2) {
        unsigned char *b = (unsigned char *)c->buf + pos;
        uint64_t n = b[1] & 0x7f; size_t hdr = 2;
        if (n == 126) { if (c->len - pos < 4) break; n = (b[2] << 8) | b[3]; hdr = 4; }
        else if (n == 127) { if (c->len - pos < 10) break; n = 0; for (int i = 2; i < 10; i++) n = (n << 8) | b[i]; hdr = 10; }
        if (c->len - pos < hdr + n) break;
        int op = b[0] & 0x0f; const char *pl = (const char *)b + hdr;
        if (op == 8) { note_close(n >= 2 ? (((unsigned char)pl[0] << 8) | (unsigned char)pl[1]) : 1005); c->state = 3; close(c->fd); return; }
        if (op == 1) {
            if (memmem(pl, n, "\"type\":\"subscribed\"", 19)) subscribed++;
            if (memmem(pl, n, "\"slow_consumer\"", 15)) warnings++;
            if (measuring) { frames++; bytes_ += n; scan(pl, n, t); }
        }
        pos += hdr + n;
    }
    if (pos) { memmove(c->buf, c->buf + pos, c->len - pos); c->len -= pos; }
}

static void send_subscribe(conn_t *c, const char *json) {
    size_t n = strlen(json); unsigned char out[8192]; size_t h = 0;
    out[h++] = 0x81;
    if (n < 126) out[h++] = 0x80 | n; else { out[h++] = 0x80 | 126; out[h++] = n >> 8; out[h++] = n & 0xff; }
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(out + h, mask, 4); h += 4;
    for (size_t i = 0; i < n; i++) out[h + i] = json[i] ^ mask[i & 3];
    (void)!write(c->fd, out, h + n);
}

int main(int argc, char **argv) {
    if (argc < 10) { fprintf(stderr, "usage: loadgen host port path connections first k symbols stalled start_at end_at\n"); return 2; }
    const char *host = argv[1]; int port = atoi(argv[2]); const char *path = argv[3];
    int nconn = atoi(argv[4]), first = atoi(argv[5]), k = atoi(argv[6]);
    char *symbols = strdup(argv[7]); int stalled = atoi(argv[8]);
    double start_at = atof(argv[9]), end_at = atof(argv[10]);
    /* stalled connections subscribe to this many symbols (0: k) with a 4 KiB receive buffer */
    int stalled_k = argc > 11 ? atoi(argv[11]) : 0;
    /* subscribe with this throttle_ms (0: none) */
    int throttle_ms = argc > 12 ? atoi(argv[12]) : 0;
    /* 1: poll without sleeping (epoll_wait timeout 0). A sleeping client makes every
       send() of the server wake it on the other core: on this VM that wake-up is about
       half of the send's cost, a cost remote clients (behind a NIC) do not put on it. */
    int spin = argc > 13 ? atoi(argv[13]) : 0;
    /* histogram edges from stdin */
    edges = malloc(sizeof(long long) * 4096); long long v;
    while (nedges < 4096 && scanf("%lld", &v) == 1) edges[nedges++] = v;
    hist = calloc(nedges, sizeof(long long));
    char *syms[4096]; int nsym = 0;
    for (char *s = strtok(symbols, ","); s && nsym < 4096; s = strtok(NULL, ",")) syms[nsym++] = s;
    struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl);

    int ep = epoll_create1(0);
    conn_t *cs = calloc(nconn, sizeof(conn_t));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    char req[1024];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, port);
    int opened = 0, pending = 0;
    struct epoll_event evs[1024];
    /* open in waves so the listen backlog is not overrun */
    while (opened < nconn || pending) {
        while (opened < nconn && pending < 256) {
            conn_t *c = &cs[opened]; c->index = opened; c->stalled = opened < stalled;
            c->buf = malloc(BUF);
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (c->stalled) { int small = 4096; setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small); }
            connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
            struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
            opened++; pending++;
        }
        int n = epoll_wait(ep, evs, 1024, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->state == 0 && (evs[i].events & EPOLLOUT)) {
                (void)!write(c->fd, req, strlen(req)); c->state = 1;
                struct epoll_event e = {.events = EPOLLIN, .data.ptr = c}; epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            } else if (c->state == 1 && (evs[i].events & EPOLLIN)) {
                ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
                if (r < 0 && errno == EAGAIN) continue;
                if (r <= 0) { fprintf(stderr, "handshake failed: %s (connection %d)\n", r ? strerror(errno) : "closed by the server", c->index); return 1; }
                c->len += r; c->buf[c->len] = 0;
                char *eoh = memmem(c->buf, c->len, "\r\n\r\n", 4);
                if (!eoh) continue;
                if (strncmp(c->buf, "HTTP/1.1 101", 12)) { fprintf(stderr, "upgrade refused: %.200s\n", c->buf); return 1; }
                size_t rest = c->len - (eoh + 4 - c->buf); memmove(c->buf, eoh + 4, rest); c->len = rest;
                c->state = 2; pending--;
                int kk = c->stalled && stalled_k ? stalled_k : k;
                if (kk > nsym) kk = nsym;
                if (kk > 0) {
                    char json[8192]; int off = snprintf(json, sizeof json, "{\"op\":\"subscribe\",\"id\":%d,\"symbols\":[", first + c->index);
                    for (int j = 0; j < kk; j++) off += snprintf(json + off, sizeof json - off, "%s\"%s\"", j ? "," : "", syms[((first + c->index) * k + j) % nsym]);
                    if (throttle_ms > 0) snprintf(json + off, sizeof json - off, "],\"throttle_ms\":%d}", throttle_ms);
                    else snprintf(json + off, sizeof json - off, "]}");
                    send_subscribe(c, json);
                }
                if (c->stalled) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
        }
    }
    double phase_end = end_at; double cpu0 = 0, t0 = 0;
    while (1) {
        double t = now_s();
        if (!measuring && t >= start_at && t < phase_end) { measuring = 1; cpu0 = cpu_s(); t0 = t; }
        if (t >= phase_end) break;
        int timeout = (int)((measuring ? phase_end - t : start_at - t) * 1000) + 1;
        int n = epoll_wait(ep, evs, 1024, spin ? 0 : timeout > 50 ? 50 : timeout);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->state != 2) continue;
            ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
            if (r <= 0) { if (r == 0 || errno != EAGAIN) { c->state = 3; closed_during++; close(c->fd); } continue; }
            c->len += r;
            frames_in(c);
            if (c->len == BUF) { fprintf(stderr, "frame larger than buffer\n"); return 1; }
        }
    }
    double cpu1 = cpu_s(), t1 = now_s();
    printf("{\"connections\":%d,\"window_s\":%.6f,\"updates\":%lld,\"frames\":%lld,\"bytes\":%lld,\"cpu_s\":%.6f,"
           "\"subscribed\":%lld,\"closed_during_run\":%lld,\"warnings\":%lld,\"latency_max_us\":%lld,\"close_codes\":{",
           nconn, t1 - t0, updates, frames, bytes_, cpu1 - cpu0, subscribed, closed_during, warnings, max_lat);
    for (int i = 0; i < nclose; i++) printf("%s\"%d\":%d", i ? "," : "", close_codes[i][0], close_codes[i][1]);
    printf("},\"latency_hist\":[");
    for (int i = 0; i < nedges - 1; i++) printf("%s%lld", i ? "," : "", hist[i]);
    printf("],\"generator\":\"c\"}\n");
    return 0;
}
