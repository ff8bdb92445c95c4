"""Processes, read from /proc, and started so that none outlives its owner.

`Processes` is the registry the benchmarks use: every process it spawns is stopped, with
everything below it, by `stop` or at the latest by `stop_all` (on exit and on signals)."""
import os
import resource
import signal
import subprocess


def read(path):
    """A file's text, or None when it cannot be read (a process that has gone)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (0 is the state, 1 the ppid, 2 the pgid);
    [] when PID is gone. The name is skipped by its last ')', as it may hold spaces and parens."""
    text = read(f"/proc/{pid}/stat")
    return text.rpartition(")")[2].split() if text else []


def state(pid):
    """One-letter state of PID, or None when it is gone."""
    fields = stat_fields(pid)
    return fields[0] if fields else None


def status_field(pid, field):
    """A field of /proc/PID/status ("PPid", "VmHWM", ...) as text, or None."""
    for line in (read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def gone(pid):
    """PID no longer exists (or is a zombie about to be reaped by someone who is not us)."""
    return state(pid) in (None, "Z")


def cmdline(pid):
    """argv of PID, [] when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def descriptors(pid):
    """{fd: what it points to} of PID's open file descriptors."""
    result = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            result[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return result


def children(pid):
    """Direct children of PID (of any of its threads)."""
    found = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        found += [int(c) for c in (read(f"/proc/{pid}/task/{tid}/children") or "").split()]
    return found


def snapshot():
    """{pid: (state, ppid, pgid, argv)} of every process now."""
    result = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields, argv = stat_fields(entry), cmdline(entry)
            if fields:
                result[int(entry)] = (fields[0], int(fields[1]), int(fields[2]), argv)
    return result


def descendants(pid):
    """Every process below PID (children, grandchildren, ...)."""
    below = {}
    for entry in os.listdir("/proc"):
        fields = stat_fields(entry) if entry.isdigit() else []
        if fields:
            below.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in below.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def with_marker(marker):
    """The processes with MARKER in an argument (tests run `sleep 1000.<random>` to find theirs)."""
    return {pid: p for pid, p in snapshot().items() if any(marker in a for a in p[3])}


def zombies_of(pid):
    return {child: p for child, p in snapshot().items() if p[1] == pid and p[0] == "Z"}


def pids_tagged(variable, tag):
    """Processes whose environment holds VARIABLE=TAG: a process and all it started, even those
    re-parented elsewhere after their parent died."""
    needle = f"{variable}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def raise_open_files(at_least):
    """Raises this process's soft RLIMIT_NOFILE to AT_LEAST (capped by the hard limit), so that it
    and every process it starts from now on (they inherit it) can hold that many descriptors;
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = at_least if hard == resource.RLIM_INFINITY else min(at_least, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


def kill_all(pids, sig=signal.SIGKILL):
    """Sends SIG to each of PIDS that still exists."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def stop_tree(proc, grace=3.0):
    """SIGTERM to PROC, up to GRACE s for it to go, then SIGKILL for it, everything below it and its
    process group (PROC was started in a session of its own)."""
    if proc.poll() is None:
        below = descendants(proc.pid)
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        kill_all([proc.pid] + below + descendants(proc.pid))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Processes:
    """Owns the processes it spawns: each in a session of its own, stdin from /dev/null."""

    def __init__(self, env=None):
        self.env = env
        self.running = []

    def spawn(self, argv, env=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        proc = subprocess.Popen(argv, env=env if env is not None else self.env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True)
        self.running.append(proc)
        return proc

    def stop(self, proc, grace=3.0):
        stop_tree(proc, grace)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self, grace=1.0):
        for proc in list(self.running):
            self.stop(proc, grace)
