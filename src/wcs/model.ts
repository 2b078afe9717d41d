/** Packs TanSipParams into the kernels' Float64Array model (layout: TAN_SIP_SLOTS in native-free-kernels/tanSip.ts). */
import { MODEL_HEADER_LENGTH, MODEL_KIND_TAN_SIP, MODEL_VERSION, TAN_SIP_SLOTS as S, sinCosDeg } from '../../native-free-kernels/tanSip.js';
import { linearMatrix, type TanSipParams } from './params.js';
import { packSip } from './sip.js';

export { sinCosDeg };

const D2R = Math.PI / 180;

/** Degrees in [0, 360) for any finite value (the kernels wrap their output once, so CRVAL1 must be in range). */
export function wrapRaDeg(deg: number): number {
  if (deg >= 0 && deg < 360) return deg; // unchanged, bit for bit
  let r = deg % 360; // exact
  if (r < 0) r += 360;
  return r >= 360 ? 0 : r;
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
  model[S.VERSION] = MODEL_VERSION;
  model[S.KIND] = MODEL_KIND_TAN_SIP;
  model[S.X0] = params.crpixFits[0] - 1;
  model[S.Y0] = params.crpixFits[1] - 1;
  model.set([a, b, c, d], S.M11);
  model.set([d / det, -b / det, -c / det, a / det], S.MINV11);
  model[S.CRVAL1] = wrapRaDeg(params.crval[0]);
  model[S.SIN_CRVAL2] = sd0;
  model[S.COS_CRVAL2] = cd0;
  model[S.SIN_LONPOLE] = sp;
  model[S.COS_LONPOLE] = cp;
  model[S.DIRECT] = params.lonpole === 180 ? 1 : 0;
  model[S.SIP_ORDER] = n;
  model[S.INV_ORDER] = m;
  model[S.CRVAL2] = params.crval[1];
  const oa = MODEL_HEADER_LENGTH, ob = oa + sizeN, oap = ob + sizeN, obp = oap + sizeM;
  model[S.OFFSET_A] = oa;
  model[S.OFFSET_B] = ob;
  model[S.OFFSET_AP] = oap;
  model[S.OFFSET_BP] = obp;
  packSip(params.sipA, n, model, oa);
  packSip(params.sipB, n, model, ob);
  packSip(params.sipAp, m, model, oap);
  packSip(params.sipBp, m, model, obp);
  return model;
}
