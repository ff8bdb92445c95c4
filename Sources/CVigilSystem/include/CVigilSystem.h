#ifndef CVIGIL_SYSTEM_H
#define CVIGIL_SYSTEM_H

#include <signal.h>
#include <sys/types.h>

/// How the child's standard streams are set up. -1 means "inherit vigil's".
typedef struct {
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /// Open /dev/null as stdin instead of stdin_fd.
    int stdin_devnull;
    /// One more descriptor for the child: `extra_fd` becomes its `extra_target` (-1: none), as
    /// for s6's readiness notification (`VIGIL_NOTIFY_FD`).
    int extra_fd;
    int extra_target;
} cvigil_stdio;

/// posix_spawnp with the settings a PID 1 needs: the given signal mask, every signal in `defaults`
/// reset to SIG_DFL, its own process group, and the terminal's foreground group handed to the
/// child when `take_terminal` is set and vigil owns the terminal. Returns 0 or an errno value.
int cvigil_spawn(const char *file, char *const argv[], char *const envp[],
                 const sigset_t *mask, const sigset_t *defaults,
                 cvigil_stdio stdio, int take_terminal, pid_t *pid_out);

/// Marks every open descriptor >= 3 close-on-exec except those in `keep` (the ones vigil
/// inherited, which the app gets like under tini). SwiftNIO opens its epoll and listening
/// descriptors without O_CLOEXEC, so this runs before each spawn.
void cvigil_cloexec_all_except(const int *keep, int keep_count);

/// The open descriptors >= 3, at most `max` of them; 0 when /proc is not mounted.
int cvigil_list_fds(int *out, int max);

/// sigwaitinfo that reports the signal and the sender's pid (0 when unknown). Returns the signal
/// number or -1 with errno set.
int cvigil_sigwait(const sigset_t *set, pid_t *sender);

/// Whether the signal's current disposition is SIG_IGN.
int cvigil_signal_is_ignored(int signo);

int cvigil_set_child_subreaper(void);

/// Removes what the start-up constructor added to the environment for the Swift runtime (only
/// where /proc is missing), so the app gets vigil's environment unchanged. Call first in main.
void cvigil_restore_environment(void);

/// The process's argc/argv as the C start-up code saw them (they do not depend on /proc).
char **cvigil_arguments(int *count);

/// PR_SET_PDEATHSIG: `signo` arrives when the parent dies.
int cvigil_set_parent_death_signal(int signo);

/// The pids whose parent is `parent` (from /proc/PID/task/*/children, else /proc/*/stat), at most
/// `max`; -1 without /proc.
int cvigil_children(pid_t parent, pid_t *out, int max);

/// Ends the calling process by `signo` with its default action (no core file), as the child
/// whose end it reports did.
__attribute__((noreturn)) void cvigil_die_like(int signo);

/// pipe2(O_CLOEXEC), which Swift cannot see without _GNU_SOURCE.
int cvigil_pipe_cloexec(int fds[2]);

/// sd_notify: an abstract-namespace (`@name`) unix datagram socket with SO_PASSCRED, close-on-exec.
/// Returns the descriptor, or -1 with errno set.
int cvigil_notify_socket(const char *name);

/// Blocks for one datagram (at most `capacity` bytes kept); `sender` gets its pid from
/// SCM_CREDENTIALS (0 when none) and `sender_group` that pid's process group (-1 when unknown).
/// Passed descriptors are closed. Returns the length kept, or -1 with errno set.
ssize_t cvigil_notify_receive(int fd, void *buffer, size_t capacity, pid_t *sender, pid_t *sender_group);

/// sock_diag (the drain's view of TCP connections): a NETLINK_SOCK_DIAG socket, close-on-exec, whose
/// receives give up after 500 ms. Returns the descriptor, or -1 with errno set.
int cvigil_sock_diag_open(void);

/// Sends an inet_diag_req_v2 dump request for TCP sockets of `family` in `states` (a bit per TCP
/// state) with their tcp_info, and `bytecode` (an INET_DIAG_REQ_BYTECODE filter, at most 4096
/// bytes; none when 0 long). Returns 0, or -1 with errno set.
int cvigil_sock_diag_request(int fd, int family, unsigned states, const void *bytecode, size_t bytecode_length,
                             unsigned sequence);

/// One datagram of the reply. Returns its full length, more than `capacity` when it was cut, or -1
/// with errno set.
ssize_t cvigil_sock_diag_receive(int fd, void *buffer, size_t capacity);

int cvigil_wifexited(int status);
int cvigil_wexitstatus(int status);
int cvigil_wifsignaled(int status);
int cvigil_wtermsig(int status);

#endif
