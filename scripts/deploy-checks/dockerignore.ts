/**
 * .dockerignore semantics (Docker's fileutils pattern matcher): patterns in order, the last one that
 * matches decides, `!` re-includes, `**` spans directories, a pattern matching a directory covers what is
 * inside it. Enough to answer "does this path reach the build context?".
 */
export function parseDockerignore(content: string): { negate: boolean; regex: RegExp }[] {
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
}

function globToRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` matches everything below.
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern also covers everything under a directory it names.
  return new RegExp(`^${out}(?:/.*)?$`);
}

export function isIgnored(rules: ReturnType<typeof parseDockerignore>, file: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.regex.test(file)) ignored = !rule.negate;
  return ignored;
}
