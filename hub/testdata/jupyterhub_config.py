# JupyterHub configuration for Oyster's end-to-end tests (e2e/jupyterhub_test.go),
# and an example of the "any spawner" set-up. The test sets the environment:
# HUB_SPAWNER=docker starts images with docker, otherwise starts are recorded.
import os

from oyster_hub import Oyster

env = os.environ
oyster = Oyster(env["OYSTER_URL"], ttl=float(env["OYSTER_TTL"]))

if env.get("HUB_TOKENS"):
    # Logs in the users HUB_TOKENS names (any password) and keeps each one's
    # token in auth_state, as OAuthenticator keeps the OAuth access token, so
    # oyster_hub asks Oyster as that user. auth_state needs
    # JUPYTERHUB_CRYPT_KEY, which the test sets.
    import json

    from jupyterhub.auth import Authenticator

    tokens = json.loads(env["HUB_TOKENS"])

    class TokenAuthenticator(Authenticator):
        async def authenticate(self, handler, data):
            name = data.get("username", "")
            if name not in tokens:
                return None
            return {"name": name, "auth_state": {"access_token": tokens[name]}}

    c.JupyterHub.authenticator_class = TokenAuthenticator
    c.Authenticator.enable_auth_state = True
else:
    c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"
if env.get("HUB_SPAWNER") == "docker":
    # Really start the chosen image (DockerSpawner's role, with docker run).
    c.JupyterHub.spawner_class = "docker_run_spawner.DockerRunSpawner"
    c.DockerRunSpawner.record_file = env["HUB_RECORD_FILE"]
    c.DockerRunSpawner.container_prefix = env["HUB_CONTAINER_PREFIX"]
    c.Spawner.start_timeout = 600  # the first pull of a notebook image
    c.Spawner.http_timeout = 120
else:
    c.JupyterHub.spawner_class = "recording_spawner.RecordingSpawner"
    c.RecordingSpawner.record_file = env["HUB_RECORD_FILE"]

c.Spawner.options_form = oyster.options_form
c.Spawner.options_from_form = oyster.options_from_form
c.Spawner.pre_spawn_hook = oyster.pre_spawn_hook

state = env["HUB_STATE_DIR"]
c.JupyterHub.bind_url = f"http://127.0.0.1:{env['HUB_PORT']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env["HUB_API_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.command = [env["HUB_PROXY_COMMAND"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
