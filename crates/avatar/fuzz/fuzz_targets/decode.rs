//! Any bytes through everything an upload meets: the header check, the preview and a
//! crop, with limits small enough that the fuzzer explores broken files rather than
//! waiting on large ones. Refusals are fine; panics, hangs and runaway memory are not.
#![no_main]

use agent_desk_avatar::{preview, probe, render, Limits};
use agent_desk_core::AvatarCrop;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_side: 4096, max_pixels: 4_000_000, max_alloc: 64 * 1024 * 1024, ..Limits::default() };
    let Ok(info) = probe(data, &limits) else { return };
    let _ = preview(data, &limits, 256);
    let size = info.width.min(info.height);
    let crop = AvatarCrop { x: info.width - size, y: 0, size, quarter_turns: (data.len() % 4) as u8 };
    let _ = render(data, &limits, Some(crop), &[64, 32]);
});
