import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE, chooseLanguage, t } from './portal-messages.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('portal catalogue', () => {
  it('has every key in every language with the same placeholders', () => {
    const en = CATALOGUE.en;
    for (const [lang, messages] of Object.entries(CATALOGUE)) {
      assert.deepEqual(Object.keys(messages).sort(), Object.keys(en).sort(), lang);
      for (const [key, text] of Object.entries(messages)) {
        assert.deepEqual(placeholders(text), placeholders(en[key as keyof typeof en]), key);
        assert.notEqual(text.trim(), '', `${lang}.${key}`);
      }
    }
  });

  it('fills placeholders and picks the language by weight', () => {
    assert.equal(t('en', 'loggedInAs', { user: 'alice' }), 'Logged in as alice.');
    assert.equal(chooseLanguage('fr;q=1, de;q=0.8, en;q=0.5'), 'de');
    assert.equal(chooseLanguage('de-CH'), 'de');
    assert.equal(chooseLanguage('fr'), 'en');
    assert.equal(chooseLanguage(undefined), 'en');
  });
});
