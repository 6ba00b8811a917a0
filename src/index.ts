/**
 * doconv — DO-Conv (Depthwise Over-Parameterized Convolution) for TensorFlow.js.
 *
 * This entry is browser-safe: no Node built-ins. Node-only parts live in `doconv/node`.
 */
