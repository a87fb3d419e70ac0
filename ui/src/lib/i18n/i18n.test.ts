import { afterEach, describe, expect, it } from 'vitest';
import { de } from './de';
import { en } from './en';
import { catalogFor, errorMessage, fieldMessage, setLanguage, t } from './index.svelte';

describe('message catalogs', () => {
  afterEach(() => setLanguage('en'));

  it('German has every English key and no others', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });

  it('keeps placeholders in every translation', () => {
    for (const [key, english] of Object.entries(en)) {
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(de[key as keyof typeof en]), key).toEqual(names(english));
    }
  });

  it('picks a catalog by language tag and falls back to English', () => {
    expect(catalogFor('de')).toBe('de');
    expect(catalogFor('de-AT')).toBe('de');
    expect(catalogFor('fr')).toBe('en');
  });

  it('switches language and fills parameters', () => {
    setLanguage('de');
    expect(t('profile.save')).toBe('Speichern');
    expect(t('validation.too_long', { max: 100 })).toBe('Höchstens 100 Zeichen.');
    setLanguage('en');
    expect(t('profile.save')).toBe('Save');
  });

  it('words errors by their code, not their message', () => {
    expect(fieldMessage({ field: 'phone', code: 'invalid_phone', message: 'x' })).toBe(
      'This is not a valid phone number.',
    );
    expect(errorMessage({ code: 'invalid_credentials', message: 'x', field: null })).toBe(
      'Wrong email or password.',
    );
    expect(errorMessage({ code: 'internal', message: 'boom', field: null })).toBe('Something went wrong: boom');
  });
});
