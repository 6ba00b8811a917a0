/**
 * doconv/node — the Node-only parts: file:// model IO, backend selection, dataset files.
 * Importing this also imports the browser-safe root.
 */
export * from './index.js';
