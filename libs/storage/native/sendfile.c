// sendfile(2) from a file to a connected TCP socket that Node owns, without the bytes passing
// through user space. Node has no API for it: its streams read a file into buffers and write
// those to the socket, two copies where the kernel needs one (or none, on loopback).
//
// The socket stays Node's. The transfer works on a dup() of its descriptor, so that its own
// uv_poll watcher can wait for writability without touching the one libuv keeps for Node's
// TCP handle (epoll registers each descriptor separately). Node must not write to the socket
// until the callback has run; the JavaScript side guarantees that.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

// What one sendfile call may ask for, and what one turn of the event loop may send before it
// lets other work run (the poll is level-triggered: a writable socket fires again next turn).
#define CALL_BYTES (4 * 1024 * 1024)
#define TURN_BYTES (16 * 1024 * 1024)
// errno-like code for a file that ended before the range did.
#define SHORT_FILE (-1)

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async_context;
  int socket_fd;
  int file_fd;
  off_t offset;
  int64_t remaining;
  int64_t sent;
  int error;       // 0, an errno, or SHORT_FILE
  int finishing;   // the poll is stopped and closing; the callback is due
  int references;  // the transfer itself and its JavaScript handle
} Transfer;

static void release(Transfer *t) {
  if (--t->references == 0) free(t);
}

static void call_back(Transfer *t) {
  napi_env env = t->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, argv[2], result;
  napi_get_reference_value(env, t->callback, &callback);
  if (t->error == 0) {
    napi_get_null(env, &argv[0]);
  } else {
    napi_create_int32(env, t->error, &argv[0]);
  }
  napi_create_double(env, (double)t->sent, &argv[1]);
  napi_get_global(env, &global); // make_callback wants an object as `this`
  // make_callback, not call_function: promises resolved in the callback run right after it.
  if (napi_make_callback(env, t->async_context, global, callback, 2, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, t->callback);
  napi_async_destroy(env, t->async_context);
}

static void on_closed(uv_handle_t *handle) {
  Transfer *t = (Transfer *)handle;
  close(t->socket_fd);
  call_back(t);
  release(t);
}

static void finish(Transfer *t, int error) {
  if (t->finishing) return;
  t->finishing = 1;
  t->error = error;
  uv_poll_stop(&t->poll);
  uv_close((uv_handle_t *)&t->poll, on_closed);
}

// Sends until done, the socket is full (EAGAIN: wait for the poll) or the turn's budget is spent.
static void pump(Transfer *t) {
  int64_t budget = TURN_BYTES;
  while (t->remaining > 0 && budget > 0) {
    size_t ask = t->remaining < CALL_BYTES ? (size_t)t->remaining : CALL_BYTES;
    ssize_t n = sendfile(t->socket_fd, t->file_fd, &t->offset, ask);
    if (n > 0) {
      t->remaining -= n;
      t->sent += n;
      budget -= n;
    } else if (n == 0) {
      finish(t, SHORT_FILE);
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      finish(t, errno);
      return;
    }
  }
  if (t->remaining == 0) finish(t, 0);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  Transfer *t = (Transfer *)poll;
  if (status < 0) {
    // libuv reports a socket error (POLLERR) as EBADF; the socket knows which one it was.
    int error = 0;
    socklen_t size = sizeof(error);
    if (getsockopt(t->socket_fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error == 0) error = -status;
    finish(t, error);
    return;
  }
  pump(t);
}

static void on_handle_collected(napi_env env, void *data, void *hint) {
  release((Transfer *)data);
}

// cancel(): stops a transfer that has not finished; its callback then reports ECANCELED.
static napi_value cancel(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, &data) == napi_ok) finish((Transfer *)data, ECANCELED);
  return NULL;
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// send(socketFd, fileFd, offset, length, callback(errno | null, bytesSent)) -> { cancel() }
static napi_value send_file(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_error(env, "send(socketFd, fileFd, offset, length, callback) takes five arguments");
  int32_t socket_fd, file_fd;
  int64_t offset, length;
  napi_valuetype callback_type;
  if (napi_get_value_int32(env, argv[0], &socket_fd) != napi_ok || napi_get_value_int32(env, argv[1], &file_fd) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      napi_typeof(env, argv[4], &callback_type) != napi_ok || callback_type != napi_function || offset < 0 || length < 0) {
    return throw_error(env, "send: expected two descriptors, a non-negative offset and length, and a callback");
  }

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "send: no event loop");
  int dup_fd = fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_error(env, "send: cannot duplicate the socket descriptor");

  Transfer *t = calloc(1, sizeof(Transfer));
  if (t == NULL) {
    close(dup_fd);
    return throw_error(env, "send: out of memory");
  }
  t->env = env;
  t->socket_fd = dup_fd;
  t->file_fd = file_fd;
  t->offset = (off_t)offset;
  t->remaining = length;
  t->references = 2;
  if (uv_poll_init(loop, &t->poll, dup_fd) != 0) {
    close(dup_fd);
    free(t);
    return throw_error(env, "send: cannot watch the socket");
  }

  napi_value handle, cancel_fn, name;
  napi_create_object(env, &handle);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, NULL, &cancel_fn);
  napi_set_named_property(env, handle, "cancel", cancel_fn);
  napi_wrap(env, handle, t, on_handle_collected, NULL, NULL);
  napi_create_reference(env, argv[4], 1, &t->callback);
  napi_create_string_utf8(env, "wharf:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &t->async_context);

  // Waiting starts at once; the first sends happen on the poll's first (immediate) event, so
  // the callback never runs before send() has returned.
  int started = uv_poll_start(&t->poll, UV_WRITABLE, on_poll);
  if (started != 0) finish(t, -started);
  return handle;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_file, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
