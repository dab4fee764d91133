import { describe, expect, it } from 'vitest';
import { MalformedXmlError, parseXml } from './well-formed-xml.ts';

describe('parseXml', () => {
  it('lists the elements with their attributes and text, entities decoded', () => {
    const elements = parseXml(
      '<?xml version="1.0"?>\n<svg a="1 &amp; 2"><!-- note --><g data-kind=\'retry\'><title>x &lt;y&gt; &#65;&#x42;</title></g><rect/></svg>',
    );
    expect(elements).toEqual([
      { name: 'svg', attributes: { a: '1 & 2' }, text: '' },
      { name: 'g', attributes: { 'data-kind': 'retry' }, text: '' },
      { name: 'title', attributes: {}, text: 'x <y> AB' },
      { name: 'rect', attributes: {}, text: '' },
    ]);
  });

  it.each([
    ['an unclosed tag', '<svg><g></svg>'],
    ['tags closed out of order', '<svg><g><text></g></text></svg>'],
    ['two roots', '<svg/><svg/>'],
    ['text outside the root', '<svg/>text'],
    ['a raw < in an attribute', '<svg a="<b"/>'],
    ['an unquoted attribute', '<svg a=1/>'],
    ['a repeated attribute', '<svg a="1" a="2"/>'],
    ['attributes without a space between', '<svg a="1"b="2"/>'],
    ['a bare &', '<svg>fish & chips</svg>'],
    ['an unknown entity', '<svg>&nbsp;</svg>'],
    ['a raw < in text', '<svg>1 < 2</svg>'],
    ['nothing', ''],
  ])('refuses %s', (_, source) => {
    expect(() => parseXml(source)).toThrow(MalformedXmlError);
  });
});
