/** Number formats shared by the panels. */
export const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
export const count = (n: number) => n.toLocaleString('en-US');
export const ms = (x: number) => x.toFixed(1);
export const loss = (x: number) => x.toFixed(3);
/** Scientific with 2 significant digits, for tiny differences (0 shown as 0). */
export const tiny = (x: number) => (x === 0 ? '0' : x.toExponential(1));
/** A difference with its sign: '+1.2', '−0.5' (a real minus), '0'; `digits` fixes the decimals ('+1.0'). */
export const signed = (x: number, digits?: number) => {
  const r = +x.toFixed(1);
  const abs = digits === undefined ? String(Math.abs(r)) : Math.abs(r).toFixed(digits);
  return r === 0 ? abs : `${r > 0 ? '+' : '−'}${abs}`;
};
