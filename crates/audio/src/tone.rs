//! Sounds this project owns, generated rather than bundled: the test tone, the chime
//! played by "Test" and by alerts, and a square wave for tests.

use std::f32::consts::TAU;

/// A sine at `hz`, `seconds` long, peaking at `amplitude` (0–1).
pub fn sine(hz: f32, seconds: f32, sample_rate: u32, amplitude: f32) -> Vec<f32> {
    let count = (seconds * sample_rate as f32).round() as usize;
    (0..count)
        .map(|i| amplitude * (TAU * hz * i as f32 / sample_rate as f32).sin())
        .collect()
}

/// A square wave: every sample at ±`amplitude`.
pub fn square(hz: f32, seconds: f32, sample_rate: u32, amplitude: f32) -> Vec<f32> {
    sine(hz, seconds, sample_rate, 1.0)
        .into_iter()
        .map(|s| if s >= 0.0 { amplitude } else { -amplitude })
        .collect()
}

/// A short two-note chime (E6 then B5, each with a bell-like decay): recognisable, and
/// gentle enough to hear through a headset several times a day.
pub fn chime(sample_rate: u32) -> Vec<f32> {
    let note = |hz: f32, start: f32, length: f32| {
        move |t: f32| {
            if t < start || t > start + length {
                return 0.0;
            }
            let local = t - start;
            let attack = (local / 0.005).min(1.0);
            let decay = (-local * 5.0).exp();
            attack * decay * ((TAU * hz * local).sin() + 0.25 * (TAU * 2.0 * hz * local).sin())
        }
    };
    let (first, second) = (note(1318.5, 0.0, 0.45), note(987.8, 0.16, 0.55));
    let count = (0.75 * sample_rate as f32) as usize;
    (0..count)
        .map(|i| {
            let t = i as f32 / sample_rate as f32;
            0.32 * (first(t) + second(t))
        })
        .collect()
}

/// The alert sound of a priority: the more urgent, the more insistent, so an agent can
/// tell them apart without looking. Low is a quieter chime; high rings twice; urgent
/// three times, quicker; critical is a two-tone alarm.
pub fn alert(priority: agent_desk_core::Priority, sample_rate: u32) -> Vec<f32> {
    use agent_desk_core::Priority;
    let chime = chime(sample_rate);
    let repeat = |times: usize, every: f32, gain: f32| {
        let step = (every * sample_rate as f32) as usize;
        let mut out = vec![0.0; step * (times - 1) + chime.len()];
        for n in 0..times {
            for (i, sample) in chime.iter().enumerate() {
                out[n * step + i] += gain * sample;
            }
        }
        out
    };
    match priority {
        Priority::Low => chime.iter().map(|s| 0.5 * s).collect(),
        Priority::Normal => chime,
        Priority::High => repeat(2, 0.8, 1.0),
        Priority::Urgent => repeat(3, 0.35, 1.0),
        Priority::Critical => {
            let beep = |hz: f32| {
                let mut tone = sine(hz, 0.18, sample_rate, 0.35);
                let fade = (0.01 * sample_rate as f32) as usize;
                let len = tone.len();
                for i in 0..fade.min(len) {
                    let gain = i as f32 / fade as f32;
                    tone[i] *= gain;
                    tone[len - 1 - i] *= gain;
                }
                tone
            };
            let gap = vec![0.0; (0.04 * sample_rate as f32) as usize];
            let mut out = Vec::new();
            for _ in 0..3 {
                out.extend(beep(988.0));
                out.extend(&gap);
                out.extend(beep(740.0));
                out.extend(&gap);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_short_never_clips_and_ends_quietly() {
        let chime = chime(48_000);
        assert_eq!(chime.len(), 36_000);
        let peak = chime.iter().fold(0.0_f32, |p, s| p.max(s.abs()));
        assert!((0.2..0.9).contains(&peak), "peak {peak}");
        let tail = chime[chime.len() - 480..]
            .iter()
            .fold(0.0_f32, |p, s| p.max(s.abs()));
        assert!(tail < 0.05, "ends at {tail}");
    }

    #[test]
    fn alerts_grow_more_insistent_with_priority_and_never_clip() {
        use agent_desk_core::Priority;
        let energy = |samples: &[f32]| samples.iter().map(|s| s * s).sum::<f32>();
        let sounds: Vec<Vec<f32>> = Priority::ALL.iter().map(|p| alert(*p, 48_000)).collect();
        for (priority, sound) in Priority::ALL.iter().zip(&sounds) {
            let peak = sound.iter().fold(0.0_f32, |p, s| p.max(s.abs()));
            assert!(peak < 0.95, "{priority:?} peaks at {peak}");
            assert!(sound.len() <= 48_000 * 3, "{priority:?} lasts too long");
        }
        for pair in sounds.windows(2).take(3) {
            assert!(energy(&pair[1]) > energy(&pair[0]));
        }
        assert_ne!(sounds[3], sounds[4]);
    }

    #[test]
    fn square_waves_sit_at_full_amplitude() {
        assert!(square(100.0, 0.1, 8_000, 0.5)
            .iter()
            .all(|s| s.abs() == 0.5));
    }
}
