const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text made safe for HTML and XML (SVG), in element content and in quoted attribute values alike. Job
 * data and retry reasons come from upstream errors and webhook payloads, so every string drawn or shown
 * goes through here. Control characters are replaced too: XML 1.0 forbids them even escaped, and one
 * (an ANSI colour code in an error message, say) would make a browser refuse the whole SVG.
 */
export function escapeMarkup(text: string): string {
  return (
    text
      .replace(/[&<>"']/g, (char) => entities[char] ?? char)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML 1.0 forbids is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
  );
}
