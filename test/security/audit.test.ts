/** The CI audit gate's rules: high and critical advisories fail unless accepted with a reason and a live expiry. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evaluateAudit, parseAllowList } from '../../scripts/audit/evaluate.js';

/** The shape `npm audit --json` prints (auditReportVersion 2), trimmed to what the gate reads. */
const report = {
  auditReportVersion: 2,
  vulnerabilities: {
    'left-pad': {
      name: 'left-pad',
      severity: 'high',
      via: [
        {
          source: 1096000,
          name: 'left-pad',
          title: 'Prototype pollution',
          url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
          severity: 'high',
        },
      ],
    },
    // Vulnerable only through left-pad: a string in via, no advisory of its own.
    wrapper: { name: 'wrapper', severity: 'high', via: ['left-pad'] },
    chalkish: {
      name: 'chalkish',
      severity: 'moderate',
      via: [
        {
          source: 2,
          name: 'chalkish',
          title: 'ReDoS',
          url: 'https://github.com/advisories/GHSA-dddd-eeee-ffff',
          severity: 'moderate',
        },
      ],
    },
  },
};
const now = new Date('2026-11-24T12:00:00Z');
const accept = (id: string, expires = '2026-12-31') => ({
  advisories: [{ id, reason: 'the vulnerable function is never called by callgate', expires }],
});

describe('npm audit gate', () => {
  it('fails on a high advisory that is not accepted, and ignores moderate ones', () => {
    const verdict = evaluateAudit(report, { advisories: [] }, now);
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.failing.map((a) => a.id),
      ['GHSA-aaaa-bbbb-cccc'],
    );
  });

  it('passes when the advisory is accepted by GHSA id or by URL', () => {
    for (const id of ['GHSA-aaaa-bbbb-cccc', 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc']) {
      const verdict = evaluateAudit(report, accept(id), now);
      assert.equal(verdict.ok, true, id);
      assert.equal(verdict.accepted.length, 1);
    }
  });

  it('an acceptance holds through its expiry day and fails the build the day after', () => {
    assert.equal(evaluateAudit(report, accept('GHSA-aaaa-bbbb-cccc', '2026-11-24'), now).ok, true);
    const verdict = evaluateAudit(report, accept('GHSA-aaaa-bbbb-cccc', '2026-11-23'), now);
    assert.equal(verdict.ok, false);
    assert.match(verdict.invalidEntries.join('\n'), /expired on 2026-11-23/);
    assert.equal(verdict.failing.length, 1);
  });

  it('an entry without a reason or with a bad date is refused, naming the entry', () => {
    const { problems } = parseAllowList({
      advisories: [
        { id: 'GHSA-1111-2222-3333', expires: '2026-12-31' },
        { id: 'GHSA-4444-5555-6666', reason: 'not reachable from our code', expires: 'soon' },
        'nonsense',
      ],
    });
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /GHSA-1111-2222-3333: "reason"/);
    assert.match(problems[1] ?? '', /GHSA-4444-5555-6666: "expires"/);
    assert.match(problems[2] ?? '', /entry 2: "id"/);
    assert.equal(evaluateAudit(report, { advisories: [{ id: 'x' }] }, now).ok, false);
  });

  it('reports entries that match nothing any more as stale, without failing', () => {
    const verdict = evaluateAudit({ vulnerabilities: {} }, accept('GHSA-9999-9999-9999'), now);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.staleEntries.length, 1);
  });

  it('an error answer from the registry is not mistaken for a clean report', () => {
    assert.throws(
      () => evaluateAudit({ message: '405 Method Not Allowed' }, { advisories: [] }, now),
      /not an npm audit report/,
    );
  });

  it('the committed allow-list is well formed', () => {
    const file = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'audit-allowlist.json'), 'utf8'));
    assert.deepEqual(parseAllowList(file).problems, []);
  });
});
