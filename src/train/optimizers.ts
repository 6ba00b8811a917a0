/**
 * The two optimizers of the official samples, written so a checkpoint restores them bit for bit.
 *
 * Why not tf.train.momentum / tf.train.adam: tfjs' Adam rebuilds β^t with `pow` on setWeights while it
 * accumulated it by repeated `mul` before, so a resumed run drifts from an uninterrupted one in the last
 * bits; and tfjs' SGD caches −lr as a tensor, so a schedule needs private calls. Here the learning rate is
 * a plain field read at every step, bias corrections are computed in float64 from the step count, and the
 * whole state is `getWeights()`: the step count plus one slot tensor per variable and moment.
 *
 * Both extend tf.Optimizer, so they also work with model.compile / model.fit.
 * Slots are matched to variables by position (as tfjs' own optimizers do), so a model reloaded from a
 * checkpoint — whose variables get new unique names — continues with its saved slots. Pass gradients in
 * the same variable order every step (the trainer uses model.trainableWeights).
 */
import * as tf from '@tensorflow/tfjs';
import {
  ADAM_STEP,
  fusedOptimizerStep,
  batchedOptimizerStep,
  SGD_STEP,
  type OptimizerRule,
  type VariableUpdate,
} from '../engine/kernels/optimizerSteps.js';

/** A tensor with a name, as tf.Optimizer's getWeights/setWeights use (not re-exported by tfjs). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** `SGD` options. */
export interface SgdArgs {
  /** Step size. */
  learningRate: number;
  /** Heavy-ball momentum μ; 0 is plain SGD (no slot tensors). Default 0. */
  momentum?: number;
}

/** `Adam` options (defaults are Keras's, as in the TF sample). */
export interface AdamArgs {
  learningRate: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras); PyTorch uses 1e-8. */
  epsilon?: number;
}

/** What `createOptimizer` builds. */
export type OptimizerSpec = ({ kind: 'sgd' } & SgdArgs) | ({ kind: 'adam' } & AdamArgs);
export const OPTIMIZER_KINDS = ['sgd', 'adam'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** A tf.Optimizer whose learning rate can be changed between steps (by a schedule). */
export abstract class ScheduledOptimizer extends tf.Optimizer {
  /** Read at every `applyGradients`; the trainer sets it from the schedule. */
  learningRate: number;
  /** Per-variable state, by position in the gradient list; arrays of one or two moments. */
  protected slots: tf.Variable[][] = [];

  protected constructor(learningRate: number) {
    super();
    checkFinitePositive('learningRate', learningRate);
    this.learningRate = learningRate;
  }

  /** Names of the moments kept per variable (e.g. ['m', 'v']); [] for stateless updates. */
  protected abstract slotNames(): readonly string[];

  /** One update of `value` from `gradient`, given this variable's slots; called inside tidy. */
  protected abstract update(value: tf.Variable, gradient: tf.Tensor, slots: tf.Variable[]): void;

  /** Called once per step before the updates, inside tidy (e.g. for bias corrections). */
  protected beginStep(): void {}

  /**
   * This step's rule, for the native engine's one-call update of every variable; null (the
   * default, e.g. for a subclass of your own) updates each variable with `update`.
   */
  protected rule(): OptimizerRule | null {
    return null;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const registry = tf.engine().registeredVariables;
    tf.tidy(() => {
      this.beginStep();
      const updates: Array<VariableUpdate & { slots: tf.Variable[] }> = [];
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = registry[name];
        if (value === undefined)
          throw new Error(`${this.getClassName()}: no variable named ${JSON.stringify(name)}`);
        checkFloat32(this.getClassName(), name, value, gradient);
        if (this.slots[i] === undefined) {
          this.slots[i] = this.slotNames().map(() => tf.keep(tf.zerosLike(value).variable(false)));
        }
        if (gradient != null) updates.push({ value, gradient, slots: this.slots[i] });
      });
      // The native engine updates what it can in one call; the rest one by one.
      const rule = this.rule();
      const done = rule === null ? null : batchedOptimizerStep(rule, updates);
      updates.forEach((u, k) => {
        if (!done?.[k]) this.update(u.value, u.gradient, u.slots);
      });
    });
    this.incrementIterations();
  }

  /** [iterations, then every slot of variable 0, variable 1, ...] — everything needed to resume. */
  override async getWeights(): Promise<NamedTensor[]> {
    const names = this.slotNames();
    const slots = this.slots.flatMap((vars, i) =>
      vars.map((tensor, k) => ({ name: `slot${i}/${names[k]}`, tensor: tensor as tf.Tensor })),
    );
    return [await this.saveIterations(), ...slots];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const per = this.slotNames().length;
    if (per === 0 ? rest.length !== 0 : rest.length % per !== 0) {
      throw new Error(
        `${this.getClassName()}.setWeights: got ${rest.length} slot tensors, expected a multiple of ${per}`,
      );
    }
    this.disposeSlots();
    const count = per === 0 ? 0 : rest.length / per;
    this.slots = Array.from({ length: count }, (_, i) =>
      // the clone goes with the tidy; the variable keeps its data
      rest
        .slice(i * per, (i + 1) * per)
        .map((w) => tf.tidy(() => w.tensor.clone().variable(false))),
    );
  }

  override dispose(): void {
    this.disposeSlots();
  }

  private disposeSlots(): void {
    for (const vars of this.slots) tf.dispose(vars);
    this.slots = [];
  }
}

/**
 * SGD with heavy-ball momentum as PyTorch's `optim.SGD` (dampening 0, no Nesterov):
 * v ← μ·v + g;  w ← w − lr·v.  With μ = 0 it is plain SGD (Gluon's 'sgd' trainer).
 * Unlike Keras's form (v ← μ·v − lr·g) the velocity holds gradients, so a learning-rate change applies
 * to past momentum at once, as in PyTorch.
 */
export class SGD extends ScheduledOptimizer {
  static className = 'doconv.SGD';
  readonly momentum: number;

  constructor(args: SgdArgs) {
    super(args.learningRate);
    this.momentum = args.momentum ?? 0;
    if (!(this.momentum >= 0 && this.momentum < 1)) {
      throw new Error(`SGD: momentum must be in [0, 1), got ${JSON.stringify(args.momentum)}`);
    }
  }

  protected slotNames(): readonly string[] {
    return this.momentum > 0 ? ['velocity'] : [];
  }

  protected override rule(): OptimizerRule {
    return { kind: 'sgd', attrs: { learningRate: this.learningRate, momentum: this.momentum } };
  }

  protected update(value: tf.Variable, gradient: tf.Tensor, slots: tf.Variable[]): void {
    // One kernel on wasm (bit-identical to the ops below, which every other backend runs).
    const fused = fusedOptimizerStep(
      SGD_STEP,
      this.momentum > 0 ? { value, gradient, velocity: slots[0] } : { value, gradient },
      { learningRate: this.learningRate, momentum: this.momentum },
    );
    if (fused !== null) {
      if (this.momentum > 0) slots[0].assign(fused[1]);
      value.assign(fused[0]);
      return;
    }
    let step = gradient;
    if (this.momentum > 0) {
      const [velocity] = slots;
      step = tf.add(tf.mul(velocity, this.momentum), gradient);
      velocity.assign(step);
    }
    value.assign(tf.sub(value, tf.mul(step, this.learningRate)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, momentum: this.momentum };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({ learningRate: config.learningRate, momentum: config.momentum });
  }
}

/**
 * Adam as Keras (TF 2) computes it, the optimizer of the TF sample:
 * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − lr·√(1−β2^t)/(1−β1^t) · m / (√v + ε).
 * (ε is added to √v, not to the bias-corrected √v̂ as in PyTorch/tfjs; the difference is ε-sized.)
 * The bias correction is computed in float64 from t, so it is the same after a resume.
 */
export class Adam extends ScheduledOptimizer {
  static className = 'doconv.Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private stepSize = 0;

  constructor(args: AdamArgs) {
    super(args.learningRate);
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    for (const [key, v] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(v >= 0 && v < 1))
        throw new Error(`Adam: ${key} must be in [0, 1), got ${JSON.stringify(v)}`);
    }
    checkFinitePositive('epsilon', this.epsilon);
  }

  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }

  protected override beginStep(): void {
    const t = this.iterations + 1;
    this.stepSize = (this.learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
  }

  protected override rule(): OptimizerRule {
    const { beta1, beta2, epsilon, stepSize } = this;
    return { kind: 'adam', attrs: { beta1, beta2, epsilon, stepSize } };
  }

  protected update(value: tf.Variable, gradient: tf.Tensor, [m, v]: tf.Variable[]): void {
    // One kernel on wasm (bit-identical to the ops below, which every other backend runs).
    const fused = fusedOptimizerStep(
      ADAM_STEP,
      { value, gradient, m, v },
      { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, stepSize: this.stepSize },
    );
    if (fused !== null) {
      value.assign(fused[0]);
      m.assign(fused[1]);
      v.assign(fused[2]);
      return;
    }
    const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
    const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
    m.assign(m1);
    v.assign(v1);
    value.assign(
      tf.sub(value, tf.mul(tf.div(m1, tf.add(tf.sqrt(v1), this.epsilon)), this.stepSize)),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      learningRate: config.learningRate,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.epsilon,
    });
  }
}

tf.serialization.registerClass(SGD);
tf.serialization.registerClass(Adam);

/** Builds the optimizer `spec` describes. */
export function createOptimizer(spec: OptimizerSpec): ScheduledOptimizer {
  switch (spec.kind) {
    case 'sgd':
      return new SGD(spec);
    case 'adam':
      return new Adam(spec);
    default:
      throw new Error(
        `optimizer: unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}; known: ${OPTIMIZER_KINDS.join(', ')}`,
      );
  }
}

/**
 * The updates compute in float32: an int32 weight (e.g. a model.json weight stored as int32) or
 * gradient is refused naming the variable, before any variable is updated, rather than failing
 * deep in the engine without its name.
 */
function checkFloat32(
  optimizer: string,
  name: string,
  value: tf.Variable,
  gradient: tf.Tensor | null | undefined,
): void {
  for (const [what, t] of [
    ['variable', value],
    ['gradient of variable', gradient],
  ] as const) {
    if (t != null && t.dtype !== 'float32') {
      throw new Error(
        `${optimizer}: ${what} ${JSON.stringify(name)} is ${t.dtype}; only float32 weights are trained`,
      );
    }
  }
}

function checkFinitePositive(key: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0))
    throw new Error(`${key} must be a positive number, got ${JSON.stringify(v)}`);
}
