#include "control_protocol.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace airlock {

bool send_control_request(int sock, ControlOp op, uint32_t flags, const std::string& path, int fd, uint32_t seq) {
  ControlRequest request;
  request.op = op;
  request.flags = flags;
  request.seq = seq;
  if (path.size() >= sizeof request.path) {
    errno = ENAMETOOLONG;
    return false;
  }
  memcpy(request.path, path.data(), path.size());

  struct iovec iov = {&request, sizeof request};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  }
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(sizeof request);
}

std::optional<ControlRequest> receive_control_request(int sock, UniqueFd* passed_fd) {
  ControlRequest request;
  struct iovec iov = {&request, sizeof request};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got <= 0) {
    if (got == 0) errno = 0;
    return std::nullopt;
  }
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
        cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
      passed_fd->reset(fd);
    }
  }
  if (got != static_cast<ssize_t>(sizeof request) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
      request.path[sizeof request.path - 1] != '\0') {
    passed_fd->reset();
    errno = EBADMSG;
    return std::nullopt;
  }
  return request;
}

bool send_control_reply(int sock, int error, const std::string& message, uint32_t seq) {
  ControlReply reply;
  reply.error = error;
  reply.seq = seq;
  size_t n = std::min(message.size(), sizeof reply.message - 1);
  memcpy(reply.message, message.data(), n);
  ssize_t sent;
  do sent = send(sock, &reply, sizeof reply, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(sizeof reply);
}

std::optional<ControlReply> receive_control_reply(int sock) {
  ControlReply reply;
  ssize_t got;
  do got = recv(sock, &reply, sizeof reply, 0);
  while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof reply)) {
    if (got >= 0) errno = got == 0 ? EPIPE : EBADMSG;
    return std::nullopt;
  }
  reply.message[sizeof reply.message - 1] = '\0';
  return reply;
}

}  // namespace airlock
