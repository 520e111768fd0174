// Draws a Mermaid diagram (the Message trace's sequence diagram) in the page. The mermaid package
// is large: it is imported only when a trace is shown, so esbuild puts it in chunks of its own
// (dist/assets/chunk-*.js) that the main bundle loads on demand.
//
// confabd's Content-Security-Policy allows no inline styles (style-src 'self'): a <style> element
// or a style="" attribute put into the page is ignored. Mermaid's SVG carries both, so the SVG is
// not inserted as markup: it is parsed into an inert document, its <style> text goes into a
// constructed style sheet adopted by the page (CSSOM, which the policy allows) and each style
// attribute is set again property by property. Mermaid runs with securityLevel 'strict', which
// encodes the diagram's text and sanitizes the SVG (DOMPurify); the few things that must never
// reach the page (scripts, frames, event handlers, links off the page) are dropped once more here.
import type { Mermaid } from 'mermaid';

let loading: Promise<Mermaid> | null = null;

/** The mermaid module, imported and initialised once; a failed import is tried again next time. */
export function loadMermaid(): Promise<Mermaid> {
  loading ??= import('mermaid').then(
    ({ default: mermaid }) => {
      mermaid.initialize({
        startOnLoad: false,
        securityLevel: 'strict',
        // A diagram that does not parse is an error to show, not an error diagram.
        suppressErrorRendering: true,
        theme: 'neutral',
        fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
      });
      return mermaid;
    },
    (e: unknown) => {
      loading = null;
      throw new DiagramLoadError(e);
    },
  );
  return loading;
}

/** The drawing code could not be loaded (offline, or the page is older than the server's files). */
export class DiagramLoadError extends Error {
  constructor(cause: unknown) {
    super(`the diagram’s drawing code could not be loaded (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/** Mermaid could not parse or draw the text; the message is the first line of its reason. */
export class DiagramTextError extends Error {
  constructor(cause: unknown) {
    const text =
      cause instanceof Error ? cause.message : typeof cause === 'object' && cause && 'message' in cause ? String(cause.message) : String(cause ?? '');
    const first = text.split('\n').find((l) => l.trim()) ?? '';
    super(first.trim().replace(/[.:]$/, ''), { cause });
  }
}

let renders = 0;

/** A drawn diagram: its SVG (not yet in the page) and the style sheet it needs while shown. */
export interface DrawnDiagram {
  svg: SVGSVGElement;
  sheet: CSSStyleSheet;
}

/** Renders Mermaid text to an SVG element ready to insert; rejects if it does not parse or draw. */
export async function drawMermaid(text: string, label: string): Promise<DrawnDiagram> {
  const mermaid = await loadMermaid();
  const id = `confab-mermaid-${++renders}`;
  let svg: string;
  try {
    ({ svg } = await mermaid.render(id, text));
  } catch (e) {
    throw new DiagramTextError(e);
  }
  return adoptSvg(svg, label);
}

const DROPPED = new Set(['script', 'iframe', 'object', 'embed', 'frame', 'frameset', 'link', 'meta', 'base']);

/** Parses Mermaid's SVG markup into page elements without inline styles (see the top). */
export function adoptSvg(markup: string, label: string): DrawnDiagram {
  const doc = new DOMParser().parseFromString(markup, 'text/html'); // inert: nothing in it runs or loads
  const svg = doc.body.querySelector('svg');
  if (!svg || svg.namespaceURI !== 'http://www.w3.org/2000/svg') throw new Error('the diagram was not drawn as SVG');
  const css: string[] = [];
  const styles: [Element, string][] = [];
  for (const el of [svg, ...svg.querySelectorAll('*')]) {
    const name = el.localName.toLowerCase();
    if (name === 'style') {
      css.push(el.textContent ?? '');
      el.remove();
      continue;
    }
    if (DROPPED.has(name)) {
      el.remove();
      continue;
    }
    for (const a of [...el.attributes]) {
      const n = a.localName.toLowerCase();
      if (n.startsWith('on') || ((n === 'href' || n === 'src' || n === 'action') && !a.value.trim().startsWith('#'))) el.removeAttributeNode(a);
      else if (n === 'style') {
        styles.push([el, a.value]);
        el.removeAttributeNode(a);
      }
    }
  }
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css.join('\n'));
  const adopted = document.adoptNode(svg);
  for (const [el, decl] of styles) setStyle(el as HTMLElement | SVGElement, decl);
  adopted.setAttribute('aria-label', label);
  return { svg: adopted, sheet };
}

/** Sets a style attribute's declarations one by one through the CSSOM. */
function setStyle(el: HTMLElement | SVGElement, declarations: string): void {
  const parsed = new CSSStyleSheet();
  try {
    parsed.replaceSync(`x{${declarations.replace(/[{}]/g, '')}}`);
  } catch {
    return;
  }
  const rule = parsed.cssRules[0];
  if (!(rule instanceof CSSStyleRule)) return;
  for (const prop of [...rule.style]) el.style.setProperty(prop, rule.style.getPropertyValue(prop), rule.style.getPropertyPriority(prop));
}

/** Shows sheet's rules in the page until the returned function is called. */
export function adoptSheet(sheet: CSSStyleSheet): () => void {
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  return () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
  };
}
