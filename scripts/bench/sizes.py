"""Row: binary size (ELF parsed here: static = no PT_INTERP, stripped = no .symtab)."""
import os
import re
import struct
import subprocess

from vigiltest.paths import VIGIL

from .common import INITS, MIB, Row, log


def elf_info(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {"dynamic": None, "stripped": None}
    end = "<" if data[5] == 1 else ">"
    phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x36)
    dynamic = any(struct.unpack_from(end + "I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))
    symtab = any(struct.unpack_from(end + "I", data, shoff + i * shentsize + 4)[0] == 2 for i in range(shnum))
    return {"dynamic": dynamic, "stripped": not symtab}


def shared_libs_size(path):
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    total = 0
    for lib in re.findall(r"(/\S+)\s+\(0x", out):
        try:
            total += os.path.getsize(os.path.realpath(lib))
        except OSError:
            pass
    return total


def fmt_size(n):
    return f"{n / MIB:.2f} MiB" if n >= MIB else f"{n / 1024:.1f} KiB"


def run():
    cells = {}
    vigil_size = None
    for name, argv in INITS.items():
        path = argv[0]
        size = os.path.getsize(path)
        info = elf_info(path)
        if name == "vigil":
            vigil_size = size
        text = fmt_size(size)
        if info["dynamic"]:
            libs = shared_libs_size(path)
            text += f" dynamic (+{fmt_size(libs)} libs)" if libs else " dynamic"
        else:
            text += " static"
        if info["stripped"] is False:
            text += ", not stripped"
        cells[name] = text
    info = elf_info(VIGIL)
    if info["dynamic"] or not info["stripped"]:
        log("warning: vigil is " + ("dynamically linked" if info["dynamic"] else "not stripped"))
    target = 14 * MIB
    met = vigil_size <= target and info["dynamic"] is False and info["stripped"]
    note = f"{vigil_size / 1e6:.2f} MB = {vigil_size / target:.2f}x the 14 MiB target" if not met else ""
    return Row("binary size (stripped)", cells, target="≤ 14 MiB, static", met=met, note=note)
