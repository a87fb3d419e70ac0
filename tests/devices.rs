//! The real app on a real (private) PulseAudio: the Devices screen lists the test
//! devices, a speaker chosen there is where the test chime plays, the meter moves with
//! the microphone, an unplugged choice falls back and returns, and the choice survives
//! a restart.

use std::time::Duration;

use agent_desk_audio::analysis::level;
use agent_desk_audio::testing::RATE;
use agent_desk_audio::tone::sine;
use agent_desk_e2e::{
    save_screenshot, sign_in, wait_for, wait_for_text, Desktop, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{bail, ensure, Context, Result};
use fantoccini::{Client, Locator};

async fn open_devices(app: &Client) -> Result<()> {
    wait_for(app, "#nav-devices").await?.click().await?;
    wait_for_text(app, "#devices-title", "Devices").await?;
    // Listed without blocking: wait until the pickers hold the test devices.
    wait_for_text(app, "#speaker-select", "TestFeed").await?;
    Ok(())
}

async fn selected(app: &Client, css: &str) -> Result<String> {
    Ok(wait_for(app, css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Waits until `css` is present (or, with `present` false, gone).
async fn wait_presence(app: &Client, css: &str, present: bool) -> Result<()> {
    for _ in 0..100 {
        if app.find(Locator::Css(css)).await.is_ok() == present {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "{css} never became {}",
        if present { "present" } else { "absent" }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_chooses_and_tests_devices() -> Result<()> {
    let mut desktop = Desktop::start()?;
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    open_devices(&app).await?;
    wait_for_text(&app, "#microphone-select", "TestMic").await?;
    wait_for_text(&app, "#speaker-select", "TestSpeaker").await?;
    ensure!(
        selected(&app, "#speaker-select").await? == "system_default",
        "System default is the first choice"
    );

    // Choose TestFeed as the speaker: the test chime plays there and nowhere else.
    wait_for(&app, "#speaker-select")
        .await?
        .select_by_value("pulseaudio:test_feed")
        .await?;
    // The test plays on the saved choice: wait for the save, or it may play on the old one.
    wait_for_text(&app, ".picker[data-role=speaker] .saved", "✓").await?;
    let chosen = desktop.pulse.record("test_feed")?;
    let default = desktop.pulse.record("test_spk")?;
    for recorder in [&chosen, &default] {
        recorder.wait_until_recording(Duration::from_secs(10))?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_for(&app, "#speaker-test").await?.click().await?;
    // Busy while the chime plays (at least its 0.75 s); the recorders keep listening a
    // moment longer.
    wait_presence(&app, "#speaker-test[aria-busy=true]", true).await?;
    wait_presence(&app, "#speaker-test[aria-busy=false]", true).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (heard, elsewhere) = (chosen.stop()?, default.stop()?);
    ensure!(
        level(&heard).peak_dbfs > -20.0,
        "the chime did not reach TestFeed: {:?}",
        level(&heard)
    );
    ensure!(
        level(&elsewhere).peak_dbfs < -60.0,
        "the chime also played on TestSpeaker: {:?}",
        level(&elsewhere)
    );

    // The meter follows the microphone: a −12 dBFS tone into TestMic.
    desktop.pulse.feed(&sine(1000.0, 15.0, RATE, 0.25))?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_for(&app, "#mic-test").await?.click().await?;
    let meter = wait_for(&app, "[data-testid=mic-meter]").await?;
    let mut loudest = f64::MIN;
    for _ in 0..50 {
        let value: f64 = meter
            .attr("aria-valuenow")
            .await?
            .unwrap_or_default()
            .parse()
            .unwrap_or(f64::MIN);
        loudest = loudest.max(value);
        if loudest > -25.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        loudest > -25.0 && loudest < -5.0,
        "the meter read {loudest} dBFS for a −15 dBFS RMS tone"
    );
    save_screenshot(&app, "devices.png").await?;
    wait_for(&app, "#mic-test").await?.click().await?;

    // Unplug a chosen headset: the default stands in, and the agent is told; plug it back.
    let module = desktop.pulse.pactl(&[
        "load-module",
        "module-null-sink",
        "sink_name=test_headset",
        "sink_properties=device.description=TestHeadset",
    ])?;
    let module = String::from_utf8_lossy(&module.stdout).trim().to_owned();
    wait_for_text(&app, "#alerts-select", "TestHeadset").await?;
    wait_for(&app, "#alerts-select")
        .await?
        .select_by_value("pulseaudio:test_headset")
        .await?;
    desktop.pulse.pactl(&["unload-module", &module])?;
    wait_for_text(
        &app,
        "[data-testid=device-fallback][data-role=alerts]",
        "TestSpeaker",
    )
    .await?;
    desktop.pulse.pactl(&[
        "load-module",
        "module-null-sink",
        "sink_name=test_headset",
        "sink_properties=device.description=TestHeadset",
    ])?;
    wait_presence(
        &app,
        "[data-testid=device-fallback][data-role=alerts]",
        false,
    )
    .await?;

    // The choices survive a restart.
    app.close().await?;
    let app = desktop.launch_app().await?;
    wait_for_text(&app, "#profile-title", "Your profile")
        .await
        .context("still signed in")?;
    open_devices(&app).await?;
    ensure!(
        selected(&app, "#speaker-select").await? == "pulseaudio:test_feed",
        "the speaker choice was lost"
    );
    ensure!(
        selected(&app, "#alerts-select").await? == "pulseaudio:test_headset",
        "the alerts choice was lost"
    );
    Ok(())
}
