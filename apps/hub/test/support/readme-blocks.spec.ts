import { describe, expect, it } from 'vitest';
import { commandLines, expectedAnswers, readmeBlocks, runsUntilStopped } from './readme-blocks.js';

const MARKDOWN = [
  '# title',
  '## Intro',
  '```sh',
  'npm start',
  '```',
  '## Walk',
  'Text.',
  '```sh',
  '# a loop until Ctrl-C',
  'while sleep 1; do mosquitto_pub -h localhost \\',
  '  -p 1883 -m x; done',
  '```',
  '```js',
  'ws.onmessage = (event) => console.log(event.data); // {"type":"ack","seq":1}',
  '```',
  '## Other',
  '```sh',
  'curl -s $HUB/x',
  '# {"id":"…","n":1.5,…}',
  '# [{"a":"(b)"}]',
  '```',
].join('\n');

describe('readmeBlocks', () => {
  it('takes the fenced blocks under the chosen headings, in order, with their language and line', () => {
    const blocks = readmeBlocks(MARKDOWN, ['Walk', 'Other']);
    expect(blocks.map((block) => [block.section, block.lang, block.line])).toEqual([
      ['Walk', 'sh', 8],
      ['Walk', 'js', 13],
      ['Other', 'sh', 17],
    ]);
    expect(blocks[2]!.text).toBe('curl -s $HUB/x\n# {"id":"…","n":1.5,…}\n# [{"a":"(b)"}]\n');
  });

  it('refuses a heading the README does not have, so a renamed section cannot drop out of the test', () => {
    expect(() => readmeBlocks(MARKDOWN, ['Walk', 'Gone'])).toThrow('README.md has no section "## Gone"');
  });

  it('reads answer lines: … matches anything, the rest literally', () => {
    const [, js, sh] = readmeBlocks(MARKDOWN, ['Walk', 'Other']);
    const answers = expectedAnswers(sh!);
    expect(answers.map((answer) => answer.text)).toEqual(['{"id":"…","n":1.5,…}', '[{"a":"(b)"}]']);
    expect(answers[0]!.pattern.test('{"id":"0196-ab","n":1.5,"more":true}')).toBe(true);
    expect(answers[0]!.pattern.test('{"id":"0196-ab","n":105,"more":true}')).toBe(false);
    expect(answers[1]!.pattern.test('[{"a":"(b)"}]')).toBe(true);
    expect(expectedAnswers(js!).map((answer) => answer.text)).toEqual(['{"type":"ack","seq":1}']);
  });

  it('knows a block that runs until Ctrl-C, and joins continued command lines', () => {
    const [loop, , curl] = readmeBlocks(MARKDOWN, ['Walk', 'Other']);
    expect(runsUntilStopped(loop!)).toBe(true);
    expect(runsUntilStopped(curl!)).toBe(false);
    expect(commandLines(loop!)).toEqual(['while sleep 1; do mosquitto_pub -h localhost -p 1883 -m x; done']);
  });
});
