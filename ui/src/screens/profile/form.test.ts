import { describe, expect, it } from 'vitest';
import { profile } from '../../test/fake-backend';
import { changedFields, draftFrom, formatOffset, patchFor, rebase } from './form';

describe('profile form model', () => {
  it('finds no change in an untouched draft', () => {
    const saved = profile();
    expect(changedFields(saved, draftFrom(saved))).toEqual([]);
    expect(patchFor(saved, draftFrom(saved))).toEqual({});
  });

  it('patches only what changed, ignoring surrounding white space', () => {
    const saved = profile();
    const draft = { ...draftFrom(saved), job_title: 'Team Lead', department: '  Customer Care  ', use_signature: true };
    expect(patchFor(saved, draft)).toEqual({ job_title: 'Team Lead', use_signature: true });
  });

  it('sends an empty string to clear a field', () => {
    const saved = profile();
    expect(patchFor(saved, { ...draftFrom(saved), job_title: '' })).toEqual({ job_title: '' });
  });

  it('rebases edits onto a newer version, field by field', () => {
    const base = profile();
    const fresh = profile({ department: 'Billing', job_title: 'Senior Specialist' });
    const draft = { ...draftFrom(base), job_title: 'Team Lead', phone: '+4930901820' };
    const { draft: merged, bothChanged } = rebase(base, fresh, draft);
    expect(merged.department).toBe('Billing');
    expect(merged.job_title).toBe('Team Lead');
    expect(merged.phone).toBe('+4930901820');
    expect(bothChanged).toEqual(['job_title']);
  });

  it('formats UTC offsets', () => {
    expect(formatOffset(60)).toBe('UTC+01:00');
    expect(formatOffset(-210)).toBe('UTC−03:30');
    expect(formatOffset(0)).toBe('UTC+00:00');
  });
});
