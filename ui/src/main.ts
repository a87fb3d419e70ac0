import { mount } from 'svelte';
import App from './App.svelte';
import { tauriBackend } from './lib/backend';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');

// Asked before the app is built, so the answer is on its way while the script mounts.
const restoring = tauriBackend.restoreSession();

export default mount(App, { target, props: { backend: tauriBackend, restoring } });
