#define _GNU_SOURCE
#include "CVigilSystem.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
    // glibc's posix_spawn leaves its internal signals 32 and 33 ignored in the child unless they
    // are in the sigdefault set, and sigaddset refuses them: set their bits directly.
    sigset_t all_defaults = *defaults;
    all_defaults.__val[0] |= (1UL << 31) | (1UL << 32);
    posix_spawnattr_setsigdefault(&attr, &all_defaults);
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
    if (stdio.extra_fd >= 0 && stdio.extra_target >= 0 && stdio.extra_fd != stdio.extra_target) {
        posix_spawn_file_actions_adddup2(&actions, stdio.extra_fd, stdio.extra_target);
    }

    rc = posix_spawnp(pid_out, file, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

void cvigil_cloexec_all_except(const int *keep, int keep_count) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        // No /proc: mark the low range, where vigil's own descriptors are.
        for (int fd = 3; fd < 1024; fd++) {
            int keep_it = 0;
            for (int i = 0; i < keep_count; i++) if (keep[i] == fd) keep_it = 1;
            int flags = fcntl(fd, F_GETFD);
            if (!keep_it && flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
        return;
    }
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd < 3 || fd == own) continue;
        int keep_it = 0;
        for (int i = 0; i < keep_count; i++) if (keep[i] == fd) keep_it = 1;
        if (keep_it) continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
}

int cvigil_list_fds(int *out, int max) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return 0;
    int own = dirfd(dir), count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < max) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd >= 3 && fd != own) out[count++] = fd;
    }
    closedir(dir);
    return count;
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


int cvigil_set_parent_death_signal(int signo) { return prctl(PR_SET_PDEATHSIG, signo, 0, 0, 0); }

// The kernel keeps each thread's children in /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN):
// a few small reads, where scanning /proc/*/stat reads a file per process on the machine.
static int children_from_tasks(pid_t parent, pid_t *out, int max) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)parent);
    DIR *tasks = opendir(path);
    if (tasks == NULL) return -1;
    int count = 0;
    int supported = 0;
    struct dirent *entry;
    char buffer[4096];
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/children", (int)parent, entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        supported = 1;
        ssize_t length;
        char carry[16];
        size_t carried = 0;
        while ((length = read(fd, buffer, sizeof buffer)) > 0) {
            for (ssize_t i = 0; i < length; i++) {
                char c = buffer[i];
                if (c >= '0' && c <= '9') {
                    if (carried < sizeof carry - 1) carry[carried++] = c;
                } else if (carried > 0) {
                    carry[carried] = '\0';
                    if (count < max) out[count++] = (pid_t)strtol(carry, NULL, 10);
                    carried = 0;
                }
            }
        }
        if (carried > 0 && count < max) {
            carry[carried] = '\0';
            out[count++] = (pid_t)strtol(carry, NULL, 10);
        }
        close(fd);
    }
    closedir(tasks);
    return supported ? count : -1;
}

static int children_from_stat(pid_t parent, pid_t *out, int max) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) return -1;
    int count = 0;
    struct dirent *entry;
    char path[64];
    char buffer[512];
    while ((entry = readdir(proc)) != NULL && count < max) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t length = read(fd, buffer, sizeof buffer - 1);
        close(fd);
        if (length <= 0) continue;
        buffer[length] = '\0';
        // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
        char *end = strrchr(buffer, ')');
        if (end == NULL || end[1] != ' ' || end[2] == '\0' || end[3] != ' ') continue;
        long ppid = strtol(end + 4, NULL, 10);
        if (ppid == parent) out[count++] = (pid_t)strtol(entry->d_name, NULL, 10);
    }
    closedir(proc);
    return count;
}

int cvigil_children(pid_t parent, pid_t *out, int max) {
    int count = children_from_tasks(parent, out, max);
    return count >= 0 ? count : children_from_stat(parent, out, max);
}

void cvigil_die_like(int signo) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(signo, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signo);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(signo);
    _exit(128 + signo);
}

// A static Swift binary's runtime looks up its own path at start (for the backtracer) through
// /proc/self/exe, and aborts with "Unable to obtain Swift runtime path" where /proc is not
// mounted (a chroot, some sandboxes). Naming the backtracer before that lookup skips it. This
// runs before the runtime's own initializers (priority 101 comes before C++'s default); main
// removes the variable again so the app's environment stays exactly what vigil was given.
static int backtrace_setting_added = 0;
// glibc hands init functions the process's arguments; the static Swift runtime reads them from
// /proc/self/cmdline otherwise, and sees none without /proc.
static int saved_argc = 0;
static char **saved_argv = NULL;

__attribute__((constructor(101))) static void cvigil_start_without_proc(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
    if (getenv("SWIFT_BACKTRACE") == NULL && access("/proc/self/exe", F_OK) != 0) {
        setenv("SWIFT_BACKTRACE", "enable=no,swift-backtrace=/dev/null", 1);
        backtrace_setting_added = 1;
    }
}

char **cvigil_arguments(int *count) {
    *count = saved_argc;
    return saved_argv;
}

void cvigil_restore_environment(void) {
    if (backtrace_setting_added) unsetenv("SWIFT_BACKTRACE");
    backtrace_setting_added = 0;
}
