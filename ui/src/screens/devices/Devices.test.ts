import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { audioDevice, audioFailure, fakeBackend, reading } from '../../test/fake-backend';
import Devices from './Devices.svelte';
import type { AudioErrorCode, AudioRole, AudioState } from './types';

type Fake = ReturnType<typeof fakeBackend>;

const JABRA_IN = { kind: 'device', id: 'pulse:jabra-in', name: 'Jabra Evolve2 65' } as const;
const JABRA_OUT = { kind: 'device', id: 'pulse:jabra-out', name: 'Jabra Evolve2 65' } as const;
const BUILTIN_MIC = audioDevice('pulse:builtin-mic', 'Built-in Microphone', 'input', true);
const BUILTIN_SPEAKERS = audioDevice('pulse:builtin-speakers', 'Built-in Speakers', 'output', true);
const JABRA_MIC = audioDevice('pulse:jabra-in', 'Jabra Evolve2 65', 'input');
const JABRA_SPEAKER = audioDevice('pulse:jabra-out', 'Jabra Evolve2 65', 'output');
const HDMI = { kind: 'device', id: 'pulse:hdmi', name: 'HDMI Display' } as const;
const HDMI_DISPLAY = audioDevice('pulse:hdmi', 'HDMI Display', 'output');

/** Takes devices out of the lists, as the system reports them gone; which device then
 * stands in for a choice is the audio crate's answer, which each test states itself. */
function unplug(state: AudioState, ...ids: string[]) {
  state.devices.inputs = state.devices.inputs.filter((device) => !ids.includes(device.id));
  state.devices.outputs = state.devices.outputs.filter((device) => !ids.includes(device.id));
}

/** The fake's audio state as `change` leaves it, for a test to script as an answer. */
function stateAfter(fake: Fake, change: (state: AudioState) => void): AudioState {
  const state = fake.audio();
  change(state);
  return state;
}

/** The screen on a fake computer; `before` sets the fake up as a previous run left it. */
async function setup(before: (fake: Fake) => Promise<void> | void = () => {}) {
  const fake = fakeBackend();
  await before(fake);
  fake.backend.chooseAudioDevice.mockClear();
  const view = render(Devices, { backend: fake.backend });
  await waitFor(() => expect(document.getElementById('microphone-select')).not.toBeNull());
  return { ...fake, view, user: userEvent.setup() };
}

function pending<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const picker = (role: AudioRole) => document.getElementById(`${role}-select`) as HTMLSelectElement;
const options = (role: AudioRole) => [...picker(role).options].map((option) => [option.value, option.textContent?.trim()]);
const button = (id: string) => document.getElementById(id) as HTMLButtonElement;
const meter = () => screen.getByTestId('mic-meter');
const hint = () => screen.getByTestId('mic-hint').textContent?.trim();
const fallbacks = () => screen.queryAllByTestId('device-fallback').map((notice) => notice.dataset.role);

describe('devices screen', () => {
  afterEach(() => setLanguage('en'));

  it('shows itself at once and says it is looking for devices while they are listed', async () => {
    const fake = fakeBackend();
    const listing = pending<AudioState>();
    fake.backend.audioState.mockReturnValueOnce(listing.promise);
    const view = render(Devices, { backend: fake.backend });
    expect(screen.getByRole('heading', { level: 1, name: 'Devices' }).id).toBe('devices-title');
    const loading = screen.getByTestId('devices-loading');
    expect(loading.textContent).toContain('Looking for devices…');
    expect(loading.getAttribute('role')).toBe('status');
    expect(document.getElementById('microphone-select')).toBeNull();
    await expectAccessible(view.container);

    listing.resolve(fake.audio());
    expect(await screen.findByRole('combobox', { name: 'Microphone' })).toBeTruthy();
    expect(screen.queryByTestId('devices-loading')).toBeNull();
  });

  it('offers "System default" first, naming the device it is now, then every device', async () => {
    await setup();
    expect(options('microphone')).toEqual([
      ['system_default', 'System default (Built-in Microphone)'],
      ['pulse:builtin-mic', 'Built-in Microphone'],
      ['pulse:jabra-in', 'Jabra Evolve2 65'],
    ]);
    const outputs = [
      ['system_default', 'System default (Built-in Speakers)'],
      ['pulse:builtin-speakers', 'Built-in Speakers'],
      ['pulse:jabra-out', 'Jabra Evolve2 65'],
      ['pulse:hdmi', 'HDMI Display'],
    ];
    expect(options('speaker')).toEqual(outputs);
    expect(options('alerts')).toEqual(outputs);
    for (const role of ['microphone', 'speaker', 'alerts'] as const) expect(picker(role).value).toBe('system_default');
    expect(screen.getByRole('combobox', { name: 'Speaker' })).toBe(picker('speaker'));
    expect(screen.getByRole('combobox', { name: 'Play alerts on' })).toBe(picker('alerts'));
    expect(screen.getByText('Sound system: PulseAudio')).toBeTruthy();
  });

  it('shows the choices a previous run saved', async () => {
    await setup((fake) =>
      fake.changeAudio((state) => {
        state.choices.microphone = JABRA_IN;
        state.microphone = { device: JABRA_MIC, fallback: false };
        state.choices.alerts = HDMI;
        state.alerts = { device: HDMI_DISPLAY, fallback: false };
      }),
    );
    expect(picker('microphone').value).toBe('pulse:jabra-in');
    expect(picker('speaker').value).toBe('system_default');
    expect(picker('alerts').value).toBe('pulse:hdmi');
    expect(fallbacks()).toEqual([]);
  });

  it('saves a choice at once with the device’s id and name, and back to the default', async () => {
    const fake = await setup();
    const { backend, user } = fake;
    backend.chooseAudioDevice.mockResolvedValueOnce(
      stateAfter(fake, (state) => {
        state.choices.speaker = JABRA_OUT;
        state.speaker = { device: JABRA_SPEAKER, fallback: false };
      }),
    );
    await user.selectOptions(picker('speaker'), 'pulse:jabra-out');
    expect(backend.chooseAudioDevice).toHaveBeenCalledWith('speaker', JABRA_OUT);
    await waitFor(() => expect(screen.getByText('✓ Saved')).toBeTruthy());
    expect(picker('speaker').value).toBe('pulse:jabra-out');

    // The answer: the system default, the built-in speakers, as the fixture has it.
    await user.selectOptions(picker('speaker'), 'system_default');
    expect(backend.chooseAudioDevice).toHaveBeenLastCalledWith('speaker', { kind: 'system_default' });
    await waitFor(() => expect(picker('speaker').value).toBe('system_default'));
    expect(backend.chooseAudioDevice).toHaveBeenCalledTimes(2);
  });

  it('shows what the backend answers, not only what was picked', async () => {
    const { backend, user, audio } = await setup();
    // Unplugged just as it was chosen: the answer says the default stands in.
    backend.chooseAudioDevice.mockImplementationOnce(async (_role, choice) => {
      const now = audio();
      return {
        ...now,
        devices: { ...now.devices, inputs: now.devices.inputs.filter((device) => device.id !== JABRA_IN.id) },
        choices: { ...now.choices, microphone: choice },
        microphone: { device: now.devices.inputs[0]!, fallback: true },
      };
    });
    await user.selectOptions(picker('microphone'), 'pulse:jabra-in');
    const notice = await screen.findByTestId('device-fallback');
    expect(notice.dataset.role).toBe('microphone');
    expect(notice.textContent?.trim()).toBe("Jabra Evolve2 65 isn't connected — using Built-in Microphone until it's back.");
    expect(picker('microphone').value).toBe('pulse:jabra-in');
    expect(picker('microphone').selectedOptions[0]?.textContent?.trim()).toBe('Jabra Evolve2 65 (not connected)');
  });

  it('keeps the saved choice and says why when a choice is refused', async () => {
    const { backend, user } = await setup();
    backend.chooseAudioDevice.mockRejectedValueOnce(audioFailure('audio_unknown_device', 'gone'));
    await user.selectOptions(picker('microphone'), 'pulse:jabra-in');
    const error = await screen.findByTestId('audio-error');
    expect(error.textContent).toBe("That device isn't connected any more. Choose another one or plug it back in.");
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.closest('section')?.getAttribute('aria-labelledby')).toBe('microphone-title');
    expect(picker('microphone').value).toBe('system_default');
  });

  it('says when a chosen device is missing and which one stands in', async () => {
    const { view } = await setup((fake) =>
      fake.changeAudio((state) => {
        state.choices.microphone = JABRA_IN;
        state.choices.speaker = JABRA_OUT;
        unplug(state, JABRA_IN.id, JABRA_OUT.id);
        state.microphone = { device: BUILTIN_MIC, fallback: true };
        state.speaker = { device: BUILTIN_SPEAKERS, fallback: true };
      }),
    );
    expect(fallbacks()).toEqual(['microphone', 'speaker']);
    const [microphone, speaker] = screen.getAllByTestId('device-fallback');
    expect(microphone?.textContent?.trim()).toBe(
      "Jabra Evolve2 65 isn't connected — using Built-in Microphone until it's back.",
    );
    expect(speaker?.textContent?.trim()).toBe("Jabra Evolve2 65 isn't connected — using Built-in Speakers until it's back.");
    expect(options('microphone')).toEqual([
      ['system_default', 'System default (Built-in Microphone)'],
      ['pulse:builtin-mic', 'Built-in Microphone'],
      ['pulse:jabra-in', 'Jabra Evolve2 65 (not connected)'],
    ]);
    expect(picker('microphone').value).toBe('pulse:jabra-in');
    await expectAccessible(view.container);
  });

  it('follows devices plugged out and in while open, back to the chosen one', async () => {
    const fake = await setup((before) =>
      before.changeAudio((state) => {
        state.choices.speaker = JABRA_OUT;
        state.speaker = { device: JABRA_SPEAKER, fallback: false };
      }),
    );
    expect(picker('speaker').value).toBe('pulse:jabra-out');
    expect(fallbacks()).toEqual([]);

    fake.changeAudio((state) => {
      unplug(state, JABRA_OUT.id);
      state.speaker = { device: BUILTIN_SPEAKERS, fallback: true };
    });
    await waitFor(() => expect(fallbacks()).toEqual(['speaker']));
    expect(options('alerts').map(([value]) => value)).toEqual(['system_default', 'pulse:builtin-speakers', 'pulse:hdmi']);

    const jabra = audioDevice('pulse:jabra-out', 'Jabra Evolve2 65', 'output');
    fake.changeAudio((state) => {
      state.devices.outputs.push(jabra);
      state.speaker = { device: jabra, fallback: false };
    });
    await waitFor(() => expect(fallbacks()).toEqual([]));
    expect(screen.getByTestId('device-restored').textContent?.trim()).toBe('✓ Jabra Evolve2 65 is connected again and in use.');
    expect(picker('speaker').value).toBe('pulse:jabra-out');
    expect(options('alerts')).toContainEqual(['pulse:jabra-out', 'Jabra Evolve2 65']);
  });

  it('names the new default when the system changes it', async () => {
    const fake = await setup();
    const dock = audioDevice('pulse:dock', 'USB Dock', 'output', true);
    fake.changeAudio((state) => {
      unplug(state, BUILTIN_SPEAKERS.id);
      state.devices.outputs.push(dock);
      state.speaker = { device: dock, fallback: false };
      state.alerts = { device: dock, fallback: false };
    });
    await waitFor(() => expect(options('speaker')[0]).toEqual(['system_default', 'System default (USB Dock)']));
    // Following the default is not a missing device.
    expect(fallbacks()).toEqual([]);
  });

  it('says plainly when there is no microphone at all', async () => {
    await setup((fake) =>
      fake.changeAudio((state) => {
        unplug(state, BUILTIN_MIC.id, JABRA_IN.id);
        state.microphone = { device: null, fallback: false };
      }),
    );
    expect(options('microphone')).toEqual([['system_default', 'System default']]);
    expect(document.getElementById('microphone-select-hint')?.textContent).toContain('No microphone found.');
    expect(button('mic-test').disabled).toBe(true);
    expect(button('record-test').disabled).toBe(true);
  });

  it('tells why the devices could not be listed, and tries again', async () => {
    const fake = fakeBackend();
    fake.backend.audioState.mockRejectedValueOnce(audioFailure('audio_timeout', 'no answer'));
    const user = userEvent.setup();
    render(Devices, { backend: fake.backend });
    const error = await screen.findByTestId('audio-error');
    expect(error.textContent).toBe(
      "Couldn't list the audio devices: The sound system didn't answer in time. Try again in a moment.",
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('combobox', { name: 'Microphone' })).toBeTruthy();
    expect(screen.queryByTestId('audio-error')).toBeNull();
  });

  it('takes a device change that arrives before the first list', async () => {
    const fake = fakeBackend();
    const listing = pending<AudioState>();
    fake.backend.audioState.mockReturnValueOnce(listing.promise);
    render(Devices, { backend: fake.backend });
    const stale = fake.audio();
    await waitFor(() => expect(fake.backend.onAudioDevicesChanged).toHaveBeenCalled());
    fake.changeAudio((state) => unplug(state, 'pulse:hdmi'));
    await screen.findByRole('combobox', { name: 'Speaker' });
    listing.resolve(stale);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(options('speaker').map(([value]) => value)).not.toContain('pulse:hdmi');
  });

  it('speaks German', async () => {
    setLanguage('de');
    await setup((fake) =>
      fake.changeAudio((state) => {
        state.choices.microphone = JABRA_IN;
        unplug(state, JABRA_IN.id);
        state.microphone = { device: BUILTIN_MIC, fallback: true };
      }),
    );
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Geräte');
    expect(options('speaker')[0]).toEqual(['system_default', 'Systemstandard (Built-in Speakers)']);
    expect(screen.getByTestId('device-fallback').textContent?.trim()).toBe(
      'Jabra Evolve2 65 ist nicht verbunden — bis es wieder da ist, wird Built-in Microphone verwendet.',
    );
    expect(button('mic-test').textContent).toBe('Mikrofon testen');
    expect(screen.getByRole('button', { name: 'Lautsprecher testen' })).toBe(button('speaker-test'));
  });

  it('passes the accessibility check', async () => {
    const { view, user, level } = await setup();
    await expectAccessible(view.container);
    await user.click(button('mic-test'));
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    level(reading({ clipping: true, rms_dbfs: -3, peak_dbfs: 0 }));
    await waitFor(() => expect(meter().getAttribute('aria-valuenow')).toBe('-3'));
    await expectAccessible(view.container);
  });
});

describe('microphone test', () => {
  it('shows the live level and a hint in plain words, and stops', async () => {
    const { backend, user, level, micTestRunning } = await setup();
    expect(meter().getAttribute('role')).toBe('meter');
    expect(meter().getAttribute('aria-label')).toBe('Microphone level');
    expect([meter().getAttribute('aria-valuemin'), meter().getAttribute('aria-valuemax')]).toEqual(['-60', '0']);
    expect(meter().getAttribute('aria-valuenow')).toBe('-60');
    expect(hint()).toBe(
      'Start the test and speak as you would on a call: the bar should move mostly in the green.',
    );

    await user.click(button('mic-test'));
    expect(backend.startMicTest).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    expect(hint()).toBe('Listening…');

    level(reading({ rms_dbfs: -23.6, peak_dbfs: -11 }));
    await waitFor(() => expect(meter().getAttribute('aria-valuenow')).toBe('-24'));
    expect(meter().getAttribute('aria-valuetext')).toBe('-24 dB');
    expect(meter().dataset.zone).toBe('good');
    expect(hint()).toBe('Sounds good — you are easy to hear at this level.');

    level(reading({ rms_dbfs: -100, peak_dbfs: -100, no_signal: true, too_quiet: true }));
    await waitFor(() => expect(meter().getAttribute('aria-valuenow')).toBe('-60'));
    expect(hint()).toBe("We can't hear anything from this microphone — check it isn't muted or unplugged.");

    level(reading({ rms_dbfs: -48, peak_dbfs: -40, too_quiet: true }));
    await waitFor(() => expect(meter().getAttribute('aria-valuenow')).toBe('-48'));
    expect(meter().dataset.zone).toBe('quiet');
    expect(hint()).toBe("You're quite quiet — move the microphone closer or raise its level.");

    level(reading({ rms_dbfs: -2, peak_dbfs: 0, clipping: true }));
    await waitFor(() => expect(meter().getAttribute('aria-valuenow')).toBe('-2'));
    expect(meter().dataset.zone).toBe('loud');
    expect(hint()).toBe('Too loud — your voice is distorting; lower the input level.');

    await user.click(button('mic-test'));
    expect(backend.stopMicTest).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(button('mic-test').textContent).toBe('Test microphone'));
    expect(micTestRunning()).toBe(false);
    expect(meter().getAttribute('aria-valuenow')).toBe('-60');
    expect(hint()).toContain('Start the test');
  });

  it('holds the peak marker above the level', async () => {
    const { user, level } = await setup();
    await user.click(button('mic-test'));
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    level(reading({ rms_dbfs: -30, peak_dbfs: -6 }));
    level(reading({ rms_dbfs: -30, peak_dbfs: -24 }));
    await waitFor(() => expect(screen.getByTestId('mic-peak').style.left).toBe('90%'));
  });

  it('stops the test when the screen is left', async () => {
    const { backend, user, view, micTestRunning } = await setup();
    await user.click(button('mic-test'));
    await waitFor(() => expect(micTestRunning()).toBe(true));
    view.unmount();
    expect(backend.stopMicTest).toHaveBeenCalledTimes(1);
    expect(micTestRunning()).toBe(false);
  });

  it('stops a test that was still starting when the screen was left', async () => {
    const { backend, user, view } = await setup();
    const starting = pending<void>();
    backend.startMicTest.mockReturnValueOnce(starting.promise);
    await user.click(button('mic-test'));
    view.unmount();
    starting.resolve();
    await waitFor(() => expect(backend.stopMicTest).toHaveBeenCalledTimes(2));
  });

  it('says why the test ended when the microphone failed', async () => {
    const { user, endMicTest } = await setup();
    await user.click(button('mic-test'));
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    endMicTest(audioFailure('audio_disconnected', 'stream error'));
    const error = await screen.findByTestId('audio-error');
    expect(error.textContent).toBe('The device was disconnected. Plug it back in or choose another one.');
    expect(button('mic-test').textContent).toBe('Test microphone');
    expect(hint()).toContain('Start the test');
  });

  it('says why the test could not start', async () => {
    const { backend, user } = await setup();
    backend.startMicTest.mockRejectedValueOnce(audioFailure('audio_cannot_open', 'busy'));
    await user.click(button('mic-test'));
    expect((await screen.findByTestId('audio-error')).textContent).toBe(
      "The device couldn't be opened. Another app may be using it, or your system may not allow access to it.",
    );
    expect(button('mic-test').textContent).toBe('Test microphone');
  });

  it('goes on with a newly chosen microphone', async () => {
    const fake = await setup();
    const { backend, user, micTestRunning } = fake;
    await user.click(button('mic-test'));
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    backend.chooseAudioDevice.mockResolvedValueOnce(
      stateAfter(fake, (state) => {
        state.choices.microphone = JABRA_IN;
        state.microphone = { device: JABRA_MIC, fallback: false };
      }),
    );
    await user.selectOptions(picker('microphone'), 'pulse:jabra-in');
    await waitFor(() => expect(backend.startMicTest).toHaveBeenCalledTimes(2));
    expect(backend.stopMicTest).toHaveBeenCalledTimes(1);
    expect(backend.stopMicTest.mock.invocationCallOrder[0]).toBeGreaterThan(
      backend.chooseAudioDevice.mock.invocationCallOrder[0]!,
    );
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    // The first test reports its end only now; the new one goes on.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(button('mic-test').textContent).toBe('Stop test');
    expect(micTestRunning()).toBe(true);
  });
});

describe('record and play back', () => {
  it('records five seconds with a countdown, plays it back, and plays again', async () => {
    const { backend, user } = await setup();
    const recording = pending<void>();
    const playing = pending<void>();
    backend.recordSample.mockReturnValueOnce(recording.promise);
    backend.playSample.mockReturnValueOnce(playing.promise);
    expect(button('record-test').textContent).toBe('Record and play back');

    await user.click(button('record-test'));
    expect(backend.recordSample).toHaveBeenCalledWith(5);
    const status = screen.getByTestId('record-status');
    expect(status.textContent).toContain('Recording… 5 s left');
    const progress = within(status).getByRole('progressbar', { name: 'Recording' }) as HTMLProgressElement;
    expect(progress.max).toBe(5000);
    await waitFor(() => expect(progress.value).toBeGreaterThan(0));
    expect(backend.playSample).not.toHaveBeenCalled();
    expect(button('record-test').getAttribute('aria-disabled')).toBe('true');

    recording.resolve();
    await waitFor(() => expect(backend.playSample).toHaveBeenCalledTimes(1));
    expect(status.textContent).toContain('Playing back your recording…');

    playing.resolve();
    await waitFor(() => expect(status.textContent).toContain('That is how you sound.'));
    expect(button('record-test').textContent).toBe('Record again');
    await user.click(screen.getByRole('button', { name: 'Play again' }));
    expect(backend.playSample).toHaveBeenCalledTimes(2);
    expect(backend.recordSample).toHaveBeenCalledTimes(1);
  });

  it('counts down the seconds left', async () => {
    const { backend, user } = await setup();
    backend.recordSample.mockReturnValueOnce(new Promise(() => {}));
    await user.click(button('record-test'));
    await waitFor(() => expect(screen.getByTestId('record-status').textContent).toContain('4 s left'), {
      timeout: 2500,
    });
  });

  it('stops a running microphone test before recording', async () => {
    const { backend, user } = await setup();
    await user.click(button('mic-test'));
    await waitFor(() => expect(button('mic-test').textContent).toBe('Stop test'));
    await user.click(button('record-test'));
    await waitFor(() => expect(backend.recordSample).toHaveBeenCalled());
    expect(backend.stopMicTest.mock.invocationCallOrder[0]).toBeLessThan(
      backend.recordSample.mock.invocationCallOrder[0]!,
    );
    expect(button('mic-test').textContent).toBe('Test microphone');
  });

  it('says why recording failed and does not play anything', async () => {
    const { backend, user } = await setup();
    backend.recordSample.mockRejectedValueOnce(audioFailure('audio_no_data', 'silent stream'));
    await user.click(button('record-test'));
    expect((await screen.findByTestId('audio-error')).textContent).toBe(
      "The device is connected but isn't sending any sound. Unplug it and plug it back in, or choose another one.",
    );
    expect(backend.playSample).not.toHaveBeenCalled();
    expect(button('record-test').getAttribute('aria-disabled')).toBe('false');
  });
});

describe('outputs', () => {
  it('plays the test sound on the speaker and on the alerts device', async () => {
    const { backend, user } = await setup();
    const chime = pending<void>();
    backend.testOutput.mockReturnValueOnce(chime.promise);
    await user.click(screen.getByRole('button', { name: 'Test speaker' }));
    expect(backend.testOutput).toHaveBeenCalledWith('speaker');
    expect(await screen.findByText('Playing…')).toBeTruthy();
    // One sound at a time.
    await user.click(button('alerts-test'));
    expect(backend.testOutput).toHaveBeenCalledTimes(1);
    chime.resolve();
    await waitFor(() => expect(screen.queryByText('Playing…')).toBeNull());

    await user.click(screen.getByRole('button', { name: 'Test alerts' }));
    expect(backend.testOutput).toHaveBeenLastCalledWith('alerts');
  });

  it('saves the alert volume', async () => {
    const { backend, audio } = await setup();
    const slider = screen.getByRole('slider', { name: 'Alert volume' }) as HTMLInputElement;
    expect(slider.id).toBe('alert-volume');
    expect([slider.min, slider.max, slider.value]).toEqual(['0', '100', '80']);
    await fireEvent.input(slider, { target: { value: '35' } });
    expect(screen.getByText('35%')).toBeTruthy();
    expect(slider.getAttribute('aria-valuetext')).toBe('35%');
    await fireEvent.change(slider);
    expect(backend.setAlertVolume).toHaveBeenCalledWith(0.35);
    await waitFor(() => expect(audio().choices.alert_volume).toBe(0.35));
  });

  it('goes back to the saved alert volume when it is refused', async () => {
    const { backend } = await setup();
    backend.setAlertVolume.mockRejectedValueOnce(audioFailure('audio_invalid', 'volume out of range'));
    const slider = screen.getByRole('slider', { name: 'Alert volume' }) as HTMLInputElement;
    await fireEvent.input(slider, { target: { value: '20' } });
    await fireEvent.change(slider);
    expect((await screen.findByTestId('audio-error')).textContent).toBe(
      "That setting isn't valid: volume out of range",
    );
    await waitFor(() => expect(slider.value).toBe('80'));
  });

  const MESSAGES: [AudioErrorCode, string][] = [
    ['audio_no_device', 'No suitable audio device is connected. Plug one in and try again.'],
    ['audio_unknown_device', "That device isn't connected any more. Choose another one or plug it back in."],
    [
      'audio_cannot_open',
      "The device couldn't be opened. Another app may be using it, or your system may not allow access to it.",
    ],
    [
      'audio_no_data',
      "The device is connected but isn't sending any sound. Unplug it and plug it back in, or choose another one.",
    ],
    ['audio_disconnected', 'The device was disconnected. Plug it back in or choose another one.'],
    ['audio_timeout', "The sound system didn't answer in time. Try again in a moment."],
    ['audio_invalid', "That setting isn't valid: the detail"],
    ['audio_backend', 'The sound system reported a problem: the detail'],
  ];

  it.each(MESSAGES)('words %s by its code', async (code, message) => {
    const { backend, user } = await setup();
    backend.testOutput.mockRejectedValueOnce(audioFailure(code, 'the detail'));
    await user.click(button('alerts-test'));
    const error = await screen.findByTestId('audio-error');
    expect(error.textContent).toBe(message);
    expect(error.dataset.place).toBe('alerts');
  });

  it('falls back to the message for a code it does not know', async () => {
    const { backend, user } = await setup();
    backend.testOutput.mockRejectedValueOnce({ code: 'audio_something_new', message: 'a new failure', field: null });
    await user.click(button('speaker-test'));
    expect((await screen.findByTestId('audio-error')).textContent).toBe('Something went wrong: a new failure');
  });
});
