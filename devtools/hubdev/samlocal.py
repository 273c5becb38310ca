"""`sam local invoke` for every function, against moto server running in a container.

    session = SamLocal.start()          # runtime, images, network, moto container, tables, build
    result = session.invoke("GetSettingsFunction", ROOT / "events/get_settings/authorized.json")
    session.stop()

The functions run in Lambda containers on a project network (`chub-samlocal-<pid>`) next to a
moto container; `--env-vars` points their SDK at it (`AWS_ENDPOINT_URL`) and names the tables
created from template.yaml. On this kind of machine (no registry but PyPI and Debian) the Lambda
image is the offline stand-in of `hubdev.containers`, passed with `--invoke-image` (the default
on Linux as root). Elsewhere (e.g. Docker Desktop), or with `CHUB_SAMLOCAL_IMAGES=aws`, the public
images are pulled instead: public.ecr.aws/lambda/python:3.13 (by SAM) and motoserver/moto.

With the offline image, the built layers are baked into a derived image (`bake_layers`) and the
built template loses its `Layers`: SAM would otherwise rebuild an image at every invocation
(`CHUB_SAMLOCAL_LAYERS=sam` keeps SAM's way).

The template is copied to `.aws-sam-local/template.json` for the local run: the functions'
architecture follows this machine (containers are not emulated; the real template says arm64),
code paths are absolute, `AWS_ENDPOINT_URL` is declared (SAM only passes variables that the
template declares), and timeouts are at least CHUB_SAMLOCAL_TIMEOUT (60 s: cold containers on a
busy machine; latency is measured in bench/, not here).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hubdev import aws, containers
from hubdev.smile_standin import SmileStandIn
from hubdev.template import ROOT, Template, load

WORK = ROOT / ".aws-sam-local"
AWS_LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.13"
MOTO_PUBLIC_IMAGE = "docker.io/motoserver/moto"
SAMPLE_EVENTS = ROOT / "events"
LOCAL_TIMEOUT = int(os.environ.get("CHUB_SAMLOCAL_TIMEOUT", "60"))  # seconds, per invocation


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def images_mode() -> str:
    """offline (build the images here: Linux, root) or aws (pull the public images)."""
    mode = os.environ.get("CHUB_SAMLOCAL_IMAGES", "auto")
    if mode == "auto":
        return "offline" if sys.platform == "linux" and os.geteuid() == 0 else "aws"
    if mode not in ("offline", "aws"):
        raise containers.ContainerError("CHUB_SAMLOCAL_IMAGES is auto (default), offline or aws")
    return mode


def sample_events(template: Template | None = None) -> dict[str, list[Path]]:
    """Every function of the template → its sample events (events/<code folder>/*.json)."""
    template = template or Template()
    return {
        logical_id: sorted((SAMPLE_EVENTS / function.short_name).glob("*.json"))
        for logical_id, function in sorted(template.functions.items())
    }


def local_template(arch: str, target: Path) -> Path:
    """template.yaml for a local run on `arch`, written as JSON to `target`."""
    document = copy.deepcopy(load())
    function_globals = document.setdefault("Globals", {}).setdefault("Function", {})
    function_globals["Architectures"] = [arch]
    # A cold container on a busy shared machine may take seconds to import; the check here is
    # what the functions answer, not how fast (that is for bench/).
    function_globals["Timeout"] = max(int(function_globals.get("Timeout", 3)), LOCAL_TIMEOUT)
    variables = function_globals.setdefault("Environment", {}).setdefault("Variables", {})
    variables["AWS_ENDPOINT_URL"] = ""
    variables["CHUB_AWS_CALL_LOG"] = ""  # "stderr" in env-vars.json: the IAM-by-use record
    for resource in document.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function":
            if "Architectures" in props:
                props["Architectures"] = [arch]
            if "Timeout" in props:
                props["Timeout"] = max(int(props["Timeout"]), LOCAL_TIMEOUT)
            if isinstance(props.get("CodeUri"), str):
                props["CodeUri"] = str((ROOT / props["CodeUri"]).resolve())
        elif resource.get("Type") == "AWS::Serverless::LayerVersion":
            if isinstance(props.get("ContentUri"), str):
                props["ContentUri"] = str((ROOT / props["ContentUri"]).resolve())
            if "CompatibleArchitectures" in props:
                props["CompatibleArchitectures"] = [arch]
            metadata = resource.get("Metadata", {})
            if "BuildArchitecture" in metadata:
                metadata["BuildArchitecture"] = arch
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return target


def _sam_command() -> list[str]:
    here = Path(sys.executable).parent / "sam"
    found = str(here) if here.exists() else shutil.which("sam")
    if not found:
        raise containers.ContainerError("sam not found; run `make setup`")
    return [found]


def _sam_env(extra: dict[str, str]) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        **os.environ,
        "PATH": path,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": aws.REGION,
        "AWS_REGION": aws.REGION,
        "AWS_ACCESS_KEY_ID": aws.LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": aws.LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        **extra,
    }


def sam_build(template: Path, work: Path) -> Path:
    """`sam build` of the local template (host Python 3.13, cached); returns the built template."""
    build_dir = work / "build"
    command = [
        *_sam_command(),
        "build",
        "--template-file",
        str(template),
        "--build-dir",
        str(build_dir),
        "--cache-dir",
        str(work / "cache"),
        "--cached",
        "--parallel",
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=_sam_env({}), capture_output=True, text=True, timeout=1200
    )
    if result.returncode != 0:
        raise containers.ContainerError(
            f"sam build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    containers.log(f"sam build in {time.monotonic() - started:.0f}s")
    return build_dir / "template.yaml"


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def bake_layers(
    runtime: containers.ContainerRuntime, base_image: str, built_template: Path
) -> tuple[str, Path]:
    """An invoke image with the built layers in /opt, and the built template without `Layers`.

    SAM rebuilds an image with a template's own layers at every `sam local invoke`; baked in
    once per layer content, each invocation only starts a container. Returns the inputs
    unchanged when a function uses a layer that is not built from this template.
    """
    build_dir = built_template.parent
    document = yaml.safe_load(built_template.read_text(encoding="utf-8"))
    resources = document.get("Resources", {})
    layers = {
        name: build_dir / str(resource["Properties"]["ContentUri"])
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    }
    function_globals = document.get("Globals", {}).get("Function", {})
    functions = [
        r["Properties"] for r in resources.values() if r.get("Type") == "AWS::Serverless::Function"
    ]
    used: list[str] = []
    for layer_list in [
        function_globals.get("Layers", []),
        *(f.get("Layers", []) for f in functions),
    ]:
        for layer in layer_list:
            name = str(layer.get("Ref")) if isinstance(layer, dict) else ""
            if name not in layers:
                return base_image, built_template
            if name not in used:
                used.append(name)
    dockerfile = f"FROM {base_image}\n" + "".join(
        f"COPY {layers[name].relative_to(build_dir)}/ /opt/\n" for name in used
    )
    digest = hashlib.sha256(
        (dockerfile + "".join(_tree_digest(layers[name]) for name in used)).encode()
    ).hexdigest()[:12]
    repo = f"localhost/{containers.PREFIX}-lambda-layers-{digest}"
    image = f"{repo}:latest"
    if not runtime.image_exists(image):
        started = time.monotonic()
        recipe = build_dir / ".samlocal.Dockerfile"
        recipe.write_text(dockerfile, encoding="utf-8")
        try:
            runtime("build", "--tag", image, "--file", str(recipe), str(build_dir))
        finally:
            recipe.unlink()
        containers.log(f"layers baked into {image} in {time.monotonic() - started:.0f}s")
        _remove_older_bakes(runtime, repo)
    function_globals.pop("Layers", None)
    for function in functions:
        function.pop("Layers", None)
    baked = build_dir / "template.baked.json"
    baked.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return image, baked


def _remove_older_bakes(runtime: containers.ContainerRuntime, current_repo: str) -> None:
    """Older baked images and SAM's images derived from them (`<repo>:rapid-<arch>`)."""
    listed = runtime(
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        f"reference=localhost/{containers.PREFIX}-lambda-layers-*",
        check=False,
    ).stdout.split()
    for name in listed:
        if not name.startswith(f"{current_repo}:"):
            runtime("rmi", name, check=False, timeout=120)  # kept while a container uses it


@dataclass
class Invocation:
    function: str
    event: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def response(self) -> Any:
        """The function's response: SAM prints it as the last line of its standard output."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"no response from {self.function}:\n{self.stderr[-3000:]}")
        return json.loads(lines[-1])

    @property
    def aws_calls(self) -> list[dict[str, Any]]:
        """The AWS calls the container printed (CHUB_AWS_CALL_LOG=stderr), for hubdev.iam."""
        from hubdev.iam import parse_container_log

        return parse_container_log(self.function, self.stderr)

    def describe(self) -> str:
        return (
            f"{self.function} with {self.event.relative_to(ROOT)} (exit {self.returncode}, "
            f"{self.seconds:.1f}s)\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-4000:]}"
        )


class SamLocal:
    """A network, a moto container with the template's tables, and the built functions."""

    def __init__(self, runtime: containers.ContainerRuntime) -> None:
        self.runtime = runtime
        self.arch = containers.lambda_architecture()
        self.name = f"{containers.PREFIX}-{os.getpid()}"
        self.network = self.name
        self.moto_container = f"{self.name}-moto"
        self.work = WORK
        self.invoke_image: str | None = None
        self.endpoint = ""  # moto as the host sees it (published on 127.0.0.1)
        self.inner_endpoint = ""  # moto as the functions see it (on the project network)
        self.resources = aws.Resources()
        self.built_template = Path()
        self.env_vars_file = self.work / "env-vars.json"
        self.smile: SmileStandIn | None = None
        self.smile_url = "http://127.0.0.1:9/v1"  # refused at once: never the real Smile.io
        self._started_network = False

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def start(cls) -> SamLocal:
        session = cls(containers.container_runtime())
        try:
            session._start()
        except BaseException:
            session.stop()
            raise
        return session

    def _start(self) -> None:
        started = time.monotonic()
        self.work.mkdir(parents=True, exist_ok=True)
        if images_mode() == "aws":
            moto_image = f"{MOTO_PUBLIC_IMAGE}:{containers._requirement('moto').split('==')[1]}"
        else:
            self.invoke_image = containers.lambda_image(self.runtime, self.arch)
            moto_image = containers.moto_image(self.runtime, self.arch)
        self.built_template = sam_build(
            local_template(self.arch, self.work / "template.json"), self.work
        )
        if self.invoke_image and os.environ.get("CHUB_SAMLOCAL_LAYERS", "baked") == "baked":
            self.invoke_image, self.built_template = bake_layers(
                self.runtime, self.invoke_image, self.built_template
            )
        self._start_moto(moto_image)
        self._start_smile()
        template = Template()
        self.resources = aws.create_resources(template, self.endpoint, prefix=containers.PREFIX)
        self._write_env_vars(template)
        self.runtime.start_service()
        containers.log(f"ready in {time.monotonic() - started:.0f}s (moto at {self.endpoint})")

    def _sweep_stale(self) -> None:
        """Remove containers and networks left by runs that died (their pid is gone)."""
        names = self.runtime("ps", "--all", "--format", "{{.Names}}", check=False).stdout.split()
        networks = self.runtime("network", "ls", "--format", "{{.Name}}", check=False).stdout
        for kind, found in (("container", names), ("network", networks.split())):
            for name in found:
                match = re.fullmatch(rf"{containers.PREFIX}-(\d+)(-moto)?", name)
                if not match or _alive(int(match.group(1))):
                    continue
                containers.log(f"removing stale {kind} {name}")
                if kind == "container":
                    self.runtime("rm", "--force", name, check=False, timeout=120)
                else:
                    self.runtime("network", "rm", name, check=False, timeout=120)

    def _start_moto(self, image: str) -> None:
        self._sweep_stale()
        self.stop_containers()
        self.runtime("network", "create", self.network)
        self._started_network = True
        port = aws.free_port()
        self.runtime(
            "run",
            "--detach",
            "--name",
            self.moto_container,
            "--network",
            self.network,
            "--publish",
            f"127.0.0.1:{port}:{containers.MOTO_PORT}",
            image,
        )
        address = self.runtime(
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            self.moto_container,
        ).stdout.strip()
        if not address:
            raise containers.ContainerError(f"{self.moto_container} has no address")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.inner_endpoint = f"http://{address}:{containers.MOTO_PORT}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if time.monotonic() > deadline:
                    logs = self.runtime("logs", self.moto_container, check=False).stderr
                    raise containers.ContainerError(f"moto did not start:\n{logs[-2000:]}") from exc
                time.sleep(0.25)

    def _start_smile(self) -> None:
        """The Smile.io stand-in, on the host but listening only on the project network."""
        if os.environ.get("CHUB_SAMLOCAL_SMILE_URL"):
            self.smile_url = os.environ["CHUB_SAMLOCAL_SMILE_URL"]
            return
        gateway = self.runtime(
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}",
            self.moto_container,
        ).stdout.strip()
        try:
            self.smile = SmileStandIn(host=gateway).start()
        except OSError as exc:  # e.g. Docker Desktop: the gateway is not a host address
            containers.log(f"no Smile.io stand-in on {gateway!r} ({exc}); Smile is unreachable")
            return
        self.smile_url = self.smile.url

    def _write_env_vars(self, template: Template) -> None:
        """Per-function variables: resolved template values, and the SDK pointed at moto."""
        parameters = aws.template_parameters(template)
        env_vars: dict[str, dict[str, str]] = {}
        for logical_id, function in template.functions.items():
            values = {
                name: str(self.resources.resolve(value, parameters))
                for name, value in function.environment.items()
            }
            values["AWS_ENDPOINT_URL"] = self.inner_endpoint
            # Each AWS call printed to the log, checked against the role (hubdev.iam).
            values["CHUB_AWS_CALL_LOG"] = "stderr"
            if "SMILE_API_BASE_URL" in values:
                # Never the real Smile.io from a test: the stand-in (or refused at once).
                values["SMILE_API_BASE_URL"] = self.smile_url
            env_vars[logical_id] = values
        self.env_vars_file.write_text(json.dumps(env_vars, indent=1), encoding="utf-8")

    def function_environment(self) -> dict[str, str]:
        """What the functions see, as the host reaches it (for seeding and checking data)."""
        env = aws.function_environment(Template(), self.resources)
        return {**env, "AWS_ENDPOINT_URL": self.endpoint}

    def stop_containers(self) -> None:
        self.runtime("rm", "--force", self.moto_container, check=False, timeout=120)
        if self._started_network or self._network_exists():
            self.runtime("network", "rm", self.network, check=False, timeout=120)
            self._started_network = False

    def _network_exists(self) -> bool:
        return (
            self.runtime("network", "inspect", self.network, check=False, timeout=60).returncode
            == 0
        )

    def stop(self) -> None:
        if self.smile is not None:
            self.smile.stop()
            self.smile = None
        try:
            self.stop_containers()
        finally:
            self.runtime.stop()

    # ---------------------------------------------------------------- invoke

    def invoke(self, function: str, event: Path, *, timeout: float = 300) -> Invocation:
        command = [
            *_sam_command(),
            "local",
            "invoke",
            function,
            "--template",
            str(self.built_template),
            "--event",
            str(event),
            "--env-vars",
            str(self.env_vars_file),
            "--docker-network",
            self.network,
            "--container-host",
            "127.0.0.1",
            "--container-host-interface",
            "127.0.0.1",
            "--layer-cache-basedir",
            str(self.work / "layers"),
        ]
        if self.invoke_image:
            command += ["--invoke-image", self.invoke_image, "--skip-pull-image"]
        started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=_sam_env(self.runtime.sam_env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Invocation(
            function=function,
            event=event,
            returncode=result.returncode,
            stdout=result.stdout,
            stderr=result.stderr,
            seconds=time.monotonic() - started,
        )
