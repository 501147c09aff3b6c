import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell } from './csv-cell.js';

describe('csvCell', () => {
  it('leaves plain text as it is', () => {
    for (const value of ['greenhouse-1', 'temp', 'a.b:c/d_e', 'x=1', 'a+b', 'mail@host', '', '1-2'])
      expect(csvCell(value)).toBe(value);
  });

  it('quotes a field holding a comma, a quote or a line break, doubling its quotes (RFC 4180)', () => {
    expect(csvCell('with,comma')).toBe('"with,comma"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
  });

  it('prefixes a quote to text a spreadsheet would run as a formula, and quotes it', () => {
    expect(csvCell('+cmd|calc')).toBe(`"'+cmd|calc"`);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('-2+3+cmd')).toBe(`"'-2+3+cmd"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('\t=1')).toBe(`"'\t=1"`);
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    expect(csvCell('-temp')).toBe(`"'-temp"`);
  });

  it('reads back, with a CSV parser, as the text with the quote in front', () => {
    const values = ['+cmd|calc', '=1+1', 'plain', 'a,"b"', '@x', '-y'];
    const line = `${values.map(csvCell).join(',')}\n`;
    expect(parse(line)).toEqual([["'+cmd|calc", "'=1+1", 'plain', 'a,"b"', "'@x", "'-y"]]);
  });
});
