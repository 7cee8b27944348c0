/**
 * Credentials never reach a line this service prints: not a log line, not a start-up error.
 * A URL's user-info is `user:password@` up to the last `@` of its authority (a password may hold `@`),
 * so `redis://u:p@ss@h` shows as `redis://u:***@h`.
 */
const AUTHORITY = /([a-z][a-z0-9+.-]*:\/\/)([^/?#,\s]*)/gi;

/** Each `scheme://user:password@host` in `text` with its password as `***` (the user name kept). */
export const redactCredentials = (text: string): string =>
  text.replace(AUTHORITY, (_all, scheme: string, authority: string) => {
    const at = authority.lastIndexOf('@');
    if (at === -1) return scheme + authority;
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon === -1 ? '' : userInfo.slice(0, colon);
    return `${scheme}${user}:***${authority.slice(at)}`;
  });

/** The passwords (or bare user-info) of every URL in `text`, raw and percent-decoded. */
const secretsIn = (text: string): string[] => {
  const secrets: string[] = [];
  for (const [, , authority] of text.matchAll(AUTHORITY)) {
    const at = authority!.lastIndexOf('@');
    if (at === -1) continue;
    const userInfo = authority!.slice(0, at);
    const secret = userInfo.includes(':') ? userInfo.slice(userInfo.indexOf(':') + 1) : userInfo;
    if (secret === '') continue;
    secrets.push(secret);
    try {
      secrets.push(decodeURIComponent(secret));
    } catch {}
  }
  return secrets.sort((a, b) => b.length - a.length);
};

/**
 * `message` about `value` (a variable's setting) with the value's credentials out of it, however the
 * message quotes them: whole URLs are redacted, and any password of `value` left over is masked.
 */
export const redactMessage = (message: string, value: string): string => {
  let redacted = redactCredentials(message);
  for (const secret of secretsIn(value)) redacted = redacted.split(secret).join('***');
  return redacted;
};
