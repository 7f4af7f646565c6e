// pooledSqnrLowerBoundDb (lib/util/stats.ts): the SQNR a model gives pooled over images it was not
// measured on, bounded from the per-image SQNRs of the ones it was (accuracy.minSqnrDb reads it).
// Against hand calculations, and against a large simulated population whose pooled SQNR is computed
// directly (log-normal noise-to-signal ratios, the model's assumption).
import { expect } from 'chai';
import { NOISE_FREE_SQNR_DB, pooledSqnrLowerBoundDb } from '../../lib/util/stats.js';
import { mulberry32 } from '../../lib/util/random.js';

/** ln(10) / 20, written out: 2.302585092994046 / 20. */
const K = 0.1151292546497023;

describe('pooledSqnrLowerBoundDb', () => {
  it('hand values: mean - z standard errors - (ln 10 / 20) x sample variance', () => {
    // [30, 40]: mean 35, sample variance 50, standard error sqrt(50 / 2) = 5.
    expect(pooledSqnrLowerBoundDb([30, 40])).to.be.closeTo(35 - 5 - K * 50, 1e-12);
    expect(pooledSqnrLowerBoundDb([30, 40], 0)).to.be.closeTo(35 - K * 50, 1e-12);
    expect(pooledSqnrLowerBoundDb([30, 40], 2)).to.be.closeTo(35 - 10 - K * 50, 1e-12);
    // Equal per-image values: no spread, the bound is the value.
    expect(pooledSqnrLowerBoundDb([31, 31, 31, 31])).to.equal(31);
    // [24, 30, 36]: mean 30, variance 36, standard error sqrt(12).
    expect(pooledSqnrLowerBoundDb([24, 30, 36])).to.be.closeTo(30 - Math.sqrt(12) - K * 36, 1e-12);
  });

  it('one image is its own value, none is NaN; a noise-free image counts as NOISE_FREE_SQNR_DB', () => {
    expect(pooledSqnrLowerBoundDb([27.5])).to.equal(27.5);
    expect(pooledSqnrLowerBoundDb([])).to.be.NaN;
    expect(pooledSqnrLowerBoundDb([Infinity])).to.equal(NOISE_FREE_SQNR_DB);
    expect(pooledSqnrLowerBoundDb([Infinity, Infinity])).to.equal(NOISE_FREE_SQNR_DB);
    // [150, 130]: mean 140, variance 200, standard error sqrt(200 / 2) = 10.
    expect(pooledSqnrLowerBoundDb([Infinity, 130])).to.be.closeTo(140 - 10 - K * 200, 1e-9);
  });

  it('with z = 0 it is the pooled SQNR of a log-normal population (simulated, 200 000 images)', () => {
    // Per-image SQNR ~ Normal(mu, sigma^2) dB, signal 1 per image, noise 10^(-x / 10): the population's
    // pooled SQNR is -10 log10(mean noise). The sample of 16 gives mu and sigma; the bound with z = 0
    // must match the population within the sampling error of 16 images, and z = 1 must lie below.
    for (const [mu, sigma] of [[40, 3], [40, 8], [35, 5]]) {
      const r = mulberry32(mu * 100 + sigma);
      const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      let noise = 0;
      const count = 200_000;
      for (let i = 0; i < count; i++) noise += 10 ** (-(mu + sigma * normal()) / 10);
      const population = -10 * Math.log10(noise / count);
      // The closed form for the population itself (mu and sigma known): mu - (ln 10 / 20) sigma^2.
      expect(population, `mu ${mu} sigma ${sigma}`).to.be.closeTo(mu - K * sigma * sigma, 0.05 + 0.02 * sigma);
      const exactSample = Array.from({ length: 16 }, (_, i) => mu + sigma * Math.SQRT2 * inverseErfApprox((2 * (i + 0.5)) / 16 - 1));
      expect(pooledSqnrLowerBoundDb(exactSample, 0), `mu ${mu} sigma ${sigma}`).to.be.closeTo(population, 0.1 + 0.1 * sigma);
      expect(pooledSqnrLowerBoundDb(exactSample, 1)).to.be.below(population);
    }
  });
});

/** erf^-1 by Winitzki's approximation (|error| < 2e-3 in the tails used here): evenly spread normal quantiles. */
function inverseErfApprox(y: number): number {
  const a = 0.147;
  const l = Math.log(1 - y * y);
  const t = 2 / (Math.PI * a) + l / 2;
  return Math.sign(y) * Math.sqrt(Math.sqrt(t * t - l / a) - t);
}
