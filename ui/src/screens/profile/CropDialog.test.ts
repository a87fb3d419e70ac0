import { fireEvent, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AvatarCrop } from '../../lib/generated/AvatarCrop';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { photoData } from '../../test/fake-backend';
import CropDialog from './CropDialog.svelte';

function setup({ width = 1200, height = 800, saving = false, minSide = 200 } = {}) {
  const onsave = vi.fn<(crop: AvatarCrop) => void>();
  const oncancel = vi.fn();
  const source = { source_id: 'source-1', format: 'image/jpeg', width, height, preview: photoData('preview') };
  const view = render(CropDialog, { source, minSide, saving, error: null, onsave, oncancel });
  return { onsave, oncancel, view, user: userEvent.setup() };
}

const stage = () => screen.getByRole('application', { name: 'Photo in the crop frame' });
const zoom = () => document.getElementById('crop-zoom') as HTMLInputElement;
const button = (id: string) => document.getElementById(id) as HTMLButtonElement;

/** The crop the editor would save now. */
async function saved(user: ReturnType<typeof userEvent.setup>, onsave: ReturnType<typeof setup>['onsave']) {
  await user.click(button('crop-save'));
  return onsave.mock.lastCall?.[0];
}

describe('crop editor', () => {
  afterEach(() => setLanguage('en'));

  it('opens as a modal dialog with the photo in focus, the largest centred square framed', async () => {
    const { user, onsave } = setup();
    const dialog = screen.getByTestId('crop-dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(screen.getByRole('dialog', { name: 'Crop your photo' })).toBe(dialog);
    expect(document.activeElement).toBe(stage());
    expect(screen.getByTestId('crop-size').textContent).toBe('Uses 800 × 800 pixels of the photo.');
    expect(screen.queryByTestId('crop-warning')).toBeNull();
    expect(await saved(user, onsave)).toEqual({ x: 200, y: 0, size: 800, quarter_turns: 0 });
  });

  it('moves the photo with the arrow keys, further with Shift, and stops at the edge', async () => {
    const { user, onsave } = setup();
    // The frame is 256 px on screen over 800 source pixels: a step of 8 px is 25 of them.
    await user.keyboard('{ArrowLeft}');
    expect(await saved(user, onsave)).toMatchObject({ x: 225, y: 0 });
    stage().focus();
    await user.keyboard('{Shift>}{ArrowLeft}{/Shift}');
    expect(await saved(user, onsave)).toMatchObject({ x: 375 });
    stage().focus();
    await user.keyboard('{ArrowRight}{ArrowDown}{ArrowUp}');
    expect(await saved(user, onsave)).toMatchObject({ x: 350, y: 0 });
    stage().focus();
    await user.keyboard('{Shift>}{ArrowLeft}{ArrowLeft}{ArrowLeft}{/Shift}');
    expect(await saved(user, onsave)).toMatchObject({ x: 400, size: 800 });
  });

  it('moves the photo by pointer drag', async () => {
    const { user, onsave } = setup();
    await fireEvent.pointerDown(stage(), { pointerId: 1, button: 0, clientX: 100, clientY: 100 });
    await fireEvent.pointerMove(stage(), { pointerId: 1, clientX: 68, clientY: 100 });
    await fireEvent.pointerUp(stage(), { pointerId: 1, clientX: 68, clientY: 100 });
    await fireEvent.pointerMove(stage(), { pointerId: 1, clientX: 0, clientY: 100 });
    expect(await saved(user, onsave)).toMatchObject({ x: 300, y: 0, size: 800 });
  });

  it('zooms with the slider, the wheel and the keys, between the shorter side and an eighth of it', async () => {
    const { user, onsave } = setup();
    expect(zoom().min).toBe('1');
    expect(zoom().max).toBe('8');
    expect(zoom().getAttribute('aria-valuetext')).toBe('100%');
    await fireEvent.input(zoom(), { target: { value: '2' } });
    expect(zoom().getAttribute('aria-valuetext')).toBe('200%');
    expect(await saved(user, onsave)).toEqual({ x: 400, y: 200, size: 400, quarter_turns: 0 });

    await fireEvent.wheel(stage(), { deltaY: 100 });
    const out = (await saved(user, onsave))!;
    expect(out.size).toBeGreaterThan(400);
    await fireEvent.wheel(stage(), { deltaY: -5000 });
    expect(await saved(user, onsave)).toMatchObject({ size: 100 });

    stage().focus();
    await user.keyboard('-');
    expect(await saved(user, onsave)).toMatchObject({ size: 125 });
    stage().focus();
    await user.keyboard('+');
    expect(await saved(user, onsave)).toMatchObject({ size: 100 });
  });

  it('rotates both ways and resets', async () => {
    const { user, onsave } = setup();
    await user.click(button('crop-rotate-right'));
    expect(await saved(user, onsave)).toEqual({ x: 200, y: 0, size: 800, quarter_turns: 1 });
    await user.click(button('crop-rotate-left'));
    await user.click(button('crop-rotate-left'));
    expect(await saved(user, onsave)).toMatchObject({ quarter_turns: 3 });
    await fireEvent.input(zoom(), { target: { value: '4' } });
    await user.click(button('crop-reset'));
    expect(await saved(user, onsave)).toEqual({ x: 200, y: 0, size: 800, quarter_turns: 0 });
  });

  it('moves the photo as it is seen once turned', async () => {
    const { user, onsave } = setup();
    await user.click(button('crop-rotate-right'));
    await fireEvent.input(zoom(), { target: { value: '2' } });
    // Turned clockwise, the photo's top is on the right: moving it right shows more of its top.
    stage().focus();
    await user.keyboard('{Shift>}{ArrowRight}{/Shift}');
    expect(await saved(user, onsave)).toEqual({ x: 400, y: 275, size: 400, quarter_turns: 1 });
  });

  it('warns, without blocking, when the crop is smaller than the server wants', async () => {
    const { user, onsave } = setup();
    await fireEvent.input(zoom(), { target: { value: '8' } });
    expect(screen.getByTestId('crop-warning').textContent).toBe(
      'This crop is only 100 × 100 pixels, so your photo will look blurry. For a sharp photo use at least 200 × 200: zoom out or choose a larger photo.',
    );
    expect(button('crop-save').disabled).toBe(false);
    expect(await saved(user, onsave)).toMatchObject({ size: 100 });
    await fireEvent.input(zoom(), { target: { value: '4' } });
    expect(screen.queryByTestId('crop-warning')).toBeNull();
  });

  it('warns at once about a photo smaller than the minimum', () => {
    setup({ width: 150, height: 120 });
    expect(screen.getByTestId('crop-warning').textContent).toContain('only 120 × 120 pixels');
    expect(zoom().disabled).toBe(false);
  });

  it('cancels with Escape and with the Cancel button', async () => {
    const { user, oncancel, onsave } = setup();
    await user.keyboard('{Escape}');
    expect(oncancel).toHaveBeenCalledTimes(1);
    await user.click(button('crop-cancel'));
    expect(oncancel).toHaveBeenCalledTimes(2);
    expect(onsave).not.toHaveBeenCalled();
  });

  it('holds still while saving', async () => {
    const { user, oncancel } = setup({ saving: true });
    expect(screen.getByRole('progressbar', { name: 'Saving…' }).hasAttribute('value')).toBe(false);
    expect(button('crop-save').disabled).toBe(true);
    expect(button('crop-save').getAttribute('aria-busy')).toBe('true');
    expect(button('crop-cancel').disabled).toBe(true);
    await user.keyboard('{Escape}');
    expect(oncancel).not.toHaveBeenCalled();
  });

  it('speaks German', () => {
    setLanguage('de');
    setup();
    expect(screen.getByRole('dialog', { name: 'Foto zuschneiden' })).toBeTruthy();
    expect(button('crop-rotate-left').textContent?.trim()).toBe('Nach links drehen');
  });

  it('passes the accessibility check', async () => {
    const { view } = setup({ width: 150, height: 150 });
    await expectAccessible(view.container);
  });
});
