/**
 * The live web page of the control endpoint: GET / (or /ui) gives a static page, /ui/page.js and
 * /ui/page.css its script and style, all three read from web/ once at start. The page itself polls
 * GET /status and reads GET /ui/recent (the last ten minutes, kept by RecentRing) from the same
 * origin, and puts every value into the document as text (textContent, SVG attributes), never as
 * markup. The server sends no value inside the page, so nothing here escapes anything; the Content
 * Security Policy lets the page load only its own script and style and fetch only its own origin.
 */
import { readFileSync } from 'node:fs';

const read = (name: string) => readFileSync(new URL(`./web/${name}`, import.meta.url), 'utf8');

/** Nothing from elsewhere: the page's own script and style, fetches to its own origin, images only as
 * data: URLs; no plugins, no base URL, no forms, no framing. */
export const WEB_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const WEB_HEADERS: Record<string, string> = {
  'content-security-policy': WEB_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export interface WebAsset {
  type: string;
  body: string;
}

let assets: Record<string, WebAsset> | undefined;

/** The asset served at `path`, or undefined. */
export function webAsset(path: string): WebAsset | undefined {
  assets ??= (() => {
    const page = { type: 'text/html; charset=utf-8', body: read('index.html') };
    return {
      '/': page, '/ui': page, '/ui/': page,
      '/ui/page.js': { type: 'text/javascript; charset=utf-8', body: read('page.js') },
      '/ui/page.css': { type: 'text/css; charset=utf-8', body: read('page.css') },
    };
  })();
  return Object.hasOwn(assets, path) ? assets[path] : undefined;
}
