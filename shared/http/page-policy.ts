/**
 * What the platform's two HTML pages (the API reference at `/docs`, the card reveal page) share:
 * a Content-Security-Policy that allows only their own inline script and style, by hash, and the
 * escaping that keeps inlined content inside its element.
 */
import { createHash } from 'node:crypto';

/** A CSP source allowing exactly this inline script or style. */
export const hashSource = (content: string): string => `'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`;

/** An inline element's content, made safe to embed: it cannot close its own element early. */
export function inlineContent(content: string, element: 'script' | 'style'): string {
  return content.replace(new RegExp(`</${element}`, 'gi'), `<\\/${element}`);
}
