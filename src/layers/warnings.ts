/**
 * One way warnings leave the library: every option or layer arg that can warn is called `onWarning`
 * and receives the bare message; without it the message goes to console.warn, prefixed with where it
 * comes from. Imports nothing; it lives in layers/ because the layers are the lowest floor that warns
 * (interop and train may import layers, not the other way round).
 */

/** Receives a warning's message. */
export type WarningSink = (message: string) => void;

/** `onWarning` if given, else console.warn with the prefix `doconv <source>: `. */
export function warningSink(onWarning: WarningSink | undefined, source: string): WarningSink {
  return onWarning ?? ((message) => console.warn(`doconv ${source}: ${message}`));
}
