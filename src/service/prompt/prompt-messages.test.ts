// The prompt's catalogue: every key in English and German, the same placeholders, no empty text;
// and the browser's language chosen from Accept-Language.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE, chooseLanguage, PROMPT_LANGUAGES, t } from './prompt-messages.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('prompt catalogue', () => {
  const english = CATALOGUE.en;
  for (const lang of PROMPT_LANGUAGES) {
    it(`${lang} has every key, with the placeholders of the English text and no empty text`, () => {
      const messages = CATALOGUE[lang];
      assert.deepEqual(Object.keys(messages).sort(), Object.keys(english).sort());
      for (const [key, text] of Object.entries(messages)) {
        assert.notEqual(text.trim(), '', `${lang}.${key} is empty`);
        assert.deepEqual(
          placeholders(text),
          placeholders(english[key as keyof typeof english]),
          `${lang}.${key} placeholders`,
        );
      }
    });
  }

  it('German is a translation, not a copy (except names that are the same in both)', () => {
    const same = Object.keys(english).filter(
      (k) => CATALOGUE.de[k as keyof typeof english] === english[k as keyof typeof english],
    );
    assert.deepEqual(same.sort(), ['factorPush', 'factorSms', 'passcodeLabel']);
  });

  it('keeps the accessible names the tests and users rely on', () => {
    assert.equal(t('en', 'passcodeLabel'), 'Passcode');
    assert.equal(t('en', 'logIn'), 'Log in');
    assert.equal(t('en', 'sendPush'), 'Send push');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    assert.equal(
      t('en', 'loggingInAs', { app: 'VPN', user: 'alice' }),
      'Logging in to VPN as alice',
    );
    assert.equal(t('de', 'rememberDevice', { hours: 12 }), 'Dieses Gerät 12 Stunden lang merken');
    assert.equal(t('en', 'verifyCode'), 'Enter this code in your authenticator: {code}');
  });
});

describe('chooseLanguage', () => {
  const cases: [string | undefined, string][] = [
    [undefined, 'en'],
    ['', 'en'],
    ['de-DE,de;q=0.9,en;q=0.8', 'de'],
    ['en-US,en;q=0.9,de;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9,de;q=0.5', 'de'],
    ['fr, es', 'en'],
    ['de;q=0, en;q=0.1', 'en'],
    ['en;q=0.2, de;q=0.7', 'de'],
    ['DE-at', 'de'],
    ['de;q=abc', 'en'],
  ];
  for (const [header, lang] of cases) {
    it(`${JSON.stringify(header)} -> ${lang}`, () => assert.equal(chooseLanguage(header), lang));
  }
});
