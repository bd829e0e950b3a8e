// The classic scripts the service worker injects into a page, in load order: the one
// list of them (pointer.js, declared for every page, is named by manifest.json alone).
// Each keeps to one copy per frame, so injecting a list again is harmless.

/** pointer.js, as manifest.json's "content_scripts" declares it. */
export const POINTER_FILE = chrome.runtime.getManifest().content_scripts[0].js[0];

/** What a message on the page (the toast) needs: the words, the box and where it goes. */
export const OVERLAY_FILES = [
  'extension/lib/i18n.js', 'extension/content/placement.js', 'extension/content/overlay.js',
];

/** The whole content script: the job, its port, the page's image, the words of each stage and the box. */
export const CONTENT_FILES = [
  POINTER_FILE, 'extension/lib/messages.js', 'extension/lib/net.js', 'extension/lib/clipboard.js', ...OVERLAY_FILES,
  'extension/content/stage_words.js', 'extension/content/page_image.js', 'extension/content/job_port.js',
  'extension/content/content.js',
];
