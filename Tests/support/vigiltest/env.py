"""Environments for the processes the tests start."""
import os


def base_env(**extra):
    """The caller's environment without any VIGIL_* (vigil rejects unknown ones and would read
    the caller's settings), plus EXTRA, every value as a string."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def vigil_env(port=None, **settings):
    """base_env for vigil: no drain delay (tests would wait 5 s on every stop), the probe server
    on 127.0.0.1:PORT or off, then SETTINGS."""
    merged = {"VIGIL_DRAIN_DELAY": "0", "VIGIL_LISTEN": f"127.0.0.1:{port}" if port else "off"}
    merged.update(settings)
    return base_env(**merged)
