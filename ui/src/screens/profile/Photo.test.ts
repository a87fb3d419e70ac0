import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AvatarSource } from '../../lib/generated/AvatarSource';
import type { IpcError } from '../../lib/generated/IpcError';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { fakeBackend, imageFile, photoData, profile, waitingChange } from '../../test/fake-backend';
import Profile from './Profile.svelte';

function setup(start = profile(), options: Parameters<typeof userEvent.setup>[0] = {}) {
  const fake = fakeBackend(start);
  const onsaved = vi.fn();
  const onsessionended = vi.fn();
  const view = render(Profile, { backend: fake.backend, outbox: fake.connectOutbox(), initial: fake.current(), onsaved, onsessionended });
  return { ...fake, onsaved, onsessionended, view, user: userEvent.setup(options) };
}

const fileInput = () => document.getElementById('photo-file') as HTMLInputElement;
const byId = (id: string) => document.getElementById(id) as HTMLButtonElement;
const limits = () => screen.findByText(/up to 5 MB/);

/** A file over the limit without building one: only its size is read before it is refused. */
function oversized(name: string, size: number): File {
  const file = imageFile(name);
  Object.defineProperty(file, 'size', { value: size });
  return file;
}

function failure(code: IpcError['code']): IpcError {
  return { code, message: 'refused', field: 'photo' };
}

describe('photo section', () => {
  afterEach(() => setLanguage('en'));

  it("shows the server's limits before a file is picked, and initials without a photo", async () => {
    const { backend } = setup();
    await limits();
    expect(screen.getByTestId('photo-limits').textContent?.trim()).toBe('JPEG, PNG, GIF or WebP, up to 5 MB.');
    expect(fileInput().accept).toContain('image/png');
    expect(fileInput().accept).toContain('.jpg');
    expect(screen.getByLabelText('Choose a file')).toBe(fileInput());
    const initials = await screen.findByRole('img', { name: /initials DD/ });
    expect(initials.dataset.testid).toBe('avatar-initials');
    expect(initials.textContent?.trim()).toBe('DD');
    expect(initials.style.backgroundColor).toBe('rgb(47, 93, 138)');
    expect(backend.initialsAvatar).toHaveBeenCalledWith('agent-1', 'Dana Demo');
    expect(document.getElementById('remove-photo')).toBeNull();
  });

  it('states the limits in German', async () => {
    setLanguage('de');
    setup(profile({ language: 'de' }));
    await waitFor(() =>
      expect(screen.getByTestId('photo-limits').textContent?.trim()).toBe('JPEG, PNG, GIF oder WebP, bis 5 MB.'),
    );
  });

  it('shows a generic figure when core makes no initials of the name', async () => {
    const fake = fakeBackend(profile({ display_name: '42' }));
    fake.backend.initialsAvatar.mockResolvedValue({ text: '', background: '#2f5d8a', foreground: '#ffffff' });
    render(Profile, { backend: fake.backend, outbox: fake.connectOutbox(), initial: fake.current(), onsaved: vi.fn(), onsessionended: vi.fn() });
    await waitFor(() => expect(fake.backend.initialsAvatar).toHaveBeenCalledWith('agent-1', '42'));
    await Promise.all(fake.backend.initialsAvatar.mock.results.map((result) => result.value));
    const figure = await screen.findByRole('img', { name: 'No photo yet' });
    await waitFor(() => expect(figure.style.backgroundColor).toBe('rgb(47, 93, 138)'));
    expect(figure.querySelector('svg')).toBeTruthy();
  });

  it('opens the system file dialog from the upload button', async () => {
    const { user } = setup();
    const click = vi.spyOn(fileInput(), 'click');
    await user.click(byId('upload-photo'));
    expect(click).toHaveBeenCalledTimes(1);
  });

  it('refuses a file over the size limit without sending it, and says the limit', async () => {
    const { backend, user } = setup();
    await limits();
    await user.upload(fileInput(), oversized('holiday.png', 6_200_000));
    expect((await screen.findByTestId('photo-error')).textContent).toBe(
      'holiday.png is 6.2 MB, larger than the server accepts. Choose a photo of up to 5 MB.',
    );
    expect(backend.prepareAvatar).not.toHaveBeenCalled();
    expect(screen.queryByTestId('crop-dialog')).toBeNull();
  });

  it('refuses a type the server does not accept, picked or dropped', async () => {
    const { backend, user } = setup(profile(), { applyAccept: false });
    await limits();
    await user.upload(fileInput(), new File([new Uint8Array([0, 0, 0])], 'IMG_0001.heic', { type: 'image/heic' }));
    expect((await screen.findByTestId('photo-error')).textContent).toBe(
      'IMG_0001.heic is not an image the server accepts. Use a JPEG, PNG, GIF or WebP file.',
    );

    const notes = imageFile('notes.txt', 'text/plain');
    await fireEvent.drop(await screen.findByTestId('avatar-initials'), { dataTransfer: { files: [notes], types: ['Files'] } });
    await waitFor(() =>
      expect(screen.getByTestId('photo-error').textContent).toBe(
        'notes.txt is not an image the server accepts. Use a JPEG, PNG, GIF or WebP file.',
      ),
    );
    expect(backend.prepareAvatar).not.toHaveBeenCalled();
  });

  it('crops and saves a chosen photo, then shows it', async () => {
    const { backend, user, onsaved, pickPhotoOf } = setup();
    pickPhotoOf(1200, 800);
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    const dialog = await screen.findByTestId('crop-dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(within(dialog).getByRole('heading', { name: 'Crop your photo' })).toBeTruthy();
    const bytes = backend.prepareAvatar.mock.calls[0]![0];
    expect([...bytes.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

    await user.click(byId('crop-save'));
    await waitFor(() => expect(screen.queryByTestId('crop-dialog')).toBeNull());
    // The largest square in the middle of the 1200 × 800 photo.
    expect(backend.saveAvatar).toHaveBeenCalledWith('source-1', { x: 200, y: 0, size: 800, quarter_turns: 0 });
    const image = (await screen.findByTestId('avatar-image')) as HTMLImageElement;
    expect(image.getAttribute('src')).toBe(photoData('/api/v1/avatars/photo-1'));
    expect(image.alt).toBe('Your photo');
    expect(screen.queryByTestId('avatar-initials')).toBeNull();
    expect(screen.getByText(/Your new photo is saved/)).toBeTruthy();
    expect(onsaved).toHaveBeenLastCalledWith(expect.objectContaining({ etag: '"2"' }));
    expect(document.activeElement).toBe(byId('upload-photo'));
    expect(byId('remove-photo')).toBeTruthy();
  });

  it('says a new photo is kept on this computer while the server is away', async () => {
    const { user, changeOutbox } = setup();
    changeOutbox({ changes: [waitingChange(2, { kind: 'photo' })], reachable: false });
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    await screen.findByTestId('crop-dialog');
    await user.click(byId('crop-save'));
    await waitFor(() => expect(screen.queryByTestId('crop-dialog')).toBeNull());
    expect(
      await screen.findByText(
        '✓ Your new photo is saved on this computer — it will sync when the server is back.',
      ),
    ).toBeTruthy();
    expect(screen.queryByText('✓ Your new photo is saved.')).toBeNull();
  });

  it('takes a photo dropped onto the photo', async () => {
    const { backend } = setup();
    await limits();
    const target = await screen.findByTestId('avatar-initials');
    await fireEvent.dragEnter(target, { dataTransfer: { types: ['Files'], files: [] } });
    expect(screen.getByText('Drop to upload')).toBeTruthy();
    await fireEvent.drop(target, { dataTransfer: { files: [imageFile('me.jpg', 'image/jpeg')], types: ['Files'] } });
    expect(await screen.findByTestId('crop-dialog')).toBeTruthy();
    expect(backend.prepareAvatar).toHaveBeenCalledTimes(1);
    expect(screen.queryByText('Drop to upload')).toBeNull();
  });

  it('shows that the photo is being prepared, then opens the editor', async () => {
    const { backend, user } = setup();
    let finish: (source: AvatarSource) => void = () => {};
    backend.prepareAvatar.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    expect(await screen.findByText('Preparing…')).toBeTruthy();
    expect(byId('upload-photo').disabled).toBe(true);
    finish({ source_id: 'source-9', format: 'image/png', width: 300, height: 300, preview: photoData('x') });
    expect(await screen.findByTestId('crop-dialog')).toBeTruthy();
    expect(screen.queryByText('Preparing…')).toBeNull();
  });

  it('cancels cropping without saving', async () => {
    const { backend, user } = setup();
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    await screen.findByTestId('crop-dialog');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('crop-dialog')).toBeNull());
    expect(backend.saveAvatar).not.toHaveBeenCalled();
    expect(backend.discardAvatar).toHaveBeenCalledOnce();
    expect(await screen.findByTestId('avatar-initials')).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(byId('upload-photo')));
  });

  it('keeps unsaved edits to other fields across a new photo, and saves them without a conflict', async () => {
    const { backend, user } = setup();
    const title = screen.getByLabelText(/Job title/) as HTMLInputElement;
    await user.clear(title);
    await user.type(title, 'Team Lead');
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    await user.click(await screen.findByRole('button', { name: 'Save photo' }));
    await screen.findByTestId('avatar-image');
    expect(title.value).toBe('Team Lead');
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');

    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Team Lead' }, '"2"');
    expect(screen.queryByTestId('profile-banner')).toBeNull();
  });

  it('asks before removing the photo, then shows the initials', async () => {
    const { backend, user, current } = setup(profile({ avatar_url: '/api/v1/avatars/photo-0' }));
    expect(((await screen.findByTestId('avatar-image')) as HTMLImageElement).src).toBe(
      photoData('/api/v1/avatars/photo-0'),
    );

    await user.click(byId('remove-photo'));
    const question = document.getElementById('remove-photo-dialog')!;
    expect(within(question).getByText('Remove your photo?')).toBeTruthy();
    await user.click(within(question).getByRole('button', { name: 'Keep photo' }));
    expect(backend.removeAvatar).not.toHaveBeenCalled();
    expect(screen.getByTestId('avatar-image')).toBeTruthy();

    await user.click(byId('remove-photo'));
    await user.click(document.querySelector('#remove-photo-dialog [data-action=confirm]')!);
    expect(await screen.findByTestId('avatar-initials')).toBeTruthy();
    expect(screen.queryByTestId('avatar-image')).toBeNull();
    expect(backend.removeAvatar).toHaveBeenCalledTimes(1);
    expect(current().profile.avatar_url).toBeNull();
    expect(document.getElementById('remove-photo')).toBeNull();
    expect(screen.getByText(/Your photo has been removed/)).toBeTruthy();
  });

  it.each([
    ['payload_too_large', 'This photo is larger than the server accepts. Choose a photo of up to 5 MB.'],
    ['unsupported_image', 'This file is not an image the server accepts. Use a JPEG, PNG, GIF or WebP file.'],
    [
      'image_too_large',
      'This photo has more pixels than the server accepts. The server accepts photos up to 8,000 pixels wide or high and 40 megapixels in all; make it smaller and try again.',
    ],
    [
      'invalid_image',
      "This image can't be read: the file may be damaged or incomplete. Try another JPEG, PNG, GIF or WebP file.",
    ],
    ['server_unreachable', "Couldn't reach the server, so your photo hasn't changed. Try again when you're back online."],
    ['rate_limited', 'Too many attempts. Wait a moment and try again.'],
  ] as const)('words the refusal %s at the photo', async (code, message) => {
    const { backend, user } = setup();
    backend.prepareAvatar.mockRejectedValueOnce(failure(code));
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    expect((await screen.findByTestId('photo-error')).textContent).toBe(message);
    expect(screen.queryByTestId('crop-dialog')).toBeNull();
  });

  it('words a refusal in German too', async () => {
    setLanguage('de');
    const { backend, user } = setup(profile({ language: 'de' }));
    backend.prepareAvatar.mockRejectedValueOnce(failure('unsupported_image'));
    await screen.findByText(/bis 5 MB/);
    await user.upload(fileInput(), imageFile('ich.png'));
    expect((await screen.findByTestId('photo-error')).textContent).toBe(
      'Diese Datei ist kein Bild, das der Server annimmt. Verwende eine Datei im Format JPEG, PNG, GIF oder WebP.',
    );
  });

  it('keeps the editor open when saving fails, with the reason', async () => {
    const { backend, user } = setup();
    backend.saveAvatar.mockRejectedValueOnce(failure('invalid_crop'));
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    const dialog = await screen.findByTestId('crop-dialog');
    await user.click(byId('crop-save'));
    expect((await within(dialog).findByTestId('photo-error')).textContent).toBe(
      'The crop lies outside the photo. Reset the crop and save again.',
    );
    await user.click(byId('crop-save'));
    await waitFor(() => expect(screen.queryByTestId('crop-dialog')).toBeNull());
    expect(await screen.findByTestId('avatar-image')).toBeTruthy();
  });

  it('reports an ended session', async () => {
    const { backend, user, onsessionended } = setup();
    backend.saveAvatar.mockRejectedValueOnce({ code: 'unauthorized', message: 'token revoked', field: null });
    await limits();
    await user.upload(fileInput(), imageFile('me.png'));
    await user.click(await screen.findByRole('button', { name: 'Save photo' }));
    expect((await screen.findByTestId('photo-error')).textContent).toBe(
      'Your session has ended. Sign in again to change your photo.',
    );
    expect(onsessionended).toHaveBeenCalled();
    expect(screen.queryByTestId('crop-dialog')).toBeNull();
  });

  it('passes the accessibility check with initials, with a photo and with the editor open', async () => {
    const first = setup();
    await limits();
    await screen.findByTestId('avatar-initials');
    const section = () => screen.getByRole('region', { name: 'Photo' });
    await expectAccessible(section());

    await first.user.upload(fileInput(), imageFile('me.png'));
    await expectAccessible(await screen.findByTestId('crop-dialog'));
    await first.user.click(byId('crop-save'));
    await screen.findByTestId('avatar-image');
    await expectAccessible(section());
  });
});
