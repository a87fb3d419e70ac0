import axe from 'axe-core';
import { expect } from 'vitest';

/** Fails with the list of violations when a rendered screen breaks an accessibility rule. */
export async function expectAccessible(container: Element): Promise<void> {
  const results = await axe.run(container, {
    // jsdom does not lay out or paint, so contrast cannot be computed here.
    rules: { 'color-contrast': { enabled: false } },
  });
  const violations = results.violations.map(
    (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
  );
  expect(violations).toEqual([]);
}
