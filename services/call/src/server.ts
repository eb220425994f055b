import {
  type AsyncHandlers,
  type CallStatus,
  type Catalog,
  type Clock,
  findVoices,
  fromProtoStatus,
  invalidArgument,
  isTerminal,
  listModels,
  loadProto,
  protoDefinition,
  type RegisteredService,
  toProtoStatus,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { type ActionOptions, cancelCall, refreshStatus } from './call-actions.js';
import { readCallDetails } from './call-details.js';
import type { CallStore } from './call-store.js';
import { type Conversation, toCall, toProgress } from './call-view.js';
import { estimateCall } from './estimate.js';
import type { webhookHandlers } from './outbound-webhooks/handlers.js';
import { type PlaceCallOptions, placeCall } from './place-call.js';
import type { Recordings } from './recordings/recordings.js';
import { listStaleCalls } from './stale-calls.js';
import type { TranscriptStore } from './transcript-store.js';
import type { CallWatchers } from './watch.js';

export interface CallServiceDeps {
  catalog: Catalog;
  store: CallStore;
  transcripts: TranscriptStore;
  place: PlaceCallOptions;
  actions: ActionOptions;
  watchers: CallWatchers;
  clock: Clock;
  /** The recording on GetCall, the audio, deletion of a call's recording and transcript. */
  recordings: Pick<Recordings, 'view' | 'audio' | 'deleteData'>;
  /** The webhook RPCs (outbound-webhooks/handlers.ts). */
  webhooks: ReturnType<typeof webhookHandlers>;
}

/** A search by number: digits the destination contains (ListCallsRequest.number). */
const NUMBER_SEARCH = /^\+?\d{1,20}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A call id from a request: anything but a UUID cannot name a call, so say so instead of NOT_FOUND. */
function callIdOf(request: { callId: string }): string {
  if (!UUID.test(request.callId)) throw invalidArgument('callId', `not a call id: ${JSON.stringify(request.callId)}`);
  return request.callId;
}

/** gRPC handlers of callgate.call.v1.CallService: thin, they translate and delegate. */
export function callGrpcService(deps: CallServiceDeps): RegisteredService {
  const { store, transcripts } = deps;
  const conversation = async (callId: string): Promise<Conversation> => {
    const [turns, outcome] = await Promise.all([transcripts.turns(callId), transcripts.outcome(callId)]);
    return { turns, outcome };
  };
  const handlers: AsyncHandlers<callV1.CallServiceHandlers> = {
    PlaceCall: async (request, ctx) => {
      const { call, deduplicated } = await placeCall(deps.place, request, ctx.signal);
      return {
        call: toCall(call, await store.events(call.call_id), await conversation(call.call_id)),
        deduplicated,
      };
    },
    GetCall: async (request) => {
      // The row, timeline, turns and outcome in one statement (call-details.ts): one round trip, not four.
      const { call, events, conversation } = await readCallDetails(store.db, request.userId, callIdOf(request));
      return { call: toCall(call, events, conversation, await deps.recordings.view(call)) };
    },
    GetCallRecording: async (request) => {
      // forUser: another user's call is NOT_FOUND, as an unknown one is.
      const call = await store.forUser(request.userId, callIdOf(request));
      return deps.recordings.audio(call);
    },
    DeleteCallData: async (request) => {
      const call = await store.forUser(request.userId, callIdOf(request));
      const deleted = await deps.recordings.deleteData(call, request);
      const details = await readCallDetails(store.db, request.userId, call.call_id);
      return {
        call: toCall(details.call, details.events, details.conversation, await deps.recordings.view(details.call)),
        ...deleted,
      };
    },
    ListCalls: async (request) => {
      const statuses = request.statuses.map((s) => {
        const status = fromProtoStatus(s);
        if (!status) throw invalidArgument('statuses', `unknown status ${s}`);
        return status;
      });
      if (request.number && !NUMBER_SEARCH.test(request.number)) {
        throw invalidArgument('number', 'digits to search for: 1 to 20 digits, an optional leading +');
      }
      const page = await store.list({ ...request, statuses: statuses as CallStatus[] });
      return { calls: page.calls.map((c) => toCall(c)), nextPageToken: page.nextPageToken };
    },
    CancelCall: async (request) => {
      callIdOf(request);
      const { call, outcome } = await cancelCall(deps.actions, request);
      return { call: toCall(call, await store.events(call.call_id), await conversation(call.call_id)), outcome };
    },
    GetCallProgress: async (request) => {
      const call = await store.forUser(request.userId, callIdOf(request));
      return { progress: toProgress(call, await store.lastStatusEvent(call.call_id), deps.clock.date()) };
    },
    WatchCall: async (request, ctx, send) => {
      await deps.watchers.watch(
        request.userId,
        callIdOf(request),
        { afterSequence: request.afterSequence, untilSettled: request.untilSettled },
        ctx.signal,
        send,
      );
    },
    WatchCallChanges: async (_request, ctx, send) => {
      await deps.watchers.watchAll(ctx.signal, (change) =>
        send({
          callId: change.callId,
          userId: change.userId,
          sequence: change.sequence,
          status: toProtoStatus(change.status),
          kind: change.kind === 'settlement' ? 'CALL_EVENT_KIND_SETTLEMENT' : 'CALL_EVENT_KIND_STATUS',
        }),
      );
    },
    RefreshStatus: async (request) => {
      callIdOf(request);
      const { call, changed } = await refreshStatus(deps.actions, request);
      return { call: toCall(call), changed, terminal: isTerminal(call.status) };
    },
    ListStaleCalls: async (request) => {
      const page = await listStaleCalls(store.db, request);
      return {
        calls: page.calls.map((c) => ({
          callId: c.call_id,
          status: toProtoStatus(c.status),
          createdAt: c.created_at.toISOString(),
          updatedAt: c.updated_at.toISOString(),
          urgency: c.urgency,
        })),
        nextCursor: page.nextCursor,
        remaining: page.remaining,
      };
    },
    GetVoiceOptions: async (request) => ({
      voices: findVoices(deps.catalog, request),
      defaultVoice: deps.catalog.defaultVoice,
    }),
    GetModelOptions: async () => ({
      models: listModels(deps.catalog),
      defaultModel: deps.catalog.defaultModel,
    }),
    EstimateCall: (request, ctx) =>
      estimateCall({ credit: deps.place.credit, catalog: deps.catalog }, request, ctx.signal),
    ...deps.webhooks,
  };
  return {
    fullName: 'callgate.call.v1.CallService',
    definition: loadProto('call').callgate.call.v1.CallService.service,
    handlers,
    packageDefinition: protoDefinition('call'),
  };
}
