import { type Catalog, DomainError, findModel, invalidArgument } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { holdAmount } from './credit-hold.js';
import type { CreditClient } from './credits.js';

/**
 * EstimateCall: what PlaceCall would hold for a call on this model and time limit (the user's defaults
 * where the request leaves them out, as PlaceCall fills them), sized by PlaceCall's own holdAmount, and
 * whether the available credits cover it. Reads only: nothing is held or placed.
 */
export async function estimateCall(
  deps: { credit: CreditClient; catalog: Catalog },
  request: callV1.EstimateCallRequest__Output,
  signal: AbortSignal,
): Promise<callV1.EstimateCallResponse> {
  if (!request.userId) throw invalidArgument('userId', 'required');
  const [{ preferences }, { balance }] = await Promise.all([
    deps.credit.getPreferences({ userId: request.userId }, { signal }),
    deps.credit.getBalance({ userId: request.userId }, { signal }),
  ]);
  if (!preferences || !balance) throw new DomainError('internal', 'user-credit returned no preferences or balance');
  const modelId = request.model || preferences.defaultModel;
  const model = findModel(deps.catalog, modelId);
  if (!model) throw invalidArgument('model', `unknown model "${modelId}"; getModelOptions lists them`);
  const maxDurationSeconds = request.maxDurationSeconds || preferences.maxCallDurationSeconds;
  if (!Number.isInteger(maxDurationSeconds) || maxDurationSeconds < 30 || maxDurationSeconds > 3600) {
    throw invalidArgument('maxDurationSeconds', 'between 30 and 3600 seconds');
  }
  const hold = holdAmount(deps.catalog.pricing, { model, maxDurationSeconds });
  const available = Number(balance.available);
  return {
    model: model.id,
    maxDurationSeconds,
    creditsPerMinute: model.creditsPerMinute,
    holdCredits: hold,
    availableCredits: available,
    enough: available >= hold,
  };
}
