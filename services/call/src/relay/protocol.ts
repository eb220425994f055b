import { z } from 'zod';

/**
 * Twilio ConversationRelay's WebSocket messages (docs: voice/conversationrelay/websocket-messages).
 * Inbound (Twilio → us): setup, prompt, interrupt, dtmf, error. Outbound (us → Twilio): text, end.
 * Unknown inbound fields are kept out (zod strips them); unknown types are reported, not fatal.
 */

const setup = z.object({
  type: z.literal('setup'),
  sessionId: z.string().default(''),
  callSid: z.string().min(1),
  accountSid: z.string().default(''),
  from: z.string().default(''),
  to: z.string().default(''),
  direction: z.string().default(''),
  customParameters: z.record(z.string(), z.string()).default({}),
});

const prompt = z.object({
  type: z.literal('prompt'),
  voicePrompt: z.string(),
  lang: z.string().default(''),
  // Partial transcripts (partialPrompts) arrive with last: false; the final one with last: true.
  last: z.boolean().default(true),
});

const interrupt = z.object({
  type: z.literal('interrupt'),
  utteranceUntilInterrupt: z.string().default(''),
  // The docs show it both as a number and as a string of digits.
  durationUntilInterruptMs: z.coerce.number().nonnegative().default(0),
});

const dtmf = z.object({ type: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#A-Da-dw]$/) });

const error = z.object({ type: z.literal('error'), description: z.string().default('') });

export const inboundMessage = z.discriminatedUnion('type', [setup, prompt, interrupt, dtmf, error]);

export type InboundMessage = z.infer<typeof inboundMessage>;
export type SetupMessage = z.infer<typeof setup>;

/** A text token to speak; `last: true` closes the agent's turn (the talk cycle). */
export interface TextMessage {
  type: 'text';
  token: string;
  last: boolean;
  interruptible?: boolean;
}

/** Ends the ConversationRelay session; Twilio then goes on with the TwiML after <Connect> (here: hang up). */
export interface EndMessage {
  type: 'end';
  handoffData: string;
}

export type OutboundMessage = TextMessage | EndMessage;

export type ParseResult = { ok: true; message: InboundMessage } | { ok: false; error: string };

/** Reads one WebSocket text frame; never throws, so a bad frame is reported and the call goes on. */
export function parseInbound(frame: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = inboundMessage.safeParse(json);
  if (!parsed.success) {
    const type = (json as { type?: unknown } | null)?.type;
    return {
      ok: false,
      error: `unreadable ${typeof type === 'string' ? type.slice(0, 40) : 'untyped'} message: ${z.prettifyError(parsed.error)}`,
    };
  }
  return { ok: true, message: parsed.data };
}
