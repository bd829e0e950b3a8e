// hosts.js: which addresses are this device or the local network, and which share a host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocalHost, isLocalPage, localImageForPublicPage, sameHost } from '../../extension/lib/hosts.js';

// Hosts as the URL parser gives them: every IPv4 spelling becomes a.b.c.d, IPv6 hex groups.
const host = (url) => new URL(url).hostname;

test('loopback, private, link-local and unspecified addresses, in every spelling, are local', () => {
  for (const url of [
    'http://127.0.0.1/', 'http://127.255.1.2/', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/',
    'http://10.0.0.1/', 'http://10.255.255.255/', 'http://172.16.0.1/', 'http://172.31.255.254/',
    'http://192.168.1.1/', 'http://169.254.169.254/', 'http://0.0.0.0/', 'http://0/', 'http://100.64.0.1/',
    'http://[::1]/', 'http://[::]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:192.168.0.1]/', 'http://[::ffff:c0a8:1]/', 'http://[64:ff9b::a00:1]/',
    'http://[fc00::1]/', 'http://[fd12:3456::1]/', 'http://[fe80::1]/', 'http://[febf::1]/',
  ]) {
    assert.equal(isLocalHost(host(url)), true, url);
  }
});

test('local names: localhost and its subdomains, mDNS, home.arpa, single labels', () => {
  for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'app.localhost', 'printer.local', 'nas.home.arpa',
    'db.internal', 'router.lan', 'fritzbox']) {
    assert.equal(isLocalHost(host(`http://${name}/`)), true, name);
  }
});

test('public addresses and names are not local, next to the edges of each range', () => {
  for (const url of [
    'http://1.1.1.1/', 'http://8.8.8.8/', 'http://11.0.0.1/', 'http://126.255.255.255/', 'http://128.0.0.1/',
    'http://172.15.255.255/', 'http://172.32.0.1/', 'http://192.167.255.255/', 'http://192.169.0.1/',
    'http://169.253.255.255/', 'http://100.63.255.255/', 'http://100.128.0.1/',
    'http://[2001:db8::1]/', 'http://[2606:4700::1111]/', 'http://[::ffff:8.8.8.8]/', 'http://[fbff::1]/', 'http://[ff02::1]/',
    'http://example.com/', 'http://localhost.example.com/', 'http://local.example/', 'http://my.localhostx/',
  ]) {
    assert.equal(isLocalHost(host(url)), false, url);
  }
});

test('pages: files and local web pages are local; opaque and unreadable addresses are public', () => {
  assert.equal(isLocalPage('file:///home/me/a.html'), true);
  assert.equal(isLocalPage('http://127.0.0.1:8000/'), true);
  assert.equal(isLocalPage('blob:http://localhost:3000/0d9e4b6c'), true);
  assert.equal(isLocalPage('https://example.com/'), false);
  assert.equal(isLocalPage('data:text/html,<img>'), false);
  assert.equal(isLocalPage('about:blank'), false);
  assert.equal(isLocalPage(undefined), false);
  assert.equal(isLocalPage('not a url'), false);
});

test('a local image is refused for a public tab or frame, allowed when both are local', () => {
  const router = 'http://192.168.1.1/status.png';
  assert.equal(localImageForPublicPage(router, ['https://example.com/']), true);
  assert.equal(localImageForPublicPage(router, ['http://localhost:3000/', 'https://ads.example/']), true);
  assert.equal(localImageForPublicPage(router, ['http://localhost:3000/', 'http://127.0.0.1:3000/']), false);
  assert.equal(localImageForPublicPage('http://127.0.0.1:5000/a.png', ['http://[::1]:3000/']), false);
  assert.equal(localImageForPublicPage('https://cdn.example/a.png', ['https://example.com/']), false);
  assert.equal(localImageForPublicPage('data:image/png;base64,AAAA', ['https://example.com/']), false);
  assert.equal(localImageForPublicPage('blob:http://127.0.0.1/x', ['https://example.com/']), false);
  assert.equal(localImageForPublicPage(router, [undefined]), true); // unknown counts as public
});

test('same host: scheme and host alike, ports aside; subdomains, other schemes and opaque origins differ', () => {
  assert.equal(sameHost('http://victim.test:1/a.png', 'http://victim.test:2/', 'http://victim.test:3'), true);
  assert.equal(sameHost('https://Example.com/a.png', 'https://example.com/'), true);
  assert.equal(sameHost('http://victim.test/a.png', 'http://attacker.test/', 'http://victim.test/'), false);
  assert.equal(sameHost('https://img.example.com/a.png', 'https://example.com/'), false);
  assert.equal(sameHost('http://example.com/a.png', 'https://example.com/'), false);
  assert.equal(sameHost('http://example.com/a.png', 'null'), false);
  assert.equal(sameHost('http://example.com/a.png', undefined), false);
  assert.equal(sameHost('data:image/png;base64,AAAA', 'data:text/html,x'), false);
});
