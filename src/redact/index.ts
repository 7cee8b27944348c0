/**
 * Credentials never reach a line this service prints: not a log line, not a start-up error.
 *
 * A URL's user-info runs from after `scheme://` to the last `@` of its entry (an entry ends at whitespace, a
 * comma or a quote), whatever it holds: a generated password may contain `/`, `?`, `#` or `@`. So
 * `redis://u:p/s@ss@h` shows as `redis://u:***@h`. An entry without a scheme (`user:password@host:port`, as in a
 * list of cluster nodes) is masked the same way when its user-info has a `:`.
 */
const ENTRY = /[^\s,"'`]+/g;

interface UserInfo {
  /** Where the user-info starts and where its `@` is. */
  start: number;
  at: number;
}

const userInfoOf = (entry: string): UserInfo | undefined => {
  const at = entry.lastIndexOf('@');
  if (at === -1) return undefined;
  const scheme = entry.indexOf('://');
  if (scheme !== -1 && scheme < at) return { start: scheme + 3, at };
  // No scheme: `user:password@host`, possibly after `NAME=`; without a `:` it is an address, not a secret.
  const colon = entry.indexOf(':');
  if (colon === -1 || colon > at) return undefined;
  return { start: entry.lastIndexOf('=', colon) + 1, at };
};

const redactEntry = (entry: string): string => {
  const info = userInfoOf(entry);
  if (info === undefined) return entry;
  const userInfo = entry.slice(info.start, info.at);
  const colon = userInfo.indexOf(':');
  const user = colon === -1 ? '' : userInfo.slice(0, colon);
  return `${entry.slice(0, info.start)}${user}:***${entry.slice(info.at)}`;
};

/** Each `scheme://user:password@host` (or `user:password@host`) in `text` with its password as `***`. */
export const redactCredentials = (text: string): string => text.replace(ENTRY, redactEntry);

/**
 * The passwords (or bare user-info) of every entry of a variable's value, raw and percent-decoded. A value
 * is one setting, so only commas separate its entries: a password may hold a space.
 */
const secretsIn = (value: string): string[] => {
  const secrets: string[] = [];
  for (const entry of value.split(',')) {
    const info = userInfoOf(entry);
    if (info === undefined) continue;
    const userInfo = entry.slice(info.start, info.at);
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
