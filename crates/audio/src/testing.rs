//! A private PulseAudio for tests, as a desktop has it: a speaker (a null sink whose
//! monitor records what is played), and a microphone fed with known signals. Each
//! instance has its own sockets and folders, so tests run side by side; the server is
//! stopped when dropped. Needs `pulseaudio` and `pulseaudio-utils`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Sample format of everything fed and recorded: s16le, mono, 48 kHz.
pub const RATE: u32 = 48_000;

pub struct PrivatePulse {
    dir: PathBuf,
    server: Child,
    feeds: Vec<Child>,
}

impl PrivatePulse {
    /// Starts the server in `dir` and waits until it answers (at most 10 s).
    pub fn start(dir: &Path) -> std::io::Result<Self> {
        for sub in ["home", "xdg", "run"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("xdg"), std::fs::Permissions::from_mode(0o700))?;
        }
        let socket = dir.join("native");
        std::fs::write(
            dir.join("pa.pa"),
            format!(
                "load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n\
                 load-module module-null-sink sink_name=test_spk sink_properties=device.description=TestSpeaker\n\
                 load-module module-null-sink sink_name=test_feed sink_properties=device.description=TestFeed\n\
                 load-module module-virtual-source source_name=test_mic master=test_feed.monitor source_properties=device.description=TestMic\n\
                 set-default-sink test_spk\n\
                 set-default-source test_mic\n",
                socket = socket.display()
            ),
        )?;
        let mut pulse = Self {
            dir: dir.to_owned(),
            server: Self::spawn_server(dir)?,
            feeds: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pulse
            .pactl(&["info"])
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            if Instant::now() > deadline || pulse.server.try_wait()?.is_some() {
                return Err(std::io::Error::other(
                    "the private PulseAudio did not start",
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(pulse)
    }

    fn spawn_server(dir: &Path) -> std::io::Result<Child> {
        let mut command = Command::new("pulseaudio");
        command
            .args(["-n", "-F"])
            .arg(dir.join("pa.pa"))
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--log-target=stderr",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("pulseaudio.log"))?);
        for (key, value) in env_for(dir) {
            command.env(key, value);
        }
        command.spawn()
    }

    /// The variables that point a process at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        env_for(&self.dir)
    }

    /// Runs `pactl` against this server.
    pub fn pactl(&self, args: &[&str]) -> std::io::Result<std::process::Output> {
        Command::new("pactl").args(args).envs(self.env()).output()
    }

    /// Plays `samples` into the microphone's feed, in the background.
    pub fn feed(&mut self, samples: &[f32]) -> std::io::Result<()> {
        let path = self.dir.join(format!("feed-{}.raw", self.feeds.len()));
        std::fs::write(&path, to_s16le(samples))?;
        let child = Command::new("pacat")
            .args([
                "--device=test_feed",
                "--format=s16le",
                "--rate=48000",
                "--channels=1",
                "--raw",
                "--latency-msec=50",
            ])
            .arg(&path)
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.feeds.push(child);
        Ok(())
    }

    /// Starts recording what is played on `sink` (e.g. `test_spk`).
    pub fn record(&self, sink: &str) -> std::io::Result<Recorder> {
        let path = self
            .dir
            .join(format!("{sink}-{}.raw", std::process::id() ^ rand_suffix()));
        let child = Command::new("parec")
            .arg(format!("--device={sink}.monitor"))
            .args([
                "--format=s16le",
                "--rate=48000",
                "--channels=1",
                "--raw",
                "--latency-msec=20",
            ])
            .arg(&path)
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Recorder { child, path })
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn env_for(dir: &Path) -> Vec<(String, String)> {
    let path = |sub: &str| dir.join(sub).display().to_string();
    vec![
        ("HOME".into(), path("home")),
        ("XDG_RUNTIME_DIR".into(), path("xdg")),
        ("PULSE_RUNTIME_PATH".into(), path("run")),
        ("PULSE_SERVER".into(), format!("unix:{}", path("native"))),
    ]
}

impl Drop for PrivatePulse {
    fn drop(&mut self) {
        for feed in &mut self.feeds {
            let _ = feed.kill();
            let _ = feed.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A running `parec`; [`Recorder::stop`] answers what it heard.
pub struct Recorder {
    child: Child,
    path: PathBuf,
}

impl Recorder {
    /// Waits, at most `limit`, until parec is connected and writing: a monitor gives
    /// silence while nothing plays, so its file grows from then on. A sound played before
    /// would be missed, and parec takes longer to start on a busy machine.
    pub fn wait_until_recording(&self, limit: Duration) -> std::io::Result<()> {
        let deadline = Instant::now() + limit;
        while std::fs::metadata(&self.path).map_or(0, |file| file.len()) == 0 {
            if Instant::now() >= deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "parec wrote nothing to {} within {limit:?}",
                        self.path.display()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn stop(mut self) -> std::io::Result<Vec<f32>> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Ok(from_s16le(&std::fs::read(&self.path)?))
    }
}

pub fn to_s16le(samples: &[f32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(samples.len() * 2);
    for &sample in samples {
        let value = (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        bytes
            .write_all(&value.to_le_bytes())
            .expect("writing to memory");
    }
    bytes
}

pub fn from_s16le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}
