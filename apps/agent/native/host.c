/*
 * corral's host-side native helpers: what the agent needs that Node has no API for (ptys, unix
 * socket credentials and fd passing, abstract sockets, rtnetlink, pidfds, waitpid of the inits it
 * cloned). Called from src/sys/native.ts through ffi-rs, on Node's threads, in the host's
 * namespaces. Nothing here runs in a container's child: that is executor.c's, alone.
 *
 * Build: with executor.c into one library (native/build.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/*
 * Blocks of 32 KiB and more from mmap, given back as soon as they are freed. Node reads every
 * socket and pty into a fresh 64 KiB block and shrinks it in place; left to glibc's defaults those
 * blocks come from the brk heap, which fragments around the small pieces kept and never shrinks:
 * a burst of 500 starts left 70 MB there for good (7 MB with this).
 */
int corral_tune_malloc(void)
{
	return mallopt(M_MMAP_THRESHOLD, 32 * 1024) == 1 ? 0 : -EINVAL;
}

/* Give the kernel back what malloc holds free (the agent calls it after a full GC, once quiet). */
int corral_malloc_trim(void)
{
	malloc_trim(0);
	return 0;
}

/* A stream socketpair for the sync protocol, both ends CLOEXEC; returned packed as (a << 32) | b. */
int64_t corral_socketpair(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
	return ((int64_t)sv[0] << 32) | (uint32_t)sv[1];
}

/* Reap `pid` if it has ended: its raw wait status + 2^32, 0 while it runs, or -errno. */
int64_t corral_reap(int pid)
{
	int status;
	pid_t ret = waitpid(pid, &status, WNOHANG | __WALL);
	if (ret < 0) return -errno;
	if (ret == 0) return 0;
	return (int64_t)(1LL << 32) + (uint32_t)status;
}

/*
 * Which child has ended, without reaping it (waitid WNOWAIT): 0 when none has, -errno (-ECHILD: no
 * children at all), else its pid in the low 32 bits and its raw wait status (as waitpid would give
 * it) above them. It may be one of libuv's, which the caller leaves to libuv.
 */
int64_t corral_exited_child(void)
{
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0) return -errno;
	if (info.si_pid == 0) return 0;
	int status;
	if (info.si_code == CLD_EXITED) status = (info.si_status & 0xff) << 8;
	else if (info.si_code == CLD_DUMPED) status = (info.si_status & 0x7f) | 0x80;
	else status = info.si_status & 0x7f;
	return ((int64_t)status << 32) | (uint32_t)info.si_pid;
}

/* A pty pair for a container's console; returned packed as (master << 32) | slave. */
int64_t corral_openpty(void)
{
	int master, slave;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0) return -errno;
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	return ((int64_t)master << 32) | (uint32_t)slave;
}

/* The uid of the process on the other end of a unix socket, or -errno. */
int64_t corral_peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
	return cred.uid;
}

/* A listening unix stream socket (CLOEXEC) bound to the abstract address "\0" + name[0..len).
 * The address length counts the leading NUL and the name only, as liblxc's
 * lxc_abstract_unix_connect does: abstract names are compared with their length, and Node's own
 * bind pads the name to the whole sun_path. Returns the fd or -errno. */
int corral_listen_abstract(const uint8_t *name, int len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (len <= 0 || (size_t)len >= sizeof(addr.sun_path)) return -ENAMETOOLONG;
	memcpy(&addr.sun_path[1], name, (size_t)len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -errno;
	socklen_t addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
	if (bind(fd, (struct sockaddr *)&addr, addrlen) < 0 || listen(fd, 100) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Write one buffer to a FIFO opened O_WRONLY|O_NONBLOCK, in one write; 0, or -errno
 * (-ENXIO / -ENOENT: nobody listens). */
int corral_fifo_write(const char *path, const uint8_t *buf, int len)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) return -errno;
	ssize_t n = write(fd, buf, (size_t)len);
	int err = errno;
	close(fd);
	return n == len ? 0 : (n < 0 ? -err : -EIO);
}

/* Send buf[0..len) on a connected unix socket with nfds descriptors (int32 each, in fds_buf)
 * attached as SCM_RIGHTS, in one sendmsg: how liblxc's command server hands a client its cgroup
 * directories. The bytes sent, or -errno. */
int corral_send_fds(int sock, const uint8_t *buf, int len, const uint8_t *fds_buf, int nfds)
{
	if (len <= 0 || nfds <= 0 || nfds > 253) return -EINVAL;
	size_t fds_size = (size_t)nfds * sizeof(int);
	union {
		char buf[CMSG_SPACE(253 * sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = (size_t)len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(fds_size),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(fds_size);
	memcpy(CMSG_DATA(cmsg), fds_buf, fds_size);
	ssize_t n;
	do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

/* Put a terminal in raw mode (cfmakeraw: no echo, no line editing, no output processing): the
 * agent's end of an lxc-console proxy passes bytes through unchanged. 0 or -errno. */
int corral_make_raw(int fd)
{
	struct termios tios;
	if (tcgetattr(fd, &tios) < 0) return -errno;
	cfmakeraw(&tios);
	return tcsetattr(fd, TCSANOW, &tios) < 0 ? -errno : 0;
}

/* Set a terminal's window size (TIOCSWINSZ): a console pty follows the size of the terminal that
 * shows it, as lxc-start -F passes its own on. 0 or -errno. */
int corral_set_winsize(int fd, int rows, int cols)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* A NETLINK_ROUTE socket (CLOEXEC) in the network namespace of `pid`, or in our own for pid 0.
 * A network namespace is per thread, and a socket stays bound to the namespace it was made in:
 * a thread of its own enters the target's, makes the socket and ends there, so no thread of
 * Node's ever leaves the host's namespace. The fd or -errno. */
struct netns_socket {
	int pid;
	int result;
};

static void *netns_socket_thread(void *arg)
{
	struct netns_socket *req = arg;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", req->pid);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		req->result = -errno;
		return NULL;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		req->result = -errno;
	} else {
		int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		req->result = fd < 0 ? -errno : fd;
	}
	close(target);
	return NULL;
}

int corral_netlink_socket(int pid)
{
	if (pid == 0) {
		int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		return fd < 0 ? -errno : fd;
	}
	struct netns_socket req = { .pid = pid, .result = -EINVAL };
	pthread_t thread;
	int err = pthread_create(&thread, NULL, netns_socket_thread, &req);
	if (err) return -err;
	pthread_join(thread, NULL);
	return req.result;
}

/* Does this datagram end a dump: an NLMSG_DONE or NLMSG_ERROR among its messages? */
static int netlink_dump_ends(const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return 1;
	return 0;
}

/* One rtnetlink request and its answer: send req[0..len), then receive into resp[0..resp_len)
 * one datagram, or for a dump request (NLM_F_DUMP) every datagram up to the one that ends it
 * (NLMSG_DONE), one after another. The bytes received, or -errno (-EMSGSIZE if the answer did
 * not fit; the rest of a dump is still read then, so that the socket holds nothing stale). */
int corral_netlink_call(int sock, const uint8_t *req, int len, uint8_t *resp, int resp_len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	do n = sendto(sock, req, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0) return -errno;
	int dump = len >= (int)sizeof(struct nlmsghdr) && (((const struct nlmsghdr *)req)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (!dump) {
		do n = recv(sock, resp, (size_t)resp_len, MSG_TRUNC);
		while (n < 0 && errno == EINTR);
		if (n < 0) return -errno;
		return n > resp_len ? -EMSGSIZE : (int)n;
	}
	int total = 0, overflow = 0;
	uint8_t *spill = NULL;
	for (;;) {
		size_t room = overflow ? 0 : (size_t)(resp_len - total);
		/* a datagram that may not fit goes to a scratch buffer first (the kernel's dump
		 * datagrams are at most 32 KiB) */
		if (room < 65536 && !spill && !(spill = malloc(65536))) return -ENOMEM;
		uint8_t *into = room >= 65536 ? resp + total : spill;
		size_t cap = room >= 65536 ? room : 65536;
		do n = recv(sock, into, cap, MSG_TRUNC);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			int err = errno;
			free(spill);
			return -err;
		}
		if ((size_t)n > cap) {
			/* cannot even see where it ends: the socket is no longer usable */
			free(spill);
			return -EMSGSIZE;
		}
		if (into == spill && !overflow) {
			if ((size_t)n <= room) memcpy(resp + total, spill, (size_t)n);
			else overflow = 1;
		}
		if (!overflow) total += (int)n;
		if (netlink_dump_ends(into, (size_t)n)) break;
	}
	free(spill);
	return overflow ? -EMSGSIZE : total;
}

/* A pidfd for `pid` (pidfd_open(2), Linux 5.3), close-on-exec; the fd or -errno. */
int corral_pidfd_open(int pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int corral_kill(int pid, int sig)
{
	return kill(pid, sig) < 0 ? -errno : 0;
}

/*
 * Put thread `tid` of this process under SCHED_IDLE: it runs only on core time no other policy
 * wants, and any other thread that wakes preempts it at once.
 */
int corral_sched_idle(int tid)
{
	struct sched_param param = { .sched_priority = 0 };
	return sched_setscheduler(tid, SCHED_IDLE, &param) < 0 ? -errno : 0;
}

int corral_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}
