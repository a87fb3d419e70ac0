import { mount } from 'svelte';
import App from './App.svelte';
import { asIpcError, tauriBackend } from './lib/backend';
import type { VersionedProfile } from './lib/generated/VersionedProfile';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');

declare global {
  interface Window {
    /** The session restore `index.html` asked for before this script loaded. */
    agentDeskRestoring?: Promise<VersionedProfile | null>;
  }
}

// Asked before the app is built (by index.html, before this script even loaded), so the
// answer is on its way while the script mounts.
const early = window.agentDeskRestoring;
const restoring = early
  ? early.catch((error: unknown) => {
      throw asIpcError(error);
    })
  : tauriBackend.restoreSession();

export default mount(App, { target, props: { backend: tauriBackend, restoring } });
