/**
 * An upper estimate of the instructions RE2JS compiles a pattern to, read before compiling it. RE2 copies
 * out counted repetitions (`x{1000}` is a thousand x's), so a short pattern can be a huge program: 497
 * characters of '.{1000}' compile to 71,000 instructions, 0.1-0.3 s on the shared event loop and megabytes
 * kept. RE2JS bounds only the parse (at 1.4 million) and reports the size after the compile has been paid
 * for, so the bound has to be checked first. This walks just enough RE2 syntax to find atoms, groups,
 * alternations and repeat counts, and errs high: escapes, classes and group names count as at least one; the engine's own count is
 * checked after the compile as well (linear-regexp.ts).
 */
export function estimatedProgramSize(pattern: string): number {
  // Sizes per open group: finished alternatives, the current one, and the last item (what a quantifier repeats).
  const frames = [{ done: 0, current: 0, last: 0 }];
  const top = () => frames[frames.length - 1] as (typeof frames)[number];
  const item = (size: number) => {
    top().current += size;
    top().last = size;
  };
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i] as string;
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        // \Q…\E quotes literally: each character an instruction.
        const end = pattern.indexOf('\\E', i + 2);
        const stop = end === -1 ? pattern.length : end;
        const length = stop - (i + 2);
        top().current += length + 2;
        top().last = length + 2;
        i = end === -1 ? stop : stop + 2;
        continue;
      }
      if ((next === 'p' || next === 'P' || next === 'x') && pattern[i + 2] === '{') {
        const close = pattern.indexOf('}', i + 2);
        i = close === -1 ? pattern.length : close + 1;
      } else i += 2;
      item(1);
      continue;
    }
    if (char === '[') {
      i = classEnd(pattern, i);
      item(1);
      continue;
    }
    if (char === '(') {
      i += 1;
      if (pattern[i] === '?') {
        // Flags or a group name: not matched text.
        while (i < pattern.length && !':>)'.includes(pattern[i] as string)) i += 1;
        if (pattern[i] !== ')') i += 1;
      }
      frames.push({ done: 0, current: 0, last: 0 });
      continue;
    }
    if (char === ')') {
      i += 1;
      if (frames.length > 1) {
        const group = frames.pop() as (typeof frames)[number];
        item(group.done + group.current + 1);
      }
      continue;
    }
    if (char === '|') {
      i += 1;
      top().done += top().current + 1;
      top().current = 0;
      top().last = 0;
      continue;
    }
    if (char === '{') {
      const repeat = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (repeat) {
        const min = Number(repeat[1]);
        const max = repeat[2] === undefined ? min : repeat[3] ? Number(repeat[3]) : min + 1;
        const copies = Math.max(min, max, 1);
        // The item is already counted once; each copy may add a branch or two (optional copies of {n,m}).
        top().current += top().last * (copies - 1) + 2 * copies;
        top().last *= copies;
        i += repeat[0].length;
        continue;
      }
    }
    // Any other character: a literal, '.', an anchor, or a one-instruction quantifier (*, +, ?).
    i += 1;
    item(1);
  }
  let size = 0;
  for (const frame of frames) size += frame.done + frame.current;
  return size;
}

/** The index after a character class that starts at `start` ('['), counting a leading ']' and [:name:] as inside. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i += 1;
  if (pattern[i] === ']') i += 1;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\') i += 2;
    else if (pattern.startsWith('[:', i)) {
      const close = pattern.indexOf(':]', i + 2);
      i = close === -1 ? i + 1 : close + 2;
    } else i += 1;
  }
  return i + 1;
}
