/** The value `text` holds as JSON, or the text itself when it is not JSON (a payload shown to a person). */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
