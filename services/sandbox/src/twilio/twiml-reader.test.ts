/** The sandbox reads the ConversationRelay TwiML the twilio library writes, entities and parameters included. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import twilio from 'twilio';
import { answerTo } from './personas.js';
import { readRelayTwiml } from './twiml-reader.js';

describe('readRelayTwiml', () => {
  it('reads the attributes and <Parameter>s of <ConversationRelay>', () => {
    const response = new twilio.twiml.VoiceResponse();
    const relay = response.connect().conversationRelay({
      url: 'ws://127.0.0.1:1/twilio/relay',
      welcomeGreeting: 'Hi "you" & <them>',
      language: 'en-US',
    });
    relay.parameter({ name: 'callId', value: 'abc' });
    relay.parameter({ name: 'other', value: 'x&y' });
    assert.deepEqual(readRelayTwiml(response.toString()), {
      attributes: { url: 'ws://127.0.0.1:1/twilio/relay', welcomeGreeting: 'Hi "you" & <them>', language: 'en-US' },
      parameters: { callId: 'abc', other: 'x&y' },
    });
  });

  it('no relay in other TwiML', () => {
    const response = new twilio.twiml.VoiceResponse();
    response.hangup();
    assert.equal(readRelayTwiml(response.toString()), undefined);
    assert.equal(readRelayTwiml('<Response><Say>Hello</Say></Response>'), undefined);
  });
});

describe('persona answers', () => {
  it('answer by what was asked, confirm confirmations, say nothing to a goodbye', () => {
    assert.equal(answerTo('Could you tell me the party size?'), '4 people, please.');
    assert.equal(answerTo('Could you tell me the time?'), '7:30 PM.');
    assert.equal(answerTo('To confirm: party size 4, time 7:30 PM. Is that right?'), "Yes, that's right.");
    assert.equal(answerTo('Thank you. Goodbye!'), undefined);
    assert.equal(answerTo('Could you tell me the budget?'), "I'm not sure about that.");
  });
});
