// File names for saved cut-outs: "<source name>-cutout.<ext>".
const EXT = { 'image/png': 'png', 'image/webp': 'webp' };

export function baseName(source) {
  let name = '';
  try {
    const url = new URL(source);
    if (url.protocol !== 'data:' && url.protocol !== 'blob:') {
      name = decodeURIComponent(url.pathname.split('/').pop() || '');
    }
  } catch {
    name = String(source || '').split(/[\\/]/).pop();
  }
  name = name.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[^\p{L}\p{N}._ -]+/gu, '_').trim().slice(0, 80);
  return name || 'image';
}

export function cutoutFilename(source, mime = 'image/png') {
  return `${baseName(source)}-cutout.${EXT[mime] || 'png'}`;
}
