"""Real headless Firefox with the built extension, driven over WebDriver BiDi.

Recipes from shared/notes/firefox.md: firefox-esr's own Remote Agent is the BiDi
server (no geckodriver), the extension is a temporary add-on (webExtension.install),
and --remote-allow-system-access lets a test open moz-extension:// pages and reach
the browser's own window (chrome scope) for the real context menu.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
EXT_UUID = "6f1c3a52-8d4e-4b7a-9e21-b0c5d7f3a918"  # fixes the moz-extension:// host
ADDON_ID = "backgrone@backgrone.invalid"
MENU_ID = "backgrone-remove-background"
# The BiDi server on a free port; system access for moz-extension:// pages and chrome scope.
BIDI_ARGS = ["--remote-debugging-port", "0", "--remote-allow-system-access", "about:blank"]
HELPER_PAGE = "extension/options/options.html"  # an extension page for browser.* calls
_MENU_ITEM_SUFFIX = f"-menuitem-_{MENU_ID}"
_EXT_PARENT = f"""ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs')
  .ExtensionParent.GlobalManager.getExtension({json.dumps(ADDON_ID)})"""

# A quiet browser: the privacy test logs every request, so no update, telemetry, experiment,
# safe-browsing, captive-portal, remote-settings or first-run traffic of its own.
_OFF = """browser.shell.checkDefaultBrowser browser.aboutwelcome.enabled browser.newtabpage.enabled
  browser.newtabpage.activity-stream.feeds.system.topstories browser.newtabpage.activity-stream.feeds.topsites
  browser.newtabpage.activity-stream.telemetry browser.topsites.contile.enabled browser.discovery.enabled
  browser.ping-centre.telemetry browser.region.update.enabled browser.search.update browser.urlbar.suggest.searches
  browser.urlbar.speculativeConnect.enabled browser.places.speculativeConnect.enabled browser.translations.enable
  browser.ml.enable browser.backup.enabled browser.sessionstore.resume_from_crash browser.safebrowsing.malware.enabled
  browser.safebrowsing.phishing.enabled browser.safebrowsing.downloads.enabled browser.safebrowsing.update.enabled
  browser.safebrowsing.downloads.remote.enabled browser.safebrowsing.blockedURIs.enabled
  datareporting.policy.dataSubmissionEnabled datareporting.healthreport.uploadEnabled datareporting.usage.uploadEnabled
  toolkit.telemetry.enabled toolkit.telemetry.unified toolkit.telemetry.archive.enabled app.normandy.enabled
  app.shield.optoutstudies.enabled messaging-system.rsexperimentloader.enabled app.update.auto
  security.remote_settings.intermediates.enabled security.remote_settings.crlite_filters.enabled
  network.captive-portal-service.enabled network.connectivity-service.enabled network.prefetch-next
  dom.push.connection.enabled identity.fxaccounts.enabled media.gmp-manager.updateEnabled extensions.update.enabled
  extensions.getAddons.cache.enabled extensions.systemAddon.update.enabled extensions.blocklist.enabled
  extensions.htmlaboutaddons.recommendations.enabled signon.rememberSignons"""
QUIET_PREFS: dict[str, Any] = dict.fromkeys(_OFF.split(), False) | {
    "browser.startup.page": 0,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "about:blank",
    "startup.homepage_welcome_url.additional": "",
    "datareporting.policy.dataSubmissionPolicyBypassNotification": True,
    "app.update.disabledForTesting": True,
    "services.settings.server": "data:,#remote-settings-dummy/v1",  # with MOZ_REMOTE_SETTINGS_DEVTOOLS=1
    "browser.region.network.url": "",
    "toolkit.telemetry.server": "",
    "app.normandy.api_url": "",
    "geo.provider.network.url": "",
    "extensions.getAddons.discovery.api_url": "data:, ",
    "security.OCSP.enabled": 0,
    "network.trr.mode": 5,  # no DNS over HTTPS
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
}


class BidiError(RuntimeError):
    """A BiDi command failed, timed out, or the script threw."""


def _local(value: Any) -> dict:
    """A Python value as a BiDi LocalValue (for script.callFunction arguments)."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int | float):
        ok = not isinstance(value, float) or math.isfinite(value)
        return {"type": "number", "value": value if ok else str(value).replace("inf", "Infinity").replace("nan", "NaN")}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, list | tuple):
        return {"type": "array", "value": [_local(v) for v in value]}
    if isinstance(value, dict):
        return {"type": "object", "value": [[str(k), _local(v)] for k, v in value.items()]}
    raise TypeError(f"not JSON-able: {value!r}")


def _plain(rv: dict) -> Any:
    """A BiDi RemoteValue as plain Python; nodes and the like stay raw (they carry a sharedId)."""
    kind, value = rv.get("type"), rv.get("value")
    if kind in ("undefined", "null"):
        return None
    if kind == "number" and isinstance(value, str):  # NaN, -0, Infinity, -Infinity
        return float(value.replace("Infinity", "inf"))
    if kind in ("number", "string", "boolean"):
        return value
    if kind == "bigint":
        return int(value)
    if kind in ("array", "set") and value is not None:
        return [_plain(v) for v in value]
    if kind in ("object", "map") and value is not None:
        return {k if isinstance(k, str) else str(_plain(k)): _plain(v) for k, v in value}
    return rv


class Firefox:
    """One headless Firefox on its own profile, with the extension installed as a temporary add-on."""

    def __init__(
        self,
        ext_dir: Path,
        profile: Path,
        downloads: Path,
        proxy: tuple[str, int] | None = None,
        idle_timeout_ms: int = 300_000,
    ) -> None:
        self.ext_dir, self.profile, self.downloads = Path(ext_dir), Path(profile), Path(downloads)
        self.timeout = 120.0  # seconds for any one BiDi answer (a suspended page's promise never settles)
        self._next_id = 0
        self._helper: str | None = None
        self._chrome: str | None = None
        self._write_prefs(proxy, idle_timeout_ms)
        self.stderr: deque[str] = deque(maxlen=200)  # the tail, for error messages
        self.proc = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", str(self.profile), *BIDI_ARGS],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: close() ends it all
            # Release builds ignore services.settings.server unless this is set (services-settings/Utils.sys.mjs).
            env={**os.environ, "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1"},
        )
        try:
            url = self._bidi_url() + "/session"  # no env proxy, no pings a busy browser might miss
            self.ws: ClientConnection = connect(url, max_size=None, proxy=None, ping_interval=None, legacy=True)
            self._cmd("session.new", capabilities={"alwaysMatch": {}})
            self._cmd("webExtension.install", extensionData={"type": "path", "path": str(self.ext_dir.resolve())})
            tree = self._cmd("browsingContext.getTree", maxDepth=0)["contexts"]
            self.tab: str = tree[0]["context"]  # the first top-level browsing context
        except BaseException:
            self.close()
            raise

    def _write_prefs(self, proxy: tuple[str, int] | None, idle_timeout_ms: int) -> None:
        prefs = {
            **QUIET_PREFS,
            "extensions.webextensions.uuids": json.dumps({ADDON_ID: EXT_UUID}),
            "extensions.background.idle.timeout": idle_timeout_ms,  # tests suspend it on purpose instead
            "browser.download.dir": str(self.downloads),
            "browser.download.folderList": 2,
            "browser.download.useDownloadDir": True,
            "browser.download.always_ask_before_handling_new_types": False,
            "browser.download.panel.shown": True,
        }
        if proxy:  # everything through the test proxy, loopback included
            host, port = proxy
            prefs |= {
                "network.proxy.type": 1,
                "network.proxy.http": host,
                "network.proxy.http_port": port,
                "network.proxy.ssl": host,
                "network.proxy.ssl_port": port,
                "network.proxy.no_proxies_on": "",
                "network.proxy.allow_hijacking_localhost": True,
            }
        self.profile.mkdir(parents=True, exist_ok=True)
        lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items()]
        (self.profile / "user.js").write_text("\n".join(lines) + "\n")

    def _bidi_url(self, timeout: float = 60) -> str:
        """Firefox prints its BiDi address on stderr; a thread keeps draining it so Firefox never blocks."""
        found: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.stderr.append(line.rstrip())
                if m := re.search(r"WebDriver BiDi listening on (ws://\S+)", line):
                    found.put(m.group(1))

        threading.Thread(target=drain, daemon=True).start()
        try:
            return found.get(timeout=timeout)
        except queue.Empty:
            tail = "\n".join(self.stderr)
            raise BidiError(
                f"Firefox printed no BiDi address in {timeout} s (exit {self.proc.poll()}):\n{tail}"
            ) from None

    def _cmd(self, method: str, timeout: float | None = None, **params: Any) -> dict:
        self._next_id += 1
        ident = self._next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                msg = json.loads(self.ws.recv(timeout=max(0.01, end - time.monotonic())))
            except TimeoutError:
                raise BidiError(f"{method}: no answer in {timeout or self.timeout} s") from None
            if msg.get("id") != ident:
                continue  # an event, or the late answer to a command that timed out
            if msg.get("type") == "error":
                raise BidiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
            return msg["result"]

    def _script(self, method: str, ctx: str, **params: Any) -> dict:
        res = self._cmd(method, target={"context": ctx}, **params)
        if res["type"] == "exception":
            details = res["exceptionDetails"]
            raise BidiError(f"{method} threw: {details.get('text')}")
        return res["result"]

    # --- pages ---------------------------------------------------------------------------------

    def ext_url(self, path: str) -> str:
        return f"moz-extension://{EXT_UUID}/{path.lstrip('/')}"

    def new_tab(self) -> str:
        return self._cmd("browsingContext.create", type="tab")["context"]

    def close_tab(self, ctx: str) -> None:
        self._cmd("browsingContext.close", context=ctx)

    def navigate(self, ctx: str, url: str, wait: str = "complete") -> None:
        self._cmd("browsingContext.navigate", context=ctx, url=url, wait=wait)

    def open_ext_page(self, path: str, timeout: float = 30) -> str:
        """BiDi never sees a moz-extension navigation finish: start it, then poll the page itself."""
        ctx, url = self.new_tab(), self.ext_url(path)
        self.navigate(ctx, url, wait="none")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.evaluate(ctx, "[location.href, document.readyState]") == [url, "complete"]:
                    return ctx
            except BidiError:
                pass  # the realm went away mid-navigation
            time.sleep(0.1)
        raise BidiError(f"{url} did not load in {timeout} s")

    def frames(self, ctx: str) -> list[dict]:
        """The frames inside a page (nested ones too), as BiDi contexts: {context, url, children}."""
        out, todo = [], list(self._cmd("browsingContext.getTree", root=ctx)["contexts"][0].get("children") or [])
        while todo:
            frame = todo.pop(0)
            out.append(frame)
            todo.extend(frame.get("children") or [])
        return out

    def press(self, ctx: str, *keys: str) -> None:
        """Real key presses in the page (WebDriver key values, e.g. \\ue004 for Tab)."""
        actions = [{"type": kind, "value": k} for k in keys for kind in ("keyDown", "keyUp")]
        self._cmd("input.performActions", context=ctx, actions=[{"type": "key", "id": "keyboard", "actions": actions}])

    def in_content_script(
        self, page_ctx: str, function_declaration: str, arg: Any = None, all_frames: bool = False
    ) -> list:
        """Runs `(arg) => ...` in the page's content-script world (what a content script, or a
        renderer that took it over, can do); returns [{frameId, result}] per frame."""
        # Spliced into the source, not passed: extension pages' CSP forbids making a function from text.
        return self.background(
            f"""async (bg, pageUrl, arg, allFrames) => {{
                const tab = (await browser.tabs.query({{}})).find((t) => t.url === pageUrl);
                const func = ({function_declaration});
                const runs = await browser.scripting.executeScript({{ target: {{ tabId: tab.id, allFrames }}, func, args: [arg] }});
                return runs.map(({{ frameId, result, error }}) => ({{ frameId, result, error: error && String(error) }}));
            }}""",
            self.evaluate(page_ctx, "location.href"),
            arg,
            all_frames,
        )

    def evaluate(self, ctx: str, expression: str, await_promise: bool = True) -> Any:
        return _plain(self._script("script.evaluate", ctx, expression=expression, awaitPromise=await_promise))

    def call(self, ctx: str, function_declaration: str, *args: Any) -> Any:
        return _plain(self._call(ctx, function_declaration, *args))

    def _call(self, ctx: str, function_declaration: str, *args: Any) -> dict:
        params = {"functionDeclaration": function_declaration, "arguments": [_local(a) for a in args]}
        return self._script("script.callFunction", ctx, awaitPromise=True, **params)

    # --- the extension -------------------------------------------------------------------------

    def helper(self) -> str:
        """An extension page kept open for browser.* calls."""
        if self._helper is None:
            self._helper = self.open_ext_page(HELPER_PAGE)
        return self._helper

    def background(self, function_declaration: str, *args: Any) -> Any:
        """Runs `async (bg, ...args) => ...` with the background page's window; the result is JSON-round-tripped."""
        wrapper = f"""async (...args) => {{
            const bg = await browser.runtime.getBackgroundPage();
            return JSON.stringify(await ({function_declaration})(bg, ...args));
        }}"""
        text = self.call(self.helper(), wrapper, *args)
        return None if text is None else json.loads(text)

    def settings(self, **values: Any) -> None:
        self.call(self.helper(), "(v) => browser.storage.local.set(v)", values)

    def menu_click(self, page_ctx: str, src_url: str, frame_id: int = 0) -> dict:
        """What a right-click on the image and "Remove background" does, through the background's seam."""
        page_url = self.evaluate(page_ctx, "location.href")
        return self.background(
            """async (bg, pageUrl, srcUrl, frameId, menuItemId) => {
                // Firefox's tabs.query({url}) matches nothing when the pattern has a port.
                const tab = (await browser.tabs.query({})).find((t) => t.url === pageUrl);
                if (!tab) return { ok: false, thrown: `no tab shows ${pageUrl}` };
                const info = { menuItemId, srcUrl, pageUrl, frameId, mediaType: 'image' };
                try { return await bg.backgrone.onMenuClick(info, tab); }
                catch (e) { return { ok: false, thrown: String(e && e.message || e) }; }
            }""",
            page_url,
            src_url,
            frame_id,
            MENU_ID,
        )

    # --- chrome scope: the browser's own window ------------------------------------------------

    def chrome(self) -> str:
        if self._chrome is None:
            tree = self._cmd("browsingContext.getTree", **{"moz:scope": "chrome"})["contexts"]
            self._chrome = next(c["context"] for c in tree if c["url"].endswith("/browser.xhtml"))
        return self._chrome

    def _poll_chrome(self, expression: str, what: str, timeout: float = 10) -> Any:
        end = time.monotonic() + timeout
        while (value := self.evaluate(self.chrome(), expression)) in (None, False):
            if time.monotonic() > end:
                raise BidiError(f"{what} in {timeout} s")
            time.sleep(0.05)
        return value

    def context_menu_click(self, page_ctx: str, css_selector: str) -> str:
        """A real right-click on the element, then our item in Firefox's own context menu; returns its label."""
        find = "(s) => { const e = document.querySelector(s); e?.scrollIntoView({ block: 'center' }); return e; }"
        elem = self._call(page_ctx, find, css_selector)  # a node RemoteValue: pointer actions need its sharedId
        if "sharedId" not in elem:
            raise BidiError(f"no element matches {css_selector!r}")
        origin = {"type": "element", "element": {"sharedId": elem["sharedId"]}}
        mouse = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
            {"type": "pointerDown", "button": 2},
            {"type": "pointerUp", "button": 2},
        ]
        self._cmd(
            "input.performActions",
            context=page_ctx,
            actions=[{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": mouse}],
        )
        self._cmd("input.releaseActions", context=page_ctx)
        menu = "document.getElementById('contentAreaContextMenu')"
        item = f"[...{menu}.querySelectorAll('menuitem')].find((i) => i.id.endsWith({json.dumps(_MENU_ITEM_SUFFIX)}))"
        label = self._poll_chrome(f"{menu}.state === 'open' && {item}?.label", "our item never showed in an open menu")
        self.evaluate(self.chrome(), f"{menu}.activateItem({item})")
        self._poll_chrome(f"{menu}.state === 'closed'", "the context menu stayed open")
        return label

    def background_state(self) -> str:
        return self.evaluate(self.chrome(), f"{_EXT_PARENT}.backgroundState")

    def terminate_background(self, timeout: float = 30) -> None:
        """Suspends the event page now, as the idle timer would."""
        self.evaluate(self.chrome(), f"{_EXT_PARENT}.terminateBackground({{ ignoreDevToolsAttached: true }})")
        self._poll_chrome(f"{_EXT_PARENT}.backgroundState === 'stopped'", "the background never stopped", timeout)

    # --- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the browser, ends its process group, and checks its crashhelper (a separate session) went too."""
        if getattr(self, "ws", None) is not None:
            with contextlib.suppress(Exception):  # the answer may be lost with the closing connection
                self._cmd("browser.close", timeout=10)
            self.ws.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # content processes still in the group
        for pid in _crashhelpers(self.proc.pid):  # it re-parents to init and should exit on its own
            end = time.monotonic() + 5
            while pid in _crashhelpers(self.proc.pid) and time.monotonic() < end:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> Firefox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _crashhelpers(firefox_pid: int) -> list[int]:
    """Live (not zombie) crashhelper processes that watch this Firefox: `crashhelper <pid> ...`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if argv[0].endswith(b"/crashhelper") and argv[1:2] == [str(firefox_pid).encode()] and state != "Z":
            found.append(int(proc.name))
    return found
