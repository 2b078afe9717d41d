/** fast-check generators of random, realistic TAN-SIP models (shared by the WCS property tests). */
import fc from 'fast-check';
import { formatCard, cardsToText } from '../src/fits/header.js';

export interface RandomModel {
  header: string;
  bbox: { minX: number; minY: number; maxX: number; maxY: number };
  order: number;
}

const angle = fc.double({ min: 0, max: 2 * Math.PI, noNaN: true });

/** CRVAL: anywhere, within 0.1 deg of either pole, or across RA = 0/360. */
const crval = fc.oneof(
  fc.tuple(fc.double({ min: 0, max: 359.999999, noNaN: true }), fc.double({ min: -85, max: 85, noNaN: true })),
  fc.tuple(fc.double({ min: 0, max: 359.999999, noNaN: true }), fc.double({ min: 89.9, max: 90, noNaN: true })),
  fc.tuple(fc.double({ min: 0, max: 359.999999, noNaN: true }), fc.double({ min: -90, max: -89.9, noNaN: true })),
  fc.tuple(fc.oneof(fc.double({ min: 0, max: 0.01, noNaN: true }), fc.double({ min: 359.99, max: 359.999999, noNaN: true })), fc.double({ min: -60, max: 60, noNaN: true })),
);

/**
 * A random TAN-SIP header: SIP order 0-5 with distortion up to `maxDistortionPx`
 * at the farthest corner of the image (+10% margin), CD or PC+CDELT, flipped
 * axes, CRPIX on or off the chip, LONPOLE 180 or not, AP/BP or none.
 * Pixel scales 0.25-3.6 arcsec/px: below that the 1e-9 px round trip meets the
 * rounding of the degree outputs themselves (1e-14 deg).
 */
export function tanSipModel(maxDistortionPx = 30): fc.Arbitrary<RandomModel> {
  return fc
    .record({
      w: fc.integer({ min: 50, max: 4000 }),
      h: fc.integer({ min: 50, max: 4000 }),
      crpixFrac: fc.tuple(fc.double({ min: -2, max: 3, noNaN: true }), fc.double({ min: -2, max: 3, noNaN: true })),
      crval,
      scaleDeg: fc.double({ min: 7e-5, max: 1e-3, noNaN: true }),
      aspect: fc.double({ min: 0.9, max: 1.1, noNaN: true }),
      rotation: angle,
      flipX: fc.boolean(),
      flipY: fc.boolean(),
      pcForm: fc.boolean(),
      lonpole: fc.oneof(fc.constant(180), fc.constant(180), fc.double({ min: 0, max: 359, noNaN: true })),
      order: fc.integer({ min: 0, max: 5 }),
      distortion: fc.double({ min: 0, max: maxDistortionPx, noNaN: true }),
      coeffSeeds: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 42, maxLength: 42 }),
      withLowOrder: fc.boolean(),
    })
    .map((r) => {
      const crpix1 = r.crpixFrac[0] * r.w, crpix2 = r.crpixFrac[1] * r.h;
      // Farthest distance from CRPIX to the image plus margin, so terms stay within the distortion budget there.
      const reach = Math.max(Math.abs(crpix1) + 0.2 * r.w, Math.abs(crpix1 - r.w) + 0.2 * r.w) + Math.max(Math.abs(crpix2) + 0.2 * r.h, Math.abs(crpix2 - r.h) + 0.2 * r.h);
      const c = Math.cos(r.rotation), s = Math.sin(r.rotation);
      const sx = r.scaleDeg * (r.flipX ? -1 : 1), sy = r.scaleDeg * r.aspect * (r.flipY ? -1 : 1);
      const cards = [
        formatCard('NAXIS', 2, '', true),
        formatCard('NAXIS1', r.w, '', true),
        formatCard('NAXIS2', r.h, '', true),
        formatCard('CTYPE1', r.order > 0 ? 'RA---TAN-SIP' : 'RA---TAN'),
        formatCard('CTYPE2', r.order > 0 ? 'DEC--TAN-SIP' : 'DEC--TAN'),
        formatCard('CRPIX1', crpix1),
        formatCard('CRPIX2', crpix2),
        formatCard('CRVAL1', r.crval[0]),
        formatCard('CRVAL2', r.crval[1]),
        formatCard('LONPOLE', r.crval[1] === 90 ? 0 : r.lonpole),
      ];
      if (r.pcForm) {
        cards.push(formatCard('PC1_1', c), formatCard('PC1_2', -s), formatCard('PC2_1', s), formatCard('PC2_2', c));
        cards.push(formatCard('CDELT1', sx), formatCard('CDELT2', sy));
      } else {
        cards.push(formatCard('CD1_1', sx * c), formatCard('CD1_2', -sx * s), formatCard('CD2_1', sy * s), formatCard('CD2_2', sy * c));
      }
      if (r.order > 0) {
        let k = 0;
        const nTerms = ((r.order + 1) * (r.order + 2)) / 2;
        for (const name of ['A', 'B']) {
          cards.push(formatCard(`${name}_ORDER`, r.order, '', true));
          for (let p = 0; p <= r.order; p++) {
            for (let q = 0; q <= r.order - p; q++) {
              const seed = r.coeffSeeds[k++ % r.coeffSeeds.length]!;
              if (p + q < 2 && !r.withLowOrder) continue;
              const budget = p + q < 2 ? 0.01 : 1; // low-order terms are small in practice (they rescale the CD)
              const coeff = (seed * budget * r.distortion) / nTerms / reach ** (p + q);
              if (coeff !== 0) cards.push(formatCard(`${name}_${p}_${q}`, coeff));
            }
          }
        }
      }
      return { header: cardsToText(cards), bbox: { minX: 0, minY: 0, maxX: r.w - 1, maxY: r.h - 1 }, order: r.order };
    });
}
