import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { balanceOutput, profileOutput } from './account-schemas.js';
import { balanceView, preferencesView } from './account-view.js';
import { grpcTool } from './result.js';
import { needs, SCOPES } from './scopes.js';

/** Read tools for what the account resources hold: many clients use tools but never read resources. */
export function registerAccountTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'getCreditBalance',
    {
      title: 'Credit balance',
      description:
        'Your credits: available to new calls, held by calls in progress, owed; lowBalance when running out. ' +
        'makePhoneCall holds price per minute × max duration until the call ends.',
      inputSchema: z.strictObject({}),
      outputSchema: balanceOutput,
      scopeChallenge: needs(SCOPES.creditsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (_args, call) => {
        const { balance } = await backends.credit.getBalance({ userId: call.userId }, { signal: call.signal });
        return { balance: balance ? balanceView(balance) : null };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'getProfile',
    {
      title: 'Profile and preferences',
      description: 'Your profile (name, email, plan, caller-id numbers) and call preferences.',
      inputSchema: z.strictObject({}),
      outputSchema: profileOutput,
      scopeChallenge: needs(SCOPES.profileRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (_args, call) => {
        const [profile, preferences] = await Promise.all([
          backends.credit.getProfile({ userId: call.userId }, { signal: call.signal }),
          backends.credit.getPreferences({ userId: call.userId }, { signal: call.signal }),
        ]);
        return {
          profile: profile.profile,
          preferences: preferences.preferences ? preferencesView(preferences.preferences) : null,
        };
      },
      { users: backends.users },
    ),
  );
}
