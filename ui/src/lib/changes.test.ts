import { afterEach, describe, expect, it } from 'vitest';
import { changeText, customerFieldName, describeChange, refusalReason, valueText } from './changes';
import { setLanguage } from './i18n/index.svelte';

describe('changes in words', () => {
  afterEach(() => setLanguage('en'));

  it('says what each kind of change was', () => {
    expect(describeChange({ kind: 'profile', patch: { job_title: 'Lead', phone: '+49' }, version: 3 })).toBe(
      'Profile: Job title, Phone',
    );
    expect(describeChange({ kind: 'profile', patch: { visibility: 'private' }, version: 3 })).toBe(
      'Profile: Who can see your profile',
    );
    expect(describeChange({ kind: 'status', update: { status: 'dnd' } })).toBe('Status: Do not disturb');
    expect(describeChange({ kind: 'note_added', person_id: 'user-1', body: 'Hi' })).toBe('Note on a customer');
    expect(
      describeChange({ kind: 'customer', person_id: 'user-1', patch: { summary: 'x', custom_fields: { f1: 'a', f2: 'b' } }, version: 1 }),
    ).toBe('Customer record: Summary, Custom field');
    expect(describeChange({ kind: 'email_added', person_id: 'user-1', email: { address: 'ada@x.example', primary: false } })).toBe(
      'Email added to a customer: ada@x.example',
    );
    expect(describeChange({ kind: 'join_requested', team_id: 'team-1', note: null })).toBe('Request to join a team');
    setLanguage('de');
    expect(describeChange({ kind: 'profile', patch: { job_title: 'Lead' }, version: 3 })).toBe('Profil: Position');
    expect(describeChange({ kind: 'photo_removed' })).toBe('Profilfoto entfernt');
  });

  it('names a custom field by its name when known', () => {
    expect(customerFieldName('custom_fields/field-seats', { 'field-seats': 'Seats' })).toBe('Seats');
    expect(customerFieldName('custom_fields/other')).toBe('Custom field');
    expect(customerFieldName('suppress_auto_replies')).toBe('No automatic replies');
  });

  it('quotes what the agent wrote, cut short when long', () => {
    expect(changeText({ kind: 'note_edited', note_id: 'n', body: '  Two\n\nlines ' })).toBe('Two lines');
    expect(changeText({ kind: 'join_requested', team_id: 't', note: null })).toBeNull();
    const long = changeText({ kind: 'note_added', person_id: 'p', body: 'x'.repeat(300) })!;
    expect([...long]).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
  });

  it("says why the server refused a change, in the app's words where it has them", () => {
    const refusal = (code: string, message = 'detail') => ({ status: 400, code, message, field: null });
    expect(refusalReason(refusal('forbidden'))).toBe("You aren't allowed to make this change.");
    // Kept by this computer, not refused by the server: a change sent long ago, unanswered.
    expect(refusalReason(refusal('unconfirmed', 'sent more than six days ago'))).toContain('may or may not have been made');
    expect(refusalReason(refusal('validation_failed', 'phone: bad'))).toBe("The server didn't accept a value: phone: bad");
    expect(refusalReason(refusal('already_in_team'))).toBe("You're already in this team.");
    expect(refusalReason(refusal('idempotency_key_reused'))).toBe(
      'The server already received a different change under the same key; this one was not applied.',
    );
    expect(refusalReason(refusal('unexpected_response', 'HTTP 418'))).toBe('The server gave an unexpected answer: HTTP 418');
    // A code the app does not know: the server's own words.
    expect(refusalReason(refusal('gone_fishing', 'come back later'))).toBe('The server said: come back later');
    expect(refusalReason(refusal('gone_fishing', ''))).toBe('Something went wrong. Try again in a moment.');
  });

  it('words a replaced value, empty text as none', () => {
    expect(valueText('  Team Lead ')).toBe('Team Lead');
    expect(valueText('')).toBeNull();
    expect(valueText(null)).toBeNull();
    expect(valueText(true)).toBe('On');
    expect(valueText(['VIP', 'Beta'])).toBe('VIP, Beta');
    expect(valueText([])).toBeNull();
    expect(valueText(12)).toBe('12');
    setLanguage('de');
    expect(valueText(false)).toBe('Aus');
  });
});
