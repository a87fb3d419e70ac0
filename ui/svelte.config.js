import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Component styles go into the CSS bundle, never into runtime <style> tags.
    css: 'external',
  },
};
