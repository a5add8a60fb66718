"""Run Parsl tasks in the same image the notebook uses, staged on each node.

The notebook's image reference (pinned by digest, as the hub starts it) is
passed to every worker. worker_init asks the node's stager for the image's
local SIF path, staging it only if the daemon has not already, so a job of a
thousand workers reads node-local disk instead of the registry. The lease
`stager path` takes keeps the image from eviction while the job runs.
"""
import os

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.launchers import SrunLauncher
from parsl.providers import SlurmProvider

# What the hub started the notebook with, e.g. oyster.example.org/lab/sci@sha256:…
IMAGE = os.environ.get("JUPYTER_IMAGE", "oyster.example.org/lab/sci:2024.1")
REGISTRY = os.environ.get("OYSTER_REGISTRY", "https://oyster.example.org")

worker_init = f"""
export OYSTER_SIF="$(stager path --registry {REGISTRY} --format sif {IMAGE} | tail -n 1)"
"""

config = Config(
    executors=[
        HighThroughputExecutor(
            label="staged",
            provider=SlurmProvider(
                partition="compute",
                nodes_per_block=4,
                init_blocks=1,
                worker_init=worker_init,
                launcher=SrunLauncher(),
            ),
        )
    ]
)


@parsl.bash_app
def in_image(cmd):
    # Each task runs in the notebook's environment, from node-local disk.
    return f'apptainer exec "$OYSTER_SIF" {cmd}'


if __name__ == "__main__":
    parsl.load(config)
    print(in_image("python3 -c 'import sys; print(sys.version)'").result())
