/*
 * Kernel timestamps for UDP, which Node's dgram module cannot give. Receive (SO_TIMESTAMPNS): a socket
 * bound to a port (and, optionally, joined to an IPv4 multicast group on an interface), watched by
 * libuv on Node's own event loop; every datagram is handed to JavaScript with the CLOCK_REALTIME time
 * at which the kernel received it, so the wait for the event loop no longer enters the timestamp.
 *
 *   open(port, bindAddress, group|null, interfaceAddress|null, onMessage[, recvBufferBytes[, reuse]])
 *     -> handle; IPv4 or IPv6 (by the bind address); onMessage(buffer, sec, nsec, address, port),
 *     sec 0 when the kernel gave no timestamp
 *   sendTo(handle, buffer, address, port) -> 0 or -errno   a reply from that same socket
 *   close(handle)
 *   openTx(interfaceAddress, group, port) -> handle   a sender connected to group:port on the
 *     interface, with software transmit timestamps (SO_TIMESTAMPING)
 *   sendStamped(handle, buffer) -> [sec, nsec] | null  sends, then reads the kernel's transmit
 *     timestamp from the socket's error queue (as ptp4l does); null if none came within 2 ms
 *   closeTx(handle)
 *   realtimeNs() -> bigint   clock_gettime(CLOCK_REALTIME)
 *   unixDgramOpen(path) -> fd >= 0, or -errno   an AF_UNIX datagram socket, non-blocking, connected to
 *     path (chronyd's SOCK refclock); -ENOENT or -ECONNREFUSED while nobody listens there
 *   unixDgramSend(fd, buffer) -> bytes sent, or -errno (ECONNREFUSED once the listener is gone)
 *   unixDgramClose(fd)
 *   clockAdjtime(timex) -> timex and state: clock_adjtime(CLOCK_REALTIME) (native/clock.c)
 *   unixDgramBind, unixDgramSendTo, unixDgramUnbind: a bound AF_UNIX datagram socket that receives
 *     (native/unix_dgram.c)
 *   timevalBytes   sizeof(struct timeval) as this system's headers compile it (8 where time_t is
 *     32-bit, 16 where it is 64-bit): the layout of chrony's struct sock_sample on this machine
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#define MAX_DATAGRAM 2048

typedef struct {
  napi_env env;
  napi_ref callback;
  uv_poll_t poll;
  int fd;
  int closed;
  int v6;
} rx_socket;

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void on_closed(uv_handle_t *h) {
  rx_socket *s = (rx_socket *)h->data;
  free(s);
}

static void deliver(rx_socket *s, const unsigned char *data, size_t len, const struct timespec *ts, const struct sockaddr_storage *from) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, argv[5], result;
  void *copy;
  char addr[INET6_ADDRSTRLEN] = "";
  uint16_t from_port = 0;
  if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)from;
    inet_ntop(AF_INET6, &f6->sin6_addr, addr, sizeof addr);
    from_port = ntohs(f6->sin6_port);
  } else {
    const struct sockaddr_in *f4 = (const struct sockaddr_in *)from;
    inet_ntop(AF_INET, &f4->sin_addr, addr, sizeof addr);
    from_port = ntohs(f4->sin_port);
  }
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_global(env, &global);
  napi_create_buffer_copy(env, len, data, &copy, &argv[0]);
  napi_create_double(env, ts ? (double)ts->tv_sec : 0.0, &argv[1]);
  napi_create_double(env, ts ? (double)ts->tv_nsec : 0.0, &argv[2]);
  napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &argv[3]);
  napi_create_uint32(env, from_port, &argv[4]);
  if (napi_call_function(env, global, cb, 5, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  rx_socket *s = (rx_socket *)p->data;
  if (status < 0 || s->closed) return;
  (void)events;
  for (int n = 0; n < 64; n++) {
    unsigned char buf[MAX_DATAGRAM];
    char control[256];
    struct sockaddr_storage from;
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (r < 0) return; /* EAGAIN: drained (other errors: the next readiness tries again) */
    struct timespec *ts = NULL, from_us;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_TIMESTAMPNS) ts = (struct timespec *)CMSG_DATA(c);
      else if (c->cmsg_type == SCM_TIMESTAMP) { /* the microsecond fallback (js_open) */
        struct timeval tv;
        memcpy(&tv, CMSG_DATA(c), sizeof tv);
        from_us.tv_sec = tv.tv_sec;
        from_us.tv_nsec = (long)tv.tv_usec * 1000;
        ts = &from_us;
      }
    }
    /* A datagram longer than the buffer is truncated: hand it over as it is (MSG_TRUNC), the
       decoder will find it malformed. */
    deliver(s, buf, (size_t)r, ts, &from);
    if (s->closed) return;
  }
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(port, bindAddress, group, interfaceAddress, onMessage[, recvBufferBytes[, reuseAddress]])");
    return NULL;
  }
  uint32_t port, rcvbuf = 1 << 20;
  bool reuse = false;
  char bind_addr[64] = "0.0.0.0", group[64] = "", iface[64] = "";
  size_t l;
  napi_valuetype t;
  if (napi_get_value_uint32(env, argv[0], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "port must be 0..65535");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[1], bind_addr, sizeof bind_addr, &l);
  napi_typeof(env, argv[2], &t);
  if (t == napi_string) napi_get_value_string_utf8(env, argv[2], group, sizeof group, &l);
  napi_typeof(env, argv[3], &t);
  if (t == napi_string) napi_get_value_string_utf8(env, argv[3], iface, sizeof iface, &l);
  napi_typeof(env, argv[4], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "onMessage must be a function");
    return NULL;
  }
  if (argc > 5) napi_get_value_uint32(env, argv[5], &rcvbuf);
  if (argc > 6) napi_get_value_bool(env, argv[6], &reuse);

  int v6 = strchr(bind_addr, ':') != NULL;
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  if (v6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, bind_addr, &a6->sin6_addr) != 1) {
      napi_throw_type_error(env, NULL, "bindAddress is not an IP address");
      return NULL;
    }
    sslen = sizeof *a6;
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &a4->sin_addr) != 1) {
      napi_throw_type_error(env, NULL, "bindAddress is not an IP address");
      return NULL;
    }
    sslen = sizeof *a4;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket");
  int one = 1;
  /* Shared ports only where sharing is the point (PTP's multicast ports); a server port is exclusive,
     so a second agent on the same port fails to start instead of splitting the traffic. */
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  /* Nanosecond receive timestamps; where they are refused (ENOPROTOOPT: qemu-user's emulation of
     setsockopt does not know SO_TIMESTAMPNS, every Linux kernel since 2.6.22 does) the kernel's
     microsecond ones, SO_TIMESTAMP. */
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) {
    int e = errno;
    if (e != ENOPROTOOPT || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one) < 0) {
      close(fd);
      errno = e;
      return throw_errno(env, "SO_TIMESTAMPNS");
    }
  }
  int rb = (int)rcvbuf;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
  if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return throw_errno(env, "bind");
  }
  if (group[0]) {
    struct ip_mreq m;
    memset(&m, 0, sizeof m);
    if (v6 || inet_pton(AF_INET, group, &m.imr_multiaddr) != 1 || (iface[0] && inet_pton(AF_INET, iface, &m.imr_interface) != 1)) {
      close(fd);
      napi_throw_type_error(env, NULL, "group and interfaceAddress must be IPv4 addresses");
      return NULL;
    }
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return throw_errno(env, "IP_ADD_MEMBERSHIP");
    }
  }
  /* the port actually bound (port 0 picks one) */
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  uint16_t bound_port = v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    napi_throw_error(env, NULL, "no event loop");
    return NULL;
  }
  rx_socket *s = (rx_socket *)calloc(1, sizeof *s);
  s->env = env;
  s->fd = fd;
  s->v6 = v6;
  napi_create_reference(env, argv[4], 1, &s->callback);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);

  napi_value handle, ext, bound;
  napi_create_object(env, &handle);
  napi_create_external(env, s, NULL, NULL, &ext);
  napi_set_named_property(env, handle, "ptr", ext);
  napi_create_uint32(env, bound_port, &bound);
  napi_set_named_property(env, handle, "port", bound);
  return handle;
}

static rx_socket *handle_of(napi_env env, napi_value h);

/* sendTo(handle, buffer, address, port) -> 0, or -errno: a reply from the receiving socket itself. */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  rx_socket *s = argc >= 4 ? handle_of(env, argv[0]) : NULL;
  void *data;
  size_t len, l;
  char addr[64];
  uint32_t port;
  if (!s || s->closed || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], addr, sizeof addr, &l) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendTo(handle, buffer, address, port)");
    return NULL;
  }
  struct sockaddr_storage to;
  socklen_t tolen;
  memset(&to, 0, sizeof to);
  if (s->v6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&to;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) { napi_create_int32(env, -EINVAL, &result); return result; }
    tolen = sizeof *a6;
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&to;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) { napi_create_int32(env, -EINVAL, &result); return result; }
    tolen = sizeof *a4;
  }
  ssize_t r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, tolen);
  napi_create_int32(env, r < 0 ? -errno : 0, &result);
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ext;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_named_property(env, argv[0], "ptr", &ext) != napi_ok) return NULL;
  void *p = NULL;
  if (napi_get_value_external(env, ext, &p) != napi_ok || !p) return NULL;
  rx_socket *s = (rx_socket *)p;
  if (s->closed) return NULL;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  napi_delete_reference(env, s->callback);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

static rx_socket *handle_of(napi_env env, napi_value h) {
  napi_value ext;
  void *p = NULL;
  if (napi_get_named_property(env, h, "ptr", &ext) != napi_ok || napi_get_value_external(env, ext, &p) != napi_ok) return NULL;
  return (rx_socket *)p;
}

static void finalize_tx(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  rx_socket *s = (rx_socket *)data;
  if (!s->closed) close(s->fd);
  free(s);
}

static napi_value js_open_tx(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char iface[64] = "", group[64] = "";
  size_t l;
  uint32_t port = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], iface, sizeof iface, &l) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], group, sizeof group, &l) != napi_ok || napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "openTx(interfaceAddress, group, port)");
    return NULL;
  }
  struct in_addr ifa;
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, iface, &ifa) != 1 || inet_pton(AF_INET, group, &to.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "interfaceAddress and group must be IPv4 addresses");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket");
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  local.sin_addr = ifa;
  unsigned char ttl = 1, loop = 0;
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return throw_errno(env, "transmit socket");
  }
  rx_socket *s = (rx_socket *)calloc(1, sizeof *s);
  s->fd = fd;
  napi_value handle, ext;
  napi_create_object(env, &handle);
  napi_create_external(env, s, finalize_tx, NULL, &ext);
  napi_set_named_property(env, handle, "ptr", ext);
  return handle;
}

static napi_value js_send_stamped(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  rx_socket *s = argc >= 2 ? handle_of(env, argv[0]) : NULL;
  void *data;
  size_t len;
  if (!s || s->closed || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendStamped(handle, buffer)");
    return NULL;
  }
  /* Stale timestamps of earlier sends that were never collected would be mistaken for this one. */
  char drain[256];
  for (int i = 0; i < 16; i++) {
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_control = drain;
    m.msg_controllen = sizeof drain;
    if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
  }
  if (send(s->fd, data, len, 0) < 0) return throw_errno(env, "send");
  for (int tries = 0; tries < 200; tries++) {
    char control[512];
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
          struct scm_timestamping *t = (struct scm_timestamping *)CMSG_DATA(c);
          if (t->ts[0].tv_sec == 0 && t->ts[0].tv_nsec == 0) continue;
          napi_value sec, nsec;
          napi_create_array_with_length(env, 2, &result);
          napi_create_double(env, (double)t->ts[0].tv_sec, &sec);
          napi_create_double(env, (double)t->ts[0].tv_nsec, &nsec);
          napi_set_element(env, result, 0, sec);
          napi_set_element(env, result, 1, nsec);
          return result;
        }
      }
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break;
    }
    struct timespec nap = { 0, 10000 }; /* 10 us */
    nanosleep(&nap, NULL);
  }
  napi_get_null(env, &result);
  return result;
}

static napi_value js_close_tx(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  rx_socket *s = argc >= 1 ? handle_of(env, argv[0]) : NULL;
  if (s && !s->closed) {
    s->closed = 1;
    close(s->fd);
  }
  return NULL;
}

/* CLOCK_REALTIME now in nanoseconds, as a BigInt: the system clock at full resolution. */
static napi_value js_realtime_ns(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  napi_value v;
  napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &v);
  return v;
}

/* Datagrams to a Unix socket (Node's dgram has none): one non-blocking socket per peer, connected so
 * that a vanished listener is reported (ECONNREFUSED) instead of silently dropped. Errors are values. */
static napi_value js_unix_dgram_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_un to;
  size_t l = 0;
  memset(&to, 0, sizeof to);
  to.sun_family = AF_UNIX;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], to.sun_path, sizeof to.sun_path, &l) != napi_ok) {
    napi_throw_type_error(env, NULL, "unixDgramOpen(path)");
    return NULL;
  }
  if (l == 0 || l >= sizeof to.sun_path - 1) {
    napi_create_int32(env, -ENAMETOOLONG, &result);
    return result;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    napi_create_int32(env, -errno, &result);
    return result;
  }
  if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
    int e = errno;
    close(fd);
    napi_create_int32(env, -e, &result);
    return result;
  }
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value js_unix_dgram_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  void *data;
  size_t len;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "unixDgramSend(fd, buffer)");
    return NULL;
  }
  ssize_t r = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &result);
  return result;
}

static napi_value js_unix_dgram_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc >= 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0) close(fd);
  return NULL;
}

napi_value stratum1_clock_adjtime(napi_env env, napi_callback_info info); /* clock.c */
napi_value stratum1_unix_dgram_bind(napi_env env, napi_callback_info info); /* unix_dgram.c */
napi_value stratum1_unix_dgram_send_to(napi_env env, napi_callback_info info);
napi_value stratum1_unix_dgram_unbind(napi_env env, napi_callback_info info);

static napi_value init(napi_env env, napi_value exports) {
  napi_value timeval_bytes;
  napi_create_uint32(env, (uint32_t)sizeof(struct timeval), &timeval_bytes);
  napi_property_descriptor d[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "openTx", NULL, js_open_tx, NULL, NULL, NULL, napi_default, NULL },
    { "sendStamped", NULL, js_send_stamped, NULL, NULL, NULL, napi_default, NULL },
    { "closeTx", NULL, js_close_tx, NULL, NULL, NULL, napi_default, NULL },
    { "realtimeNs", NULL, js_realtime_ns, NULL, NULL, NULL, napi_default, NULL },
    { "sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramOpen", NULL, js_unix_dgram_open, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramSend", NULL, js_unix_dgram_send, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramClose", NULL, js_unix_dgram_close, NULL, NULL, NULL, napi_default, NULL },
    { "clockAdjtime", NULL, stratum1_clock_adjtime, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramBind", NULL, stratum1_unix_dgram_bind, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramSendTo", NULL, stratum1_unix_dgram_send_to, NULL, NULL, NULL, napi_default, NULL },
    { "unixDgramUnbind", NULL, stratum1_unix_dgram_unbind, NULL, NULL, NULL, napi_default, NULL },
    { "timevalBytes", NULL, NULL, NULL, NULL, timeval_bytes, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
