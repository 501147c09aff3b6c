import { describe, expect, it } from 'vitest';
import { formatDevicesCsv, parseDevicesCsv } from './device-roster.js';

const ID_1 = '01a1fe90-0000-7000-8000-000000000001';
const ID_2 = '01a1fe90-0000-7000-8000-000000000002';

describe('devices CSV', () => {
  it('reads what it writes, quoting names that need it', () => {
    const devices = [
      { id: ID_1, name: 'plain', token: 'thd_a' },
      { id: ID_2, name: 'with, comma and "quotes"', token: 'thd_b' },
    ];
    const text = formatDevicesCsv(devices);
    expect(text.split('\n')[0]).toBe('id,name,token');
    expect(parseDevicesCsv(text, 'devices.csv')).toEqual(devices);
  });

  it('reads id,token in any order with other columns, naming nameless devices by id', () => {
    const text = `\uFEFFToken , extra, ID\nthd_a,x,${ID_1}\n\nthd_b,y,${ID_2}\n`;
    expect(parseDevicesCsv(text, 'f.csv')).toEqual([
      { id: ID_1, name: ID_1, token: 'thd_a' },
      { id: ID_2, name: ID_2, token: 'thd_b' },
    ]);
  });

  it('names the file, the line and the problem', () => {
    expect(() => parseDevicesCsv('', 'f.csv')).toThrow('f.csv: no devices');
    expect(() => parseDevicesCsv(`id,name\n${ID_1},a\n`, 'f.csv')).toThrow('f.csv: the header has no "token" column');
    expect(() => parseDevicesCsv(`id,token\n${ID_1},thd_a\nnot-a-uuid,thd_b\n`, 'f.csv')).toThrow(
      'f.csv: line 3: id must be a device UUID, got "not-a-uuid"',
    );
    expect(() => parseDevicesCsv(`id,token\n${ID_1},\n`, 'f.csv')).toThrow('f.csv: line 2: the token is empty');
    expect(() => parseDevicesCsv('id,token\n"unterminated,x\n', 'f.csv')).toThrow(/f.csv: not valid CSV/);
  });
});
