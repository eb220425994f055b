/** The consent screen explains exactly the scopes the gateway checks a person's token for: one list, two readers. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RESOURCE_SCOPES } from '@callgate/auth';
import { USER_SCOPES } from '@callgate/gateway';

it('the auth service words every user scope the gateway checks, and no other', () => {
  assert.deepEqual(Object.keys(RESOURCE_SCOPES).sort(), USER_SCOPES.split(' ').sort());
});
