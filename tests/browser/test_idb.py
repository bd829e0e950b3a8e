"""lib/idb.js in a real browser's IndexedDB (Node has none): a database made by its upgrade, a
request's result, a transaction's result only once committed, and a failed request or an abort
as a rejection with the browser's own error."""

import pytest

pytestmark = pytest.mark.browser

IDB = """async () => {
    const { openDatabase, requested, committed, inTransaction } = await import('/extension/lib/idb.js');
    const name = `idb-test-${crypto.randomUUID()}`;
    const upgrades = [];
    const db = await openDatabase(name, 1, (made, oldVersion) => {
        upgrades.push(oldVersion);
        made.createObjectStore('s');
    });
    const out = { upgrades, stores: [...db.objectStoreNames] };
    out.put = await inTransaction(db, 's', 'readwrite', (tx) => requested(tx.objectStore('s').put('one', 'k')));
    out.get = await inTransaction(db, ['s'], 'readonly', (tx) => requested(tx.objectStore('s').get('k')));
    // Two requests in one transaction, the work's own promise.
    out.both = await inTransaction(db, 's', 'readwrite', async (tx) => {
        const s = tx.objectStore('s');
        await requested(s.put('two', 'k2'));
        return Promise.all([requested(s.count()), requested(s.getAllKeys())]);
    });
    // add() of a key that is there: the request's ConstraintError, and nothing of the transaction stays.
    out.failed = await inTransaction(db, 's', 'readwrite', (tx) => {
        tx.objectStore('s').put('three', 'k3');
        return requested(tx.objectStore('s').add('again', 'k'));
    }).then(() => 'resolved', (err) => err.name);
    out.afterFailed = await inTransaction(db, 's', 'readonly', (tx) => requested(tx.objectStore('s').get('k3')));
    // committed() alone: an abort rejects, a plain write resolves.
    const aborted = db.transaction('s', 'readwrite');
    aborted.objectStore('s').put('four', 'k4');
    const end = committed(aborted);
    aborted.abort();
    out.aborted = await end.then(() => 'resolved', (err) => err.name);
    const tx = db.transaction('s', 'readwrite');
    tx.objectStore('s').put('five', 'k5');
    out.committed = await committed(tx).then(() => 'resolved', (err) => err.name);
    db.close();
    // Opened again at the same version: no upgrade.
    const again = await openDatabase(name, 1, () => upgrades.push('again'));
    out.reopened = await inTransaction(again, 's', 'readonly', (t) => requested(t.objectStore('s').count()));
    again.close();
    await requested(indexedDB.deleteDatabase(name));
    return out;
}"""


def test_idb_helpers_over_the_browsers_indexeddb(browser):
    page = browser.ctx.new_page()
    page.goto(browser.ext_url("extension/options/options.html"))
    out = page.evaluate(IDB)
    page.close()
    assert out["upgrades"] == [0] and out["stores"] == ["s"]
    assert out["put"] == "k" and out["get"] == "one"
    assert out["both"] == [2, ["k", "k2"]]
    assert out["failed"] == "ConstraintError"
    assert out["afterFailed"] is None
    assert out["aborted"] == "AbortError"
    assert out["committed"] == "resolved"
    assert out["reopened"] == 3  # k, k2, k5
