"""Unit tests for oyster_hub: caching, fallback, form markup, validation.

Oyster is a stub http.server here; the real registry and a real JupyterHub
are exercised by e2e/jupyterhub_test.go. Run: python3 -m unittest discover hub
"""

import asyncio
import html.parser
import json
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import oyster_hub
from oyster_hub import Oyster, OysterUnavailable, TokenRefused

HOST = "registry.example:5000"


def ref(repo, n):
    return f"{HOST}/{repo}@sha256:{n:064x}"


def profile(name, image, description="lab/x:1 · Python 3.11"):
    return {"display_name": name, "description": description, "slug": name.lower().replace(" ", "-"),
            "default": False, "kubespawner_override": {"image": image}}


SCIPY, TORCH = ref("lab/scipy", 1), ref("lab/torch", 2)
SECRET = ref("alice/secret", 3)


class StubOyster:
    """A stand-in for Oyster's hub endpoints that records what it was asked."""

    def __init__(self):
        self.profiles = [profile("SciPy", SCIPY), profile("Torch", TORCH)]
        self.status = 200
        self.body = None  # overrides the JSON answer when set
        self.requests = []
        # token -> the profiles only its holder may pull, beside the public ones
        self.private = {"alice-token": [profile("Secret", SECRET)]}
        self.tokens = []  # the token each request carried ("" for none)
        self.refused = set()  # tokens answered 401
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub.requests.append(self.path)
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                stub.tokens.append(token)
                if token in stub.refused:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"code": "UNAUTHORIZED", "message": "the credentials sent were refused"}}')
                    return
                body = stub.answer(self.path, token)
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, path, token=""):
        if self.body is not None:
            return self.body
        if self.status != 200:
            return json.dumps({"error": {"code": "INVALID_QUERY", "message": "unknown filter nope:"}}).encode()
        profiles = self.profiles + self.private.get(token, [])
        if urllib.parse.urlsplit(path).path.endswith("/images"):
            return json.dumps({p["display_name"]: p["kubespawner_override"]["image"] for p in profiles}).encode()
        return json.dumps(profiles).encode()

    def stop(self):
        if self.server.fileno() < 0:
            return
        self.server.shutdown()
        self.server.server_close()


class FakeUser:
    """The part of a JupyterHub User the module touches: auth_state, which
    JupyterHub decrypts asynchronously (None when it keeps none)."""

    def __init__(self, auth_state):
        self.auth_state = auth_state

    async def get_auth_state(self):
        return self.auth_state


class FakeSpawner:
    """The parts of a JupyterHub Spawner the module touches."""

    def __init__(self, user_options=None, user=None):
        self.user_options = user_options or {}
        self.image = "configured/default:latest"
        if user is not None:
            self.user = user

    def has_trait(self, name):
        return name == "image"


class Clock:
    """A monotonic clock the tests move by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class OysterTestCase(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.stub = StubOyster()
        self.addCleanup(self.stub.stop)
        self.clock = Clock()
        patcher = mock.patch.object(oyster_hub, "_clock", self.clock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.oyster = Oyster(self.stub.url, ttl=30, timeout=2)


class ProfileListTest(OysterTestCase):
    async def test_fetches_profiles(self):
        profiles = await self.oyster.profile_list(FakeSpawner())
        self.assertEqual([p["kubespawner_override"]["image"] for p in profiles], [SCIPY, TORCH])
        self.assertEqual(self.stub.requests, ["/api/v1/hub/profiles"])

    async def test_each_call_gets_its_own_copy(self):
        first = await self.oyster.profile_list(FakeSpawner())
        first[0]["slug"] = "changed-by-kubespawner"
        second = await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(second[0]["slug"], "scipy")

    async def test_query_and_options_are_sent(self):
        oyster = Oyster(self.stub.url, query="python:3.11 -cuda:*", options="1")
        await oyster.profile_list(FakeSpawner())
        url = urllib.parse.urlsplit(self.stub.requests[-1])
        self.assertEqual(url.path, "/api/v1/hub/profiles")
        self.assertEqual(urllib.parse.parse_qs(url.query), {"options": ["1"], "q": ["python:3.11 -cuda:*"]})

    async def test_cached_for_ttl_then_refreshed(self):
        await self.oyster.profile_list(FakeSpawner())
        self.clock.now += 29
        await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(len(self.stub.requests), 1, "asked again within the TTL")
        self.stub.profiles.append(profile("New", ref("lab/new", 3)))
        self.clock.now += 2
        profiles = await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(len(self.stub.requests), 2)
        self.assertEqual(profiles[-1]["display_name"], "New", "a new image did not show after the TTL")


class FallbackTest(OysterTestCase):
    async def test_down_serves_last_good_list_and_logs(self):
        await self.oyster.profile_list(FakeSpawner())
        self.stub.stop()
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING") as logs:
            profiles = await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(len(profiles), 2)
        self.assertIn("did not answer", logs.output[0])
        self.assertIn("fetched 60 s ago", logs.output[0])

    async def test_down_is_not_asked_again_within_ttl(self):
        await self.oyster.profile_list(FakeSpawner())
        self.stub.status = 503
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING"):
            await self.oyster.profile_list(FakeSpawner())
        self.clock.now += 10
        await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(len(self.stub.requests), 2, "a failing Oyster was asked on every page")

    async def test_error_message_from_oyster_is_logged(self):
        await self.oyster.profile_list(FakeSpawner())
        self.stub.status = 400
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING") as logs:
            await self.oyster.profile_list(FakeSpawner())
        self.assertIn("HTTP 400: unknown filter nope:", logs.output[0])

    async def test_unusable_answer_counts_as_failure(self):
        await self.oyster.profile_list(FakeSpawner())
        self.stub.body = b'{"not": "a list"}'
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING") as logs:
            profiles = await self.oyster.profile_list(FakeSpawner())
        self.assertEqual(len(profiles), 2)
        self.assertIn("unexpected answer", logs.output[0])

    async def test_down_with_nothing_cached_says_so(self):
        self.stub.stop()
        with self.assertLogs("JupyterHub.oyster", "ERROR"):
            with self.assertRaisesRegex(OysterUnavailable, "not answering"):
                await self.oyster.profile_list(FakeSpawner())


class AllowedImagesTest(OysterTestCase):
    def test_names_and_pinned_images(self):
        images = self.oyster.allowed_images(FakeSpawner())
        self.assertEqual(images, {"SciPy": SCIPY, "Torch": TORCH, SCIPY: SCIPY, TORCH: TORCH})
        self.oyster.allowed_images(FakeSpawner())
        self.assertEqual(self.stub.requests, ["/api/v1/hub/images"])

    def test_falls_back_too(self):
        self.oyster.allowed_images(FakeSpawner())
        self.stub.stop()
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING"):
            self.assertIn("Torch", self.oyster.allowed_images(FakeSpawner()))


class FormParser(html.parser.HTMLParser):
    """Collects the form's elements, labels and options."""

    def __init__(self):
        super().__init__()
        self.elements, self.labels, self.options, self.scripts = {}, set(), [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.labels.add(attrs.get("for"))
        elif tag == "option":
            self.options.append(attrs)
        elif tag == "script":
            self.scripts += 1
        if tag in ("input", "select"):
            self.elements[attrs["id"]] = (tag, attrs)


class OptionsFormTest(OysterTestCase):
    async def render(self, **kw):
        oyster = Oyster(self.stub.url, **kw)
        parser = FormParser()
        parser.feed(await oyster.options_form(FakeSpawner()))
        parser.close()
        return parser

    async def test_markup_for_bootstrap_3_and_5(self):
        form = await self.render()
        tag, select = form.elements["oyster-image"]
        self.assertEqual((tag, select["name"]), ("select", "image"))
        self.assertEqual(set(select["class"].split()), {"form-control", "form-select"})
        _, search = form.elements["oyster-image-search"]
        self.assertIn("form-control", search["class"].split())
        self.assertEqual(form.labels, set(form.elements), "every input needs a label")
        self.assertEqual(form.scripts, 1)

    async def test_options_are_pinned_images(self):
        form = await self.render()
        self.assertEqual([o["value"] for o in form.options], [SCIPY, TORCH])
        self.assertIn("selected", form.options[0])

    async def test_search_goes_to_the_public_url_with_the_query(self):
        form = await self.render(public_url="https://oyster.example.org/", query="python:3.11")
        _, search = form.elements["oyster-image-search"]
        self.assertEqual(search["data-search-url"], "https://oyster.example.org/api/v1/hub/images")
        self.assertEqual(search["data-query"], "python:3.11")

    async def test_text_is_escaped(self):
        self.stub.profiles = [profile('<img src=x onerror="alert(1)">', SCIPY, description='"><script>x</script>')]
        markup = await Oyster(self.stub.url).options_form(FakeSpawner())
        self.assertNotIn("<img", markup)
        self.assertNotIn("<script>x", markup)
        form = FormParser()
        form.feed(markup)
        self.assertEqual(form.options[0]["data-description"], '"><script>x</script>')

    async def test_no_images(self):
        self.stub.profiles = []
        markup = await Oyster(self.stub.url).options_form(FakeSpawner())
        self.assertIn("offers no images", markup)


class OptionsFromFormTest(OysterTestCase):
    async def test_returns_the_pinned_image(self):
        options = await self.oyster.options_from_form({"image": [TORCH]}, spawner=FakeSpawner())
        self.assertEqual(options, {"image": TORCH})

    async def test_query_string_form(self):
        self.assertEqual(await self.oyster.options_from_form({"image": SCIPY}), {"image": SCIPY})

    async def test_refuses_images_not_offered(self):
        for image in [ref("lab/other", 9), "evil.example/lab/scipy@sha256:" + "1" * 64, "lab/scipy:latest", SCIPY + "\n"]:
            with self.subTest(image=image), self.assertRaisesRegex(ValueError, "not an image this hub offers"):
                await self.oyster.options_from_form({"image": [image]}, spawner=FakeSpawner())

    async def test_refuses_an_empty_choice(self):
        with self.assertRaisesRegex(ValueError, "Choose an image"):
            await self.oyster.options_from_form({}, spawner=FakeSpawner())

    async def test_image_shown_on_the_form_stays_acceptable(self):
        spawner = FakeSpawner()
        await self.oyster.options_form(spawner)
        self.stub.profiles = [profile("SciPy", ref("lab/scipy", 7))]  # the tag moved
        self.clock.now += 60
        self.assertEqual(await self.oyster.options_from_form({"image": [SCIPY]}, spawner=spawner), {"image": SCIPY})
        with self.assertRaises(ValueError):
            await self.oyster.options_from_form({"image": [SCIPY]}, spawner=FakeSpawner())


class PreSpawnHookTest(OysterTestCase):
    async def test_sets_the_image(self):
        spawner = FakeSpawner({"image": TORCH})
        await self.oyster.pre_spawn_hook(spawner)
        self.assertEqual(spawner.image, TORCH)

    async def test_refuses_images_not_offered(self):
        spawner = FakeSpawner({"image": "docker.io/library/python:3"})
        with self.assertRaises(ValueError):
            await self.oyster.pre_spawn_hook(spawner)
        self.assertEqual(spawner.image, "configured/default:latest")

    async def test_without_a_choice_keeps_the_configured_image(self):
        spawner = FakeSpawner()
        await self.oyster.pre_spawn_hook(spawner)
        self.assertEqual(spawner.image, "configured/default:latest")
        self.assertEqual(self.stub.requests, [])



def alice(**kw):
    return FakeSpawner(user=FakeUser({"access_token": "alice-token"}), **kw)


def bob(**kw):
    return FakeSpawner(user=FakeUser({"access_token": "bob-token"}), **kw)


def images(profiles):
    return [p["kubespawner_override"]["image"] for p in profiles]


class PerUserTest(OysterTestCase):
    async def test_each_user_gets_the_list_their_token_gets(self):
        self.assertEqual(images(await self.oyster.profile_list(alice())), [SCIPY, TORCH, SECRET])
        self.assertEqual(images(await self.oyster.profile_list(bob())), [SCIPY, TORCH])
        self.assertEqual(images(await self.oyster.profile_list(FakeSpawner())), [SCIPY, TORCH])
        self.assertEqual(self.stub.tokens, ["alice-token", "bob-token", ""])

    async def test_without_auth_state_is_anonymous(self):
        for state in [None, {}, {"access_token": ""}, {"access_token": 7}]:
            with self.subTest(state=state):
                await Oyster(self.stub.url).profile_list(FakeSpawner(user=FakeUser(state)))
                self.assertEqual(self.stub.tokens[-1], "")

    async def test_auth_state_key_is_configurable(self):
        oyster = Oyster(self.stub.url, auth_state_key="globus_token")
        spawner = FakeSpawner(user=FakeUser({"access_token": "bob-token", "globus_token": "alice-token"}))
        self.assertIn(SECRET, images(await oyster.profile_list(spawner)))
        await Oyster(self.stub.url, auth_state_key="").profile_list(alice())
        self.assertEqual(self.stub.tokens, ["alice-token", ""])

    async def test_cached_per_user(self):
        await self.oyster.profile_list(alice())
        await self.oyster.profile_list(bob())
        await self.oyster.profile_list(alice())
        self.assertEqual(self.stub.tokens, ["alice-token", "bob-token"], "one user's answer served another, or the cache missed")

    async def test_users_cached_are_bounded(self):
        oyster = Oyster(self.stub.url, max_users=2)
        carol = FakeSpawner(user=FakeUser({"access_token": "carol-token"}))
        for spawner in [alice(), bob(), carol, bob(), alice()]:
            await oyster.profile_list(spawner)
        self.assertEqual(self.stub.tokens, ["alice-token", "bob-token", "carol-token", "alice-token"],
                         "alice's answer outlived the bound, or bob's (recently used) did not")
        self.assertEqual(len(oyster._answers), 2)

    async def test_form_shows_each_user_their_images(self):
        form = FormParser()
        form.feed(await self.oyster.options_form(alice()))
        self.assertIn(SECRET, [o["value"] for o in form.options])
        form = FormParser()
        form.feed(await self.oyster.options_form(bob()))
        self.assertNotIn(SECRET, [o["value"] for o in form.options])

    async def test_a_user_cannot_submit_another_users_image(self):
        self.assertEqual(await self.oyster.options_from_form({"image": [SECRET]}, spawner=alice()), {"image": SECRET})
        spawner = bob()
        await self.oyster.options_form(spawner)
        with self.assertRaisesRegex(ValueError, "not an image this hub offers you"):
            await self.oyster.options_from_form({"image": [SECRET]}, spawner=spawner)
        forged = bob(user_options={"image": SECRET})
        with self.assertRaises(ValueError):
            await self.oyster.pre_spawn_hook(forged)
        self.assertEqual(forged.image, "configured/default:latest")

    async def test_allowed_images_uses_the_token_the_hooks_read(self):
        spawner = alice(user_options={"image": SECRET})
        self.assertNotIn(SECRET, self.oyster.allowed_images(spawner), "a token was known before any hook ran")
        await self.oyster.pre_spawn_hook(spawner)
        self.assertIn(SECRET, self.oyster.allowed_images(spawner))
        self.assertNotIn(SECRET, self.oyster.allowed_images(bob()))

    async def test_refused_token_drops_the_users_lists(self):
        spawner = alice()
        self.assertIn(SECRET, images(await self.oyster.profile_list(spawner)))
        self.assertIn(SECRET, self.oyster.allowed_images(spawner))
        self.stub.refused.add("alice-token")  # revoked, or expired
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING") as logs, self.assertRaisesRegex(TokenRefused, "log in again"):
            await self.oyster.profile_list(spawner)
        self.assertNotIn("alice-token", "".join(logs.output))
        with self.assertLogs("JupyterHub.oyster", "WARNING"), self.assertRaises(TokenRefused):
            self.oyster.allowed_images(spawner)
        with self.assertLogs("JupyterHub.oyster", "WARNING"), self.assertRaises(TokenRefused):
            await self.oyster.options_from_form({"image": [SECRET]}, spawner=alice())
        self.assertEqual(images(await self.oyster.profile_list(bob())), [SCIPY, TORCH], "another user was affected")

    async def test_tokens_never_logged(self):
        await self.oyster.profile_list(alice())
        self.stub.stop()
        self.clock.now += 60
        with self.assertLogs("JupyterHub.oyster", "WARNING") as logs:
            await self.oyster.profile_list(alice())
        with self.assertLogs("JupyterHub.oyster", "ERROR") as errors, self.assertRaises(OysterUnavailable) as raised:
            await self.oyster.profile_list(bob())
        for line in logs.output + errors.output + [str(raised.exception)]:
            self.assertNotIn("-token", line)


if __name__ == "__main__":
    unittest.main()
