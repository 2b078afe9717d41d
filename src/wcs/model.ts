/** Packs TanSipParams into the kernels' Float64Array model (layout in native-free-kernels/tanSip.ts). */
import { MODEL_HEADER_LENGTH, MODEL_KIND_TAN_SIP, MODEL_VERSION } from '../../native-free-kernels/tanSip.js';
import { linearMatrix, type TanSipParams } from './params.js';
import { packSip } from './sip.js';

const D2R = Math.PI / 180;

/** sin and cos of an angle in degrees, exact at multiples of 90 (as WCSLIB's sind/cosd). */
export function sinCosDeg(deg: number): [number, number] {
  const r = ((deg % 360) + 360) % 360;
  if (r === 0) return [0, 1];
  if (r === 90) return [1, 0];
  if (r === 180) return [0, -1];
  if (r === 270) return [-1, 0];
  return [Math.sin(deg * D2R), Math.cos(deg * D2R)];
}

export function packTanSipModel(params: TanSipParams): Float64Array {
  const n = params.sipA ? Math.max(params.sipA.order, params.sipB!.order) : -1;
  const m = params.sipAp ? Math.max(params.sipAp.order, params.sipBp!.order) : -1;
  const sizeN = n >= 0 ? (n + 1) ** 2 : 0;
  const sizeM = m >= 0 ? (m + 1) ** 2 : 0;
  const model = new Float64Array(MODEL_HEADER_LENGTH + 2 * sizeN + 2 * sizeM);
  const M = linearMatrix(params.linear);
  const a = M[0][0] * D2R, b = M[0][1] * D2R, c = M[1][0] * D2R, d = M[1][1] * D2R;
  const det = a * d - b * c;
  const [sd0, cd0] = sinCosDeg(params.crval[1]);
  const [sp, cp] = sinCosDeg(params.lonpole);
  model[0] = MODEL_VERSION;
  model[1] = MODEL_KIND_TAN_SIP;
  model[2] = params.crpixFits[0] - 1;
  model[3] = params.crpixFits[1] - 1;
  model.set([a, b, c, d, d / det, -b / det, -c / det, a / det], 4);
  model[12] = params.crval[0];
  model[13] = sd0;
  model[14] = cd0;
  model[15] = sp;
  model[16] = cp;
  model[17] = params.lonpole === 180 ? 1 : 0;
  model[18] = n;
  model[19] = m;
  model[24] = params.crval[1];
  const oa = MODEL_HEADER_LENGTH, ob = oa + sizeN, oap = ob + sizeN, obp = oap + sizeM;
  model.set([oa, ob, oap, obp], 20);
  packSip(params.sipA, n, model, oa);
  packSip(params.sipB, n, model, ob);
  packSip(params.sipAp, m, model, oap);
  packSip(params.sipBp, m, model, obp);
  return model;
}
