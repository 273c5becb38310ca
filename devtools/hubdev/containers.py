"""Containers for `sam local invoke`: the runtime (Docker or Podman) and the offline images.

Docker is used when `docker info` answers. Otherwise Podman (Debian's package, installed with
apt-get when missing and running as root) with runc and cgroupfs, served to SAM on a Unix
socket named in DOCKER_HOST.

Offline images (no registry needed): a Debian trixie root file system from debootstrap
(Python 3.13) plus, for the Lambda image, awslambdaric and boto3 in /var/runtime and a
/var/runtime/bootstrap; for the AWS emulation, moto[server] in /opt/moto. Both are imported with
`<cli> import`; their names carry a hash of the recipe, so they are rebuilt only when it changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hubdev.template import ROOT

PREFIX = "chub-samlocal"
CACHE = Path(os.environ.get("CHUB_SAMLOCAL_CACHE", "/var/cache/customer-hub-samlocal"))
DEBIAN_MIRROR = os.environ.get("CHUB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DEBIAN_SUITE = "trixie"  # Python 3.13, the functions' runtime
PYTHON_VERSION = "3.13"
AWSLAMBDARIC = "awslambdaric==4.2.2"

# Podman on these machines: runc (crun fails on hybrid cgroups), cgroupfs, no default ulimits.
PODMAN_CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

BOOTSTRAP = """\
#!/bin/sh
# Started by the runtime interface emulator; _HANDLER is the function's handler (app.handler).
export PYTHONPATH="/var/task:/opt/python:/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
exec /usr/bin/python3 -m awslambdaric "$_HANDLER"
"""

LAMBDA_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
    "ENV LANG=C.UTF-8",
    "ENV TZ=:/etc/localtime",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
    'ENTRYPOINT ["/var/runtime/bootstrap"]',
]

MOTO_PORT = 5000
SERVICE_IDLE_SECONDS = 300
MOTO_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONPATH=/opt/moto",
    "WORKDIR /tmp",
    f'ENTRYPOINT ["/usr/bin/python3", "-m", "moto.server", "--host", "0.0.0.0", '
    f'"--port", "{MOTO_PORT}"]',
]

# Not copied into images: package caches, docs, and /dev (the runtime provides it).
ROOTFS_EXCLUDES = [
    "./dev/*",
    "./proc/*",
    "./sys/*",
    "./var/cache/apt/*",
    "./var/lib/apt/lists/*",
    "./usr/share/doc/*",
    "./usr/share/man/*",
    "./usr/share/locale/*",
]


class ContainerError(RuntimeError):
    """The container runtime or an image build failed."""


def log(message: str) -> None:
    print(f"samlocal: {message}", file=sys.stderr, flush=True)


def run(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
    )
    if check and result.returncode != 0:
        raise ContainerError(
            f"{' '.join(command)} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


def lambda_architecture() -> str:
    """The Lambda architecture matching this machine (containers run natively, no emulation)."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


def _requirement(name: str) -> str:
    """The pinned requirement line for `name` in requirements-dev.txt (e.g. moto[server]==5.2.5)."""
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if re.match(rf"^{re.escape(name)}(\[[^\]]*\])?==", line):
            return line
    raise ContainerError(f"{name} is not pinned in requirements-dev.txt")


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


@contextlib.contextmanager
def _cache_lock(name: str) -> Iterator[None]:
    """One builder at a time per cached artefact (several worktrees share the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- runtime


@dataclass
class ContainerRuntime:
    """The container CLI to use and the environment SAM needs to reach its engine."""

    cli: str
    sam_env: dict[str, str] = field(default_factory=dict)
    cli_env: dict[str, str] = field(default_factory=dict)
    podman: bool = False
    service: subprocess.Popen[bytes] | None = None
    socket_dir: Path | None = None

    @property
    def name(self) -> str:
        return Path(self.cli).name

    def __call__(
        self, *args: str, timeout: float = 900, check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run(
            [self.cli, *args],
            env=self.cli_env,
            timeout=timeout,
            check=check,
            input_text=input_text,
        )

    def image_exists(self, image: str) -> bool:
        return self("image", "inspect", image, check=False, timeout=60).returncode == 0

    def start_service(self) -> None:
        """Podman: serve the Docker API to SAM on a private socket (DOCKER_HOST).

        The service ends itself after SERVICE_IDLE_SECONDS without requests, should this
        process die without stopping it.
        """
        if not self.podman or self.service is not None:
            return
        self.socket_dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
        sock = self.socket_dir / "podman.sock"
        self.service = subprocess.Popen(
            [self.cli, "system", "service", f"--time={SERVICE_IDLE_SECONDS}", f"unix://{sock}"],
            env={**os.environ, **self.cli_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.sam_env = {"DOCKER_HOST": f"unix://{sock}", **self.cli_env}
        deadline = time.monotonic() + 30
        while not sock.exists():
            if self.service.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ContainerError("podman system service did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.service is not None and self.service.poll() is None:
            self.service.terminate()
            try:
                self.service.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait(timeout=10)
        self.service = None
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None


def _docker() -> ContainerRuntime | None:
    cli = shutil.which("docker")
    if not cli or os.environ.get("CHUB_SAMLOCAL_RUNTIME") == "podman":
        return None
    try:
        ok = run([cli, "info"], check=False, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    return ContainerRuntime(cli=cli) if ok else None


def apt_install(*packages: str) -> None:
    """apt-get install (as root), waiting for another apt run's lock rather than failing."""
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    run(["apt-get", *lock, "update"], env=env, timeout=1200)
    run(
        ["apt-get", *lock, "install", "-y", *packages],
        env=env,
        timeout=1800,
    )


def _install_podman() -> str:
    if os.geteuid() != 0:
        raise ContainerError(
            "Neither Docker nor Podman is available; install one (as root: "
            "apt-get install -y podman runc) and run again."
        )
    log("installing podman and runc from Debian packages")
    apt_install("podman", "runc")
    cli = shutil.which("podman")
    if not cli:
        raise ContainerError("apt-get installed podman but it is not on PATH")
    return cli


def _podman() -> ContainerRuntime:
    cli = shutil.which("podman") or _install_podman()
    if not shutil.which("runc"):
        _install_podman()
    CACHE.mkdir(parents=True, exist_ok=True)
    conf = CACHE / "containers.conf"
    if not conf.is_file() or conf.read_text(encoding="utf-8") != PODMAN_CONF:
        conf.write_text(PODMAN_CONF, encoding="utf-8")
    return ContainerRuntime(cli=cli, cli_env={"CONTAINERS_CONF": str(conf)}, podman=True)


def container_runtime() -> ContainerRuntime:
    """Docker when its daemon answers, otherwise Podman (installed when missing, as root)."""
    runtime = _docker() or _podman()
    log(f"container runtime: {runtime.name}")
    return runtime


# ---------------------------------------------------------------- offline images


def _debootstrap_rootfs(arch: str) -> Path:
    """A cached minimal Debian trixie root file system with Python 3.13 and CA certificates."""
    deb_arch = {"x86_64": "amd64", "arm64": "arm64"}[arch]
    args = [
        "--variant=minbase",
        f"--arch={deb_arch}",
        "--include=python3,ca-certificates",
        DEBIAN_SUITE,
    ]
    target = CACHE / f"rootfs-{DEBIAN_SUITE}-{deb_arch}-{_digest(args)}"
    with _cache_lock("rootfs"):
        if (target / ".complete").is_file():
            return target
        if os.geteuid() != 0:
            raise ContainerError("building the offline images needs root (debootstrap)")
        if not shutil.which("debootstrap"):
            log("installing debootstrap from Debian packages")
            apt_install("debootstrap")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        log(f"debootstrap {DEBIAN_SUITE} ({deb_arch}) into {staging} (a few minutes, once)")
        run(["debootstrap", *args, str(staging), DEBIAN_MIRROR], timeout=1800)
        (staging / ".complete").write_text(" ".join(args), encoding="utf-8")
        staging.rename(target)
    return target


def _pip_target(requirements: list[str], target: Path, arch: str) -> None:
    """Install wheels for the image's platform and Python into `target` (no build step)."""
    platforms = {
        "x86_64": ["manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64"],
        "arm64": ["manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64"],
    }[arch]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--target",
        str(target),
    ]
    for name in platforms:
        command += ["--platform", name]
    run([*command, *requirements], timeout=1800)


def _import_image(runtime: ContainerRuntime, image: str, tree: Path, changes: list[str]) -> None:
    """Import a root file system tree as `image`."""
    excludes = [f"--exclude={pattern}" for pattern in ROOTFS_EXCLUDES]
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", *excludes, "-C", str(tree), "-cf", "-", "."],
        stdout=subprocess.PIPE,
    )
    change_args = [arg for change in changes for arg in ("--change", change)]
    result = subprocess.run(
        [runtime.cli, "import", *change_args, "-", image],
        stdin=tar.stdout,
        env={**os.environ, **runtime.cli_env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert tar.stdout is not None
    tar.stdout.close()
    if tar.wait() != 0 or result.returncode != 0:
        raise ContainerError(f"importing {image} failed: {result.stderr[-2000:]}")


def _build_image(
    runtime: ContainerRuntime,
    kind: str,
    arch: str,
    requirements: list[str],
    site: str,
    changes: list[str],
    extra_files: dict[str, tuple[str, int]],
) -> str:
    recipe = {
        "debian": [DEBIAN_SUITE, arch],
        "requirements": requirements,
        "site": site,
        "changes": changes,
        "files": extra_files,
        "excludes": ROOTFS_EXCLUDES,
    }
    # The hash is in the repository name: SAM derives its own image from `<repo>:rapid-<arch>`.
    image = f"localhost/{PREFIX}-{kind}-{arch}-{_digest(recipe)}:latest"
    with _cache_lock(f"image-{kind}"):
        if runtime.image_exists(image):
            return image
        rootfs = _debootstrap_rootfs(arch)
        started = time.monotonic()
        log(f"building {image}")
        # A hard-linked copy of the cached rootfs (cheap); the recipe only adds new files.
        with tempfile.TemporaryDirectory(prefix=f".{kind}-", dir=CACHE) as work:
            tree = Path(work) / "rootfs"
            run(["cp", "-al", str(rootfs), str(tree)])
            site_dir = tree / site.lstrip("/")
            site_dir.mkdir(parents=True)
            _pip_target(requirements, site_dir, arch)
            for path, (text, mode) in extra_files.items():
                file = tree / path.lstrip("/")
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(text, encoding="utf-8")
                file.chmod(mode)
            _import_image(runtime, image, tree, changes)
        log(f"built {image} in {time.monotonic() - started:.0f}s")
    return image


def lambda_image(runtime: ContainerRuntime, arch: str) -> str:
    """The offline stand-in for public.ecr.aws/lambda/python:3.13 (SAM adds its emulator)."""
    return _build_image(
        runtime,
        "lambda-python3.13",
        arch,
        [AWSLAMBDARIC, _requirement("boto3")],
        "/var/runtime",
        LAMBDA_CHANGES,
        {"/var/runtime/bootstrap": (BOOTSTRAP, 0o755)},
    )


def moto_image(runtime: ContainerRuntime, arch: str) -> str:
    """moto in server mode, the version pinned in requirements-dev.txt."""
    return _build_image(
        runtime, "moto", arch, [_requirement("moto")], "/opt/moto", MOTO_CHANGES, {}
    )
