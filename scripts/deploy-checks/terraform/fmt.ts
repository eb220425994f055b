/**
 * `terraform fmt` style without terraform: the rules of hclwrite's formatter that matter for review diffs.
 * Two spaces per nesting level; consecutive one-line attributes align their `=` one space after the
 * longest name (a line opening a multi-line value, a blank line or a comment ends the run, as in hclwrite);
 * one space after `=`; no tabs or trailing spaces; one final newline.
 */
const OPEN = /[{[(]/g;
const CLOSE = /[}\])]/g;

/** The line with string contents blanked (same length, so columns stay) and comments cut, for bracket counting. */
function code(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"/g, (s) => `"${'x'.repeat(s.length - 2)}"`).replace(/\s*(#|\/\/).*$/, '');
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/** The column of an attribute's `=` (not ==, <=, >=, !=, =>), or -1. */
function assignColumn(line: string): number {
  const c = code(line);
  const m = /^(\s*)([\w-]+|"[^"]*")(\s*)=(?![=>])/.exec(c);
  if (!m) return -1;
  const rest = c.slice(m[0].length);
  // hclwrite leaves a line out of the alignment when its value opens more brackets than it closes.
  if (count(rest, OPEN) > count(rest, CLOSE)) return -1;
  return m[0].length - 1;
}

export function checkFormat(file: string, text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  if (!text.endsWith('\n') || text.endsWith('\n\n')) problems.push(`${file}: must end with exactly one newline`);
  // hclwrite's indentation: a line with more opening than closing brackets adds one level (however many it
  // opens); closing brackets pop what their opening lines pushed; a closing line is indented after the pop.
  const indents: number[] = [];
  let run: { line: number; column: number; nameEnd: number }[] = [];
  const closeRun = () => {
    if (run.length > 1) {
      const column = Math.max(...run.map((r) => r.nameEnd)) + 1;
      for (const r of run.filter((r) => r.column !== column))
        problems.push(`${file}:${r.line}: "=" not aligned with its neighbours (column ${column + 1})`);
    } else if (
      run.length === 1 &&
      (run[0] as { column: number; nameEnd: number }).column !== (run[0] as { nameEnd: number }).nameEnd + 1
    ) {
      problems.push(`${file}:${(run[0] as { line: number }).line}: one space before "=" expected`);
    }
    run = [];
  };
  lines.forEach((line, index) => {
    const n = index + 1;
    if (/\t/.test(line)) problems.push(`${file}:${n}: tab`);
    if (/\s+$/.test(line)) problems.push(`${file}:${n}: trailing whitespace`);
    const c = code(line);
    const net = count(c, OPEN) - count(c, CLOSE);
    let expected = indents.length * 2;
    if (net > 0) indents.push(net);
    else if (net < 0) {
      let closed = -net;
      while (closed > 0 && indents.length > 0) {
        const top = indents.at(-1) as number;
        if (closed >= top) {
          closed -= top;
          indents.pop();
        } else {
          indents[indents.length - 1] = top - closed;
          closed = 0;
        }
      }
      expected = indents.length * 2;
    }
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const isComment = /^\s*(#|\/\/)/.test(line);
    if (line.trim() !== '' && indent !== expected)
      problems.push(`${file}:${n}: indented ${indent}, expected ${expected}`);
    const column = isComment ? -1 : assignColumn(line);
    if (column === -1) closeRun();
    else {
      const nameEnd = /^\s*([\w-]+|"[^"]*")/.exec(line)?.[0].length ?? 0;
      run.push({ line: n, column, nameEnd });
      if (!/^= \S/.test(line.slice(column))) problems.push(`${file}:${n}: one space after "=" expected`);
    }
  });
  closeRun();
  return problems;
}
