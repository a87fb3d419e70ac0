import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';

afterEach(() => cleanup());

// jsdom does no layout, so it has no scrolling either; the list scrolls its choice into view.
Element.prototype.scrollIntoView ??= function scrollIntoView() {};
