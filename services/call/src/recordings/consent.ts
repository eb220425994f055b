import type { CallRow } from '../call-store.js';

/** What a recorded call's callee hears first: consent to recording is asked of them by telling them. */
export const RECORDING_NOTICE = 'This call is being recorded.';

/**
 * The greeting of a call's ConversationRelay: its first message, and for a recorded call the recording
 * notice before it, spoken whole (the callee cannot talk over it), whatever the first message says.
 */
export function greetingOf(call: Pick<CallRow, 'first_message' | 'record'>): {
  welcomeGreeting: string;
  greetingUninterruptible: boolean;
} {
  if (!call.record) return { welcomeGreeting: call.first_message, greetingUninterruptible: false };
  return { welcomeGreeting: `${RECORDING_NOTICE} ${call.first_message}`, greetingUninterruptible: true };
}
