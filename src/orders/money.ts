// Money: integers in a currency's minor unit on the write side, decimals only at the HTTP edge.

/** ISO 4217 minor units of the currencies where they are not 2 (JPY has none, KWD three). */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ').map((c) => [c, 0]),
  ),
  ...Object.fromEntries('BHD IQD JOD KWD LYD OMR TND'.split(' ').map((c) => [c, 3])),
  CLF: 4,
  UYW: 4,
};

/** The most decimals any currency has: what a price may have before its currency is known. */
export const MAX_MINOR_UNITS = 4;

/** Decimals of `currency`'s minor unit (ISO 4217): 2 for USD, 0 for JPY, 3 for KWD. */
export const minorUnitsOf = (currency: string): number => MINOR_UNITS[currency] ?? 2;

/**
 * True when `amount` has at most `decimals` decimals: finite, ×10^decimals integral (within 1e-9
 * relative, for float noise) and written with at most that many decimals in its shortest form, so 1e-7
 * and 0.1 + 0.2 fail.
 */
export const hasAtMostDecimals = (amount: number, decimals: number): boolean => {
  if (!Number.isFinite(amount)) return false;
  const scaled = amount * 10 ** decimals;
  if (Math.abs(Math.round(scaled) - scaled) > 1e-9 * Math.max(1, Math.abs(scaled))) return false;
  const [, fraction = ''] = String(amount).split('.');
  return !/e/i.test(String(amount)) && fraction.length <= decimals;
};

/** A decimal amount as an integer count of 10^-minorUnits; `+ 0` turns -0 into 0. */
export const toMinor = (amount: number, minorUnits: number): number =>
  Math.round(amount * 10 ** minorUnits) + 0;

/**
 * An integer count of 10^-minorUnits as a JSON number. Division by an exact power of ten rounds to the
 * double nearest the decimal, which prints as that decimal (1234 at 3 → 1.234) for any safe integer.
 */
export const fromMinor = (minor: number, minorUnits: number): number => minor / 10 ** minorUnits;

/** An exact decimal string of `minor` × 10^-minorUnits, for sums past 2^53 ("12.30", "-0.05", "7"). */
export const decimalString = (minor: bigint, minorUnits: number): string => {
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(minorUnits + 1, '0');
  if (minorUnits === 0) return sign + digits;
  return `${sign}${digits.slice(0, -minorUnits)}.${digits.slice(-minorUnits)}`;
};

/** "must be a whole number in JPY" / "must have at most 3 decimals in KWD". */
export const decimalsMessage = (decimals: number, currency: string): string =>
  decimals === 0
    ? `must be a whole number in ${currency}`
    : `must have at most ${decimals} decimal${decimals === 1 ? '' : 's'} in ${currency}`;
