import type { VoiceEntry } from '@callgate/common';
import twilio from 'twilio';

type SayAttributes = Parameters<InstanceType<typeof twilio.twiml.VoiceResponse>['say']>[0];

/**
 * The TwiML a call runs once answered. Until the voice agent (ConversationRelay) lands, the call says
 * its first message in the chosen voice and language and hangs up. Built with the twilio library so
 * the message is escaped, never concatenated into XML.
 */
export function firstMessageTwiml(options: {
  voice: VoiceEntry | undefined;
  language: string;
  message: string;
}): string {
  const response = new twilio.twiml.VoiceResponse();
  const attributes: Record<string, string> = { language: options.language };
  // <Say> speaks Amazon Polly and Google voices by these prefixes; other providers need ConversationRelay.
  if (options.voice?.provider === 'amazon') attributes.voice = `Polly.${options.voice.id}`;
  if (options.voice?.provider === 'google') attributes.voice = `Google.${options.voice.id}`;
  response.say(attributes as SayAttributes, options.message);
  return response.toString();
}
