/**
 * Reads the JSON log lines the services write to standard output, for a test in the same process.
 * pino writes through process.stdout.write when that method has been replaced (else straight to fd 1),
 * so replacing it before the loggers are created captures every line. Captured lines are kept, not
 * printed: a debug-level system would flood the test report.
 */
export interface LogCapture {
  lines(): Record<string, unknown>[];
  restore(): void;
}

export function captureStdout(): LogCapture {
  const original = process.stdout.write;
  const captured: string[] = [];
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    // Only the services' JSON lines are taken; the test runner's own output goes through.
    if (text.startsWith('{"level"')) {
      captured.push(text);
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return original.call(process.stdout, chunk, ...(rest as []));
  }) as typeof process.stdout.write;
  return {
    lines: () =>
      captured
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    restore: () => {
      process.stdout.write = original;
    },
  };
}
