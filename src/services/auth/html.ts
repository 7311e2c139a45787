/** Text made safe for HTML content and quoted attribute values (the OIDC pages, mail bodies). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
