/* try-syscall: tries each named system call once, in a child of its own so
 * that one attempt's side effects (a new namespace, a personality) cannot
 * change the next one's answer, and prints "NAME 0" or "NAME ERRNONAME".
 *
 * Arguments are harmless: where the call would change something real they
 * are invalid (a bad pointer, fd -1, unknown flags), so that without a
 * seccomp filter the kernel answers with an errno the filter never uses
 * (EFAULT, EBADF, EINVAL...) and the filter's EPERM, ENOSYS or EAFNOSUPPORT
 * stands out. A call this ABI lacks prints "NAME unavailable"; a child
 * killed by a signal prints "NAME SIGSYS" and the like.
 *
 * Usage: try-syscall NAME...   (exit 2 on an unknown name) */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <linux/userfaultfd.h>

/* Built with the sanitizers too: LeakSanitizer's exit check uses ptrace,
 * which the filter under test denies, so it would abort every run. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "detect_leaks=0";
}

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* The kernel faults on it before doing anything. */
#define WRONG_POINTER ((void *) 1)

#define KEYCTL_NO_SUCH_OPERATION 0x7fffffffL
#define KEY_SPEC_PROCESS_KEYRING (-2L)
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define SOCKETCALL_SOCKET 1  /* SYS_SOCKET in <linux/net.h> */
#define CLONE3_ARGS_SIZE 88  /* CLONE_ARGS_SIZE_VER2 */
#define Q_GETINFO_USRQUOTA ((0x800005UL << 8) | 0)

typedef long (*attempt_fn) (void);

static long
closing (long fd)
{
  if (fd >= 0)
    close ((int) fd);
  return fd;
}

static long
try_chdir_tmp (void)
{
  return chdir ("/tmp");
}

/* Our own memory, with no vectors: allowed means 0. */
static long
try_process_vm_readv (void)
{
  return syscall (SYS_process_vm_readv, getpid (), NULL, 0UL, NULL, 0UL, 0UL);
}

static long
try_process_vm_writev (void)
{
  return syscall (SYS_process_vm_writev, getpid (), NULL, 0UL, NULL, 0UL, 0UL);
}

/* A real attach, to a child of our own, so that "allowed" means 0. */
static long
try_ptrace (void)
{
  pid_t target = fork ();
  long r;
  int saved;

  if (target < 0)
    return -1;
  if (target == 0)
    {
      pause ();
      _exit (0);
    }
  r = syscall (SYS_ptrace, PTRACE_SEIZE, target, NULL, NULL);
  saved = errno;
  kill (target, SIGKILL);
  waitpid (target, NULL, 0);
  errno = saved;
  return r;
}

static long
try_mount (void)
{
  return syscall (SYS_mount, WRONG_POINTER, WRONG_POINTER, WRONG_POINTER, 0UL, NULL);
}

#ifdef SYS_umount
static long
try_umount (void)
{
  return syscall (SYS_umount, WRONG_POINTER);
}
#endif

static long
try_umount2 (void)
{
  return syscall (SYS_umount2, WRONG_POINTER, 0);
}

static long
try_unshare_user (void)
{
  return syscall (SYS_unshare, CLONE_NEWUSER);
}

static long
try_unshare_mount (void)
{
  return syscall (SYS_unshare, CLONE_NEWNS);
}

/* The raw call, not glibc's clone(): the filter sees exactly these flags.
 * Without CLONE_VM the child runs on a copy of our stack, as after fork. */
static long
raw_clone (unsigned long flags)
{
  long r = syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  int saved;

  if (r == 0)
    _exit (0);
  if (r < 0)
    return r;
  saved = errno;
  waitpid ((pid_t) r, NULL, 0);
  errno = saved;
  return 0;
}

static long try_clone_plain (void) { return raw_clone (0); }
static long try_clone_newuser (void) { return raw_clone (CLONE_NEWUSER); }
static long try_clone_newns (void) { return raw_clone (CLONE_NEWNS); }
static long try_clone_newpid (void) { return raw_clone (CLONE_NEWPID); }
static long try_clone_newnet (void) { return raw_clone (CLONE_NEWNET); }
static long try_clone_newuts (void) { return raw_clone (CLONE_NEWUTS); }
static long try_clone_newipc (void) { return raw_clone (CLONE_NEWIPC); }
static long try_clone_newcgroup (void) { return raw_clone (CLONE_NEWCGROUP); }

static long
try_clone3 (void)
{
  return syscall (SYS_clone3, WRONG_POINTER, (size_t) CLONE3_ARGS_SIZE);
}

static long
try_open_tree (void)
{
  return closing (syscall (SYS_open_tree, AT_FDCWD, WRONG_POINTER, 0U));
}

static long
try_move_mount (void)
{
  return syscall (SYS_move_mount, -1, WRONG_POINTER, -1, WRONG_POINTER, 0U);
}

static long
try_fsopen (void)
{
  return closing (syscall (SYS_fsopen, WRONG_POINTER, 0U));
}

static long
try_fsconfig (void)
{
  return syscall (SYS_fsconfig, -1, 0U, NULL, NULL, 0);
}

static long
try_fsmount (void)
{
  return closing (syscall (SYS_fsmount, -1, 0U, 0U));
}

static long
try_fspick (void)
{
  return closing (syscall (SYS_fspick, AT_FDCWD, WRONG_POINTER, 0U));
}

static long
try_mount_setattr (void)
{
  return syscall (SYS_mount_setattr, -1, WRONG_POINTER, 0U, WRONG_POINTER, (size_t) 0);
}

static long
try_io_uring_setup (void)
{
  return closing (syscall (SYS_io_uring_setup, 1U, WRONG_POINTER));
}

static long
try_io_uring_enter (void)
{
  return syscall (SYS_io_uring_enter, -1, 0U, 0U, 0U, NULL, (size_t) 0);
}

static long
try_io_uring_register (void)
{
  return syscall (SYS_io_uring_register, -1, 0U, NULL, 0U);
}

static long
try_keyctl (void)
{
  return syscall (SYS_keyctl, KEYCTL_NO_SUCH_OPERATION, 0L, 0L, 0L, 0L);
}

static long
try_add_key (void)
{
  return syscall (SYS_add_key, WRONG_POINTER, WRONG_POINTER, NULL, (size_t) 0, KEY_SPEC_PROCESS_KEYRING);
}

static long
try_request_key (void)
{
  return syscall (SYS_request_key, WRONG_POINTER, WRONG_POINTER, NULL, 0L);
}

static long
try_bpf (void)
{
  return syscall (SYS_bpf, -1, NULL, 0U);
}

static long
try_userfaultfd (void)
{
  return closing (syscall (SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
}

static long
try_perf_event_open (void)
{
  return closing (syscall (SYS_perf_event_open, WRONG_POINTER, 0, -1, -1, 0UL));
}

static long
positive_is_success (long r)
{
  return r < 0 ? r : 0;
}

static long
try_personality_unsafe (void)
{
  return positive_is_success (syscall (SYS_personality, (unsigned long) (READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE)));
}

#if __SIZEOF_LONG__ == 8
/* The kernel reads an unsigned int: these high bits are dropped, and must
 * not hide the unsafe value from the filter. */
static long
try_personality_unsafe_high (void)
{
  return positive_is_success (syscall (SYS_personality, 0xffffffff00000000UL | ADDR_NO_RANDOMIZE));
}
#endif

static long
try_personality_query (void)
{
  return positive_is_success (syscall (SYS_personality, 0xffffffffUL));
}

static long
try_personality_linux (void)
{
  return positive_is_success (syscall (SYS_personality, (unsigned long) PER_LINUX));
}

static long
try_personality_linux32 (void)
{
  return positive_is_success (syscall (SYS_personality, (unsigned long) PER_LINUX32));
}

/* fd -1 rather than the terminal: without the filter nothing is typed into
 * whoever runs this by hand; the filter decides on the request alone. */
static long
try_tiocsti (void)
{
  char c = 'x';
  return syscall (SYS_ioctl, -1, (unsigned long) TIOCSTI, &c);
}

#if __SIZEOF_LONG__ == 8
/* CVE-2019-10063: the kernel truncates the request to 32 bits. */
static long
try_tiocsti_high (void)
{
  char c = 'x';
  return syscall (SYS_ioctl, -1, 0xffffffff00000000UL | TIOCSTI, &c);
}
#endif

static long
try_tioclinux (void)
{
  char subcode = 2; /* TIOCL_SETSEL */
  return syscall (SYS_ioctl, -1, (unsigned long) TIOCLINUX, &subcode);
}

static long
try_ioctl_tcgets (void)
{
  char buf[64];
  return syscall (SYS_ioctl, -1, (unsigned long) TCGETS, buf);
}

static long
raw_socket (int family, int type, int protocol)
{
  return closing (syscall (SYS_socket, family, type | SOCK_CLOEXEC, protocol));
}

static long try_socket_packet (void) { return raw_socket (AF_PACKET, SOCK_RAW, 0); }
static long try_socket_bluetooth (void) { return raw_socket (AF_BLUETOOTH, SOCK_RAW, 0); }
static long try_socket_alg (void) { return raw_socket (AF_ALG, SOCK_SEQPACKET, 0); }
static long try_socket_key (void) { return raw_socket (AF_KEY, SOCK_RAW, 2 /* PF_KEY_V2 */); }
static long try_socket_unspec (void) { return raw_socket (AF_UNSPEC, SOCK_STREAM, 0); }
static long try_socket_inet (void) { return raw_socket (AF_INET, SOCK_STREAM, 0); }
static long try_socket_inet6 (void) { return raw_socket (AF_INET6, SOCK_STREAM, 0); }
static long try_socket_unix (void) { return raw_socket (AF_UNIX, SOCK_STREAM, 0); }
static long try_socket_netlink (void) { return raw_socket (AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */); }

#ifdef SYS_socketcall
/* What 32-bit glibc's socket() does: the family sits behind a pointer. */
static long
raw_socketcall (int family)
{
  unsigned long args[3] = { (unsigned long) family, SOCK_STREAM | SOCK_CLOEXEC, 0 };
  return closing (syscall (SYS_socketcall, SOCKETCALL_SOCKET, args));
}

static long try_socketcall_unix (void) { return raw_socketcall (AF_UNIX); }
static long try_socketcall_inet (void) { return raw_socketcall (AF_INET); }
#endif

static long
try_kexec_load (void)
{
  /* Unknown flags and too many segments: rejected before anything loads or
   * unloads, even for root. */
  return syscall (SYS_kexec_load, 0UL, 0xffffUL, NULL, 0xdead0000UL);
}

#ifdef SYS_kexec_file_load
static long
try_kexec_file_load (void)
{
  return syscall (SYS_kexec_file_load, -1, -1, 0UL, NULL, 0xdead0000UL);
}
#endif

static long
try_init_module (void)
{
  return syscall (SYS_init_module, WRONG_POINTER, 0UL, "");
}

static long
try_finit_module (void)
{
  return syscall (SYS_finit_module, -1, "", 0);
}

static long
try_delete_module (void)
{
  return syscall (SYS_delete_module, WRONG_POINTER, 0U);
}

static long
try_syslog (void)
{
  return positive_is_success (syscall (SYS_syslog, SYSLOG_ACTION_SIZE_BUFFER, NULL, 0));
}

static long
try_chroot (void)
{
  return syscall (SYS_chroot, WRONG_POINTER);
}

static long
try_pivot_root (void)
{
  return syscall (SYS_pivot_root, WRONG_POINTER, WRONG_POINTER);
}

static long
try_setns (void)
{
  return syscall (SYS_setns, -1, 0);
}

#ifdef SYS_modify_ldt
static long
try_modify_ldt (void)
{
  char buf[16];
  return positive_is_success (syscall (SYS_modify_ldt, 0, buf, sizeof buf));
}
#endif

static long
try_acct (void)
{
  return syscall (SYS_acct, WRONG_POINTER);
}

static long
try_quotactl (void)
{
  return syscall (SYS_quotactl, Q_GETINFO_USRQUOTA, WRONG_POINTER, 0, NULL);
}

#ifdef SYS_uselib
static long
try_uselib (void)
{
  return syscall (SYS_uselib, WRONG_POINTER);
}
#endif

static long
try_move_pages (void)
{
  return syscall (SYS_move_pages, 0, 0UL, NULL, NULL, NULL, ~0);
}

static long
try_mbind (void)
{
  return syscall (SYS_mbind, NULL, 0UL, 1000, NULL, 0UL, 0U);
}

static long
try_get_mempolicy (void)
{
  return syscall (SYS_get_mempolicy, NULL, NULL, 0UL, NULL, 0UL);
}

static long
try_set_mempolicy (void)
{
  return syscall (SYS_set_mempolicy, 1000, NULL, 0UL);
}

static long
try_migrate_pages (void)
{
  return syscall (SYS_migrate_pages, -1, 0UL, NULL, NULL);
}

#ifdef SYS_lookup_dcookie
static long
try_lookup_dcookie (void)
{
  return syscall (SYS_lookup_dcookie, 0ULL, NULL, (size_t) 0);
}
#endif

#ifdef SYS_vm86
static long
try_vm86 (void)
{
  return syscall (SYS_vm86, 0UL, WRONG_POINTER);
}
#endif

#ifdef SYS_vm86old
static long
try_vm86old (void)
{
  return syscall (SYS_vm86old, WRONG_POINTER);
}
#endif

#ifdef SYS_nfsservctl
static long
try_nfsservctl (void)
{
  return syscall (SYS_nfsservctl, 0, NULL, NULL);
}
#endif

static long
try_landlock (void)
{
  return closing (positive_is_success (syscall (SYS_landlock_create_ruleset, NULL, (size_t) 0,
                                                LANDLOCK_CREATE_RULESET_VERSION)));
}

static long
try_landlock_add_rule (void)
{
  return syscall (SYS_landlock_add_rule, -1, 1, WRONG_POINTER, 0U);
}

static long
try_landlock_restrict_self (void)
{
  return syscall (SYS_landlock_restrict_self, -1, 0U);
}

#define UNAVAILABLE NULL

static const struct
{
  const char *name;
  attempt_fn fn; /* UNAVAILABLE when this ABI has no such call */
} attempts[] = {
  { "chdir-tmp", try_chdir_tmp },
  { "ptrace", try_ptrace },
  { "process_vm_readv", try_process_vm_readv },
  { "process_vm_writev", try_process_vm_writev },
  { "mount", try_mount },
#ifdef SYS_umount
  { "umount", try_umount },
#else
  { "umount", UNAVAILABLE },
#endif
  { "umount2", try_umount2 },
  { "unshare-user", try_unshare_user },
  { "unshare-mount", try_unshare_mount },
  { "clone-plain", try_clone_plain },
  { "clone-newuser", try_clone_newuser },
  { "clone-newns", try_clone_newns },
  { "clone-newpid", try_clone_newpid },
  { "clone-newnet", try_clone_newnet },
  { "clone-newuts", try_clone_newuts },
  { "clone-newipc", try_clone_newipc },
  { "clone-newcgroup", try_clone_newcgroup },
  { "clone3", try_clone3 },
  { "open_tree", try_open_tree },
  { "move_mount", try_move_mount },
  { "fsopen", try_fsopen },
  { "fsconfig", try_fsconfig },
  { "fsmount", try_fsmount },
  { "fspick", try_fspick },
  { "mount_setattr", try_mount_setattr },
  { "io_uring_setup", try_io_uring_setup },
  { "io_uring_enter", try_io_uring_enter },
  { "io_uring_register", try_io_uring_register },
  { "keyctl", try_keyctl },
  { "add_key", try_add_key },
  { "request_key", try_request_key },
  { "bpf", try_bpf },
  { "userfaultfd", try_userfaultfd },
  { "perf_event_open", try_perf_event_open },
  { "personality-unsafe", try_personality_unsafe },
#if __SIZEOF_LONG__ == 8
  { "personality-unsafe-high", try_personality_unsafe_high },
#else
  { "personality-unsafe-high", UNAVAILABLE },
#endif
  { "personality-query", try_personality_query },
  { "personality-linux", try_personality_linux },
  { "personality-linux32", try_personality_linux32 },
  { "tiocsti", try_tiocsti },
#if __SIZEOF_LONG__ == 8
  { "tiocsti-high", try_tiocsti_high },
#else
  { "tiocsti-high", UNAVAILABLE },
#endif
  { "tioclinux", try_tioclinux },
  { "ioctl-tcgets", try_ioctl_tcgets },
  { "socket-packet", try_socket_packet },
  { "socket-bluetooth", try_socket_bluetooth },
  { "socket-alg", try_socket_alg },
  { "socket-key", try_socket_key },
  { "socket-unspec", try_socket_unspec },
  { "socket-inet", try_socket_inet },
  { "socket-inet6", try_socket_inet6 },
  { "socket-unix", try_socket_unix },
  { "socket-netlink", try_socket_netlink },
#ifdef SYS_socketcall
  { "socketcall-unix", try_socketcall_unix },
  { "socketcall-inet", try_socketcall_inet },
#else
  { "socketcall-unix", UNAVAILABLE },
  { "socketcall-inet", UNAVAILABLE },
#endif
  { "kexec_load", try_kexec_load },
#ifdef SYS_kexec_file_load
  { "kexec_file_load", try_kexec_file_load },
#else
  { "kexec_file_load", UNAVAILABLE },
#endif
  { "init_module", try_init_module },
  { "finit_module", try_finit_module },
  { "delete_module", try_delete_module },
  { "syslog", try_syslog },
  { "chroot", try_chroot },
  { "pivot_root", try_pivot_root },
  { "setns", try_setns },
#ifdef SYS_modify_ldt
  { "modify_ldt", try_modify_ldt },
#else
  { "modify_ldt", UNAVAILABLE },
#endif
  { "acct", try_acct },
  { "quotactl", try_quotactl },
#ifdef SYS_uselib
  { "uselib", try_uselib },
#else
  { "uselib", UNAVAILABLE },
#endif
  { "move_pages", try_move_pages },
  { "mbind", try_mbind },
  { "get_mempolicy", try_get_mempolicy },
  { "set_mempolicy", try_set_mempolicy },
  { "migrate_pages", try_migrate_pages },
#ifdef SYS_lookup_dcookie
  { "lookup_dcookie", try_lookup_dcookie },
#else
  { "lookup_dcookie", UNAVAILABLE },
#endif
#ifdef SYS_vm86
  { "vm86", try_vm86 },
#else
  { "vm86", UNAVAILABLE },
#endif
#ifdef SYS_vm86old
  { "vm86old", try_vm86old },
#else
  { "vm86old", UNAVAILABLE },
#endif
#ifdef SYS_nfsservctl
  { "nfsservctl", try_nfsservctl },
#else
  { "nfsservctl", UNAVAILABLE },
#endif
  { "landlock", try_landlock },
  { "landlock_add_rule", try_landlock_add_rule },
  { "landlock_restrict_self", try_landlock_restrict_self },
};

static void
print_errno (const char *name, int error)
{
  const char *errname = strerrorname_np (error);

  if (errname != NULL)
    printf ("%s %s\n", name, errname);
  else
    printf ("%s errno%d\n", name, error);
}

static void
run (const char *name, attempt_fn fn)
{
  pid_t pid;
  int status;

  if (fn == UNAVAILABLE)
    {
      printf ("%s unavailable\n", name);
      return;
    }

  /* The child must not inherit unflushed output and print it twice. */
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      print_errno ("fork", errno);
      return;
    }
  if (pid == 0)
    {
      long r;

      errno = 0;
      r = fn ();
      _exit (r >= 0 ? 0 : (errno > 0 && errno < 255 ? errno : 255));
    }

  while (waitpid (pid, &status, 0) < 0)
    {
      if (errno != EINTR)
        {
          print_errno ("waitpid", errno);
          return;
        }
    }
  if (WIFSIGNALED (status))
    printf ("%s SIG%s\n", name, sigabbrev_np (WTERMSIG (status)) ? sigabbrev_np (WTERMSIG (status)) : "?");
  else if (WEXITSTATUS (status) == 0)
    printf ("%s 0\n", name);
  else
    print_errno (name, WEXITSTATUS (status));
}

static attempt_fn
lookup (const char *name, int *found)
{
  size_t j;

  for (j = 0; j < sizeof attempts / sizeof attempts[0]; j++)
    {
      if (strcmp (name, attempts[j].name) == 0)
        {
          *found = 1;
          return attempts[j].fn;
        }
    }
  *found = 0;
  return UNAVAILABLE;
}

int
main (int argc, char *argv[])
{
  int i;
  int found;

  /* All names first, so that a typo prints nothing but the error. */
  for (i = 1; i < argc; i++)
    {
      lookup (argv[i], &found);
      if (!found)
        {
          fprintf (stderr, "try-syscall: unknown name: %s\n", argv[i]);
          return 2;
        }
    }
  for (i = 1; i < argc; i++)
    run (argv[i], lookup (argv[i], &found));
  return fflush (stdout) == 0 ? 0 : 1;
}
