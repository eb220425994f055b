/** The consent screen explains exactly the scopes the gateway checks a person's token for: one list, two readers. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_SCOPES, PERSONAL_TOKEN_SCOPES, RESOURCE_SCOPES } from '@callgate/auth';
import { CONSENTABLE_SCOPES, SCOPES, USER_SCOPES } from '@callgate/gateway';

it('the auth service words every scope a person may consent to that the gateway checks, and no other', () => {
  assert.deepEqual(Object.keys(RESOURCE_SCOPES).sort(), [...CONSENTABLE_SCOPES].sort());
});

it('the user scopes are the same on both sides: the default grant and all a personal access token may hold', () => {
  assert.deepEqual([...PERSONAL_TOKEN_SCOPES].sort(), USER_SCOPES.split(' ').sort());
  assert.deepEqual([...DEFAULT_SCOPES].sort(), USER_SCOPES.split(' ').sort());
  assert.equal(DEFAULT_SCOPES.includes(SCOPES.appsManage as never), false, 'apps:manage only when asked for');
  assert.equal(USER_SCOPES.split(' ').includes(SCOPES.admin), false);
});
