import { Counter, Histogram, type Registry } from 'prom-client';

/** Our own latency is milliseconds; an LLM's first token takes tenths of seconds to seconds. */
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const AGENT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16];

export interface RelayMetrics {
  /** From a final prompt to our first text token, minus the time the agent took to produce it. */
  overhead: Histogram<'agent'>;
  /** From asking the agent to its first token (the LLM's own time to first token). */
  agentFirstToken: Histogram<'agent'>;
  conversations: Counter<'agent' | 'end_reason'>;
  frames: Counter<'result'>;
  /** Answers of keys cut at MAX_DTMF_DIGITS (no # and no pause): a stuck key or someone probing. */
  dtmfOverflow: Counter<'agent'>;
}

export function relayMetrics(registry: Registry): RelayMetrics {
  return {
    overhead: new Histogram({
      name: 'call_relay_first_token_overhead_seconds',
      help: "Our latency from a final ConversationRelay prompt to our first text token, excluding the agent's own time to first token.",
      labelNames: ['agent'],
      buckets: OVERHEAD_BUCKETS,
      registers: [registry],
    }),
    agentFirstToken: new Histogram({
      name: 'call_agent_first_token_seconds',
      help: 'Time the agent (built-in or LLM) took from being asked to its first token.',
      labelNames: ['agent'],
      buckets: AGENT_BUCKETS,
      registers: [registry],
    }),
    conversations: new Counter({
      name: 'call_relay_conversations_total',
      help: 'Ended ConversationRelay conversations by agent and end reason.',
      labelNames: ['agent', 'end_reason'],
      registers: [registry],
    }),
    frames: new Counter({
      name: 'call_relay_frames_total',
      help: 'Inbound ConversationRelay frames: handled, unreadable (bad JSON or shape), rejected (handshake signature).',
      labelNames: ['result'],
      registers: [registry],
    }),
    dtmfOverflow: new Counter({
      name: 'call_relay_dtmf_overflow_total',
      help: 'Key sequences (DTMF) that reached the digit limit without # or a pause and were passed on as one answer.',
      labelNames: ['agent'],
      registers: [registry],
    }),
  };
}
