// A small, strict XML reader for event bodies (dialog-info+xml). Not a general parser: no DTD, no
// entity declarations (so no entity-expansion bombs), no processing instructions besides the XML
// declaration; bounded size, depth and element count. Hostile input gives an error, never a throw.
// Namespace prefixes are stripped from names: `<d:dialog>` reads as `dialog`.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export type XmlResult = { ok: true; root: XmlElement } | { ok: false; error: string };

export const XML_LIMITS = { maxBytes: 64 * 1024, maxDepth: 32, maxElements: 2000 };

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Decodes the predefined entities and character references; null on anything else. */
function decodeText(s: string): string | null {
  let bad = false;
  const out = s.replace(/&([^;&\s]{0,12});?/g, (m, ref: string) => {
    if (!m.endsWith(';')) {
      bad = true;
      return '';
    }
    if (ref in PREDEFINED) return PREDEFINED[ref];
    const num = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(ref);
    if (num) {
      const code = num[1][0] === 'x' ? Number.parseInt(num[1].slice(1), 16) : Number(num[1]);
      if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff))
        return String.fromCodePoint(code);
    }
    bad = true;
    return '';
  });
  return bad ? null : out;
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function parseXml(input: string): XmlResult {
  if (input.length > XML_LIMITS.maxBytes) return { ok: false, error: 'XML body too large' };
  let i = 0;
  const s = input;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;
  const fail = (error: string): XmlResult => ({ ok: false, error: `${error} at ${i}` });
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? s.length : lt;
    if (textEnd > i) {
      const raw = s.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (!top) {
        if (raw.trim() !== '') return fail('text outside the root element');
      } else {
        const text = decodeText(raw);
        if (text === null) return fail('bad entity reference');
        top.text += text;
      }
      i = textEnd;
      continue;
    }
    if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) return fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (s.startsWith('<?', i)) {
      const end = s.indexOf('?>', i + 2);
      if (end < 0) return fail('unterminated declaration');
      if (!/^<\?xml[\s?]/.test(s.slice(i, i + 6)) || count > 0) return fail('processing instruction');
      i = end + 2;
      continue;
    }
    if (s.startsWith('<!', i)) return fail('DTD, CDATA or declaration not allowed');
    if (s.startsWith('</', i)) {
      const m = NAME.exec(s.slice(i + 2, i + 2 + 256));
      const top = stack.pop();
      if (!m || !top) return fail('unexpected end tag');
      if (localName(m[0]) !== top.name) return fail(`end tag ${m[0]} does not close ${top.name}`);
      const close = s.indexOf('>', i);
      if (close < 0 || s.slice(i + 2 + m[0].length, close).trim() !== '') return fail('bad end tag');
      i = close + 1;
      continue;
    }
    // A start tag.
    const m = NAME.exec(s.slice(i + 1, i + 1 + 256));
    if (!m) return fail('bad tag name');
    if (++count > XML_LIMITS.maxElements) return fail('too many elements');
    if (stack.length >= XML_LIMITS.maxDepth) return fail('nested too deep');
    if (root && stack.length === 0) return fail('second root element');
    const el: XmlElement = { name: localName(m[0]), attrs: {}, children: [], text: '' };
    i += 1 + m[0].length;
    let selfClosing = false;
    for (;;) {
      while (i < s.length && /\s/.test(s[i])) i++;
      if (i >= s.length) return fail('unterminated tag');
      if (s[i] === '>') {
        i++;
        break;
      }
      if (s.startsWith('/>', i)) {
        i += 2;
        selfClosing = true;
        break;
      }
      const a = NAME.exec(s.slice(i, i + 256));
      if (!a) return fail('bad attribute name');
      i += a[0].length;
      while (i < s.length && /\s/.test(s[i])) i++;
      if (s[i] !== '=') return fail('attribute without value');
      i++;
      while (i < s.length && /\s/.test(s[i])) i++;
      const q = s[i];
      if (q !== '"' && q !== "'") return fail('unquoted attribute value');
      const close = s.indexOf(q, i + 1);
      if (close < 0) return fail('unterminated attribute value');
      const raw = s.slice(i + 1, close);
      if (raw.includes('<')) return fail('< in attribute value');
      const value = decodeText(raw);
      if (value === null) return fail('bad entity reference');
      const name = a[0];
      // Namespace declarations are not data.
      if (name !== 'xmlns' && !name.startsWith('xmlns:')) el.attrs[localName(name)] = value;
      i = close + 1;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 0) return { ok: false, error: `unclosed element ${stack[stack.length - 1].name}` };
  if (!root) return { ok: false, error: 'no root element' };
  return { ok: true, root };
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}
