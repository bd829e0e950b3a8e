"""Which site a request is for: cookies only when the image, the frame that shows it and the
tab share a host; no request to this device or the local network for a public page; none
for an image its page failed to load. Sites get real-looking names through Chromium's
--host-resolver-rules (every *.test name is 127.0.0.1), so that a page can be public."""

import uuid

import pytest

from composites import composite

from .harness import Browser, Overlays

pytestmark = pytest.mark.browser

RULES = "--host-resolver-rules=MAP *.test 127.0.0.1"
STYLE = "<style>img { width: 320px; height: 240px; display: block; } iframe { width: 360px; height: 280px; }</style>"


@pytest.fixture(scope="module")
def named(playwright, ext_dir, tmp_path_factory):
    b = Browser(playwright, ext_dir, tmp_path_factory.mktemp("profile"), tmp_path_factory.mktemp("downloads"), [RULES])
    b.settings(engine="fast")
    yield b
    b.close()


def port(site) -> int:
    return site.server.server_address[1]


def open_page(browser, url):
    page = browser.ctx.new_page()
    page.goto(url)  # "load": the frames and every <img> in them have loaded (or failed)
    return page


def frame_ids(browser, page) -> dict:
    """frameId by the frame's address (what a test needs to right-click inside a frame)."""
    return browser.sw.evaluate(
        """async (pageUrl) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            const found = await chrome.scripting.executeScript({ target: { tabId: tab.id, allFrames: true },
              func: () => location.href });
            return Object.fromEntries(found.map((f) => [f.result, f.frameId]));
        }""",
        page.url,
    )


def right_click(browser, page, src, frame_id=0, frame_url=None) -> dict:
    """A right-click as the browser reports it: in a frame, with the frame's address."""
    return browser.sw.evaluate(
        """async ([pageUrl, srcUrl, frameId, frameUrl]) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            const info = { menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId, mediaType: 'image' };
            if (frameUrl) info.frameUrl = frameUrl;
            return globalThis.backgrone.onMenuClick(info, tab);
        }""",
        [page.url, src, frame_id, frame_url],
    )


def shortcut(browser, page, selector) -> dict:
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return browser.sw.evaluate(
        """async (pageUrl) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            return globalThis.backgrone.onCommand('cut-under-pointer', tab);
        }""",
        page.url,
    )


def from_engine(site, since: int) -> list[str]:
    """Paths the extension itself asked for since request number `since`: its requests carry
    neither Origin nor Referer; the page's own (its <img>, its content script) name the page."""
    return [
        path for path, headers in site.server.headers[since:] if "Origin" not in headers and "Referer" not in headers
    ]


def test_cookies_only_when_frame_tab_and_image_share_a_host(named, sites):
    """A cross-site frame on victim.test that shows victim.test's private picture gets no
    cookie sent for it (it would learn from the cut-out whether the user is logged in);
    the tab's own frame still does, for the same picture."""
    a, b = sites
    data, _ = composite("ball", 400, 300, seed=31)
    b.route("/private4.png", 200, "image/png", data)
    image = f"http://victim.test:{port(b)}/private4.png"  # another origin than the page, same host
    frame = f"http://attacker.test:{port(a)}/frame4.html?{uuid.uuid4().hex}"
    a.route("/frame4.html", 200, "text/html", f'{STYLE}<img id="pic" src="{image}">'.encode())
    a.route(
        "/victim4.html",
        200,
        "text/html",
        f'{STYLE}<img id="own" src="{image}"><iframe src="{frame}"></iframe>'.encode(),
    )
    named.ctx.add_cookies(
        [{"name": "session", "value": "secret", "url": f"http://victim.test:{port(b)}", "sameSite": "Lax"}]
    )
    page = open_page(named, f"http://victim.test:{port(a)}/victim4.html?{uuid.uuid4().hex}")

    before = len(b.server.cookies)
    result = right_click(named, page, image, frame_ids(named, page)[frame], frame)
    assert result["ok"] and result["guarded"], result
    sent = [c for p, c in b.server.cookies[before:] if p.startswith("/private4.png")]
    assert sent and not any(sent), sent  # the engine fetched it, without the cookie
    assert from_engine(b, before)

    before = len(b.server.cookies)
    result = right_click(named, page, image)
    assert result["ok"] and result["guarded"], result
    sent = [c for p, c in b.server.cookies[before:] if p.startswith("/private4.png")]
    assert "session=secret" in [c for c in sent if c], sent
    page.close()


def test_a_public_page_gets_no_request_to_a_local_host(named, sites):
    """public.test shows a picture from a local address (a second loopback server): by
    right-click and by shortcut it is refused before anything asks for it, and the page says
    why. (All other tests' pages are local, 127.0.0.1, and their local pictures work.)"""
    a, b = sites
    data, _ = composite("box", 400, 300, seed=32)
    b.route("/router.png", 200, "image/png", data)
    image = f"http://127.0.0.1:{port(b)}/router.png"
    a.route("/public5.html", 200, "text/html", f'{STYLE}<h1>news</h1><img id="local" src="{image}">'.encode())
    page = open_page(named, f"http://public.test:{port(a)}/public5.html?{uuid.uuid4().hex}")
    assert page.eval_on_selector("#local", "img => img.naturalWidth") == 400  # the page itself showed it
    before = len(b.requests)
    overlays = Overlays(page)

    result = right_click(named, page, image)
    assert not result["ok"] and "local network" in result["error"], result
    assert "does not fetch it" in overlays.wait_text("local network")
    page.keyboard.press("Escape")

    result = shortcut(named, page, "#local")
    assert not result["ok"] and "local network" in result["error"], result
    overlays.wait_text("local network")
    page.wait_for_timeout(300)  # anything sent would have arrived
    assert b.requests[before:] == []
    page.close()


def test_the_engine_fetches_nothing_local_for_a_public_frame(named, sites):
    """Said again where the engine fetches, by the job port's sender: a public frame in a
    local tab, right-clicked without the frame's address, still gets no request from the
    extension (its content script may try what the frame itself could)."""
    a, b = sites
    data, _ = composite("box", 400, 300, seed=33)
    b.route("/router6.png", 200, "image/png", data)
    image = f"http://127.0.0.1:{port(b)}/router6.png"
    frame = f"http://public.test:{port(a)}/frame6.html?{uuid.uuid4().hex}"
    a.route("/frame6.html", 200, "text/html", f'{STYLE}<img id="local" src="{image}">'.encode())
    a.route("/local6.html", 200, "text/html", f'{STYLE}<iframe src="{frame}"></iframe>'.encode())
    page = open_page(named, f"{a.origin}/local6.html?{uuid.uuid4().hex}")
    before = len(b.requests)
    result = right_click(named, page, image, frame_ids(named, page)[frame])
    assert not result["ok"] and "local network" in result["error"], result
    assert from_engine(b, before) == []
    page.close()


def test_no_fetch_for_an_image_that_failed_to_load(named, sites):
    """A picture the page's own <img> could not load (here: another site's 404) is not
    fetched by the extension; the overlay says why."""
    a, b = sites
    a.route(
        "/broken7.html", 200, "text/html", f'{STYLE}<img id="gone" src="http://cdn.test:{port(b)}/gone7.png">'.encode()
    )
    page = open_page(named, f"http://public.test:{port(a)}/broken7.html?{uuid.uuid4().hex}")
    assert page.eval_on_selector("#gone", "img => img.complete && img.naturalWidth === 0")
    before = len(b.requests)
    result = right_click(named, page, f"http://cdn.test:{port(b)}/gone7.png")
    assert not result["ok"] and "did not load" in result["error"], result
    assert "did not load on the page" in Overlays(page).wait_text("did not load")
    assert from_engine(b, before) == []
    page.close()


def test_redirects_carry_no_cookies_elsewhere_and_reach_nothing_local(named, sites):
    """A page's picture whose address redirects: the engine's cookies never follow a redirect
    (evil.test's own address may bounce to bank.test's private picture), and a public page's
    picture that redirects to a local address is refused, whatever the local host answered."""
    a, b = sites
    data, _ = composite("ball", 400, 300, seed=34)
    b.route("/private8.png", 200, "image/png", data)
    bank = f"http://bank.test:{port(b)}"
    named.ctx.add_cookies([{"name": "session", "value": "secret", "url": bank, "sameSite": "Lax"}])
    a.route("/bounce8.png", 302, "text/plain", b"", headers={"Location": f"{bank}/private8.png"})
    a.route("/evil8.html", 200, "text/html", f'{STYLE}<img id="pic" src="/bounce8.png">'.encode())
    page = open_page(named, f"http://evil.test:{port(a)}/evil8.html?{uuid.uuid4().hex}")
    image = f"http://evil.test:{port(a)}/bounce8.png"  # image, frame and tab: one host
    before = len(b.server.cookies)
    result = right_click(named, page, image)
    assert result["ok"] and result["guarded"], result
    engine = [i for i, (p, h) in enumerate(b.server.headers[before:]) if "Origin" not in h and "Referer" not in h]
    assert engine, b.server.headers[before:]
    sent = [b.server.cookies[before + i][1] for i in engine]
    assert not any(sent), sent  # bank.test's cookie stayed home
    page.close()

    b.route("/router9.png", 200, "image/png", data)
    a.route("/bounce9.png", 302, "text/plain", b"", headers={"Location": f"http://127.0.0.1:{port(b)}/router9.png"})
    a.route("/public9.html", 200, "text/html", f'{STYLE}<img id="pic" src="/bounce9.png">'.encode())
    page = open_page(named, f"http://public.test:{port(a)}/public9.html?{uuid.uuid4().hex}")
    result = right_click(named, page, f"http://public.test:{port(a)}/bounce9.png")
    assert not result["ok"] and "local network" in result["error"], result
    page.close()
