// The audio wire types, generated from the Rust side (`agent_desk_audio`), gathered for
// the Devices screen.

import type { IpcErrorCode } from '../../lib/generated/IpcErrorCode';

export type { AudioChoices } from '../../lib/generated/AudioChoices';
export type { AudioDevice } from '../../lib/generated/AudioDevice';
export type { AudioRole } from '../../lib/generated/AudioRole';
export type { AudioState } from '../../lib/generated/AudioState';
export type { DeviceChoice } from '../../lib/generated/DeviceChoice';
export type { DeviceFormat } from '../../lib/generated/DeviceFormat';
export type { DeviceList } from '../../lib/generated/DeviceList';
export type { Direction } from '../../lib/generated/Direction';
export type { MeterReading } from '../../lib/generated/MeterReading';
export type { Resolved } from '../../lib/generated/Resolved';

/** The codes an audio command fails with. */
export type AudioErrorCode = Extract<IpcErrorCode, `audio_${string}`>;
