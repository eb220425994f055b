/**
 * Calls as MCP clients get them (call-schemas.ts describes these shapes). The view lives in
 * @callgate/common (mcp-call-view.ts) because webhook deliveries carry the call in the same shape.
 */
export {
  type CallEventView,
  type CallOutcomeView,
  type CallProgressView,
  type CallView,
  callView,
  callViewOrNull,
  eventView,
  progressView,
} from '@callgate/common';
