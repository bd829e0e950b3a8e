// ESLint flat config for the extension's JavaScript and its Node unit tests
// (run: node_modules/.bin/eslint extension tests/js).
// Type checking is separate: node_modules/.bin/tsc -p tsconfig.json (see tsconfig.json).
// CommonJS, so that package.json needs no "type" (nothing else here runs in Node).
const js = require('@eslint/js');
const globals = require('globals');

// Classic scripts: injected as content scripts (and, for the two lib files, also
// imported by modules for their side effect); they publish on globalThis.
const CLASSIC_SCRIPTS = ['extension/content/*.js', 'extension/lib/messages.js', 'extension/lib/net.js'];

module.exports = [
  { ignores: ['**/vendor/', 'dist/', 'node_modules/', 'build/', '.venv/', 'out/'] },
  {
    ...js.configs.recommended,
    files: ['extension/**/*.js'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.webextensions },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: CLASSIC_SCRIPTS,
    languageOptions: { sourceType: 'script' },
  },
  {
    // Node's test runner over the pure modules (tests/test_js_unit.py runs them).
    ...js.configs.recommended,
    files: ['tests/js/**/*.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
  },
  {
    files: ['eslint.config.js'],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2024, sourceType: 'commonjs', globals: globals.node },
  },
];
