/**
 * The README's code blocks, as a reader sees them: the fenced blocks under chosen `## ` headings, in order, with
 * the answers the README shows for them. The walk-through test runs them; this file only reads Markdown.
 *
 * Conventions in those sections (README.md says so in a comment above the walk-through):
 * - An answer line is a comment that starts with `{` or `[` (`# {"id":"…",…}` in a `sh` block, a trailing
 *   `// {"type":"ack",…}` in a `js` one): what the commands before it print. `…` stands for whatever differs
 *   from run to run; everything else must appear as written, in the order the answers are given.
 * - A `sh` block whose first line is a comment mentioning `Ctrl-C` runs until stopped (a loop): the test runs it
 *   in the background, waits for its effect, and stops it as a reader would, with Ctrl-C (SIGINT).
 */
export interface ReadmeBlock {
  /** The `## ` heading the block is under. */
  section: string;
  /** The fence's language: `sh`, `js`, … (empty when none). */
  lang: string;
  text: string;
  /** 1-based line of the opening fence in README.md, for messages. */
  line: number;
}

/** Every fenced block under the given `## ` headings, in README order; throws when a heading is missing. */
export function readmeBlocks(markdown: string, sections: readonly string[]): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const seen = new Set<string>();
  let section = '';
  let open: { lang: string; line: number; lines: string[] } | undefined;
  for (const [index, line] of markdown.split('\n').entries()) {
    if (open) {
      if (/^```\s*$/.test(line)) {
        if (sections.includes(section)) {
          blocks.push({ section, lang: open.lang, text: `${open.lines.join('\n')}\n`, line: open.line });
        }
        open = undefined;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence) {
      open = { lang: fence[1] ?? '', line: index + 1, lines: [] };
      continue;
    }
    const heading = /^## (.+?)\s*$/.exec(line);
    if (heading) {
      section = heading[1]!;
      seen.add(section);
    }
  }
  const missing = sections.filter((name) => !seen.has(name));
  if (missing.length > 0)
    throw new Error(`README.md has no section ${missing.map((name) => `"## ${name}"`).join(', ')}`);
  return blocks;
}

/** The block's answer lines (see the conventions above), as patterns in which `…` matches anything on one line. */
export function expectedAnswers(block: ReadmeBlock): { text: string; pattern: RegExp }[] {
  const comment = block.lang === 'sh' ? /^\s*# ([{[].*)$/ : /\/\/ ([{[].*)$/;
  return block.text
    .split('\n')
    .map((line) => comment.exec(line)?.[1]?.trim())
    .filter((text): text is string => text !== undefined)
    .map((text) => ({ text, pattern: new RegExp(text.split('…').map(escapeRegExp).join('.*?')) }));
}

/** A block that runs until Ctrl-C (see the conventions above). */
export function runsUntilStopped(block: ReadmeBlock): boolean {
  const first = block.text.split('\n')[0] ?? '';
  return /^\s*#.*\bCtrl-C\b/.test(first);
}

/**
 * The block's commands, one per entry, with continuation lines (`\` at the end of a line) joined and comments
 * left out: to check what each command line says (its port, say).
 */
export function commandLines(block: ReadmeBlock): string[] {
  return block.text
    .replaceAll(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function escapeRegExp(text: string): string {
  return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
