"""Translations: every key in every locale, every key the code uses defined, and no
user-visible text hard-coded in the extension's pages and scripts."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT

LOCALES = ROOT / "_locales"
EXT = ROOT / "extension"
NODE = ROOT / "node_modules"
PLACEHOLDER = re.compile(r"\$([A-Za-z0-9_@]+)\$")


def load(locale: str) -> dict:
    return json.loads((LOCALES / locale / "messages.json").read_text(encoding="utf-8"))


EN = load("en")
OTHERS = sorted(p.name for p in LOCALES.iterdir() if p.is_dir() and p.name != "en")


def test_the_locales_we_promise_exist_and_english_is_the_default():
    assert {"de", "fr", "es"} <= set(OTHERS)
    assert json.loads((ROOT / "manifest.json").read_text())["default_locale"] == "en"


@pytest.mark.parametrize("locale", OTHERS)
def test_every_key_in_every_locale_with_the_same_placeholders(locale):
    other = load(locale)
    assert set(other) == set(EN), f"missing: {set(EN) - set(other)}; extra: {set(other) - set(EN)}"
    for key, entry in EN.items():
        text = other[key]["message"]
        assert text.strip(), f"{locale}/{key} is empty"
        assert other[key].get("placeholders") == entry.get("placeholders"), f"{locale}/{key}: placeholders differ"
        ours = {p.lower() for p in PLACEHOLDER.findall(entry["message"])}
        theirs = {p.lower() for p in PLACEHOLDER.findall(text)}
        assert theirs == ours, f"{locale}/{key}: uses {theirs}, English {ours}"
        assert text.count("$") == entry["message"].count("$"), f"{locale}/{key}: a stray '$'"
    assert other["localeCode"]["message"] == locale


@pytest.mark.parametrize("locale", ["en", *OTHERS])
def test_placeholders_are_defined_in_order(locale):
    for key, entry in load(locale).items():
        declared = entry.get("placeholders", {})
        assert [v["content"] for v in declared.values()] == [f"${i + 1}" for i in range(len(declared))], key
        for name in PLACEHOLDER.findall(entry["message"]):
            assert name.lower() in declared, f"{locale}/{key}: ${name}$ is not declared"


def test_translations_are_not_english():
    """A translation that is mostly English words was not translated."""
    same = {
        locale: [k for k, e in load(locale).items() if e["message"] == EN[k]["message"] and len(EN[k]["message"]) > 12]
        for locale in OTHERS
    }
    for locale, keys in same.items():
        assert len(keys) <= 3, f"{locale} keeps English for {keys}"


# ---- the code uses only keys that exist ---------------------------------------


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in EXT.rglob("*"):
        if path.suffix == ".js":
            text = path.read_text()
            keys |= set(re.findall(r"\b(?:t|msg)\(\s*'([A-Za-z0-9_@]+)'", text))
            keys |= set(re.findall(r"(?:what|STAGE_TEXT[^\n]*?): '(\w+)'", text))
            keys |= {k for k in re.findall(r"'([A-Za-z]\w+)'", text) if k in EN}  # chosen in code: t(a ? 'x' : 'y')
        if path.suffix == ".html":
            keys |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([A-Za-z0-9_]+)"', path.read_text()))
    keys |= set(re.findall(r"__MSG_(\w+)__", (ROOT / "manifest.json").read_text()))
    catalogue = json.loads((ROOT / "models" / "catalogue.json").read_text())
    for name in catalogue["engines"]:
        keys |= {f"engineName_{name}", f"engineSummary_{name}"}
    return keys - {"@@bidi_dir"}  # Chrome's own


def core_codes() -> set[str]:
    """The codes py/backgrone's errors carry (shown through _locales as core_<code>)."""
    codes = set()
    for path in (ROOT / "py" / "backgrone").glob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'code="(\w+)"', text))
        codes |= set(re.findall(r'Error\(\s*(?:f?"[^"]*"\s*)+,\s*"(\w+)"', text))
        codes |= set(re.findall(r'Error\(f?"[^"]*", "(\w+)"', text))
    return codes


def test_every_key_the_code_uses_exists():
    missing = sorted(k for k in used_keys() if k not in EN)
    assert not missing, f"keys used but not in _locales/en: {missing}"


def test_every_error_code_of_the_core_has_a_message():
    codes = core_codes()
    assert {"empty", "pdf", "svg", "avif", "damaged", "sizeOverLimit", "webpTooLarge"} <= codes
    missing = sorted(c for c in codes if f"core_{c}" not in EN)
    assert not missing, f"core error codes without a message: {missing}"


def test_no_message_is_unused():
    used = used_keys() | {f"core_{c}" for c in core_codes()} | {"localeCode"}
    unused = sorted(k for k in EN if k not in used)
    assert not unused, f"messages nobody uses: {unused}"


# ---- nothing user-visible is hard-coded ---------------------------------------

TEXT_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "value"}


class _Page(HTMLParser):
    """Text and labelling attributes that don't come from data-i18n."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in TEXT_ATTRIBUTES & a.keys():
            if name == "value" and tag in ("option", "input"):
                continue  # values are data, not words
            if a[name] and f"data-i18n-{name}" not in a:
                self.problems.append(f"<{tag} {name}={a[name]!r}> without data-i18n-{name}")
        if tag not in ("meta", "link", "input", "img", "br", "source"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if not data.strip() or not self.stack:
            return
        tag, attrs = self.stack[-1]
        if tag in ("style", "script"):
            return
        if "data-i18n" not in attrs and data.strip() != "Backgrone":  # the name is the same in every language
            self.problems.append(f"text {data.strip()!r} in <{tag}> without data-i18n")


@pytest.mark.parametrize("page", sorted(EXT.rglob("*.html")), ids=lambda p: p.relative_to(EXT).as_posix())
def test_pages_take_their_words_from_the_locales(page):
    parser = _Page()
    parser.feed(page.read_text())
    assert not parser.problems, parser.problems


# Literals that look like words but never reach a user: CSS, class names, paths,
# developers' messages (console, the offscreen justification, protocol checks).
NOT_USER_TEXT = [
    r"^\s*[.\[][\s\S]*[{}]",  # CSS rules
    r"^(bar busy|text error|state error)$",  # class names
    r"^(not our menu item|not our command)$",  # the test seams' answers to other callers
    r"^Runs the on-device background removal engine",  # chrome.offscreen justification (the browser's log)
    r"^Only a single offscreen",  # matching Chrome's own error
    r"^(Unknown setting|Invalid value for )",  # settings.js check(): programming errors
    r"^IndexedDB transaction aborted$",
    r"^: (data must be an object|unexpected field|invalid field)|^unknown message type",  # messages.js protocol checks
    r"^import sys",  # Python run by Pyodide
    r"^[\w.-]+\.(m?js|json|py|wasm|html)$",  # file names
]
SILENT_CALLEES = {"t", "msg", "console.warn", "console.error", "chrome.runtime.getURL", "url", "checkShape", "Symbol"}


def test_scripts_take_their_words_from_the_locales():
    files = sorted(str(p) for p in EXT.rglob("*.js"))
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "js_strings.mjs"), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"NODE_PATH": str(NODE), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    ).stdout
    problems = []
    english = {e["message"] for k, e in EN.items() if k != "localeCode"} - {"Backgrone"}
    for s in json.loads(out):
        text = s["text"]
        if s["key"] or s["callee"] in SILENT_CALLEES:
            continue
        if text in english:  # a label such as 'Save', word for word
            problems.append(f"{Path(s['file']).relative_to(ROOT)}:{s['line']}: {text[:80]!r}")
            continue
        if not re.search(r"[^\W\d_]{2,}[ ,.:;!?]+[^\W\d_]{2,}", text):
            continue
        if "/" in text and " " not in text.strip():
            continue  # a path or URL
        if any(re.search(p, text) for p in NOT_USER_TEXT):
            continue
        problems.append(f"{Path(s['file']).relative_to(ROOT)}:{s['line']}: {text[:80]!r}")
    assert not problems, "hard-coded text (use t('key') and _locales):\n" + "\n".join(problems)


def render(entry: dict, params: list[str]) -> str:
    """Chrome's substitution: $NAME$ -> its placeholder's $n -> the n-th value."""
    named = PLACEHOLDER.sub(lambda m: entry.get("placeholders", {})[m.group(1).lower()]["content"], entry["message"])
    return re.sub(r"\$(\d)", lambda m: params[int(m.group(1)) - 1], named)


def test_english_says_what_the_core_says():
    """In English the extension words the core's errors exactly as the CLI does."""
    from backgrone.errors import EncodeError
    from backgrone.host import Host, error_result
    from browser.bad_inputs import matrix  # the bad files the browser suite feeds the extension

    host = Host((ROOT / "models" / "catalogue.json").read_text())
    results = [host.decode(data) for data, _ in matrix().values()]
    results.append(host.decode(b""))
    results.append(host.decode_pixels(b"", 0, 5, {}))
    webp = "the result is 20000x10 px, but WebP holds at most 16383 px on a side: choose PNG"
    results.append(error_result(EncodeError(webp, "webpTooLarge", (20000, 10, 16383))))
    seen = set()
    for r in results:
        if "error" not in r or not r.get("code"):
            continue
        seen.add(r["code"])
        assert render(EN[f"core_{r['code']}"], r["params"]) == r["error"], r["code"]
    assert len(seen) >= 8, seen
