//! Runs one file through the pipeline with the default limits, as the server does:
//! `cargo run --release -p agent-desk-avatar --example render -- IN OUT.jpg [CROP_SIDE]`.
//! With CROP_SIDE, the crop is that many pixels from the top-left corner; otherwise the
//! centred square. Handy for trying a suspicious file or measuring memory.

use agent_desk_avatar::{render, Limits};
use agent_desk_core::AvatarCrop;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render IN OUT.jpg [CROP_SIDE]");
        return std::process::ExitCode::from(2);
    };
    let crop = args
        .get(2)
        .and_then(|side| side.parse().ok())
        .map(|size| AvatarCrop {
            x: 0,
            y: 0,
            size,
            quarter_turns: 0,
        });
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("{input}: {error}");
            return std::process::ExitCode::from(3);
        }
    };
    match render(&bytes, &Limits::default(), crop, &[512]) {
        Ok(images) => match std::fs::write(output, &images[0]) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{output}: {error}");
                std::process::ExitCode::from(3)
            }
        },
        Err(error) => {
            eprintln!("refused ({:?}): {error}", error.code());
            std::process::ExitCode::from(1)
        }
    }
}
