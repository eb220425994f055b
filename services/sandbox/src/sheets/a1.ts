/** A parsed A1 range: sheet name (undefined = the first sheet) and 1-based bounds; open ends are undefined. */
export interface A1Range {
  sheet: string | undefined;
  startColumn: number;
  startRow: number;
  endColumn: number | undefined;
  endRow: number | undefined;
}

/** Column number of letters (A → 1, AA → 27). */
export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

export function columnLetters(n: number): string {
  let s = '';
  for (let i = n; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(65 + ((i - 1) % 26)) + s;
  return s;
}

const CELL = /^([A-Za-z]*)(\d*)$/;

/** Parses "Sheet1!A1:C3", "'Call log'!A:A", "Calls!A5", "Calls"; undefined when it is not A1 notation. */
export function parseA1(range: string): A1Range | undefined {
  let sheet: string | undefined;
  let cells = range;
  const bang = range.lastIndexOf('!');
  if (bang >= 0) {
    sheet = range.slice(0, bang);
    cells = range.slice(bang + 1);
  } else if (!/^[A-Za-z]*\d*(:[A-Za-z]*\d*)?$/.test(range) || range === '') {
    return { sheet: unquote(range), startColumn: 1, startRow: 1, endColumn: undefined, endRow: undefined };
  }
  if (sheet !== undefined) sheet = unquote(sheet);
  const [from = '', to] = cells.split(':');
  const start = CELL.exec(from);
  const end = to === undefined ? start : CELL.exec(to);
  if (!start || !end || (from === '' && sheet !== undefined)) return undefined;
  return {
    sheet,
    startColumn: start[1] ? columnNumber(start[1]) : 1,
    startRow: start[2] ? Number(start[2]) : 1,
    endColumn: end[1] ? columnNumber(end[1]) : undefined,
    endRow: end[2] ? Number(end[2]) : undefined,
  };
}

function unquote(name: string): string {
  return name.startsWith("'") && name.endsWith("'") ? name.slice(1, -1).replaceAll("''", "'") : name;
}

/** A sheet name as Google writes it in ranges: quoted only when it needs to be. */
export function sheetRef(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replaceAll("'", "''")}'`;
}

export function formatRange(sheet: string, c1: number, r1: number, c2: number, r2: number): string {
  return `${sheetRef(sheet)}!${columnLetters(c1)}${r1}:${columnLetters(c2)}${r2}`;
}
