// Imported first by event_page.js: tells the engine it shares Firefox's event page
// with the router (engine/host.js reads it).
globalThis.__backgroneEventPage = true;
