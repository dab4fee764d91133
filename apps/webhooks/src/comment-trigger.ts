/** A GitHub user as webhook payloads carry it. */
export interface PayloadUser {
  login: string;
  /** `User`, `Bot` or `Organization`. */
  type: string;
}

/**
 * Whether `text` mentions `@<appSlug>`, in any case, as a whole name: not `@<appSlug>-other` (another
 * account whose name starts the same), not `me@<appSlug>.dev` (an e-mail address).
 */
export function mentionsApp(text: string, appSlug: string): boolean {
  const slug = appSlug.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // GitHub logins are letters, digits and hyphens; `/` would make it an @org/team mention.
  return new RegExp(`(?<![\\w@.-])@${slug}(?![\\w/-])`, 'i').test(text);
}

/**
 * Whether a comment's author is a bot: GitHub marks App accounts `type: "Bot"` and names them
 * `<slug>[bot]`. The App's own comments are bot comments, so it never answers itself in a loop.
 */
export function isBotUser(user: PayloadUser): boolean {
  return user.type === 'Bot' || /\[bot\]$/i.test(user.login);
}
