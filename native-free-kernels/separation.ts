/**
 * Angular separation between two sky positions (degrees in, milliarcseconds
 * out) by the Vincenty formula, which is well conditioned at every separation
 * (the haversine loses precision near 180 deg, the cosine rule near 0).
 */
const DEG = Math.PI / 180;
const RAD_TO_MAS = (180 / Math.PI) * 3600 * 1000;

export function angularSeparationMas(
  N: number,
  ra1: Float64Array, strideRa1: number, offsetRa1: number,
  dec1: Float64Array, strideDec1: number, offsetDec1: number,
  ra2: Float64Array, strideRa2: number, offsetRa2: number,
  dec2: Float64Array, strideDec2: number, offsetDec2: number,
  out: Float64Array, strideOut: number, offsetOut: number,
): number {
  let bad = 0;
  let ia = offsetRa1, ib = offsetDec1, ic = offsetRa2, id = offsetDec2, io = offsetOut;
  for (let i = 0; i < N; i++) {
    const dLon = (ra2[ic]! - ra1[ia]!) * DEG;
    const lat1 = dec1[ib]! * DEG;
    const lat2 = dec2[id]! * DEG;
    const s1 = Math.sin(lat1), c1 = Math.cos(lat1);
    const s2 = Math.sin(lat2), c2 = Math.cos(lat2);
    const sd = Math.sin(dLon), cd = Math.cos(dLon);
    const num1 = c2 * sd;
    const num2 = c1 * s2 - s1 * c2 * cd;
    const den = s1 * s2 + c1 * c2 * cd;
    const sep = Math.atan2(Math.sqrt(num1 * num1 + num2 * num2), den) * RAD_TO_MAS;
    out[io] = sep;
    if (sep !== sep) bad++; // NaN in, NaN out
    ia += strideRa1; ib += strideDec1; ic += strideRa2; id += strideDec2; io += strideOut;
  }
  return bad;
}
