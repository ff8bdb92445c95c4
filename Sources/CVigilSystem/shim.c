#define _GNU_SOURCE
#include "CVigilSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int cvigil_spawn(const char *file, char *const argv[], char *const envp[],
                 const sigset_t *mask, const sigset_t *defaults,
                 cvigil_stdio stdio, int take_terminal, pid_t *pid_out) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0) return rc;
    rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) { posix_spawnattr_destroy(&attr); return rc; }

    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setsigmask(&attr, mask);
    posix_spawnattr_setsigdefault(&attr, defaults);
    posix_spawnattr_setpgroup(&attr, 0);
#ifdef POSIX_SPAWN_TCSETPGROUP
    // Like tini: an interactive app must own the terminal, or reading it stops it with SIGTTIN.
    if (take_terminal && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
        flags |= POSIX_SPAWN_TCSETPGROUP;
        posix_spawnattr_tcsetpgrp_np(&attr, STDIN_FILENO);
    }
#else
    (void)take_terminal;
#endif
    posix_spawnattr_setflags(&attr, flags);

    if (stdio.stdin_devnull) {
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    } else if (stdio.stdin_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, stdio.stdin_fd, STDIN_FILENO);
    }
    if (stdio.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdio.stdout_fd, STDOUT_FILENO);
    if (stdio.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdio.stderr_fd, STDERR_FILENO);

    rc = posix_spawnp(pid_out, file, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int cvigil_sigwait(const sigset_t *set, pid_t *sender) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int signo = sigwaitinfo(set, &info);
    if (signo > 0 && sender) {
        *sender = (info.si_code == SI_USER || info.si_code == SI_QUEUE) ? info.si_pid : 0;
    }
    return signo;
}

int cvigil_signal_is_ignored(int signo) {
    struct sigaction current;
    if (sigaction(signo, NULL, &current) != 0) return 0;
    return current.sa_handler == SIG_IGN;
}

int cvigil_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int cvigil_wifexited(int status) { return WIFEXITED(status); }
int cvigil_wexitstatus(int status) { return WEXITSTATUS(status); }
int cvigil_wifsignaled(int status) { return WIFSIGNALED(status); }
int cvigil_wtermsig(int status) { return WTERMSIG(status); }

int cvigil_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
