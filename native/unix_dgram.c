/*
 * A bound AF_UNIX datagram socket that receives, for the partners whose control sockets answer to the
 * sender's own path (linuxptp's ptp4l, as pmc talks to it; chronyd's command socket): Node's dgram
 * module has no AF_UNIX. The socket is bound to a path of ours, watched by libuv on Node's loop
 * (uv_poll, as open() in udp_ts.c does for UDP), and each datagram is handed to a JS callback.
 *
 *   unixDgramBind(localPath, onMessage) -> handle   onMessage(buffer, fromPath); throws on failure
 *     (EADDRINUSE: the path exists; the caller picks a fresh one)
 *   unixDgramSendTo(handle, buffer, peerPath) -> bytes sent, or -errno (-ENOENT, -ECONNREFUSED: nobody
 *     listens at peerPath); never blocks
 *   unixDgramUnbind(handle)   closes the socket and unlinks its path (idempotent)
 */
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A PTP management reply or a chronyd reply is well under this; a longer datagram arrives truncated
   (the decoder then finds it malformed). */
#define UNIX_MAX_DATAGRAM 4096

typedef struct {
  napi_env env;
  napi_ref callback;
  uv_poll_t poll;
  int fd;
  int closed;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} unix_socket;

static void unix_on_closed(uv_handle_t *h) {
  free(h->data);
}

static void unix_deliver(unix_socket *s, const unsigned char *data, size_t len, const struct sockaddr_un *from, socklen_t fromlen) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, argv[2], result;
  void *copy;
  char peer[sizeof from->sun_path + 1];
  size_t plen = fromlen > offsetof(struct sockaddr_un, sun_path) ? fromlen - offsetof(struct sockaddr_un, sun_path) : 0;
  if (plen > sizeof from->sun_path) plen = sizeof from->sun_path;
  memcpy(peer, from->sun_path, plen);
  peer[plen] = 0; /* an unnamed or abstract sender gives "" */
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_global(env, &global);
  napi_create_buffer_copy(env, len, data, &copy, &argv[0]);
  napi_create_string_utf8(env, peer, strnlen(peer, plen), &argv[1]);
  if (napi_call_function(env, global, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void unix_on_readable(uv_poll_t *p, int status, int events) {
  unix_socket *s = (unix_socket *)p->data;
  (void)events;
  if (status < 0 || s->closed) return;
  for (int n = 0; n < 64; n++) {
    unsigned char buf[UNIX_MAX_DATAGRAM];
    struct sockaddr_un from;
    socklen_t fromlen = sizeof from;
    memset(&from, 0, sizeof from);
    ssize_t r = recvfrom(s->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
    if (r < 0) return; /* EAGAIN: drained */
    unix_deliver(s, buf, (size_t)r, &from, fromlen);
    if (s->closed) return;
  }
}

static int unix_addr(napi_env env, napi_value v, struct sockaddr_un *a, size_t *len) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (napi_get_value_string_utf8(env, v, a->sun_path, sizeof a->sun_path, len) != napi_ok) return -EINVAL;
  if (*len == 0 || *len >= sizeof a->sun_path - 1) return -ENAMETOOLONG;
  return 0;
}

static unix_socket *unix_handle_of(napi_env env, napi_value h) {
  napi_value ext;
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, h, &t) != napi_ok || t != napi_object) return NULL;
  if (napi_get_named_property(env, h, "unixPtr", &ext) != napi_ok || napi_get_value_external(env, ext, &p) != napi_ok) return NULL;
  return (unix_socket *)p;
}

napi_value stratum1_unix_dgram_bind(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_un local;
  size_t l = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (argc < 2 || t != napi_function) {
    napi_throw_type_error(env, NULL, "unixDgramBind(localPath, onMessage)");
    return NULL;
  }
  if (unix_addr(env, argv[0], &local, &l) < 0) {
    napi_throw_type_error(env, NULL, "unixDgramBind: the path must be 1 to 106 bytes");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  char msg[300];
  if (fd < 0) {
    snprintf(msg, sizeof msg, "unixDgramBind: socket: %s", strerror(errno));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int e = errno;
    close(fd);
    snprintf(msg, sizeof msg, "unixDgramBind: bind %s: %s", local.sun_path, strerror(e));
    napi_throw_error(env, e == EADDRINUSE ? "EADDRINUSE" : NULL, msg);
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    unlink(local.sun_path);
    napi_throw_error(env, NULL, "unixDgramBind: no event loop");
    return NULL;
  }
  unix_socket *s = (unix_socket *)calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    unlink(local.sun_path);
    napi_throw_error(env, NULL, "unixDgramBind: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  memcpy(s->path, local.sun_path, sizeof s->path);
  napi_create_reference(env, argv[1], 1, &s->callback);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, unix_on_readable);
  napi_value handle, ext, path;
  napi_create_object(env, &handle);
  napi_create_external(env, s, NULL, NULL, &ext);
  napi_set_named_property(env, handle, "unixPtr", ext);
  napi_create_string_utf8(env, s->path, NAPI_AUTO_LENGTH, &path);
  napi_set_named_property(env, handle, "path", path);
  return handle;
}

napi_value stratum1_unix_dgram_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unix_socket *s = argc >= 3 ? unix_handle_of(env, argv[0]) : NULL;
  void *data;
  size_t len, l;
  bool isbuf = false;
  if (!s || napi_is_buffer(env, argv[1], &isbuf) != napi_ok || !isbuf || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "unixDgramSendTo(handle, buffer, peerPath)");
    return NULL;
  }
  if (s->closed) {
    napi_create_int32(env, -EBADF, &result);
    return result;
  }
  struct sockaddr_un to;
  int e = unix_addr(env, argv[2], &to, &l);
  if (e < 0) {
    napi_create_int32(env, e, &result);
    return result;
  }
  ssize_t r = sendto(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to, sizeof to);
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &result);
  return result;
}

napi_value stratum1_unix_dgram_unbind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unix_socket *s = argc >= 1 ? unix_handle_of(env, argv[0]) : NULL;
  if (!s || s->closed) return NULL;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  unlink(s->path);
  napi_delete_reference(env, s->callback);
  uv_close((uv_handle_t *)&s->poll, unix_on_closed);
  return NULL;
}
