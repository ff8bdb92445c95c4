"""A sandbox that refuses netlink sockets, as hardened runtimes do (gVisor has no sock_diag; seccomp
profiles may deny AF_NETLINK): `python3 sandbox.py -- COMMAND…` installs a seccomp filter that
fails socket(AF_NETLINK, …) with EPERM, then execs COMMAND, which inherits it.

Standard library only, and runnable as a file (`NO_NETLINK` is the prefix to put before a command),
since the processes it starts do not have the test suites' import path."""
import ctypes
import os
import platform
import struct
import sys

from_here = os.path.abspath(__file__)
NO_NETLINK = [sys.executable or "python3", from_here, "--"]

# (AUDIT_ARCH_*, the socket syscall's number) by machine.
ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
AF_NETLINK = 16
EPERM = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000


def instruction(code, jt, jf, k):
    return struct.pack("=HBBI", code, jt, jf, k)


def deny_netlink():
    """Installs the filter on the calling process (classic BPF over struct seccomp_data: nr at 0,
    arch at 4, args[0] at 16)."""
    arch, socket_nr = ARCHES[platform.machine()]
    load, jump_eq, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    program = b"".join([
        instruction(load, 0, 0, 4),
        instruction(jump_eq, 0, 5, arch),  # another architecture: allow
        instruction(load, 0, 0, 0),
        instruction(jump_eq, 0, 3, socket_nr),  # not socket(): allow
        instruction(load, 0, 0, 16),
        instruction(jump_eq, 0, 1, AF_NETLINK),
        instruction(ret, 0, 0, SECCOMP_RET_ERRNO | EPERM),
        instruction(ret, 0, 0, SECCOMP_RET_ALLOW),
    ])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4  # variadic: pointers must not be cut to int
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("=HxxxxxxQ", len(program) // 8, ctypes.addressof(buffer))
    fprog_buffer = ctypes.create_string_buffer(fprog)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog_buffer), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--":
        sys.exit("usage: sandbox.py -- COMMAND [ARGS…]")
    deny_netlink()
    os.execvp(sys.argv[2], sys.argv[2:])
