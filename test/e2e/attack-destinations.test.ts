/**
 * Found from outside (attack1, after issue 17 item 8): the destination rules judge the number as
 * libphonenumber normalises it, but the call records and dials the string the user sent. libphonenumber
 * drops a national prefix written after the country code ("+1 1 415…", "+44 0 20…"), so what was
 * checked is not what is dialled: the carrier is handed a number no rule looked at.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LocalSystem } from '../../scripts/local-system.js';
import { callToolRaw } from '../support/raw-mcp.js';
import { startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startTestSystem();
});
after(async () => {
  await system.stop();
});

describe('attack: the number dialled is the number checked', () => {
  for (const [sent, checked] of [
    ['+114155550002', '+14155550002'],
    ['+4402079460000', '+442079460000'],
  ] as const) {
    it(`${sent} is refused, or dialled as ${checked}`, async () => {
      const result = await callToolRaw(system, tokenFor(system, `dest-${randomUUID()}`), 'makePhoneCall', {
        to: sent,
        task: 'attack test',
        idempotencyKey: `attack-${randomUUID()}`,
        maxDurationSeconds: 30,
      });
      if (result.isError) {
        assert.match(result.content?.[0]?.text ?? '', /\bto\b/, JSON.stringify(result));
        return;
      }
      const call = (result.structuredContent as { call: { to: string } }).call;
      // Today: the call records and dials the raw string, e.g. +114155550002.
      assert.equal(call.to, checked);
    });
  }
});
