//! What a microphone signal says: its level in dBFS, its dominant frequency, and the
//! plain-language hints an agent needs before a call (no signal, too quiet, clipping).

use realfft::RealFftPlanner;

/// The quietest level reported; digital silence reads as this rather than −∞.
pub const FLOOR_DBFS: f32 = -100.0;
/// Below this peak over a whole test nothing is arriving: a muted or dead microphone.
pub const NO_SIGNAL_DBFS: f32 = -70.0;
/// Below this RMS while the agent speaks, colleagues will struggle to hear them.
pub const TOO_QUIET_DBFS: f32 = -50.0;
/// Samples this close to full scale count as clipped.
const CLIP_LEVEL: f32 = 0.999;
/// More than this share of clipped samples is audible distortion.
const CLIP_SHARE: f32 = 0.001;

/// Peak and RMS of a stretch of samples, in dBFS (0 is full scale; a full-scale sine
/// has an RMS of −3.01 dBFS).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub peak_dbfs: f32,
    pub rms_dbfs: f32,
}

pub fn dbfs(amplitude: f32) -> f32 {
    if amplitude <= 0.0 {
        FLOOR_DBFS
    } else {
        (20.0 * amplitude.log10()).max(FLOOR_DBFS)
    }
}

pub fn level(samples: &[f32]) -> Level {
    if samples.is_empty() {
        return Level {
            peak_dbfs: FLOOR_DBFS,
            rms_dbfs: FLOOR_DBFS,
        };
    }
    let peak = samples.iter().fold(0.0_f32, |peak, s| peak.max(s.abs()));
    let mean_square = samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / samples.len() as f64;
    Level {
        peak_dbfs: dbfs(peak),
        rms_dbfs: dbfs(mean_square.sqrt() as f32),
    }
}

/// The strongest frequency, from a Hann-windowed FFT of up to the last 2¹⁶ samples with
/// Gaussian interpolation between bins. `None` for silence or too few samples.
pub fn dominant_hz(samples: &[f32], sample_rate: u32) -> Option<f32> {
    let length = samples.len().min(1 << 16);
    if length < 256 || sample_rate == 0 {
        return None;
    }
    let samples = &samples[samples.len() - length..];
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(length);
    let mut input: Vec<f32> = samples
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let hann =
                0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (length - 1) as f32).cos();
            s * hann
        })
        .collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).ok()?;
    let magnitudes: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
    // Skip DC and the lowest bins, where hum and offset live.
    let (bin, &strongest) = magnitudes
        .iter()
        .enumerate()
        .skip(2)
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    if strongest <= f32::EPSILON || bin + 1 >= magnitudes.len() {
        return None;
    }
    let (left, right) = (
        magnitudes[bin - 1].max(1e-12).ln(),
        magnitudes[bin + 1].max(1e-12).ln(),
    );
    let centre = strongest.ln();
    let denominator = left - 2.0 * centre + right;
    let offset = if denominator.abs() > f32::EPSILON {
        0.5 * (left - right) / denominator
    } else {
        0.0
    };
    Some((bin as f32 + offset.clamp(-0.5, 0.5)) * sample_rate as f32 / length as f32)
}

/// The hints for a stretch of microphone signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hints {
    /// Nothing arrives: muted, unplugged, or the wrong device.
    pub no_signal: bool,
    /// Something arrives, but speech is below about −50 dBFS RMS.
    pub too_quiet: bool,
    /// Samples at full scale: the input gain is too high.
    pub clipping: bool,
}

/// Judges a recording by its loudest stretches — speech has pauses, so the average of a
/// whole test would call a normal speaker too quiet. `window` is the stretch length in
/// samples (the meter's reading length).
pub fn hints(samples: &[f32], window: usize) -> Hints {
    let overall = level(samples);
    if overall.peak_dbfs < NO_SIGNAL_DBFS {
        return Hints {
            no_signal: true,
            ..Hints::default()
        };
    }
    let clipped = samples.iter().filter(|s| s.abs() >= CLIP_LEVEL).count();
    let clipping = clipped as f32 > CLIP_SHARE * samples.len() as f32;
    let mut window_rms: Vec<f32> = samples
        .chunks(window.max(1))
        .map(|chunk| level(chunk).rms_dbfs)
        .collect();
    window_rms.sort_by(f32::total_cmp);
    // The 90th percentile: the level while speaking.
    let speaking = window_rms[(window_rms.len() * 9 / 10).min(window_rms.len() - 1)];
    Hints {
        no_signal: false,
        too_quiet: speaking < TOO_QUIET_DBFS,
        clipping,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{sine, square};

    const RATE: u32 = 48_000;

    fn close(actual: f32, expected: f32, tolerance: f32) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn a_sine_reads_its_level_and_frequency() {
        // −12.04 dBFS peak (amplitude 0.25): RMS is 3.01 dB lower.
        let tone = sine(1000.0, 1.0, RATE, 0.25);
        let reading = level(&tone);
        assert!(close(reading.peak_dbfs, -12.04, 0.05), "{reading:?}");
        assert!(close(reading.rms_dbfs, -15.05, 0.05), "{reading:?}");
        for hz in [150.0, 440.0, 1000.0, 3150.0, 8000.0] {
            let found = dominant_hz(&sine(hz, 0.5, RATE, 0.5), RATE).unwrap();
            assert!(close(found, hz, hz * 0.005), "{hz} Hz read as {found}");
        }
    }

    #[test]
    fn silence_has_no_signal_and_no_frequency() {
        let silence = vec![0.0; RATE as usize];
        assert_eq!(
            level(&silence),
            Level {
                peak_dbfs: FLOOR_DBFS,
                rms_dbfs: FLOOR_DBFS
            }
        );
        assert_eq!(dominant_hz(&silence, RATE), None);
        assert_eq!(
            hints(&silence, 1600),
            Hints {
                no_signal: true,
                ..Hints::default()
            }
        );
        // Dither-level noise is still no signal.
        let hiss: Vec<f32> = (0..RATE)
            .map(|i| if i % 2 == 0 { 1e-4 } else { -1e-4 })
            .collect();
        assert!(hints(&hiss, 1600).no_signal);
    }

    #[test]
    fn full_scale_square_clips_and_normal_speech_does_not() {
        let square = square(440.0, 1.0, RATE, 1.0);
        assert!(hints(&square, 1600).clipping);
        assert!(!hints(&sine(440.0, 1.0, RATE, 0.3), 1600).clipping);
    }

    #[test]
    fn quiet_speech_is_too_quiet_but_pauses_do_not_count() {
        // −60 dBFS peak: arriving, but far too quiet.
        assert_eq!(
            hints(&sine(300.0, 1.0, RATE, 0.001), 1600),
            Hints {
                too_quiet: true,
                ..Hints::default()
            }
        );
        // Normal speech level with long pauses is fine: judged on the loudest stretches.
        let mut speech = sine(300.0, 0.4, RATE, 0.1);
        speech.extend(vec![0.0; RATE as usize]);
        speech.extend(sine(300.0, 0.4, RATE, 0.1));
        assert_eq!(hints(&speech, 1600), Hints::default());
    }

    #[test]
    fn empty_and_tiny_inputs_are_safe() {
        assert_eq!(level(&[]).peak_dbfs, FLOOR_DBFS);
        assert_eq!(dominant_hz(&[0.5; 10], RATE), None);
        assert_eq!(dominant_hz(&sine(440.0, 0.1, RATE, 0.5), 0), None);
        assert!(hints(&[], 1600).no_signal);
        assert_eq!(dbfs(1.0), 0.0);
        assert_eq!(dbfs(-0.5), FLOOR_DBFS);
    }
}
