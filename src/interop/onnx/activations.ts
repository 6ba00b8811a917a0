import type { ConversionContext, Value } from './context.js';

// tfjs-core's SELU constants (selu_util.ts): scale·alpha and scale.
const SELU_SCALEALPHA = 1.7580993408473768;
const SELU_SCALE = 1.0507009873554805;

/** TF.js activation names (as serialized in layer configs) the exporter can write. */
export const supportedActivations = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softmax',
  'logSoftmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

/**
 * Emits TF.js activation `activation` applied to `x` (elementwise, so in x's layout; softmax over
 * TF.js's last axis). `name` prefixes the nodes. Throws naming the activation if unknown.
 */
export function emitActivation(
  ctx: ConversionContext,
  x: Value,
  activation: string,
  name: string,
): Value {
  const n = `${name}/${activation}`;
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return ctx.unary(x, 'Relu', n);
    case 'relu6':
      return clip(ctx, x, 0, 6, n);
    case 'sigmoid':
      return ctx.unary(x, 'Sigmoid', n);
    case 'hardSigmoid':
      // TF.js: clip(0.2·x + 0.5, 0, 1) — ONNX HardSigmoid's defaults.
      return ctx.unary(x, 'HardSigmoid', n, { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'tanh':
      return ctx.unary(x, 'Tanh', n);
    case 'softmax':
      return ctx.unary(x, 'Softmax', n, { axis: ctx.onnxAxis(x, -1) });
    case 'logSoftmax':
      return ctx.unary(x, 'LogSoftmax', n, { axis: ctx.onnxAxis(x, -1) });
    case 'elu':
      return ctx.unary(x, 'Elu', n, { alpha: { float: 1 } });
    case 'selu':
      return ctx.unary(x, 'Selu', n, {
        alpha: { float: SELU_SCALEALPHA / SELU_SCALE },
        gamma: { float: SELU_SCALE },
      });
    case 'softplus':
      return ctx.unary(x, 'Softplus', n);
    case 'softsign':
      return ctx.unary(x, 'Softsign', n);
    case 'swish': {
      // x · sigmoid(x)
      const s = ctx.unary(x, 'Sigmoid', `${n}/sigmoid`);
      return ctx.binary('Mul', x.name, s.name, n, x);
    }
    case 'mish': {
      // x · tanh(softplus(x)) (ONNX Mish needs opset 18)
      const t = ctx.unary(ctx.unary(x, 'Softplus', `${n}/softplus`), 'Tanh', `${n}/tanh`);
      return ctx.binary('Mul', x.name, t.name, n, x);
    }
    case 'gelu': {
      // x · ½(1 + erf(x / √2)) (ONNX Gelu needs opset 20)
      const e = ctx.unary(
        ctx.binary('Div', x.name, ctx.scalar(Math.SQRT2), `${n}/div`, x),
        'Erf',
        `${n}/erf`,
      );
      const half = ctx.binary(
        'Mul',
        ctx.binary('Add', e.name, ctx.scalar(1), `${n}/add`, x).name,
        ctx.scalar(0.5),
        `${n}/half`,
        x,
      );
      return ctx.binary('Mul', x.name, half.name, n, x);
    }
    case 'gelu_new': {
      // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const cube = ctx.binary('Pow', x.name, ctx.scalar(3), `${n}/cube`, x);
      const inner = ctx.binary(
        'Add',
        x.name,
        ctx.binary('Mul', cube.name, ctx.scalar(0.044715), `${n}/c`, x).name,
        `${n}/inner`,
        x,
      );
      const t = ctx.unary(
        ctx.binary('Mul', inner.name, ctx.scalar(Math.sqrt(2 / Math.PI)), `${n}/scale`, x),
        'Tanh',
        `${n}/tanh`,
      );
      const onePlus = ctx.binary('Add', t.name, ctx.scalar(1), `${n}/add`, x);
      const halfX = ctx.binary('Mul', x.name, ctx.scalar(0.5), `${n}/halfx`, x);
      return ctx.binary('Mul', halfX.name, onePlus.name, n, x);
    }
    default:
      throw new Error(
        `activation ${JSON.stringify(activation)} is not supported by the ONNX export ` +
          `(supported: ${supportedActivations.join(', ')})`,
      );
  }
}

/** min(max(x, lo), hi); opset 13 Clip takes its bounds as inputs. */
export function clip(
  ctx: ConversionContext,
  x: Value,
  lo: number,
  hi: number,
  name: string,
): Value {
  return ctx.unary(x, 'Clip', name, {}, [ctx.scalar(lo), ctx.scalar(hi)]);
}
