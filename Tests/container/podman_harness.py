"""podman + runc plumbing for vigil's container suite: base images, images from the template,
containers that are always removed.

Everything runs as root with `podman --storage-driver vfs --cgroup-manager cgroupfs --runtime runc`
(crun and overlay do not work on every CI machine) and needs no registry: the bases are made here.

Bases (kept between runs, rebuilt only when missing; `podman rmi` them to start cold):
  scratch  FROM scratch + busybox-static (Debian's /usr/bin/busybox) and its applet links in /bin:
           a fully static "app" with nothing else in the image.
  debian   a Debian 12 minbase rootfs made with debootstrap from deb.debian.org, trimmed like
           debian:bookworm-slim, and `podman import`ed (about 40 s + 5 s on 2 cores).
           VIGIL_TEST_DEBIAN_BASE=busybox uses a busybox rootfs in Debian's directory layout
           instead, for machines that cannot reach a Debian mirror; VIGIL_TEST_DEBIAN_MIRROR picks
           another mirror.
The vigil images themselves are built from Dockerfile.template for each run and removed after it.
"""
import hashlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.path.abspath(os.environ.get("VIGIL_BIN", os.path.join(ROOT, "out", "vigil")))
TEMPLATE = os.path.join(ROOT, "Dockerfile.template")
BUSYBOX = "/usr/bin/busybox"

PODMAN = ["podman", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", "runc"]
CONTAINERS_CONF = "/etc/containers/containers.conf"
# Bump when the way a base is made changes, so that cached bases are rebuilt.
BASE_VERSION = "2"
DEBIAN_SUITE = "bookworm"
SLIM_PATHS = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/i18n",
              "var/cache/apt", "var/lib/apt/lists"]
PROBE_PORT = 7979
VIGIL_IN_IMAGE = "/usr/local/bin/vigil"

RUN_ID = f"{os.getpid()}-{int(time.time()) % 100000}"


def log(message):
    sys.stderr.write(f"[container-suite] {message}\n")
    sys.stderr.flush()


def podman(*args, check=True, timeout=180, input=None):
    """Runs `podman <global options> ARGS`; returns the CompletedProcess (text)."""
    result = subprocess.run(PODMAN + [str(a) for a in args], capture_output=True, text=True,
                            timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}")
    return result


def missing_prerequisites():
    """Why the suite cannot run here, or None."""
    if os.geteuid() != 0:
        return "the container suite runs podman as root"
    for tool in ("podman", "runc", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/test.sh installs it)"
    if not os.path.exists(BUSYBOX):
        return f"{BUSYBOX} is missing (apt-get install busybox-static)"
    if not os.access(VIGIL, os.X_OK):
        return f"no vigil binary at {VIGIL} (./scripts/build-static.sh, or set VIGIL_BIN)"
    return None


def ensure_containers_conf():
    """runc refuses podman's default ulimits on these machines: `default_ulimits = []`."""
    os.makedirs(os.path.dirname(CONTAINERS_CONF), exist_ok=True)
    text = open(CONTAINERS_CONF).read() if os.path.exists(CONTAINERS_CONF) else ""
    if "default_ulimits" in text:
        return
    if "[containers]" in text:
        text = text.replace("[containers]", "[containers]\ndefault_ulimits = []", 1)
    else:
        text = text + ("\n" if text and not text.endswith("\n") else "") + "[containers]\ndefault_ulimits = []\n"
    with open(CONTAINERS_CONF, "w") as f:
        f.write(text)
    log(f"wrote default_ulimits = [] to {CONTAINERS_CONF}")


def image_exists(name):
    return podman("image", "exists", name, check=False).returncode == 0


def _drop_stale(name):
    """Removes the other tags of NAME's repository: bases cached by an older version of this file."""
    repository = name.rsplit(":", 1)[0]
    listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}", repository, check=False).stdout.split()
    for other in listed:
        if other != name and other.startswith(repository + ":"):
            podman("rmi", other, check=False)


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def _busybox_rootfs(rootfs, layout):
    """A rootfs holding busybox and a link per applet. layout "scratch": /bin only (the image
    is nothing but the static app); "debian": Debian's directory layout with /usr/bin etc."""
    directories = ["bin", "tmp"]
    if layout == "debian":
        directories += ["sbin", "usr/bin", "usr/sbin", "etc", "root", "var/tmp", "proc", "sys", "dev", "run"]
    for directory in directories:
        os.makedirs(os.path.join(rootfs, directory), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        link = os.path.join(rootfs, "bin", applet)
        if applet != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)
    if layout == "debian":
        with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        with open(os.path.join(rootfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")


def scratch_base():
    """`FROM scratch` + static busybox: the app image a Go or Rust static binary would have."""
    name = f"localhost/vigil-test-scratch-app:v{BASE_VERSION}-{_file_digest(BUSYBOX)}"
    if image_exists(name):
        return name
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vigil-scratch-") as context:
        _busybox_rootfs(os.path.join(context, "rootfs"), "scratch")
        with open(os.path.join(context, "Containerfile"), "w") as f:
            f.write("FROM scratch\nCOPY rootfs/ /\nCMD [\"/bin/sh\"]\n")
        podman("build", "--format", "docker", "--layers=false", "-f", os.path.join(context, "Containerfile"),
               "-t", name, context)
    log(f"built {name} in {time.monotonic() - started:.1f}s")
    _drop_stale(name)
    return name


def debian_kind():
    kind = os.environ.get("VIGIL_TEST_DEBIAN_BASE", "debootstrap")
    if kind not in ("debootstrap", "busybox"):
        raise AssertionError(f"VIGIL_TEST_DEBIAN_BASE={kind!r}: use debootstrap or busybox")
    return kind


def debian_base():
    """A Debian 12 rootfs (debootstrap --variant=minbase) imported as an image."""
    kind = debian_kind()
    name = f"localhost/vigil-test-debian:{DEBIAN_SUITE}-v{BASE_VERSION}" if kind == "debootstrap" \
        else f"localhost/vigil-test-debian:busybox-v{BASE_VERSION}-{_file_digest(BUSYBOX)}"
    if image_exists(name):
        return name
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vigil-debian-", dir="/var/tmp") as work:
        rootfs = os.path.join(work, "rootfs")
        if kind == "debootstrap":
            if shutil.which("debootstrap") is None:
                raise AssertionError("debootstrap is not installed (apt-get install debootstrap), "
                                     "or set VIGIL_TEST_DEBIAN_BASE=busybox")
            mirror = os.environ.get("VIGIL_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
            result = subprocess.run(["debootstrap", "--variant=minbase", DEBIAN_SUITE, rootfs, mirror],
                                    capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise AssertionError(
                    f"debootstrap failed ({result.returncode}); a machine without a Debian mirror can set "
                    f"VIGIL_TEST_DEBIAN_BASE=busybox\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            # Trimmed like debian:bookworm-slim (no docs, man pages, locales, apt caches): vfs copies
            # the whole rootfs for every container, so 77 MB instead of 204 MB saves ~6 s a container.
            for trimmed in SLIM_PATHS:
                directory = os.path.join(rootfs, trimmed)
                if os.path.isdir(directory):
                    for entry in os.listdir(directory):
                        path = os.path.join(directory, entry)
                        if os.path.isdir(path) and not os.path.islink(path):
                            shutil.rmtree(path)
                        else:
                            os.unlink(path)
        else:
            _busybox_rootfs(rootfs, "debian")
        bootstrapped = time.monotonic()
        tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(PODMAN + ["import", "--change", "CMD [\"/bin/sh\"]", "-", name],
                                  stdin=tar.stdout, capture_output=True, text=True, timeout=600)
        tar.stdout.close()
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise AssertionError(f"podman import failed: {imported.stderr[-2000:]}")
    log(f"built {name} ({kind}) in {time.monotonic() - started:.1f}s "
        f"(rootfs {bootstrapped - started:.1f}s, import {time.monotonic() - bootstrapped:.1f}s)")
    _drop_stale(name)
    return name


def build_from_template(app_image, tag, extra_args=()):
    """Builds Dockerfile.template on APP_IMAGE with the prebuilt vigil; returns the build output.

    The build context is a directory holding only the binary and the template, as the template's
    header recommends. VIGIL_SOURCE is passed explicitly: podman 4.3's buildah (1.28) does not
    match `FROM vigil-${VIGIL_SOURCE}` to a stage when the argument only has its default value
    (containers/buildah#4312, fixed in later releases)."""
    with tempfile.TemporaryDirectory(prefix="vigil-context-") as context:
        shutil.copy2(VIGIL, os.path.join(context, "vigil"))
        shutil.copy2(TEMPLATE, os.path.join(context, "Dockerfile"))
        result = podman("build", "--format", "docker", "--layers=false",
                        "--build-arg", "VIGIL_SOURCE=prebuilt", "--build-arg", f"APP_IMAGE={app_image}",
                        *extra_args, "-t", tag, context, timeout=600)
    return result.stdout + result.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(url, timeout=3):
    """(status, body) from a real curl; status 0 when there was no HTTP answer."""
    result = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", str(timeout), url],
                            capture_output=True, text=True)
    body, _, code = result.stdout.rpartition("\n")
    return int(code or 0), body


class Container:
    """A detached container running IMAGE; removed by the fixture that made it."""

    def __init__(self, image, command, env=None, publish=True, extra=()):
        global _counter
        _counter += 1
        self.name = f"vigil-test-{RUN_ID}-{_counter}"
        self.port = free_port() if publish else None
        args = ["run", "-d", "--name", self.name, "--log-driver", "k8s-file"]
        if self.port:
            args += ["-p", f"127.0.0.1:{self.port}:{PROBE_PORT}"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        # VIGIL_TEST_PODMAN_RUN_ARGS: extra `podman run` options when debugging the suite.
        args += shlex.split(os.environ.get("VIGIL_TEST_PODMAN_RUN_ARGS", ""))
        args += list(extra) + [image] + list(command)
        # podman logs an error about systemd timers for the HEALTHCHECK where there is no systemd;
        # the container starts anyway and `podman healthcheck run` works.
        self.created = podman(*args, check=False)
        if self.created.returncode != 0:
            raise AssertionError(f"podman run failed: {self.created.stderr}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=3):
        return curl(self.url(path), timeout=timeout)

    def exec(self, *command, check=False, timeout=30):
        return podman("exec", self.name, *command, check=check, timeout=timeout)

    def logs(self):
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def inspect(self, template):
        return podman("inspect", "--format", template, self.name).stdout.strip()

    def running(self):
        return self.inspect("{{.State.Running}}") == "true"

    def exit_code(self):
        return int(self.inspect("{{.State.ExitCode}}"))

    def wait(self, timeout=60):
        """Waits for the container to exit; returns its exit code."""
        result = podman("wait", self.name, timeout=timeout)
        return int(result.stdout.strip().splitlines()[-1])

    def wait_for(self, path, status, timeout=20):
        """Polls PATH through the published port until it answers STATUS; returns the body."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if last[0] == status:
                return last[1]
            if not self.running():
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} {path}: wanted {status}, last {last}\nlogs:\n{self.logs()}")

    def wait_for_log(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = self.logs()
            if text in logs:
                return logs
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {text!r} never appeared in the logs:\n{self.logs()}")

    def processes(self):
        """[(pid, comm, state, ppid)] of every process in the container, from /proc (no ps needed)."""
        script = 'for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done'
        result = self.exec("sh", "-c", script, check=True)
        found = []
        for line in result.stdout.splitlines():
            if ")" not in line:
                continue
            head, _, tail = line.rpartition(")")
            pid, _, comm = head.partition(" (")
            fields = tail.split()
            found.append((int(pid), comm, fields[0], int(fields[1])))
        return found

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False, timeout=60)


_counter = 0
