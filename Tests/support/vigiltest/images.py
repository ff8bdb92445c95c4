"""Images for the container suite: the cached bases and the vigil images built from
Dockerfile.template.

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
import shutil
import subprocess
import tempfile
import time

from .paths import ROOT, VIGIL
from .podman import BUSYBOX, PODMAN, image_exists, log, podman

TEMPLATE = os.path.join(ROOT, "Dockerfile.template")
# Bump when the way a base is made changes, so that cached bases are rebuilt.
BASE_VERSION = "2"
DEBIAN_SUITE = "bookworm"
SLIM_PATHS = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/i18n",
              "var/cache/apt", "var/lib/apt/lists"]


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
