/*
 * clock_adjtime(CLOCK_REALTIME) for the system-clock actuator (src/discipline/kernel.ts describes the
 * fields and their units). One call, one struct timex in and out; errors are values, never exceptions:
 *
 *   clockAdjtime({ modes, freq, offset, status, maxerror, esterror, constant, setOffsetNs })
 *     -> { state, modes, freq, offset, status, maxerror, esterror, constant, tick, tai, sec, nsec }
 *        state >= 0 is the clock state (TIME_OK .. TIME_ERROR); state < 0 is -errno (EPERM without
 *        CAP_SYS_TIME, EINVAL for a bad value)
 *
 * setOffsetNs (with ADJ_SETOFFSET | ADJ_NANO in modes) is the step, a signed number of nanoseconds,
 * split here into the timeval the kernel wants (a negative step has a negative tv_sec and a tv_usec
 * in [0, 1e9), as the kernel requires with ADJ_NANO).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

static int get_long(napi_env env, napi_value obj, const char *name, long *out) {
  bool has = false;
  napi_value v;
  double d;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return -1;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  if (napi_get_value_double(env, v, &d) != napi_ok || !isfinite(d)) return -1;
  *out = (long)d;
  return 1;
}

static void set_num(napi_env env, napi_value obj, const char *name, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  napi_set_named_property(env, obj, name, v);
}

napi_value stratum1_clock_adjtime(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) {
    napi_throw_type_error(env, NULL, "clockAdjtime({ modes, ... })");
    return NULL;
  }
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  long modes = 0, freq = 0, offset = 0, status = 0, maxerror = 0, esterror = 0, constant = 0;
  double step = 0;
  int bad = 0;
  bad |= get_long(env, argv[0], "modes", &modes) < 0;
  bad |= get_long(env, argv[0], "freq", &freq) < 0;
  bad |= get_long(env, argv[0], "offset", &offset) < 0;
  bad |= get_long(env, argv[0], "status", &status) < 0;
  bad |= get_long(env, argv[0], "maxerror", &maxerror) < 0;
  bad |= get_long(env, argv[0], "esterror", &esterror) < 0;
  bad |= get_long(env, argv[0], "constant", &constant) < 0;
  {
    bool has = false;
    napi_value v;
    if (napi_has_named_property(env, argv[0], "setOffsetNs", &has) == napi_ok && has &&
        napi_get_named_property(env, argv[0], "setOffsetNs", &v) == napi_ok) {
      napi_valuetype vt;
      napi_typeof(env, v, &vt);
      if (vt != napi_undefined && (napi_get_value_double(env, v, &step) != napi_ok || !isfinite(step))) bad = 1;
    }
  }
  if (bad) {
    napi_throw_type_error(env, NULL, "clockAdjtime: every field must be a finite number");
    return NULL;
  }
  tx.modes = (unsigned int)modes;
  tx.freq = freq;
  tx.offset = offset;
  tx.status = (int)status;
  tx.maxerror = maxerror;
  tx.esterror = esterror;
  tx.constant = constant;
  if (modes & ADJ_SETOFFSET) {
    double sec = floor(step / 1e9);
    tx.time.tv_sec = (time_t)sec;
    tx.time.tv_usec = (suseconds_t)(step - sec * 1e9);
    if (tx.time.tv_usec >= 1000000000) { tx.time.tv_sec += 1; tx.time.tv_usec -= 1000000000; }
    if (tx.time.tv_usec < 0) tx.time.tv_usec = 0;
  }
  int r = clock_adjtime(CLOCK_REALTIME, &tx);
  int state = r < 0 ? -errno : r;
  napi_value out;
  napi_create_object(env, &out);
  set_num(env, out, "state", state);
  set_num(env, out, "modes", tx.modes);
  set_num(env, out, "freq", (double)tx.freq);
  set_num(env, out, "offset", (double)tx.offset);
  set_num(env, out, "status", tx.status);
  set_num(env, out, "maxerror", (double)tx.maxerror);
  set_num(env, out, "esterror", (double)tx.esterror);
  set_num(env, out, "constant", (double)tx.constant);
  set_num(env, out, "tick", (double)tx.tick);
  set_num(env, out, "tai", tx.tai);
  set_num(env, out, "sec", (double)tx.time.tv_sec);
  set_num(env, out, "nsec", (double)tx.time.tv_usec);
  return out;
}
