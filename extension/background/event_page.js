// Firefox's background: an event page (it has a DOM, but there are no offscreen
// documents), so it holds both the engine and the router. Chromium runs
// service_worker.js alone and the engine in its offscreen document.
import './event_page_flag.js';
import '../engine/main.js';
import './service_worker.js';
