/** ONNX export (browser-safe): a TF.js LayersModel, DO layers folded on the way, as an ONNX model. */
export {
  exportOnnx,
  onnxSupportedLayers,
  ONNX_OPSET,
  type ExportOnnxOptions,
} from './exportOnnx.js';
