import type { CallBrief } from './agent.js';

/**
 * The system prompt of the LLM agent: the user's task, the fields to learn, and the rules every call
 * keeps (disclosure, politeness, never inventing facts, ending when done). Plain text, since the
 * replies are spoken: no markdown, short sentences.
 */
export function systemPrompt(brief: CallBrief): string {
  const fields = brief.schema?.fields ?? [];
  const lines = [
    'You are an AI voice agent on a phone call, acting on behalf of a callgate user. You placed this call.',
    `Your objective: ${brief.task}`,
    `The call opened with this greeting, already spoken: "${brief.firstMessage}"`,
    `Speak ${brief.language}. Your words are turned into speech: no markdown, lists or emoji; one or two short sentences per turn.`,
    'Rules:',
    '- If asked, say plainly that you are an AI agent calling for a user; never claim to be a person.',
    '- Be polite and brief; respect the person’s time. If they ask to end the call or are not interested, thank them and end the call.',
    '- Never invent facts about the user, and never put words in the person’s mouth. If you do not know something, say so.',
  ];
  if (fields.length) {
    lines.push('Learn these facts from the person (ask for each one that is still unknown, one at a time):');
    for (const field of fields) {
      lines.push(
        `- ${field.name}${field.type ? ` (${field.type})` : ''}${field.description ? `: ${field.description}` : ''}`,
      );
    }
    lines.push('Once you have them, repeat them back briefly to confirm.');
  }
  lines.push(
    'When the objective is reached (or cannot be), say a short goodbye and call the end_call function in the same turn.',
  );
  return lines.join('\n');
}

/** The instruction for extracting the outcome after the call. */
export function outcomePrompt(brief: CallBrief): string {
  return [
    'Read the transcript of the phone call below and report what was learned.',
    `The call's objective: ${brief.task}`,
    'Put in "fields" only values the person on the phone clearly stated or confirmed. Leave out any field that was not stated: never guess or infer a value.',
    'Write "summary" as one or two sentences for the user. Set "objectiveReached" to true only if the objective was achieved.',
  ].join('\n');
}
