// A hold on a kept entry (a result, a recipe) while an editor is open: the entry counts its
// holders, and each hold's release counts once however often it is called.

/**
 * One more hold on `entry`; the returned release takes it back (once), then calls `after`.
 * @param {{holds: number}} entry
 * @param {() => void} after
 * @returns {() => void}
 */
export function hold(entry, after) {
  entry.holds += 1;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    entry.holds -= 1;
    after();
  };
}
