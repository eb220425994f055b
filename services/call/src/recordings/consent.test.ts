/** The recording notice: a recorded call's callee hears it first and whole; an unrecorded call's greeting is untouched. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conversationRelayTwiml } from '../twiml.js';
import { greetingOf, RECORDING_NOTICE } from './consent.js';

const twiml = (record: boolean, firstMessage: string) =>
  conversationRelayTwiml({
    relayUrl: 'wss://example.test/twilio/relay',
    callId: 'c',
    voice: undefined,
    language: 'en-US',
    transcriptionProvider: 'Deepgram',
    ...greetingOf({ record, first_message: firstMessage }),
  });

describe('recording consent in the greeting', () => {
  it('a recorded call says so first, and the callee cannot talk over it', () => {
    const xml = twiml(true, 'Hi, I am calling about <your> order & more');
    // The greeting as Twilio reads it: the notice first, then the first message (escaped by the twiml library).
    assert.ok(
      xml.includes(`welcomeGreeting="${RECORDING_NOTICE} Hi, I am calling about &lt;your> order &amp; more"`),
      xml,
    );
    assert.match(xml, /welcomeGreetingInterruptible="none"/);
  });

  it('an unrecorded call keeps its greeting, interruptible', () => {
    const xml = twiml(false, 'Hello there');
    assert.match(xml, /welcomeGreeting="Hello there"/);
    assert.doesNotMatch(xml, /being recorded/);
    assert.match(xml, /welcomeGreetingInterruptible="any"/);
  });
});
