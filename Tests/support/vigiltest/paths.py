"""Where things are: the repository, the vigil binary under test, the demo app."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# VIGIL_BIN picks another build; read once, at import, like every suite did.
VIGIL = os.path.abspath(os.environ.get("VIGIL_BIN") or os.path.join(ROOT, "out", "vigil"))
DEMO_APP = os.path.join(ROOT, "examples", "demo-app", "app.py")
PYTHON = sys.executable or "python3"
# The system's Python, which every user may run (a pyenv one may live in root's home): for apps
# started as another user (VIGIL_USER).
SYSTEM_PYTHON = "/usr/bin/python3"


def tool(name):
    """Path of a tool on PATH or in /usr/sbin and /usr/bin (haproxy and nginx live in sbin), or None."""
    import shutil
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/bin"):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None
