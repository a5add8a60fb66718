"""A JupyterHub spawner for Oyster's end-to-end test: it starts nothing.

start() appends what it was asked to start (the user, user_options and the
image the pre-spawn hook chose) as one JSON line to record_file, then fails
with a message saying so, which the spawn page shows. That is all the test
needs to see the image that reached the spawner, without containers.
"""

import json

from jupyterhub.spawner import Spawner
from traitlets import Unicode


class RecordingSpawner(Spawner):
    image = Unicode("", config=True, help="The image to start; oyster_hub's pre_spawn_hook sets it.")
    record_file = Unicode(config=True, help="Where to append one JSON line per start.")

    async def start(self):
        with open(self.record_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"user": self.user.name, "user_options": self.user_options, "image": self.image}) + "\n")
        raise RuntimeError(f"RecordingSpawner recorded image {self.image}; it starts no server")

    async def poll(self):
        return 0  # never running

    async def stop(self, now=False):
        pass
