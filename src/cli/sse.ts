/**
 * A server-sent events answer read as it arrives (`logs --follow`, `events tail`): each event's
 * name (`message` when it has none) and its data lines joined; comments (`: …`) are skipped.
 */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    // Lines may end in CRLF: replaced in the whole buffer, so a pair split across chunks is one.
    buf = (buf + decoder.decode(chunk, { stream: true })).replaceAll("\r\n", "\n");
    for (let i = buf.indexOf("\n\n"); i !== -1; i = buf.indexOf("\n\n")) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const parsed = parseBlock(block);
      if (parsed) yield parsed;
    }
  }
}

/** One event's lines (`field: value`); undefined for a block with no data (a comment, a keep-alive). */
export function parseBlock(block: string): SseEvent | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: data.join("\n") };
}
