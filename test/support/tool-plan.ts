/**
 * One successful call of every tool, in an order that works on a fresh user: place a call, read it,
 * cancel it. Tests that drive foreign clients (the official SDKs, the MCP Inspector, mcp-remote) and the
 * strict output-schema test use it, and check it covers every tool tools/list names, so a new tool
 * without a step fails them instead of going untested.
 */
import { NUMBERS } from './calls.js';

/** Sandbox timing for these tests: quick to answer, then talking far longer than any test, until cancelled. */
export const PLAN_SANDBOX_ENV = { SANDBOX_CALL_STEP_MS: '50', SANDBOX_TALK_MS: '600000' } as const;

export interface PlanState {
  /** The call makePhoneCall placed (read from its structuredContent). */
  callId?: string;
  /** The endpoint createWebhook registered. */
  webhookId?: string;
}

export interface ToolStep {
  name: string;
  arguments: (state: PlanState) => Record<string, unknown>;
  /** Reads what later steps need from the structuredContent. */
  remember?: (structured: Record<string, unknown>, state: PlanState) => void;
  /**
   * Succeeds only for an account of the authorization server with something to act on (a personal
   * access token, a grant): tests whose users are minted tokens call it only to see it refuse bad
   * arguments. test/e2e/console-api.test.ts runs it for a signed-up person through the v2 SDK client.
   */
  needsAccount?: true;
}

const placed = (state: PlanState) => {
  if (!state.callId) throw new Error('makePhoneCall must run (and succeed) before the steps that read its call');
  return state.callId;
};

const registered = (state: PlanState) => {
  if (!state.webhookId) throw new Error('createWebhook must run (and succeed) before the steps that name its endpoint');
  return state.webhookId;
};

export const TOOL_PLAN: readonly ToolStep[] = [
  { name: 'getVoiceOptions', arguments: () => ({}) },
  { name: 'getModelOptions', arguments: () => ({}) },
  { name: 'getProfile', arguments: () => ({}) },
  { name: 'updateCallPreferences', arguments: () => ({ timezone: 'Europe/Berlin' }) },
  { name: 'getCreditBalance', arguments: () => ({}) },
  {
    name: 'makePhoneCall',
    // The sandbox persona that answers; a fresh key per run, so no step depends on an earlier run.
    arguments: () => ({
      to: NUMBERS.answers,
      task: 'Ask whether the shop is open on Sunday.',
      idempotencyKey: `plan-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    }),
    remember: (structured, state) => {
      state.callId = (structured.call as { callId: string }).callId;
    },
  },
  { name: 'getCallProgress', arguments: (state) => ({ callId: placed(state) }) },
  { name: 'getCallDetails', arguments: (state) => ({ callId: placed(state) }) },
  { name: 'getCallHistory', arguments: () => ({ pageSize: 5 }) },
  { name: 'cancelCall', arguments: (state) => ({ callId: placed(state), reason: 'client test' }) },
  // The recording only: deleting a transcript waits for the call's end, which a cancel only asks for.
  { name: 'deleteCallData', arguments: (state) => ({ callId: placed(state), what: ['recording'] }) },
  { name: 'estimateCallCost', arguments: () => ({ maxDurationSeconds: 120 }) },
  { name: 'listConnectedApps', arguments: () => ({}) },
  { name: 'listPersonalTokens', arguments: () => ({}) },
  {
    name: 'createPersonalToken',
    arguments: () => ({ name: 'plan', scopes: ['calls:read'], expiresInDays: 1 }),
    needsAccount: true,
  },
  { name: 'revokePersonalToken', arguments: () => ({ tokenId: 'AbCdEfGhIjKlMnOp' }), needsAccount: true },
  { name: 'revokeConnectedApp', arguments: () => ({ grantId: 'AbCdEfGhIjKlMnOp' }), needsAccount: true },
  {
    name: 'createWebhook',
    // A loopback receiver (allowed in local mode only); nothing listens there, so its deliveries just retry.
    arguments: () => ({ url: 'http://127.0.0.1:9/plan-hook', events: ['call.completed'], description: 'plan' }),
    remember: (structured, state) => {
      state.webhookId = (structured.webhook as { webhookId: string }).webhookId;
    },
  },
  { name: 'listWebhooks', arguments: () => ({}) },
  { name: 'getWebhookDeliveries', arguments: (state) => ({ webhookId: registered(state) }) },
  { name: 'deleteWebhook', arguments: (state) => ({ webhookId: registered(state) }) },
];

/** Fails when tools/list and the plan differ: every tool is called, and only tools that exist. */
export function assertPlanCovers(listed: readonly string[]): void {
  const planned = TOOL_PLAN.map((step) => step.name).sort();
  const actual = [...listed].sort();
  if (JSON.stringify(planned) !== JSON.stringify(actual)) {
    throw new Error(`the tool plan (${planned.join(', ')}) differs from tools/list (${actual.join(', ')})`);
  }
}
