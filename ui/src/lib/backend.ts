// The UI's only way to the rest of the app: typed wrappers over the Tauri commands.
// Tests pass their own `Backend`, so screens run without the desktop shell.

import { invoke, type InvokeArgs, type InvokeOptions } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AudioRole, AudioState, DeviceChoice, MeterReading } from '../screens/devices/types';
import type { AlertsState } from './generated/AlertsState';
import type { AppInfo } from './generated/AppInfo';
import type { AvatarCrop } from './generated/AvatarCrop';
import type { AvatarSource } from './generated/AvatarSource';
import type { FieldError } from './generated/FieldError';
import type { FileList } from './generated/FileList';
import type { InitialsAvatar } from './generated/InitialsAvatar';
import type { IpcError } from './generated/IpcError';
import type { JoinRequest } from './generated/JoinRequest';
import type { JoinRequests } from './generated/JoinRequests';
import type { Language } from './generated/Language';
import type { LoginActivity } from './generated/LoginActivity';
import type { NotificationPrefs } from './generated/NotificationPrefs';
import type { PasswordCheck } from './generated/PasswordCheck';
import type { ActivityStream } from './generated/ActivityStream';
import type { ChangeLog } from './generated/ChangeLog';
import type { CustomerPatch } from './generated/CustomerPatch';
import type { NewCustomer } from './generated/NewCustomer';
import type { Note } from './generated/Note';
import type { NotesPage } from './generated/NotesPage';
import type { PeopleFilter } from './generated/PeopleFilter';
import type { PeoplePage } from './generated/PeoplePage';
import type { Person } from './generated/Person';
import type { PersonFile } from './generated/PersonFile';
import type { PasswordResetAccepted } from './generated/PasswordResetAccepted';
import type { Policy } from './generated/Policy';
import type { ProfilePatch } from './generated/ProfilePatch';
import type { SelfTestReport } from './generated/SelfTestReport';
import type { SessionList } from './generated/SessionList';
import type { SessionsEnded } from './generated/SessionsEnded';
import type { Organizations } from './generated/Organizations';
import type { PresenceChange } from './generated/PresenceChange';
import type { SignedIn } from './generated/SignedIn';
import type { Status } from './generated/Status';
import type { Team } from './generated/Team';
import type { TicketHistory } from './generated/TicketHistory';
import type { TicketSort } from './generated/TicketSort';
import type { TimeZoneInfo } from './generated/TimeZoneInfo';
import type { VersionedNotificationPrefs } from './generated/VersionedNotificationPrefs';
import type { VersionedProfile } from './generated/VersionedProfile';

export interface Backend {
  appInfo(): Promise<AppInfo>;
  restoreSession(): Promise<VersionedProfile | null>;
  signIn(serverUrl: string, email: string, password: string): Promise<SignedIn>;
  signOut(): Promise<void>;
  getProfile(): Promise<VersionedProfile>;
  updateProfile(patch: ProfilePatch, etag: string): Promise<VersionedProfile>;
  validateProfile(patch: ProfilePatch): Promise<FieldError[]>;
  listTimezones(): Promise<TimeZoneInfo[]>;
  listLanguages(): Promise<Language[]>;
  setUnsavedChanges(unsaved: boolean): Promise<void>;
  quitDiscardingChanges(): Promise<void>;
  /** Called when the agent closes the window while a form has unsaved changes. */
  onCloseRequested(handler: () => void): Promise<() => void>;
  /** The rules of the server signed in to: passwords and photos. */
  serverPolicy(): Promise<Policy>;
  /** The server's own password rules, run locally; `personal` are the agent's email and name. */
  checkPassword(candidate: string, current: string | null, personal: string[]): Promise<PasswordCheck>;
  changePassword(currentPassword: string, newPassword: string, keepOtherSessions: boolean): Promise<SessionsEnded>;
  /** Works signed out: the server is the one in the sign-in form. */
  requestPasswordReset(serverUrl: string, email: string): Promise<PasswordResetAccepted>;
  listSessions(): Promise<SessionList>;
  /** Ends one session; ending the current one signs this app out too. */
  endSession(sessionId: string): Promise<void>;
  signOutOtherSessions(): Promise<SessionsEnded>;
  /** Checks and keeps a picked photo (the file's bytes) and returns a preview to crop on. */
  prepareAvatar(bytes: Uint8Array): Promise<AvatarSource>;
  /** Crops a prepared photo and makes it the agent's; the profile gets a new version. */
  saveAvatar(sourceId: string, crop: AvatarCrop): Promise<VersionedProfile>;
  /** Lets go of a prepared photo the agent did not save. */
  discardAvatar(): Promise<void>;
  removeAvatar(): Promise<VersionedProfile>;
  /** A stored photo (a profile's `avatar_url`) as a `data:` URL. */
  avatarImage(url: string): Promise<string>;
  /** What stands in for a missing photo. */
  initialsAvatar(id: string, displayName: string): Promise<InitialsAvatar>;
  /** The audio devices of this computer and the agent's choices; listing can take a second. */
  audioState(): Promise<AudioState>;
  /** Saves the device for a role on this computer at once. */
  chooseAudioDevice(role: AudioRole, choice: DeviceChoice): Promise<AudioState>;
  /** How loud alerts ring, 0–1. */
  setAlertVolume(volume: number): Promise<AudioState>;
  /** Opens the microphone; readings arrive through `onMicLevel` until `stopMicTest`. */
  startMicTest(): Promise<void>;
  stopMicTest(): Promise<void>;
  onMicLevel(handler: (reading: MeterReading) => void): Promise<() => void>;
  /** The microphone test ended: once after `stopMicTest`, or by itself with the failure when the device failed. */
  onMicTestEnded(handler: (error: IpcError | null) => void): Promise<() => void>;
  /** Records from the microphone; resolves once the recording is done. */
  recordSample(seconds: number): Promise<void>;
  /** Plays the last recording on the speaker; resolves once it has been played. */
  playSample(): Promise<void>;
  /** Plays the test chime on a role's device; resolves once it has been played. */
  testOutput(role: 'speaker' | 'alerts'): Promise<void>;
  /** A device was plugged in or out, or the system's default changed. */
  onAudioDevicesChanged(handler: (state: AudioState) => void): Promise<() => void>;
  /** The agent's status, unread count, stream connection, idle setting and recent alerts. */
  alertsState(): Promise<AlertsState>;
  /** Sets the status; `until` is RFC 3339 or null. Reaches the server. */
  setStatus(status: Status, until: string | null): Promise<AlertsState>;
  /** Minutes of no keyboard/mouse before Away, or null for never. Kept on this computer. */
  setIdleAway(minutes: number | null): Promise<AlertsState>;
  markAlertsRead(): Promise<AlertsState>;
  /** Opens the alert's ticket in the default browser and marks it read. */
  openAlert(seq: number): Promise<AlertsState>;
  /** Status, unread count, connection or the recent alerts changed. */
  onAlertsChanged(handler: (state: AlertsState) => void): Promise<() => void>;
  /** The profile changed on the server (another device, an admin); payload is the new profile + etag. */
  onProfileChanged(handler: (profile: VersionedProfile) => void): Promise<() => void>;
  /** The server ended this session (signed out elsewhere, the password changed or reset):
   * the event stream was closed, and nothing signed in works any more. */
  onSessionEnded(handler: () => void): Promise<() => void>;
  notificationPrefs(): Promise<VersionedNotificationPrefs>;
  saveNotificationPrefs(prefs: NotificationPrefs, etag: string): Promise<VersionedNotificationPrefs>;
  /** Shows a test notification and plays the alert sound; says what is wrong when something is. */
  sendTestNotification(): Promise<SelfTestReport>;
  /** Every team, each with the agent's membership in it. */
  listTeams(): Promise<Team[]>;
  /** Asks to join a team; its leads decide. `note` is up to 500 characters or null. */
  requestToJoinTeam(teamId: string, note: string | null): Promise<JoinRequest>;
  /** The agent's own requests, and those waiting for the agent's decision as a lead. */
  listJoinRequests(): Promise<JoinRequests>;
  decideJoinRequest(requestId: string, approve: boolean, note: string | null): Promise<JoinRequest>;
  /** A request to a team the agent leads arrived, or the agent's own was decided. */
  onTeamsChanged(handler: () => void): Promise<() => void>;
  /** A colleague's status changed (`status` null: their privacy hides it from the agent). */
  onPresenceChanged(handler: (change: PresenceChange) => void): Promise<() => void>;
  /** A page of the directory; fields a person's privacy hides from the agent are absent. */
  listPeople(filter: PeopleFilter): Promise<PeoplePage>;
  /** The organizations customers' records name, for the directory's filter. */
  listOrganizations(): Promise<Organizations>;
  getPerson(id: string): Promise<Person>;
  /** A new customer's record; the first email is the primary one. */
  createUser(customer: NewCustomer): Promise<Person>;
  /** Changes some fields of a customer's record read at `version`. */
  updateUser(id: string, patch: CustomerPatch, version: number): Promise<Person>;
  addEmail(id: string, address: string, primary: boolean): Promise<Person>;
  removeEmail(id: string, address: string): Promise<Person>;
  makePrimaryEmail(id: string, address: string): Promise<Person>;
  /** A person's notes, newest first, a page at a time. */
  listNotes(id: string, cursor: string | null): Promise<NotesPage>;
  addNote(id: string, body: string): Promise<Note>;
  /** Only the note's author may change or delete it. */
  editNote(noteId: string, body: string): Promise<Note>;
  deleteNote(noteId: string): Promise<void>;
  /** Every edit of a record (or one's own profile), newest first. */
  listChanges(id: string): Promise<ChangeLog>;
  /** Notes and edits of a person together, newest first. */
  listActivity(id: string): Promise<ActivityStream>;
  /** Merges the customer `source` into `id`; `source`'s record is gone after. */
  mergeUsers(id: string, source: string): Promise<Person>;
  /** A customer's files, newest first, and the largest file the server takes. */
  listFiles(id: string): Promise<FileList>;
  /** Keeps a file (its bytes) on a customer's record under `name`. */
  uploadFile(id: string, name: string, bytes: Uint8Array): Promise<PersonFile>;
  /** Downloads a file into the Downloads folder; answers the path it was saved at. */
  saveFile(fileId: string, name: string): Promise<string>;
  /** Shows a file `saveFile` saved in the file manager. */
  showSavedFile(path: string): Promise<void>;
  /** Only the agent who added the file, or an administrator, may. */
  deleteFile(fileId: string): Promise<void>;
  /** A person's tickets; an agent's only to that agent and administrators. */
  listTickets(id: string, sort: TicketSort): Promise<TicketHistory>;
  /** An agent's latest sign-in attempts, to that agent and administrators. */
  listLogins(id: string): Promise<LoginActivity>;
  /** Opens a ticket's page in the default browser. */
  openTicket(url: string): Promise<void>;
}

/** A command failure as the UI sees it; always `{code, message, field}`. */
export function asIpcError(error: unknown): IpcError {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return error as IpcError;
  }
  return { code: 'internal', message: String(error), field: null };
}

async function call<T>(command: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (error) {
    throw asIpcError(error);
  }
}

export const tauriBackend: Backend = {
  appInfo: () => call('app_info'),
  restoreSession: () => call('restore_session'),
  signIn: (serverUrl, email, password) => call('sign_in', { serverUrl, email, password }),
  signOut: () => call('sign_out'),
  getProfile: () => call('get_profile'),
  updateProfile: (patch, etag) => call('update_profile', { patch, etag }),
  validateProfile: (patch) => call('validate_profile', { patch }),
  listTimezones: () => call('list_timezones'),
  listLanguages: () => call('list_languages'),
  setUnsavedChanges: (unsaved) => call('set_unsaved_changes', { unsaved }),
  quitDiscardingChanges: () => call('quit_discarding_changes'),
  onCloseRequested: (handler) => listen('close-requested', () => handler()),
  serverPolicy: () => call('server_policy'),
  checkPassword: (candidate, current, personal) => call('check_password', { candidate, current, personal }),
  changePassword: (currentPassword, newPassword, keepOtherSessions) =>
    call('change_password', { currentPassword, newPassword, keepOtherSessions }),
  requestPasswordReset: (serverUrl, email) => call('request_password_reset', { serverUrl, email }),
  listSessions: () => call('list_sessions'),
  endSession: (sessionId) => call('end_session', { sessionId }),
  signOutOtherSessions: () => call('sign_out_other_sessions'),
  // The file's bytes as the raw body, not as a JSON array of numbers.
  prepareAvatar: (bytes) => call('prepare_avatar', bytes),
  saveAvatar: (sourceId, crop) => call('save_avatar', { sourceId, crop }),
  discardAvatar: () => call('discard_avatar'),
  removeAvatar: () => call('remove_avatar'),
  avatarImage: (url) => call('avatar_image', { url }),
  initialsAvatar: (id, displayName) => call('initials_avatar', { id, displayName }),
  audioState: () => call('audio_state'),
  chooseAudioDevice: (role, choice) => call('choose_audio_device', { role, choice }),
  setAlertVolume: (volume) => call('set_alert_volume', { volume }),
  startMicTest: () => call('start_mic_test'),
  stopMicTest: () => call('stop_mic_test'),
  onMicLevel: (handler) => listen<MeterReading>('mic-level', (event) => handler(event.payload)),
  onMicTestEnded: (handler) =>
    listen<IpcError | null>('mic-test-ended', (event) => handler(event.payload ? asIpcError(event.payload) : null)),
  recordSample: (seconds) => call('record_sample', { seconds }),
  playSample: () => call('play_sample'),
  testOutput: (role) => call('test_output', { role }),
  onAudioDevicesChanged: (handler) => listen<AudioState>('audio-devices-changed', (event) => handler(event.payload)),
  alertsState: () => call('alerts_state'),
  setStatus: (status, until) => call('set_status', { status, until }),
  setIdleAway: (minutes) => call('set_idle_away', { minutes }),
  markAlertsRead: () => call('mark_alerts_read'),
  openAlert: (seq) => call('open_alert', { seq }),
  onAlertsChanged: (handler) => listen<AlertsState>('alerts-changed', (event) => handler(event.payload)),
  onProfileChanged: (handler) => listen<VersionedProfile>('profile-changed', (event) => handler(event.payload)),
  onSessionEnded: (handler) => listen('session-ended', () => handler()),
  notificationPrefs: () => call('notification_prefs'),
  saveNotificationPrefs: (prefs, etag) => call('save_notification_prefs', { prefs, etag }),
  sendTestNotification: () => call('send_test_notification'),
  listTeams: () => call('list_teams'),
  requestToJoinTeam: (teamId, note) => call('request_to_join_team', { teamId, note }),
  listJoinRequests: () => call('list_join_requests'),
  decideJoinRequest: (requestId, approve, note) => call('decide_join_request', { requestId, approve, note }),
  onTeamsChanged: (handler) => listen('teams-changed', () => handler()),
  onPresenceChanged: (handler) => listen<PresenceChange>('presence-changed', (event) => handler(event.payload)),
  listPeople: (filter) => call('list_people', { filter }),
  listOrganizations: () => call('list_organizations'),
  getPerson: (id) => call('get_person', { id }),
  createUser: (customer) => call('create_user', { new: customer }),
  updateUser: (id, patch, version) => call('update_user', { id, patch, version }),
  addEmail: (id, address, primary) => call('add_email', { id, address, primary }),
  removeEmail: (id, address) => call('remove_email', { id, address }),
  makePrimaryEmail: (id, address) => call('make_primary_email', { id, address }),
  listNotes: (id, cursor) => call('list_notes', { id, cursor }),
  addNote: (id, body) => call('add_note', { id, body }),
  editNote: (noteId, body) => call('edit_note', { noteId, body }),
  deleteNote: (noteId) => call('delete_note', { noteId }),
  listChanges: (id) => call('list_changes', { id }),
  listActivity: (id) => call('list_activity', { id }),
  mergeUsers: (id, source) => call('merge_users', { id, source }),
  listFiles: (id) => call('list_files', { id }),
  // The bytes as the raw body; the rest rides in headers, percent-encoded so any name survives.
  uploadFile: (id, name, bytes) =>
    call('upload_file', bytes, {
      headers: { 'person-id': encodeURIComponent(id), 'file-name': encodeURIComponent(name) },
    }),
  saveFile: (fileId, name) => call('save_file', { fileId, name }),
  showSavedFile: (path) => call('show_saved_file', { path }),
  deleteFile: (fileId) => call('delete_file', { fileId }),
  listTickets: (id, sort) => call('list_tickets', { id, sort }),
  listLogins: (id) => call('list_logins', { id }),
  openTicket: (url) => call('open_ticket', { url }),
};
