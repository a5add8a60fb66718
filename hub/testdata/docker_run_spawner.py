"""A JupyterHub spawner for Oyster's end-to-end test that really starts the
chosen image: `docker pull IMAGE`, then `docker run` of its
jupyterhub-singleuser on the host's network. DockerSpawner does the same
with more care; it is not installable where the test runs.

Each start appends one JSON line to record_file: the user, user_options,
the image pulled and the digest docker reported, so the test can check that
docker pulled exactly the pinned image. Containers are named
container_prefix-USER so that the test can remove what it started.
"""

import asyncio
import json
import os
import re

from jupyterhub.spawner import Spawner
from jupyterhub.utils import random_port
from traitlets import Unicode


class DockerRunSpawner(Spawner):
    image = Unicode("", config=True, help="The image to start; oyster_hub's pre_spawn_hook sets it.")
    record_file = Unicode(config=True, help="Where to append one JSON line per start.")
    container_prefix = Unicode("jupyter", config=True, help="Containers are named PREFIX-USER.")

    @property
    def container_name(self):
        return f"{self.container_prefix}-{self.user.name}"

    async def _docker(self, *args, env=None):
        proc = await asyncio.create_subprocess_exec(
            "docker", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        return proc.returncode, out.decode()

    async def start(self):
        if not self.image:
            raise RuntimeError("no image chosen")
        code, pulled = await self._docker("pull", self.image)
        if code != 0:
            raise RuntimeError(f"docker pull {self.image} failed: {pulled}")
        digest = re.search(r"Digest: (sha256:[0-9a-f]{64})", pulled)
        with open(self.record_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"user": self.user.name, "user_options": self.user_options, "image": self.image,
                                "pulled": digest.group(1) if digest else "", "pull_output": pulled}) + "\n")

        self.ip, self.port = "127.0.0.1", random_port()
        # Only the hub's own variables (API token, URLs) reach the container,
        # by name, so that the token stays off the command line.
        hub_env = {k: v for k, v in self.get_env().items() if k.startswith(("JUPYTERHUB_", "JPY_"))}
        args = ["run", "-d", "--name", self.container_name, "--network", "host",
                "--user", "65534:65534", "-e", "HOME=/tmp", "-w", "/tmp"]
        for name in hub_env:
            args += ["-e", name]
        args += [self.image, *self.cmd, *self.get_args()]
        await self._docker("rm", "-f", self.container_name)  # one left by an earlier hub
        code, out = await self._docker(*args, env={**os.environ, **hub_env})
        if code != 0:
            raise RuntimeError(f"docker run failed: {out}")
        return self.ip, self.port

    async def poll(self):
        code, out = await self._docker("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", self.container_name)
        if code != 0:
            return 0  # no such container: not running
        running, exit_code = out.split()
        return None if running == "true" else int(exit_code)

    async def stop(self, now=False):
        await self._docker("rm", "-f", self.container_name)
