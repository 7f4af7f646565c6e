// pooledSqnrLowerBoundDb (lib/util/stats.ts): the SQNR a model gives pooled over images it was not
// measured on, bounded from the per-image signal and noise of the ones it was (accuracy.minSqnrDb
// reads it). Against hand calculations, and against a large simulated population whose pooled SQNR
// is computed directly (log-normal noise power, the model's assumption).
import { expect } from 'chai';
import { pooledSqnrLowerBoundDb } from '../../lib/util/stats.js';
import { mulberry32 } from '../../lib/util/random.js';

/** ln(10) / 20, written out: 2.302585092994046 / 20. */
const K = 0.1151292546497023;
const img = (signal: number, noise: number) => ({ signal, noise });

describe('pooledSqnrLowerBoundDb', () => {
  it('hand values: mean signal over (mean noise dB + z standard errors + (ln 10 / 20) x variance)', () => {
    // Noise -10 and -20 dB: mean -15, sample variance 50, standard error sqrt(50 / 2) = 5; signal 100 = 20 dB.
    const two = [img(100, 0.1), img(100, 0.01)];
    expect(pooledSqnrLowerBoundDb(two)).to.be.closeTo(20 - (-15 + 5 + K * 50), 1e-9);
    expect(pooledSqnrLowerBoundDb(two, 0)).to.be.closeTo(20 - (-15 + K * 50), 1e-9);
    expect(pooledSqnrLowerBoundDb(two, 2)).to.be.closeTo(20 - (-15 + 10 + K * 50), 1e-9);
    // Even noise: the bound is the pooled SQNR, whatever the signals (4 / 2e-3 = 2000: 33.0103 dB).
    expect(pooledSqnrLowerBoundDb([img(1, 1e-3), img(3, 1e-3)])).to.be.closeTo(10 * Math.log10(2000), 1e-9);
    expect(pooledSqnrLowerBoundDb([img(1, 1e-3), img(1, 1e-3), img(1, 1e-3)])).to.be.closeTo(30, 1e-9);
  });

  it('noise-free images scale the mean noise by the share of noisy ones; fewer than 2 noisy images: the pooled SQNR', () => {
    // Noisy: -30 and -20 dB (mean -25, variance 50, standard error 5), 2 of 3 images: + 10 log10(2/3).
    expect(pooledSqnrLowerBoundDb([img(1, 0), img(1, 1e-3), img(1, 1e-2)])).to.be.closeTo(-(-25 + 5 + K * 50 + 10 * Math.log10(2 / 3)), 1e-9);
    expect(pooledSqnrLowerBoundDb([img(10, 0.01)])).to.be.closeTo(30, 1e-9);
    expect(pooledSqnrLowerBoundDb([img(1, 0), img(3, 4e-3)])).to.be.closeTo(30, 1e-9);
    expect(pooledSqnrLowerBoundDb([img(1, 0), img(1, 0)])).to.equal(Infinity);
    expect(pooledSqnrLowerBoundDb([])).to.be.NaN;
  });

  it('z = 0 is the pooled SQNR of a log-normal population (simulated, 200 000 images); z = 1 lies below it', () => {
    // Noise power 10^(x / 10), x ~ Normal(mu, sigma^2) dB, signal 1: the population's pooled SQNR is
    // -10 log10(mean noise) = -(mu + (ln 10 / 20) sigma^2). A sample of 16 evenly spread quantiles
    // gives mu and sigma back (its variance a little low, 16 points).
    for (const [mu, sigma] of [[-40, 3], [-40, 8], [-35, 5]]) {
      const r = mulberry32(1000 - mu * 10 + sigma);
      const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      let noise = 0;
      const count = 200_000;
      for (let i = 0; i < count; i++) noise += 10 ** ((mu + sigma * normal()) / 10);
      const population = -10 * Math.log10(noise / count);
      expect(population, `mu ${mu} sigma ${sigma}`).to.be.closeTo(-(mu + K * sigma * sigma), 0.05 + 0.02 * sigma);
      const sample = Array.from({ length: 16 }, (_, i) => img(1, 10 ** ((mu + sigma * Math.SQRT2 * inverseErf((2 * (i + 0.5)) / 16 - 1)) / 10)));
      expect(pooledSqnrLowerBoundDb(sample, 0), `mu ${mu} sigma ${sigma}`).to.be.closeTo(population, 0.1 + 0.1 * sigma);
      expect(pooledSqnrLowerBoundDb(sample, 1)).to.be.below(population);
      // The sample's own pooled SQNR overstates the population's when sigma is large: the reason for the bound.
      const pooled = -10 * Math.log10(sample.reduce((a, e) => a + e.noise, 0) / 16);
      if (sigma === 8) expect(pooled).to.be.above(population + 1);
    }
  });
});

/** erf^-1 by Winitzki's approximation (|error| < 2e-3 in the range used): evenly spread normal quantiles. */
function inverseErf(y: number): number {
  const a = 0.147;
  const l = Math.log(1 - y * y);
  const t = 2 / (Math.PI * a) + l / 2;
  return Math.sign(y) * Math.sqrt(Math.sqrt(t * t - l / a) - t);
}
