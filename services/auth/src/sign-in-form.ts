import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts, SignInResult } from './accounts.js';
import type { KnownDevices } from './known-devices.js';

export interface SignInFormDeps {
  accounts: Accounts;
  devices: KnownDevices;
  clientAddress: (req: IncomingMessage) => string;
}

/**
 * A password posted on one of our pages (sign-in, sign-out everywhere, personal tokens): checked
 * from this client address, this browser recognised or not, and the browser remembered as one
 * that signed in to the account when the password was right.
 */
export async function signInFromForm(
  deps: SignInFormDeps,
  req: IncomingMessage,
  res: ServerResponse,
  form: { email?: string | undefined; password?: string | undefined },
): Promise<SignInResult> {
  const email = form.email ?? '';
  const outcome = await deps.accounts.signIn(email, form.password ?? '', {
    address: deps.clientAddress(req),
    knownDevice: deps.devices.recognizes(req, email),
  });
  if ('accountId' in outcome) deps.devices.remember(res, email);
  return outcome;
}
