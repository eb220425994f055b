/**
 * Reads the one TwiML shape the sandbox acts on: <Connect><ConversationRelay url=… …><Parameter …/>.
 * Not a general XML parser: TwiML from the twilio library is flat and attribute-quoted, and anything
 * else (a <Say>, a <Hangup/>) is reported as "no relay", after which the call just talks and ends.
 */
export interface RelayTwiml {
  attributes: Record<string, string>;
  /** <Parameter name value> children: they arrive in setup's customParameters. */
  parameters: Record<string, string>;
}

/** A tag's attribute text: anything but '>' outside quotes. */
const ATTRIBUTES = `(?:[^>"']|"[^"]*"|'[^']*')*?`;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X'))
      return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity.toLowerCase()] ?? '';
  });
}

function attributesOf(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of tag.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes[match[1] as string] = decode(match[2] ?? match[3] ?? '');
  }
  return attributes;
}

export function readRelayTwiml(xml: string): RelayTwiml | undefined {
  // Quoted values may hold a raw '>' (XML only requires '<' and '&' escaped there).
  const open = new RegExp(`<ConversationRelay\\b(${ATTRIBUTES})(\\/?)>`).exec(xml);
  if (!open) return undefined;
  const attributes = attributesOf(open[1] ?? '');
  if (!attributes.url) return undefined;
  const parameters: Record<string, string> = {};
  if (open[2] !== '/') {
    const end = xml.indexOf('</ConversationRelay>', open.index);
    const body = xml.slice(open.index + open[0].length, end < 0 ? undefined : end);
    for (const param of body.matchAll(new RegExp(`<Parameter\\b(${ATTRIBUTES})\\/?>`, 'g'))) {
      const { name, value } = attributesOf(param[1] ?? '');
      if (name) parameters[name] = value ?? '';
    }
  }
  return { attributes, parameters };
}
