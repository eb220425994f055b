/**
 * Decides whether `npm audit --json` output passes: every high or critical advisory must be on the
 * allow-list with a reason and an expiry that has not passed. Pure (the clock is a parameter), so the
 * rules are tested without the registry.
 */

export interface AllowListEntry {
  /** The advisory: its GHSA id ("GHSA-xxxx-xxxx-xxxx"), its URL, or npm's numeric source id. */
  id: string;
  /** Why it is acceptable here (e.g. the vulnerable function is never called); required. */
  reason: string;
  /** Last day (YYYY-MM-DD, UTC) the acceptance holds; afterwards the advisory fails the build again. */
  expires: string;
}

export interface Advisory {
  id: string;
  url: string;
  title: string;
  severity: string;
  /** The package the advisory is about. */
  packageName: string;
}

export interface AuditVerdict {
  ok: boolean;
  /** High or critical advisories not (or no longer) accepted. */
  failing: Advisory[];
  /** Accepted advisories still present: listed so nobody forgets them. */
  accepted: { advisory: Advisory; entry: AllowListEntry }[];
  /** Allow-list entries that are malformed or expired: problems, they fail the build. */
  invalidEntries: string[];
  /** Entries matching no current advisory: harmless, but should be removed. */
  staleEntries: AllowListEntry[];
}

const FAILING_SEVERITIES = new Set(['high', 'critical']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The advisories in npm's report (format 2): the `via` objects; plain strings there only point at other packages. */
export function advisoriesOf(report: unknown): Advisory[] {
  const vulnerabilities = (report as { vulnerabilities?: unknown })?.vulnerabilities;
  if (!vulnerabilities || typeof vulnerabilities !== 'object') {
    throw new Error('not an npm audit report (format 2): no "vulnerabilities" object');
  }
  const found = new Map<string, Advisory>();
  for (const vulnerability of Object.values(vulnerabilities as Record<string, { via?: unknown[] }>)) {
    for (const via of vulnerability?.via ?? []) {
      if (!via || typeof via !== 'object') continue;
      const v = via as { source?: number; url?: string; title?: string; severity?: string; name?: string };
      const url = v.url ?? '';
      const ghsa = /GHSA(-[0-9a-z]{4}){3}/i.exec(url)?.[0];
      const id = ghsa ?? String(v.source ?? url);
      found.set(id, {
        id,
        url,
        title: v.title ?? '',
        severity: v.severity ?? 'unknown',
        packageName: v.name ?? '',
      });
    }
  }
  return [...found.values()];
}

/** Checks the allow-list's shape; each problem is one line naming the entry. */
export function parseAllowList(value: unknown): { entries: AllowListEntry[]; problems: string[] } {
  const list = (value as { advisories?: unknown })?.advisories;
  if (!Array.isArray(list)) return { entries: [], problems: ['the allow-list has no "advisories" array'] };
  const entries: AllowListEntry[] = [];
  const problems: string[] = [];
  list.forEach((raw, index) => {
    const e = raw as Partial<AllowListEntry>;
    const name = typeof e?.id === 'string' && e.id ? e.id : `entry ${index}`;
    if (typeof e?.id !== 'string' || !e.id) problems.push(`${name}: "id" (GHSA id, URL or npm source id) is required`);
    else if (typeof e.reason !== 'string' || e.reason.trim().length < 10)
      problems.push(`${name}: "reason" must say why the advisory is acceptable`);
    else if (typeof e.expires !== 'string' || !DATE.test(e.expires) || Number.isNaN(Date.parse(e.expires)))
      problems.push(`${name}: "expires" must be a date, YYYY-MM-DD`);
    else entries.push({ id: e.id, reason: e.reason, expires: e.expires });
  });
  return { entries, problems };
}

const matches = (entry: AllowListEntry, advisory: Advisory) => {
  const id = entry.id.toLowerCase();
  return id === advisory.id.toLowerCase() || (advisory.url !== '' && id === advisory.url.toLowerCase());
};

/** An entry holds through the whole of its expiry day (UTC). */
const expired = (entry: AllowListEntry, now: Date) => now.getTime() >= Date.parse(entry.expires) + 86_400_000;

export function evaluateAudit(report: unknown, allowList: unknown, now: Date): AuditVerdict {
  const { entries, problems } = parseAllowList(allowList);
  const invalidEntries = [...problems];
  for (const entry of entries) {
    if (expired(entry, now))
      invalidEntries.push(`${entry.id}: expired on ${entry.expires}; re-check it and renew or fix`);
  }
  const live = entries.filter((entry) => !expired(entry, now));
  const failing: Advisory[] = [];
  const accepted: AuditVerdict['accepted'] = [];
  const advisories = advisoriesOf(report);
  for (const advisory of advisories) {
    if (!FAILING_SEVERITIES.has(advisory.severity)) continue;
    const entry = live.find((e) => matches(e, advisory));
    if (entry) accepted.push({ advisory, entry });
    else failing.push(advisory);
  }
  const staleEntries = entries.filter((entry) => !advisories.some((advisory) => matches(entry, advisory)));
  return { ok: failing.length === 0 && invalidEntries.length === 0, failing, accepted, invalidEntries, staleEntries };
}
