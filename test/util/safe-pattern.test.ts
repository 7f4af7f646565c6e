// Name patterns without runaway matching (issue 21, item 2): the glob matcher agrees with a regex
// reference on random cases and stays fast on the adversarial glob; unsafe regexes are refused.
import { expect } from 'chai';
import { assertSafeRegex, globMatch } from '../../lib/util/safe-pattern.js';
import { mulberry32 } from '../../lib/util/random.js';
import { namePattern } from '../../lib/quantize/recipe.js';

/** The obvious (backtracking) reference, fine on short random strings. */
function globByRegex(pattern: string, name: string): boolean {
  const re = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`, 's').test(name);
}

describe('safe name patterns', () => {
  it('globMatch agrees with the regex reference on 20,000 random patterns and names', () => {
    const rnd = mulberry32(7);
    const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
    for (let k = 0; k < 20_000; k++) {
      const pattern = pick('ab*?.', Math.floor(rnd() * 7));
      const name = pick('ab.', Math.floor(rnd() * 9));
      expect(globMatch(pattern, name), `${pattern} vs ${name}`).to.equal(globByRegex(pattern, name));
    }
    expect(globMatch('*.jpg', 'bus.jpg')).to.equal(true);
    expect(globMatch('img_??.png', 'img_01.png')).to.equal(true);
    expect(globMatch('img_??.png', 'img_1.png')).to.equal(false);
  });

  it('matches the exponential glob against a long name in milliseconds', () => {
    const name = 'a'.repeat(5000) + '.jpg';
    const t0 = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*b.jpg', name)).to.equal(false);
    expect(performance.now() - t0).to.be.lessThan(200);
  });

  it('refuses regexes with nested quantifiers or backreferences, accepts ordinary ones', () => {
    for (const bad of ['^(.*)*X$', '(a+)+b', '(x|y*){2,}', '((ab)+)*', '(a)\\1']) {
      expect(() => assertSafeRegex(bad, 'recipe.overrides[0]'), bad).to.throw(/^recipe\.overrides\[0\]: the regex \/.*\/ (repeats a group that itself repeats|uses a backreference)/);
    }
    for (const ok of ['^model/conv\\d+/.*$', 'head_(cls|box)_\\d+', '(?:a|b)+', '[(*)]+x', 'a{2,3}(bc)?', '\\(a+\\)+']) {
      expect(() => assertSafeRegex(ok, 'r'), ok).to.not.throw();
    }
  });

  it('recipe matches: globs with literal ?, in linear time; unsafe regexes refused by name', () => {
    expect(namePattern('model/conv*').test('model/conv12/BiasAdd')).to.equal(true);
    expect(namePattern('*/head/*cls*').test('m/head/x_cls_3')).to.equal(true);
    expect(namePattern('*/head/*cls*').test('m/body/x_cls_3')).to.equal(false);
    expect(namePattern('a?b').test('a?b')).to.equal(true);
    expect(namePattern('a?b').test('axb')).to.equal(false);
    expect(namePattern('exact').test('exact')).to.equal(true);
    expect(namePattern('exact').test('exact2')).to.equal(false);
    const t0 = performance.now();
    expect(namePattern('*a*a*a*a*a*a*a*a*a*a*b').test('a'.repeat(20000))).to.equal(false);
    expect(performance.now() - t0).to.be.lessThan(200);
    expect(namePattern('/^conv\\d+$/').test('conv3')).to.equal(true);
    expect(() => namePattern('/^(.*)*X$/')).to.throw(/^recipe match '.*': the regex .* repeats a group that itself repeats/);
  });
});
