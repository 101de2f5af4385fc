/*
 * A kernel clock for one process, for the system actuator's end-to-end test: loaded with LD_PRELOAD
 * into the agent, it answers clock_adjtime, adjtimex, ntp_adjtime, clock_settime, settimeofday and the
 * CLOCK_REALTIME reads (clock_gettime, gettimeofday, time) from a simulated clock, and never calls the
 * real ones that write. The test runs the agent without CAP_SYS_TIME as well, so that if this library
 * were not loaded the kernel would refuse (EPERM) rather than obey.
 *
 * The simulated clock is the host's realtime clock, shifted by SHIM_OFFSET_NS and running
 * SHIM_FREQ_PPB fast (the "oscillator"), plus what the agent asks for: the frequency (scaled ppm, at
 * most 500 ppm), steps (ADJ_SETOFFSET), status bits, maxerror and esterror, and a leap second inserted
 * or deleted at the simulated midnight when STA_INS or STA_DEL is set, as the kernel does.
 *
 * SHIM_LOG: every call that writes, one line each, and a first line proving the library is loaded.
 * SHIM_STATE: the mapping from the host's clock to the simulated one, rewritten on every change, for
 * the test to timestamp PPS edges as this clock would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int (*real_gettime)(clockid_t, struct timespec *);
static int64_t base_real, base_sim; /* the current segment starts here (host ns, simulated ns) */
static double osc_rate;             /* the oscillator's own error, fraction */
static long kfreq;                  /* the kernel frequency, scaled ppm */
static int kstatus = STA_UNSYNC;
static long kmaxerror = 16000000, kesterror = 16000000;
static int ktai;
static int kstate = TIME_OK;
static int64_t leap_at;             /* simulated midnight of an armed leap */
static const char *log_path, *state_path;

static int64_t host_now(void) {
  struct timespec ts;
  real_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_state(void);

static double rate(void) { return osc_rate + (double)kfreq / 65536e6; }

/* The simulated clock at host time h, with the kernel's leap second applied when it is due. */
static int64_t sim_at(int64_t h) {
  int64_t s = base_sim + (int64_t)((double)(h - base_real) * (1.0 + rate()));
  if (kstate == TIME_INS && s >= leap_at) {
    /* Inserted: the clock goes back one second at midnight. A new segment from there. */
    int64_t h_at = base_real + (int64_t)((double)(leap_at - base_sim) / (1.0 + rate()));
    base_real = h_at;
    base_sim = leap_at - 1000000000LL;
    ktai++;
    kstate = TIME_OOP;
    write_state();
    s = base_sim + (int64_t)((double)(h - base_real) * (1.0 + rate()));
  } else if (kstate == TIME_DEL && s >= leap_at - 1000000000LL) {
    int64_t h_at = base_real + (int64_t)((double)(leap_at - 1000000000LL - base_sim) / (1.0 + rate()));
    base_real = h_at;
    base_sim = leap_at;
    ktai--;
    kstate = TIME_WAIT;
    write_state();
    s = base_sim + (int64_t)((double)(h - base_real) * (1.0 + rate()));
  }
  if (kstate == TIME_OOP && s >= leap_at) kstate = TIME_WAIT;
  if (kstate == TIME_WAIT && !(kstatus & (STA_INS | STA_DEL))) kstate = TIME_OK;
  return s;
}

static void write_state(void) {
  if (!state_path) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "%lld %lld %.17g\n", (long long)base_real, (long long)base_sim, rate());
  fclose(f);
  rename(tmp, state_path);
}

static void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_line(const char *fmt, ...) {
  if (!log_path) return;
  FILE *f = fopen(log_path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

__attribute__((constructor)) static void init(void) {
  real_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
  log_path = getenv("SHIM_LOG");
  state_path = getenv("SHIM_STATE");
  const char *o = getenv("SHIM_OFFSET_NS"), *fr = getenv("SHIM_FREQ_PPB");
  base_real = host_now();
  base_sim = base_real + (o ? strtoll(o, NULL, 10) : 0);
  osc_rate = fr ? strtod(fr, NULL) * 1e-9 : 0;
  write_state();
  logf_line("shim active pid=%d\n", (int)getpid());
}

/* Re-anchors the segment at host time h (before a change of rate or a step). */
static void anchor(int64_t h) {
  base_sim = sim_at(h);
  base_real = h;
}

static int do_adjtime(struct timex *tx) {
  pthread_mutex_lock(&mu);
  int64_t h = host_now();
  int64_t now = sim_at(h);
  unsigned m = tx->modes;
  int ret = 0;
  if (m & ADJ_OFFSET && !(m & ADJ_SETOFFSET) && m != ADJ_OFFSET_SS_READ) {
    ret = -EINVAL; /* the kernel PLL: not simulated, and the actuator must not use it */
  } else {
    if (m & ADJ_SETOFFSET) {
      int64_t step = (int64_t)tx->time.tv_sec * 1000000000LL + (m & ADJ_NANO ? tx->time.tv_usec : tx->time.tv_usec * 1000LL);
      anchor(h);
      base_sim += step;
    }
    if (m & ADJ_FREQUENCY) {
      anchor(h);
      long f = tx->freq;
      if (f > 500L * 65536) f = 500L * 65536;
      if (f < -500L * 65536) f = -500L * 65536;
      kfreq = f;
    }
    if (m & ADJ_MAXERROR) kmaxerror = tx->maxerror;
    if (m & ADJ_ESTERROR) kesterror = tx->esterror;
    if (m & ADJ_STATUS) {
      kstatus = (kstatus & 0xff00) | (tx->status & 0x00ff);
      if (kstate == TIME_OK && (kstatus & (STA_INS | STA_DEL))) {
        kstate = kstatus & STA_INS ? TIME_INS : TIME_DEL;
        int64_t day = 86400LL * 1000000000LL;
        leap_at = (now / day + 1) * day;
      } else if ((kstate == TIME_INS || kstate == TIME_DEL) && !(kstatus & (STA_INS | STA_DEL))) {
        kstate = TIME_OK;
      } else if (kstate == TIME_WAIT && !(kstatus & (STA_INS | STA_DEL))) {
        kstate = TIME_OK;
      }
    }
    if (m) write_state();
  }
  if (m) {
    logf_line("adjtime modes=0x%x freq=%ld step_ns=%lld status=0x%x maxerror=%ld esterror=%ld -> %d state=%d\n", m, tx->freq,
              (long long)((int64_t)tx->time.tv_sec * 1000000000LL + tx->time.tv_usec), tx->status, tx->maxerror, tx->esterror,
              ret, kstate);
  }
  if (ret == 0) {
    now = sim_at(host_now());
    tx->freq = kfreq;
    tx->status = kstatus;
    tx->maxerror = kmaxerror;
    tx->esterror = kesterror;
    tx->tai = ktai;
    tx->constant = 2;
    tx->tick = 10000;
    tx->offset = 0;
    tx->time.tv_sec = now / 1000000000LL;
    tx->time.tv_usec = (now % 1000000000LL) / ((kstatus & STA_NANO) ? 1 : 1000);
    ret = (kstatus & STA_UNSYNC) ? TIME_ERROR : kstate;
  }
  pthread_mutex_unlock(&mu);
  if (ret < 0) {
    errno = -ret;
    return -1;
  }
  return ret;
}

int clock_adjtime(clockid_t id, struct timex *tx) {
  if (id != CLOCK_REALTIME) {
    errno = EINVAL;
    return -1;
  }
  return do_adjtime(tx);
}

int adjtimex(struct timex *tx) { return do_adjtime(tx); }
int ntp_adjtime(struct timex *tx) { return do_adjtime(tx); }

int clock_gettime(clockid_t id, struct timespec *ts) {
  if (!real_gettime) real_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
  if (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE) return real_gettime(id, ts);
  pthread_mutex_lock(&mu);
  int64_t s = sim_at(host_now());
  pthread_mutex_unlock(&mu);
  ts->tv_sec = s / 1000000000LL;
  ts->tv_nsec = s % 1000000000LL;
  return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

time_t time(time_t *t) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}

int clock_settime(clockid_t id, const struct timespec *ts) {
  if (id != CLOCK_REALTIME) {
    errno = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&mu);
  base_real = host_now();
  base_sim = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
  write_state();
  pthread_mutex_unlock(&mu);
  logf_line("settime %lld.%09ld\n", (long long)ts->tv_sec, ts->tv_nsec);
  return 0;
}

int settimeofday(const struct timeval *tv, const struct timezone *tz) {
  (void)tz;
  if (!tv) return 0;
  struct timespec ts = { tv->tv_sec, tv->tv_usec * 1000 };
  return clock_settime(CLOCK_REALTIME, &ts);
}
