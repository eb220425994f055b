import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findModel, findVoices, listModels, loadCatalog } from './catalog.js';

const bundled = fileURLToPath(new URL('../../catalog/options.json', import.meta.url));

function writeCatalog(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'catalog-')), 'options.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('the voice and model catalogue', () => {
  const catalog = loadCatalog(bundled);

  it('the bundled file is valid and its defaults exist', () => {
    assert.ok(catalog.voices.some((v) => v.id === catalog.defaultVoice));
    assert.ok(catalog.models.some((m) => m.id === catalog.defaultModel));
  });

  it('filters by language prefix: "en" matches en-US and en-GB, not de-DE', () => {
    const ids = findVoices(catalog, { language: 'en', provider: '' }).map((v) => v.id);
    assert.ok(ids.includes('en-GB-Journey-F') && ids.includes('en-US-Journey-O'));
    assert.ok(!ids.includes('de-DE-Journey-F'));
  });

  it('"en-GB" matches only that language, and case does not matter', () => {
    const voices = findVoices(catalog, { language: 'EN-gb', provider: '' });
    assert.deepEqual(
      voices.map((v) => v.id),
      ['en-GB-Journey-F'],
    );
  });

  it('"e" is not a prefix match for "en"', () => {
    assert.deepEqual(findVoices(catalog, { language: 'e', provider: '' }), []);
  });

  it('filters by provider and combines filters', () => {
    const amazon = findVoices(catalog, { language: '', provider: 'amazon' });
    assert.ok(amazon.length > 0 && amazon.every((v) => v.provider === 'amazon'));
    const amazonFrench = findVoices(catalog, { language: 'fr', provider: 'amazon' });
    assert.deepEqual(
      amazonFrench.map((v) => v.id),
      ['Lea-Neural'],
    );
  });

  it('no filter returns every voice', () => {
    assert.equal(findVoices(catalog, { language: '', provider: '' }).length, catalog.voices.length);
  });

  it('rejects a file whose default voice is not offered, naming the problem', () => {
    const file = writeCatalog({ ...catalog, defaultVoice: 'nobody' });
    assert.throws(() => loadCatalog(file), /defaultVoice is not one of voices/);
  });

  it('rejects a tier with a fractional price, naming the field', () => {
    const file = writeCatalog({
      ...catalog,
      pricing: { ...catalog.pricing, tiers: { standard: { creditsPerMinute: 2.5 } } },
    });
    assert.throws(() => loadCatalog(file), /creditsPerMinute/);
  });

  it('rejects a model whose tier has no price', () => {
    const file = writeCatalog({
      ...catalog,
      models: [...catalog.models, { ...catalog.models[0], id: 'x', tier: 'gold' }],
    });
    assert.throws(() => loadCatalog(file), /every model tier must be priced/);
  });

  it('resolves a model price from its tier and the default file is the bundled one', () => {
    assert.deepEqual(loadCatalog(), catalog);
    const standard = findModel(catalog, 'callgate-standard');
    assert.equal(standard?.creditsPerMinute, catalog.pricing.tiers[standard?.tier ?? '']?.creditsPerMinute);
    assert.equal(findModel(catalog, 'nope'), undefined);
    assert.equal(listModels(catalog).length, catalog.models.length);
  });

  it('rejects a file that is not JSON or does not exist, naming the file', () => {
    const file = writeCatalog('{ not json');
    assert.throws(() => loadCatalog(file), new RegExp(`cannot read voice and model options from ${file}`));
    assert.throws(() => loadCatalog('/nonexistent/options.json'), /\/nonexistent\/options\.json/);
  });
});
