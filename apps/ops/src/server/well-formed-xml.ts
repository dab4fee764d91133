/** One element of a parsed document: its name, its attributes and its text, entities decoded. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  /** The element's own text (not its children's). */
  text: string;
}

/** The document is not well-formed XML; the message says where. */
export class MalformedXmlError extends Error {
  override name = 'MalformedXmlError';
}

const predefinedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The elements of an XML document, in document order, after checking that it is well-formed: one root,
 * every tag closed in order, attributes quoted and not repeated, no raw `<` in attribute values, every `&`
 * a known entity or a character reference. Enough for tests of the SVG we write (no DTDs, no namespaces
 * checks); Node has no DOMParser, and a full XML parser is not worth a dependency.
 * @throws MalformedXmlError
 */
export function parseXml(source: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const open: XmlElement[] = [];
  let rootClosed = false;
  let i = 0;

  const fail = (what: string): never => {
    throw new MalformedXmlError(`${what} at offset ${i}: ${JSON.stringify(source.slice(i, i + 40))}`);
  };
  const skipPast = (end: string, what: string): void => {
    const at = source.indexOf(end, i);
    if (at === -1) fail(`Unclosed ${what}`);
    i = at + end.length;
  };
  const isSpace = (char: string | undefined): boolean =>
    char === ' ' || char === '\n' || char === '\t' || char === '\r';
  const readName = (): string => {
    const start = i;
    while (i < source.length && isNameChar(source[i] ?? '', i === start)) i++;
    if (i === start) fail('Expected a name');
    return source.slice(start, i);
  };

  while (i < source.length) {
    if (source[i] !== '<') {
      const end = source.indexOf('<', i);
      const raw = source.slice(i, end === -1 ? source.length : end);
      const current = open.at(-1);
      if (current === undefined) {
        if (raw.trim() !== '') fail('Text outside the root element');
      } else {
        if (raw.includes(']]>')) fail('"]]>" in text');
        current.text += decodeEntities(raw, fail);
      }
      i = end === -1 ? source.length : end;
      continue;
    }
    if (source.startsWith('<!--', i)) {
      skipPast('-->', 'comment');
      continue;
    }
    if (source.startsWith('<?', i)) {
      skipPast('?>', 'processing instruction');
      continue;
    }
    if (source.startsWith('<![CDATA[', i)) {
      const current = open.at(-1) ?? fail('CDATA outside the root element');
      const start = i + '<![CDATA['.length;
      skipPast(']]>', 'CDATA section');
      current.text += source.slice(start, i - 3);
      continue;
    }
    if (source.startsWith('</', i)) {
      i += 2;
      const name = readName();
      while (isSpace(source[i])) i++;
      if (source[i] !== '>') fail('Expected ">" after a closing tag');
      i++;
      const current = open.pop();
      if (current?.name !== name) fail(`</${name}> closes <${current?.name ?? 'nothing'}>`);
      if (open.length === 0) rootClosed = true;
      continue;
    }
    i++;
    if (rootClosed || (open.length === 0 && elements.length > 0)) fail('A second root element');
    const element: XmlElement = { name: readName(), attributes: {}, text: '' };
    elements.push(element);
    for (;;) {
      const spaced = isSpace(source[i]);
      while (isSpace(source[i])) i++;
      if (source.startsWith('/>', i)) {
        i += 2;
        if (open.length === 0) rootClosed = true;
        break;
      }
      if (source[i] === '>') {
        i++;
        open.push(element);
        break;
      }
      if (!spaced) fail('Expected a space before an attribute');
      const name = readName();
      while (isSpace(source[i])) i++;
      if (source[i] !== '=') fail(`Expected "=" after attribute ${name}`);
      i++;
      while (isSpace(source[i])) i++;
      const quote = source[i];
      if (quote !== '"' && quote !== "'") fail(`Attribute ${name} is not quoted`);
      const end = source.indexOf(quote ?? '"', i + 1);
      if (end === -1) fail(`Unclosed value of attribute ${name}`);
      const raw = source.slice(i + 1, end);
      if (raw.includes('<')) fail(`Raw "<" in attribute ${name}`);
      if (Object.hasOwn(element.attributes, name)) fail(`Attribute ${name} repeated`);
      element.attributes[name] = decodeEntities(raw, fail);
      i = end + 1;
    }
  }
  if (open.length > 0) fail(`<${open.at(-1)?.name}> is never closed`);
  if (elements.length === 0) fail('No root element');
  return elements;
}

function decodeEntities(raw: string, fail: (what: string) => never): string {
  let out = '';
  let at = 0;
  for (;;) {
    const amp = raw.indexOf('&', at);
    if (amp === -1) return out + raw.slice(at);
    const semicolon = raw.indexOf(';', amp);
    if (semicolon === -1) fail(`Bare "&" in ${JSON.stringify(raw)}`);
    const name = raw.slice(amp + 1, semicolon);
    out += raw.slice(at, amp) + entityValue(name, fail);
    at = semicolon + 1;
  }
}

function entityValue(name: string, fail: (what: string) => never): string {
  const predefined = predefinedEntities[name];
  if (predefined !== undefined) return predefined;
  const hex = name.startsWith('#x');
  const digits = name.slice(hex ? 2 : 1);
  const valid = name.startsWith('#') && digits !== '' && [...digits].every((d) => isDigit(d, hex));
  if (!valid) return fail(`Unknown entity &${name};`);
  return String.fromCodePoint(Number.parseInt(digits, hex ? 16 : 10));
}

function isDigit(char: string, hex: boolean): boolean {
  return (
    (char >= '0' && char <= '9') || (hex && ((char >= 'a' && char <= 'f') || (char >= 'A' && char <= 'F')))
  );
}

function isNameChar(char: string, first: boolean): boolean {
  const letter = (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || char === '_' || char === ':';
  if (first) return letter;
  return letter || (char >= '0' && char <= '9') || char === '-' || char === '.';
}
