import type { creditV1 } from '@callgate/protos';

/**
 * The account's messages as MCP clients get them (account-schemas.ts describes these shapes). What the
 * gRPC contract carries for other reasons stays out: the user id (the token says whose account it is).
 */

export interface QuietHoursView {
  start: string;
  end: string;
}

export type PreferencesView = Omit<creditV1.Preferences__Output, 'quietHours'> & {
  /** null: no quiet hours, as updateCallPreferences takes it. */
  quietHours: QuietHoursView | null;
};

export type BalanceView = Omit<creditV1.Balance__Output, 'userId'>;

export function preferencesView(preferences: creditV1.Preferences__Output): PreferencesView {
  const { quietHours, ...rest } = preferences;
  return { ...rest, quietHours: quietHours?.start && quietHours.end ? { ...quietHours } : null };
}

export function balanceView(balance: creditV1.Balance__Output): BalanceView {
  const { userId: _userId, ...rest } = balance;
  return rest;
}
