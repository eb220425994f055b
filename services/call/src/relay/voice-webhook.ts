import { type Catalog, type Clock, findVoice, isTerminal, type Logger } from '@callgate/common';
import type { CallStore } from '../call-store.js';
import { greetingOf } from '../recordings/consent.js';
import { conversationRelayTwiml, hangUpTwiml } from '../twiml.js';
import type { TwilioUrls } from './signature.js';

export interface VoiceWebhookOptions {
  store: CallStore;
  catalog: Catalog;
  urls: TwilioUrls;
  transcriptionProvider: string;
  log: Logger;
  /** Starts the relay URL's lifetime. */
  clock: Clock;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The answer to Twilio's voice URL (POST /twilio/voice?callId=…, signature already checked): the
 * call's ConversationRelay TwiML. A call we do not know, or one already over, is hung up.
 */
export async function voiceTwiml(
  options: VoiceWebhookOptions,
  callId: string,
  params: Record<string, string>,
): Promise<string> {
  const call = UUID.test(callId) ? await options.store.byId(callId) : undefined;
  if (
    !call ||
    isTerminal(call.status) ||
    (call.carrier_call_id && params.CallSid && call.carrier_call_id !== params.CallSid)
  ) {
    options.log.warn({ callId, callSid: params.CallSid }, 'voice URL asked for no call in progress; hanging up');
    return hangUpTwiml();
  }
  return conversationRelayTwiml({
    relayUrl: options.urls.relayUrl(
      { callId: call.call_id, ...(params.CallSid && { callSid: params.CallSid }) },
      options.clock.date(),
    ),
    callId: call.call_id,
    voice: findVoice(options.catalog, call.voice),
    language: call.language,
    transcriptionProvider: options.transcriptionProvider,
    ...greetingOf(call),
  });
}
