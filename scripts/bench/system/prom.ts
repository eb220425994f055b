/** Reads the services' own /metrics (Prometheus text format): what an operator's dashboard would show. */

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (samples only; HELP and TYPE lines are skipped). */
export function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    out.push({ name: match[1] as string, labels, value: Number(match[4]) });
  }
  return out;
}

/** The metrics of one ops port; empty when the service is down (a fault run may have killed it). */
export async function scrape(baseUrl: string): Promise<Series[]> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
    return response.ok ? parseMetrics(await response.text()) : [];
  } catch {
    return [];
  }
}

/** Sum of a metric's samples whose labels include `where`. */
export function sum(series: Series[], name: string, where: Record<string, string> = {}): number {
  return series
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** Samples of a metric grouped by one label. */
export function byLabel(series: Series[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** A quantile of a Prometheus histogram from its cumulative buckets (upper bound of the bucket it falls in). */
export function histogramQuantile(series: Series[], name: string, q: number): number {
  const buckets = series
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({ le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (!total) return Number.NaN;
  return buckets.find((b) => b.count >= q * total)?.le ?? Number.NaN;
}
