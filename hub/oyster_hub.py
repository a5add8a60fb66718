"""Offer the images of an Oyster catalog on a JupyterHub spawn page.

Import it from jupyterhub_config.py (standard library only)::

    from oyster_hub import Oyster
    oyster = Oyster("http://oyster.example.org:5000")
    c.KubeSpawner.profile_list = oyster.profile_list

Every image reaches the spawner pinned by digest (host/repo@sha256:...), so
a session can be reproduced whatever happens to the tag later. The lists
are fetched when a spawn page is drawn, so images pushed to Oyster show up
without restarting the hub; a short cache keeps one busy hub from asking
Oyster for every page, and when Oyster does not answer the hub keeps
offering the last list it got, saying so in its log. See README.md beside
this file for the three set-ups.

When the authenticator keeps auth_state (c.Authenticator.enable_auth_state,
as OAuthenticator does with the user's access_token), each user's lists are
fetched with that user's token, so each dropdown shows what that user may
pull, and a submitted image is checked against that user's list. Without
auth_state Oyster is asked anonymously: public images only, when Oyster's
auth is on.
"""

import asyncio
import collections
import copy
import hashlib
import html
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref

__all__ = ["Oyster", "OysterUnavailable", "TokenRefused"]

# The clock the cache reads; tests replace it.
_clock = time.monotonic


class OysterUnavailable(RuntimeError):
    """Oyster did not answer and there is no earlier answer to fall back on."""


class TokenRefused(RuntimeError):
    """Oyster refused the user's token (expired or revoked). That user's
    cached lists are dropped, not offered instead: access withdrawn takes
    effect at once."""


class _Answer:
    """One cached answer: its value, when it was fetched, when Oyster was
    last asked (successfully or not)."""

    def __init__(self, value, now):
        self.value, self.fetched, self.asked = value, now, now


class Oyster:
    """One Oyster registry as a JupyterHub sees it.

    url: where the hub reaches Oyster. public_url: where users' browsers
    reach it, for the spawn page's search box (default: url). query: a
    catalog query narrowing the images further (Oyster already applies its
    hub.query). options: for profile_list, "" (one profile per image), "1"
    (plus one profile with an image dropdown) or "only" (just that one).
    ttl: seconds an answer is reused. timeout: seconds to wait for Oyster.
    auth_state_key: the key of the user's token in the authenticator's
    auth_state ("" never sends one). max_users: how many callers' answers
    are cached; the least recently used go first.
    """

    def __init__(self, url, *, public_url=None, query="", options="", ttl=30.0, timeout=5.0, log=None,
                 auth_state_key="access_token", max_users=1000):
        self.url = url.rstrip("/")
        self.public_url = (public_url or url).rstrip("/")
        self.query = query
        self.options = options
        self.ttl = ttl
        self.timeout = timeout
        self.log = log or logging.getLogger("JupyterHub.oyster")
        self.auth_state_key = auth_state_key
        self.max_users = max(1, max_users)
        # caller (a hash of the token; "" is anonymous) -> path -> _Answer,
        # least recently used first.
        self._answers = collections.OrderedDict()
        # What each spawner's last form showed: an image offered a moment
        # ago stays acceptable even if its tag moved before the submit.
        self._shown = weakref.WeakKeyDictionary()
        # The token last read for each spawner's user, for allowed_images,
        # which DockerSpawner calls synchronously (auth_state is async).
        self._tokens = weakref.WeakKeyDictionary()

    # -- the callables jupyterhub_config.py assigns ------------------------

    async def profile_list(self, spawner):
        """For c.KubeSpawner.profile_list: a fresh copy each call, because
        KubeSpawner fills in defaults in the profiles it is given."""
        params = {"options": self.options} if self.options else {}
        return copy.deepcopy(await self._get("profiles", params, await self._token(spawner)))

    def allowed_images(self, spawner):
        """For c.DockerSpawner.allowed_images, which DockerSpawner calls
        synchronously: display name -> pinned image, plus each pinned image
        -> itself so that DockerSpawner's start-time check also admits what
        options_form submits. It blocks the hub for at most `timeout`
        seconds, and only when the cached list is older than `ttl`. The
        user's token is the one options_form or pre_spawn_hook last read
        for this spawner (anonymous before either ran)."""
        images = self._get_sync("images", {}, self._tokens.get(spawner) if spawner is not None else None)
        return {**images, **{ref: ref for ref in images.values()}}

    async def options_form(self, spawner):
        """For c.Spawner.options_form (any spawner): a searchable select of
        the catalog's images. The search box asks Oyster from the browser
        and falls back to matching names when Oyster cannot be reached."""
        profiles = await self._get("profiles", {}, await self._token(spawner))
        self._remember(spawner, {p["kubespawner_override"]["image"] for p in profiles})
        return render_form(profiles, self.public_url + "/api/v1/hub/images", self.query)

    async def options_from_form(self, formdata, spawner=None):
        """For c.Spawner.options_from_form: {"image": the pinned image}, or
        ValueError for an image this hub did not offer this user. JupyterHub
        shows the message above the form."""
        image = _first(formdata.get("image"))
        if not image:
            raise ValueError("Choose an image: the form sent none.")
        await self._check_offered(image, spawner)
        return {"image": image}

    async def pre_spawn_hook(self, spawner):
        """For c.Spawner.pre_spawn_hook: checks user_options["image"] again
        (user_options can also come from the REST API, which skips
        options_from_form) and sets spawner.image for spawners that have
        one (KubeSpawner, DockerSpawner, ...)."""
        image = spawner.user_options.get("image")
        if not image:
            return
        await self._check_offered(image, spawner)
        if spawner.has_trait("image"):
            spawner.image = image

    # -- checking what was offered -----------------------------------------

    def _remember(self, spawner, images):
        if spawner is not None:
            self._shown[spawner] = images

    async def _check_offered(self, image, spawner):
        shown = self._shown.get(spawner, set()) if spawner is not None else set()
        if image in shown:
            return
        profiles = await self._get("profiles", {}, await self._token(spawner))
        if image not in {p["kubespawner_override"]["image"] for p in profiles}:
            raise ValueError(
                f"{image!r} is not an image this hub offers you: choose one from the list "
                f"(images come from Oyster at {self.public_url}, pinned by digest)."
            )

    # -- whose token ---------------------------------------------------------

    async def _token(self, spawner):
        """The token in the spawner's user's auth_state, or None: no
        spawner, no user, auth_state off or without the key. Remembered
        for allowed_images."""
        user = getattr(spawner, "user", None)
        token = None
        if user is not None and self.auth_state_key:
            state = await user.get_auth_state()
            value = state.get(self.auth_state_key) if isinstance(state, dict) else None
            token = value if isinstance(value, str) and value else None
        if spawner is not None:
            self._tokens[spawner] = token
        return token

    def _cache(self, token):
        """The answers cached for the caller holding token; using one makes
        it the most recently used, and more than max_users drop the least."""
        caller = hashlib.sha256(token.encode()).hexdigest() if token else ""
        answers = self._answers.get(caller)
        if answers is None:
            answers = self._answers[caller] = {}
            while len(self._answers) > self.max_users:
                self._answers.popitem(last=False)
        self._answers.move_to_end(caller)
        return answers

    # -- fetching, caching, falling back -----------------------------------

    def _path(self, endpoint, params):
        params = dict(params)
        if self.query:
            params["q"] = self.query
        query = urllib.parse.urlencode(sorted(params.items()))
        return f"/api/v1/hub/{endpoint}" + (f"?{query}" if query else "")

    async def _get(self, endpoint, params, token):
        path, answers = self._path(endpoint, params), self._cache(token)
        answer = self._fresh(answers, path)
        if answer is not None:
            return answer.value
        try:
            value = await asyncio.to_thread(self._fetch, path, token)
        except OSError as err:
            return self._fallback(answers, path, err)
        except TokenRefused:
            self._forget(answers, path)
            raise
        return self._store(answers, path, value)

    def _get_sync(self, endpoint, params, token):
        path, answers = self._path(endpoint, params), self._cache(token)
        answer = self._fresh(answers, path)
        if answer is not None:
            return answer.value
        try:
            value = self._fetch(path, token)
        except OSError as err:
            return self._fallback(answers, path, err)
        except TokenRefused:
            self._forget(answers, path)
            raise
        return self._store(answers, path, value)

    def _fresh(self, answers, path):
        answer = answers.get(path)
        if answer is not None and _clock() - answer.asked < self.ttl:
            return answer
        return None

    def _store(self, answers, path, value):
        answers[path] = _Answer(value, _clock())
        return value

    def _forget(self, answers, path):
        answers.clear()
        self.log.warning("Oyster at %s refused a user's token for %s (HTTP 401); that user's lists are dropped", self.url, path)

    def _fallback(self, answers, path, err):
        """The caller's last good answer for path, with a log line; Oyster
        is not asked again for `ttl` seconds, so a down Oyster does not
        slow every spawn page by `timeout`."""
        answer = answers.get(path)
        if answer is None:
            self.log.error("Oyster at %s did not answer %s (%s) and no earlier answer is cached", self.url, path, err)
            raise OysterUnavailable(f"The image catalog (Oyster at {self.url}) is not answering: {err}")
        answer.asked = _clock()
        self.log.warning(
            "Oyster at %s did not answer %s (%s); offering the list fetched %.0f s ago",
            self.url, path, err, answer.asked - answer.fetched,
        )
        return answer.value

    def _fetch(self, path, token):
        """GET path from Oyster as JSON, with the caller's token if any.
        Every failure is an OSError (a URLError, or a broken answer turned
        into one) so that callers have one thing to catch."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                value = json.load(resp)
        except urllib.error.HTTPError as err:
            if err.code == 401 and token:
                raise TokenRefused(
                    "The image catalog (Oyster) refused your login token: it has expired or was revoked. "
                    "Log out of the hub and log in again."
                ) from None
            raise OSError(f"HTTP {err.code}: {_error_message(err)}") from err
        except (ValueError, http.client.HTTPException) as err:
            raise OSError(f"unreadable answer: {err!r}") from err
        _check_shape(path, value)
        return value


def _images(n):
    return f"{n} image" if n == 1 else f"{n} images"


def _first(value):
    """A form value: JupyterHub sends lists of strings from forms and
    plain strings from /hub/spawn?image=... query strings."""
    if isinstance(value, list):
        return value[0] if value else ""
    return value or ""


def _error_message(err):
    try:
        return json.load(err)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return err.reason


def _check_shape(path, value):
    """Refuse answers the callables could not use, as if Oyster were down."""
    if path.startswith("/api/v1/hub/images"):
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    else:
        ok = isinstance(value, list) and all(
            isinstance(p, dict) and isinstance(p.get("display_name"), str)
            and ("profile_options" in p or isinstance(p.get("kubespawner_override", {}).get("image"), str))
            for p in value
        )
    if not ok:
        raise OSError(f"unexpected answer from {path}")


def render_form(profiles, search_url, query):
    """The options form: a search box and a select of the images, valid
    under JupyterHub 3 (Bootstrap 3) and 5 (Bootstrap 5): labelled inputs
    with both frameworks' classes. Every text is escaped here, whatever
    Oyster sent."""
    esc = html.escape
    options = "\n".join(
        f'    <option value="{esc(p["kubespawner_override"]["image"])}" '
        f'data-description="{esc(p.get("description", ""))}"{" selected" if i == 0 else ""}>'
        f'{esc(p["display_name"])}</option>'
        for i, p in enumerate(profiles)
    )
    first = esc(profiles[0].get("description", "")) if profiles else "Oyster offers no images to this hub yet."
    return _FORM.format(
        search_url=esc(search_url), query=esc(query), count=_images(len(profiles)),
        options=options, description=first, script=_SCRIPT,
    )


_FORM = """\
<div class="form-group mb-3 oyster-images">
  <label for="oyster-image-search" class="control-label form-label">Search the catalog</label>
  <input type="search" id="oyster-image-search" class="form-control" autocomplete="off"
         placeholder="pymatgen python:3.11 cuda:12" aria-describedby="oyster-image-status"
         data-search-url="{search_url}" data-query="{query}">
  <small id="oyster-image-status" class="help-block form-text text-muted" aria-live="polite">{count}</small>
</div>
<div class="form-group mb-3">
  <label for="oyster-image" class="control-label form-label">Image</label>
  <select id="oyster-image" name="image" class="form-control form-select" required aria-describedby="oyster-image-description">
{options}
  </select>
  <p id="oyster-image-description" class="help-block form-text">{description}</p>
</div>
<script>
{script}
</script>
"""

# The search box filters the select's options. It asks Oyster (the catalog
# query language, through /api/v1/hub/images?q=, which sends CORS headers)
# and matches the answers on repository@digest, since the host in them
# depends on the name the browser used. When Oyster cannot be reached or
# rejects the query, it matches the typed words against names instead.
_SCRIPT = r"""
(function () {
  var box = document.getElementById("oyster-image-search");
  var select = document.getElementById("oyster-image");
  var status = document.getElementById("oyster-image-status");
  var about = document.getElementById("oyster-image-description");
  var all = Array.prototype.slice.call(select.options);
  var timer = null, seq = 0;
  function key(ref) { return ref.slice(ref.indexOf("/") + 1); }
  function images(n) { return n === 1 ? "1 image" : n + " images"; }
  function show(keep, message) {
    var chosen = select.value;
    select.textContent = "";
    all.forEach(function (o) { if (keep(o)) select.appendChild(o); });
    if (select.options.length && Array.prototype.every.call(select.options, function (o) { return o.value !== chosen; })) {
      select.selectedIndex = 0;
    } else { select.value = chosen; }
    status.textContent = message.replace("%n", images(select.options.length));
    describe();
  }
  function byName(text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    return function (o) {
      var hay = (o.text + " " + o.getAttribute("data-description")).toLowerCase();
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    };
  }
  function describe() {
    var o = select.options[select.selectedIndex];
    about.textContent = o ? o.getAttribute("data-description") : "No image matches.";
  }
  function search() {
    var text = box.value.trim(), mine = ++seq;
    if (!text) { show(function () { return true; }, "%n"); return; }
    var q = (box.getAttribute("data-query") + " " + text).trim();
    fetch(box.getAttribute("data-search-url") + "?q=" + encodeURIComponent(q), { mode: "cors" })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error((body.error && body.error.message) || ("HTTP " + r.status)); }
          return body;
        });
      })
      .then(function (found) {
        if (mine !== seq) { return; }
        var keys = {};
        Object.keys(found).forEach(function (name) { keys[key(found[name])] = true; });
        show(function (o) { return keys[key(o.value)]; }, "%n found");
      })
      .catch(function (err) {
        if (mine !== seq) { return; }
        show(byName(text), "%n with these words (Oyster's search failed: " + err.message + ")");
      });
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
  box.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); search(); } });
  select.addEventListener("change", describe);
})();
"""
