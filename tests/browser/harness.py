"""Real headless Chromium with the built extension, and loopback web servers.

Recipes from shared/notes/chromium-harness.md: Debian's chromium driven by
Playwright, extension loaded unpacked from dist/extension, the context menu
reached through the service worker's ``backgrone.onMenuClick`` seam.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path


def wait_until(page, expression: str, arg=None, timeout: float = 30_000, interval_ms: int = 100):
    """Polls the JS function ``expression`` (async or not) in ``page`` until it gives a truthy
    value, and returns that value. Playwright's ``wait_for_function`` does not await a promise:
    an async predicate is a Promise, truthy at once, so it never waited (found 2026-12-04)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout / 1000:.0f} s: {expression[:300]}")
        page.wait_for_timeout(interval_ms)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless Chromium on a closed network, without its own background traffic. One
# --disable-features flag only: when there are several, the last one wins.
DISABLED_FEATURES = [
    "DownloadBubble",
    "DownloadBubbleV2",
    "OptimizationHints",
    "OptimizationHintsFetching",
    "MediaRouter",
]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--disable-features={','.join(DISABLED_FEATURES)}",
]
MENU_ID = "backgrone-remove-background"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def end_headers(self):
        self.send_header("Cache-Control", self.server.cache_control)
        super().end_headers()

    def do_GET(self):
        self.server.requests.append(self.path)
        self.server.cookies.append((self.path, self.headers.get("Cookie")))
        self.server.headers.append((self.path, dict(self.headers)))
        path = self.path.split("?")[0]
        if path in self.server.stalled:
            self.server.closing.wait(90)  # a server that never answers
            return
        route = self.server.routes.get(path)
        if route is not None:
            status, ctype, body, cookie, headers = route
            if cookie and cookie not in (self.headers.get("Cookie") or ""):
                status, ctype, body = 403, "text/plain", b"forbidden"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


class Site:
    """A folder served on 127.0.0.1 at a free port; ``routes`` overrides paths."""

    def __init__(self, root: Path, cache_control: str = "no-store"):
        self.root = root
        handler = functools.partial(_Handler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.cache_control = cache_control
        self.server.requests = []
        self.server.cookies = []  # (path, Cookie header) per request
        self.server.headers = []  # (path, {header: value}) per request
        self.server.routes = {}
        self.server.stalled = set()
        self.server.closing = threading.Event()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    def route(
        self, path: str, status: int, ctype: str, body: bytes, cookie: str | None = None, headers: dict | None = None
    ) -> None:
        """Serve `body` at `path` (with `headers`); with `cookie` ("name=value"), only to requests that carry it."""
        self.server.routes[path] = (status, ctype, body, cookie, headers or {})

    def stall(self, path: str) -> None:
        """`path` accepts the connection and never answers."""
        self.server.stalled.add(path)

    def close(self) -> None:
        self.server.closing.set()
        self.server.shutdown()
        self.server.server_close()


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves the npm package's dist/<sha256> chunk files, with fault injection."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        name = self.path.strip("/").split("/")[-1]
        with srv.lock:
            srv.requests.append(name)
            failing = srv.fail_after is not None and len(srv.requests) > srv.fail_after
            cutting = srv.cut_after is not None and len(srv.requests) > srv.cut_after
        path = srv.dist / name
        if failing or not path.is_file():
            self.send_error(503 if failing else 404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if cutting:  # the connection drops mid-body
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        rate = srv.rate
        if not rate:
            self.wfile.write(data)
            return
        piece = 64 * 1024  # a slow link: pieces at `rate` bytes per second, until it is lifted
        try:
            for start in range(0, len(data), piece):
                self.wfile.write(data[start : start + piece])
                self.wfile.flush()
                if srv.rate:
                    time.sleep(piece / srv.rate)
        except OSError:  # the client stopped reading (an aborted download)
            with srv.lock:
                srv.aborted.append(name)


class ModelMirror:
    def __init__(self, dist: Path):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MirrorHandler)
        self.server.dist = dist
        self.server.requests = []
        self.server.fail_after = None
        self.server.cut_after = None
        self.server.rate = None
        self.server.aborted = []  # chunks whose client went away mid-body
        self.server.lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/dist/"

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    def fail_after(self, n: int | None) -> None:
        self.server.fail_after = n

    def cut_after(self, n: int | None) -> None:
        """After `n` whole chunks, every answer breaks off halfway through its body."""
        self.server.cut_after = n

    def throttle(self, bytes_per_s: int | None) -> None:
        """Serve bodies at this rate (None: at full speed again, also for bodies under way)."""
        self.server.rate = bytes_per_s

    @property
    def aborted(self) -> list[str]:
        return self.server.aborted

    def reset(self) -> None:
        self.server.requests.clear()
        self.server.aborted.clear()
        self.server.fail_after = None
        self.server.cut_after = None
        self.server.rate = None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_download_prefs(profile: Path, downloads: Path) -> None:
    """Downloads land under their requested names, without a prompt."""
    prefs = profile / "Default" / "Preferences"
    prefs.parent.mkdir(parents=True, exist_ok=True)
    prefs.write_text(
        json.dumps(
            {
                "download": {
                    "default_directory": str(downloads),
                    "prompt_for_download": False,
                    "directory_upgrade": True,
                },
                "savefile": {"default_directory": str(downloads)},
            }
        )
    )


class Browser:
    """One Chromium profile with the extension loaded; can be restarted on the same profile."""

    def __init__(self, playwright, ext_dir: Path, profile: Path, downloads: Path, extra_args: list[str] = ()):
        self.extra_args = list(extra_args)
        self.pw = playwright
        self.ext_dir = ext_dir
        self.profile = profile
        self.downloads = downloads
        self.ctx = None
        self.start()

    def start(self) -> None:
        if not (self.profile / "Default" / "Preferences").exists():
            write_download_prefs(self.profile, self.downloads)
        self.ctx = self.pw.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            headless=True,
            accept_downloads=True,
            downloads_path=str(self.downloads),
            args=[
                *CHROMIUM_ARGS,
                f"--disable-extensions-except={self.ext_dir}",
                f"--load-extension={self.ext_dir}",
                *self.extra_args,
            ],
        )
        self.ctx.set_default_timeout(120_000)

    @property
    def sw(self):
        """The extension's current service worker (the newest, after a restart)."""
        workers = self.ctx.service_workers
        return workers[-1] if workers else self.ctx.wait_for_event("serviceworker")

    @property
    def ext_id(self) -> str:
        return self.sw.url.split("/")[2]

    def ext_url(self, path: str) -> str:
        return f"chrome-extension://{self.ext_id}/{path}"

    def open_popup(self, scheme: str = "light", viewport: dict | None = None):
        """The toolbar popup's page in a tab, ready (its batch attached), in that colour scheme."""
        popup = self.ctx.new_page()
        popup.emulate_media(color_scheme=scheme)
        if viewport:
            popup.set_viewport_size(viewport)
        popup.goto(self.ext_url("extension/popup/popup.html"))
        popup.wait_for_selector("body[data-ready]")
        return popup

    def restart(self) -> None:
        self.ctx.close()
        self.start()

    def reload_extension(self) -> None:
        """Load the extension again from its folder, as an update does: open tabs stay, the
        extension's contexts start anew. Needs --enable-unsafe-extension-debugging in
        extra_args (chrome.runtime.reload() leaves a command-line extension disabled here)."""
        old = self.sw
        ext_id = self.ext_id
        cdp = self.ctx.browser.new_browser_cdp_session()
        try:
            cdp.send("Extensions.loadUnpacked", {"path": str(self.ext_dir)})
        finally:
            cdp.detach()
        # An extension page wakes the new service worker where Playwright sees it.
        page = self.ctx.new_page()
        try:
            end = time.time() + 30
            while not [w for w in self.ctx.service_workers if w is not old]:
                assert time.time() < end, "the reloaded extension's service worker never started"
                try:
                    page.goto(f"chrome-extension://{ext_id}/extension/options/options.html")
                except Exception:  # not loaded yet
                    time.sleep(0.2)
        finally:
            page.close()

    def close(self) -> None:
        self.ctx.close()

    def keep_download_names(self, page) -> None:
        """Playwright names downloads by GUID; let Chromium keep the requested names."""
        cdp = self.ctx.new_cdp_session(page)
        cdp.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)})
        cdp.detach()

    def settings(self, **values) -> None:
        self.sw.evaluate("(v) => chrome.storage.local.set(v)", values)

    def menu_click(self, page, src_url: str, frame_id: int = 0) -> dict:
        """What a right-click on the image and "Remove background" does."""
        return self.sw.evaluate(
            """async ([pageUrl, srcUrl, frameId, menuItemId]) => {
                const [tab] = await chrome.tabs.query({ url: pageUrl });
                const info = { menuItemId, srcUrl, pageUrl, frameId, mediaType: 'image' };
                try { return await globalThis.backgrone.onMenuClick(info, tab); }
                catch (e) { return { ok: false, thrown: String(e && e.message || e) }; }
            }""",
            [page.url, src_url, frame_id, MENU_ID],
        )

    def menu_clicks(self, page, src_urls: list[str]) -> list[dict]:
        """Several right-clicks in a row, without waiting for the previous one."""
        return self.sw.evaluate(
            """async ([pageUrl, srcUrls, menuItemId]) => {
                const [tab] = await chrome.tabs.query({ url: pageUrl });
                return Promise.all(srcUrls.map((srcUrl) =>
                  globalThis.backgrone.onMenuClick({ menuItemId, srcUrl, pageUrl, frameId: 0 }, tab)
                    .catch((e) => ({ ok: false, thrown: String(e && e.message || e) }))));
            }""",
            [page.url, src_urls, MENU_ID],
        )

    def record_progress(self) -> None:
        self.sw.evaluate(
            """() => {
                globalThis.__progress = [];
                chrome.runtime.onMessage.addListener((m) => {
                  if (m && m.type === 'progress') globalThis.__progress.push(m.data);
                });
            }"""
        )

    def progress(self) -> list[dict]:
        return self.sw.evaluate("() => globalThis.__progress || []")


# JS statements: the <img> at `selector`, decoded and drawn at its own size into canvas `c` (context `g`).
DRAW_IMG = """
  const img = document.querySelector(selector);
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
"""
# Pixels of an <img> as the page shows it (the cut-out is a same-origin blob: URL).
IMG_ALPHA = (
    "async (selector) => {"
    + DRAW_IMG
    + """  const a = (x, y) => g.getImageData(x, y, 1, 1).data[3];
  const w = c.width - 1, h = c.height - 1;
  return { width: c.width, height: c.height,
           corners: [a(2, 2), a(w - 2, 2), a(2, h - 2), a(w - 2, h - 2)],
           centre: a(Math.round(c.width / 2), Math.round(c.height * 0.52)) };
}"""
)


class Overlays:
    """The in-page overlays, read and clicked through CDP: their shadow roots are
    closed, so page scripts (and Playwright's locators) can't reach into them.
    Clicks are real mouse clicks at the button's position (trusted events)."""

    def __init__(self, page):
        self.page = page

    def _walk(self):
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            doc = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        finally:
            cdp.detach()
        found = []

        def own_text(node):
            """The overlay writes its words as CSS-generated content from data-text."""
            attrs = node.get("attributes", [])
            pairs = dict(zip(attrs[0::2], attrs[1::2], strict=True))
            return pairs.get("data-text", "")

        def text_of(node):
            if node.get("nodeType") == 3:
                return node.get("nodeValue", "")
            if node.get("nodeName") in ("STYLE", "BUTTON"):
                return ""
            parts = [own_text(node), *(text_of(c) for c in node.get("children", []))]
            return " ".join(t for t in parts if t)

        def is_action(node):
            """A button of the box's actions (not the chip of a folded box, which stands for them)."""
            attrs = node.get("attributes", [])
            classes = dict(zip(attrs[0::2], attrs[1::2], strict=True)).get("class", "")
            return node.get("nodeName") == "BUTTON" and "chip" not in classes.split()

        def buttons_of(node, out):
            if is_action(node):
                out.append((own_text(node), node["backendNodeId"]))
            for c in node.get("children", []) + node.get("shadowRoots", []):
                buttons_of(c, out)
            return out

        def visit(node):
            if node.get("nodeName") == "BACKGRONE-OVERLAY":
                roots = node.get("shadowRoots", [])
                box = next((c for r in roots for c in r.get("children", []) if c.get("nodeName") == "DIV"), None)
                frame = any(c.get("nodeName") == "IFRAME" for r in roots for c in r.get("children", []))
                found.append(
                    {
                        "box": box["backendNodeId"] if box else None,
                        "text": " ".join(text_of(box).split()) if box else "",
                        "buttons": buttons_of(box, []) if box else [],
                        "frame": frame,
                        "shadow": roots[0].get("shadowRootType") if roots else None,
                    }
                )
            for c in (
                node.get("children", [])
                + node.get("shadowRoots", [])
                + ([node["contentDocument"]] if node.get("contentDocument") else [])
            ):
                visit(c)

        visit(doc)
        return found

    def all(self) -> list[dict]:
        return self._walk()

    def count(self) -> int:
        return len(self._walk())

    def last(self) -> dict:
        found = self._walk()
        assert found, "no overlay on the page"
        return found[-1]

    def text(self) -> str:
        return self.last()["text"]

    def wait_text(self, part: str, timeout_s: float = 60) -> str:
        import time

        end = time.time() + timeout_s
        while True:
            found = self._walk()
            if found and part in found[-1]["text"]:
                return found[-1]["text"]
            if time.time() > end:
                raise AssertionError(f"overlay never said {part!r}: {found}")
            time.sleep(0.1)

    def focus(self, name: str) -> None:
        """Keyboard focus on the last overlay's button called `name`."""
        buttons = dict(self.last()["buttons"])
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            cdp.send("DOM.focus", {"backendNodeId": buttons[name]})
        finally:
            cdp.detach()

    def click(self, name: str) -> None:
        """A real mouse click on the last overlay's button called `name`."""
        last = self.last()
        buttons = dict(last["buttons"])
        assert name in buttons, f"no {name!r} button in {buttons}"
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            # The pointer on the box first: a box left alone folds to a chip, and unfolds under the pointer.
            cdp.send("DOM.scrollIntoViewIfNeeded", {"backendNodeId": last["box"]})
            box = cdp.send("DOM.getContentQuads", {"backendNodeId": last["box"]})["quads"][0]
            self.page.mouse.move(sum(box[0::2]) / 4, sum(box[1::2]) / 4)
            cdp.send("DOM.scrollIntoViewIfNeeded", {"backendNodeId": buttons[name]})
            quad = cdp.send("DOM.getContentQuads", {"backendNodeId": buttons[name]})["quads"][0]
        finally:
            cdp.detach()
        x = sum(quad[0::2]) / 4
        y = sum(quad[1::2]) / 4
        self.page.mouse.click(x, y)


def cutout_frame(page, timeout_s: float = 60):
    """The extension frame that shows a guarded cut-out, once its image is ready."""
    import time

    end = time.time() + timeout_s
    while time.time() < end:
        for f in page.frames:
            if "/extension/frame/frame.html" in f.url:
                state = f.evaluate(
                    "() => [document.documentElement.dataset.ready, document.documentElement.dataset.error]"
                )
                if state[1]:
                    raise AssertionError(f"the cut-out frame failed: {state[1]}")
                if state[0]:
                    return f
        time.sleep(0.1)
    raise AssertionError("no cut-out frame appeared")


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    """A forward proxy for plain http: logs every request, then forwards it or refuses it."""

    def log_message(self, *args):
        pass

    def _handle(self):
        import urllib.error
        import urllib.request

        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        entry = {
            "method": self.command,
            "url": self.path,
            "body": len(body),
            "chunked": "chunked" in (self.headers.get("Transfer-Encoding") or "").lower(),
        }
        with srv.lock:
            srv.log.append(entry)
        if srv.refuse or self.command == "CONNECT" or not self.path.startswith("http://"):
            self.send_error(502, "refused by the test proxy")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
        request = urllib.request.Request(self.path, data=body or None, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as upstream:
                status, data, items = upstream.status, upstream.read(), upstream.getheaders()
        except urllib.error.HTTPError as err:
            status, data, items = err.code, err.read(), err.headers.items()
        entry["status"] = status
        self.send_response(status)
        for k, v in items:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = do_CONNECT = _handle


class LoggingProxy:
    """Every request of every browser context goes through here (Chromium's --proxy-server,
    loopback included): tests read `log` and can refuse everything."""

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.log = []
        self.server.refuse = False
        self.server.lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def args(self) -> list[str]:
        port = self.server.server_address[1]
        # <-loopback> removes Chromium's implicit bypass for loopback addresses.
        return [f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>"]

    @property
    def log(self) -> list[dict]:
        with self.server.lock:
            return list(self.server.log)

    def refuse(self, on: bool = True) -> None:
        self.server.refuse = on

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(check, what: str, timeout_s: float = 60):
    """Poll ``check`` until it gives something true (returned); fail naming ``what`` after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < end, what
        time.sleep(0.1)
    return value
