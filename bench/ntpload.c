/*
 * NTP load generator for bench/ntp.ts: sends NTPv4 client requests to 127.0.0.1:PORT at RATE per
 * second for SECONDS from NSOCK non-blocking sockets, receives with recvmmsg in the same loop, and
 * counts replies whose origin timestamp carries one of our request ids. Prints one JSON line.
 * Written in C so that the generator, not the server under test, is never the limit.
 *
 * usage: ntpload PORT RATE SECONDS [NSOCK]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x5151ULL
#define BATCH 64

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)(v & 0xff); v >>= 8; }
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: ntpload PORT RATE SECONDS [NSOCK]\n"); return 2; }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  double secs = atof(argv[3]);
  int nsock = argc > 4 ? atoi(argv[4]) : 8;
  if (nsock < 1 || nsock > 64) nsock = 8;
  long total = (long)(rate * secs);
  unsigned char *seen = calloc((size_t)total + 1, 1);
  int fds[64];
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  for (int i = 0; i < nsock; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = 8 * 1024 * 1024;
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    struct sockaddr_in src = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &src.sin_addr);
    if (bind(fds[i], (struct sockaddr *)&src, sizeof src) != 0) { perror("bind"); return 1; }
  }
  unsigned char rbuf[BATCH][128];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  long sent = 0, received = 0, sendfail = 0;
  double start = now_s(), end = start + secs, drain_until = 0;
  for (;;) {
    double t = now_s();
    long due = t >= end ? total : (long)((t - start) * rate);
    if (due > total) due = total;
    while (sent < due) {
      unsigned char pkt[48] = {0};
      pkt[0] = (4 << 3) | 3;
      put64(pkt + 40, (MAGIC << 48) | (uint64_t)sent);
      if (sendto(fds[sent % nsock], pkt, 48, 0, (struct sockaddr *)&dst, sizeof dst) != 48) {
        if (errno == EAGAIN) break;
        sendfail++;
      }
      sent++;
    }
    for (int i = 0; i < nsock; i++) {
      for (;;) {
        for (int k = 0; k < BATCH; k++) {
          iov[k].iov_base = rbuf[k];
          iov[k].iov_len = sizeof rbuf[k];
          memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fds[i], msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        for (int k = 0; k < n; k++) {
          if (msgs[k].msg_len < 48) continue;
          uint64_t o = get64(rbuf[k] + 24);
          if ((o >> 48) != MAGIC) continue;
          uint64_t id = o & 0xffffffffULL;
          if ((long)id < total && !seen[id]) { seen[id] = 1; received++; }
        }
        if (n < BATCH) break;
      }
    }
    if (sent >= total) {
      if (drain_until == 0) drain_until = now_s() + 0.3;
      if (received >= total || now_s() > drain_until) break;
    }
    if (sent >= due) {
      struct pollfd p[64];
      for (int i = 0; i < nsock; i++) { p[i].fd = fds[i]; p[i].events = POLLIN; }
      poll(p, (nfds_t)nsock, 0);
    }
  }
  printf("{\"sent\":%ld,\"received\":%ld,\"sendFailures\":%ld,\"seconds\":%.3f}\n", sent, received, sendfail, now_s() - start);
  return 0;
}
