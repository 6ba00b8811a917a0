/**
 * inputs {a, b} (one shape, float32) → relu(a + b): a residual add and the ReLU after it as one op,
 * one pass over memory instead of two; its gradient is ReLU's, to both inputs. The native engine
 * registers a kernel for it (engine/native/nativeAddRelu.ts); named here, below engine and layers,
 * so TF.js's Add layer can ask whether the backend has it (engineRoutes.ts, layers/addRelu.ts).
 */
export const ADD_RELU = 'DoconvAddRelu';
