import type { VoiceEntry } from '@callgate/common';
import twilio from 'twilio';

/** ConversationRelay's names of the catalogue's TTS providers (its ttsProvider attribute). */
const TTS_PROVIDER: Record<VoiceEntry['provider'], string> = {
  google: 'Google',
  amazon: 'Amazon',
  elevenlabs: 'ElevenLabs',
};

export interface RelayTwimlOptions {
  /** The relay WebSocket, wss:// in production. */
  relayUrl: string;
  callId: string;
  voice: VoiceEntry | undefined;
  /** BCP 47, spoken and transcribed. */
  language: string;
  /** Spoken first, before any message of ours: the disclosure that an AI agent is calling. */
  welcomeGreeting: string;
  /** Speech-to-text provider (RELAY_TRANSCRIPTION_PROVIDER), e.g. Deepgram or Google. */
  transcriptionProvider: string;
  /** The greeting carries a notice the callee must hear whole (recording consent): not interruptible. Default false. */
  greetingUninterruptible?: boolean;
}

/**
 * The TwiML a call runs once answered: <Connect><ConversationRelay> to our relay socket, with the call's
 * voice, language and greeting, interruptible by speech or keys, keys reported (dtmfDetection), and the
 * call id as a <Parameter> (it comes back in setup's customParameters). Built with the twilio library
 * so every value is escaped, never concatenated into XML. After the relay session ends nothing follows,
 * so the call hangs up.
 */
export function conversationRelayTwiml(options: RelayTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const relay = response.connect().conversationRelay({
    url: options.relayUrl,
    welcomeGreeting: options.welcomeGreeting,
    welcomeGreetingInterruptible: options.greetingUninterruptible ? 'none' : 'any',
    language: options.language,
    ...(options.voice && { ttsProvider: TTS_PROVIDER[options.voice.provider], voice: options.voice.id }),
    transcriptionProvider: options.transcriptionProvider,
    interruptible: 'any',
    dtmfDetection: true,
  });
  relay.parameter({ name: 'callId', value: options.callId });
  return response.toString();
}

/** For a call that has already ended (or is unknown) when Twilio asks what to do: hang up. */
export function hangUpTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}
