/**
 * How every doconv error message shows a bad value. JSON.stringify prints NaN and ±Infinity as
 * `null` and drops undefined, which made "got null" errors for `--lr NaN`; this shows them as such.
 * Browser-safe, imports nothing: any floor may use it.
 */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatValue).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return `an object (${(value as object).constructor?.name ?? 'unknown class'})`;
    }
    try {
      const text = JSON.stringify(value, (_k, v) =>
        typeof v === 'number' && !Number.isFinite(v) ? formatValue(v) : v,
      );
      return text.length > 200 ? `${text.slice(0, 200)}…` : text;
    } catch {
      return 'an object';
    }
  }
  return JSON.stringify(value);
}
