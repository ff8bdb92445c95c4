"""Fixtures for the container suite: podman ready, cached bases, template-built images removed at
the end of the run, containers removed after each test (helpers: vigiltest.podman, .images)."""
import os
import time

import pytest

from vigiltest import images, podman

BASES = ["scratch", "debian"]


@pytest.fixture(scope="session")
def podman_ready():
    reason = podman.missing_prerequisites()
    if reason:
        if os.environ.get("VIGIL_SKIP_CONTAINER_TESTS") == "1":
            pytest.skip(reason)
        pytest.fail(f"container suite: {reason} (VIGIL_SKIP_CONTAINER_TESTS=1 skips it)", pytrace=False)
    podman.ensure_containers_conf()
    return True


@pytest.fixture(scope="session")
def built_images(podman_ready):
    """base name → (tag, build output) of the template-built images; removed at the end of the run."""
    built = {}
    yield built
    for tag, _ in built.values():
        podman.podman("rmi", "-f", tag, check=False)


@pytest.fixture(scope="session")
def base_image(podman_ready):
    """base name → the cached base image (built when missing)."""
    cache = {}

    def get(base):
        if base not in cache:
            cache[base] = images.scratch_base() if base == "scratch" else images.debian_base()
        return cache[base]

    return get


@pytest.fixture(scope="session")
def template_image(base_image, built_images):
    def get(base):
        if base not in built_images:
            tag = f"localhost/vigil-test-{base}-vigil:{podman.RUN_ID}"
            app_image = base_image(base)
            started = time.monotonic()
            output = images.build_from_template(app_image, tag)
            podman.log(f"built {tag} from Dockerfile.template in {time.monotonic() - started:.1f}s")
            built_images[base] = (tag, output)
        return built_images[base][0]

    return get


@pytest.fixture(params=BASES)
def image(request, template_image):
    """The template-built image for each base: FROM scratch + busybox, and Debian (debootstrap)."""
    return template_image(request.param)


@pytest.fixture
def run(podman_ready):
    """run(image, ["cmd", ...], env={...}, publish=True) → Container; all removed afterwards."""
    started = []

    def start(image, command, **kwargs):
        container = podman.Container(image, command, **kwargs)
        started.append(container)
        return container

    yield start
    for container in started:
        container.remove()
