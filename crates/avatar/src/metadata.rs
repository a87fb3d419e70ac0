//! Metadata is vetted before a decoder sees it: what the decoders would read in full,
//! before any pixel and outside the memory budget, is either proven small or kept from
//! them.
//!
//! - **PNG iCCP**: the png crate inflates the first iCCP chunk as soon as it reads the
//!   header (`StreamingDecoder::parse_iccp_raw` in png 0.18, `src/decoder/stream.rs`),
//!   bounded only by the whole decoding budget (`Limits::max_alloc`, 192 MiB), into a
//!   vector that grows by doubling; `ImageDecoder::icc_profile` then copies it. A 146 KB
//!   file whose profile inflates to 150 MB of zeros cost over 400 MB at once. Here the
//!   chunk is first inflated into a fixed window that is thrown away, counting, and
//!   stopped at [`MAX_ICC_PROFILE_BYTES`].
//! - **PNG zTXt, iTXt**: kept compressed by the png crate (`ZTXtChunk::decode`,
//!   `ITXtChunk::decode` in `src/text_metadata.rs` copy the compressed bytes) and only
//!   inflated on request, at most 2 MiB (`DECOMPRESSION_LIMIT`), when the image crate is
//!   asked for XMP or IPTC, which this crate never does. Their cost is bounded by the
//!   file's size, as is that of eXIf (not compressed). Left as they are.
//! - **WebP ICCP, EXIF**: not compressed, but image-webp allocates what a chunk's header
//!   *claims* before reading it (`WebPDecoder::read_chunk`, with no memory limit set by
//!   the image crate): a file of a few hundred bytes whose last chunk claims 4 GiB asks
//!   for 4 GiB. A chunk whose claim reaches past the end of the file is not asked for.
//! - **JPEG and GIF ICC**: bounded by the file. jpeg-decoder reads each APP2 segment
//!   (at most 65 533 bytes, its length is 16 bits) from the file before keeping it, and
//!   the profile is their concatenation; the gif crate appends extension sub-blocks it has
//!   read. Neither holds more than the upload's bytes (`Limits::max_bytes`).
//!
//! An ICC profile that is too large, cut off or corrupt is **dropped, not refused**: the
//! photo is decoded without it and its pixels taken as sRGB. A profile only fine-tunes
//! colours and real ones are far below the bound, so a file with an unusable one is taken
//! as browsers and libpng take it (they ignore a profile they cannot use), and the agent
//! gets their photo rather than an error they could not act on. The cost of a hostile
//! file is then one capped inflate into a fixed buffer and, at most, one copy of the file.

use std::borrow::Cow;
use std::ops::Range;

use crate::decode::Format;

/// The largest ICC profile read from a PNG: 4 MiB. Profiles of cameras, displays and
/// working spaces are 0.5 to 60 KB; the largest in use (printer profiles with big lookup
/// tables, which are CMYK and so ignored here anyway) are 1 to 3 MB. A profile at the
/// bound costs the decoder about two and a half times its size at once (its growing
/// vector, the copy it hands over), some 10 MiB: a twentieth of the default decoding
/// budget. A fixed bound rather than a share of `Limits::max_alloc`: what a real profile
/// needs does not grow with the pixels allowed.
pub const MAX_ICC_PROFILE_BYTES: usize = 4 * 1024 * 1024;

/// A photo's bytes as the decoder may see them, and which of its metadata it may be asked
/// for.
pub(crate) struct Vetted<'a> {
    /// The file, or a copy without the chunks a decoder must not inflate.
    pub bytes: Cow<'a, [u8]>,
    /// The ICC profile can be read within bounds.
    pub icc_profile: bool,
    /// The EXIF data (for the orientation) can be read within bounds.
    pub exif: bool,
}

/// Vets a photo of `format` (sniffed from `bytes`) before it is decoded.
pub(crate) fn vet(bytes: &[u8], format: Format) -> Vetted<'_> {
    match format {
        Format::Png => Vetted {
            bytes: png_without_unbounded_metadata(bytes, MAX_ICC_PROFILE_BYTES),
            icc_profile: true,
            exif: true,
        },
        Format::Webp => Vetted {
            bytes: Cow::Borrowed(bytes),
            icc_profile: !webp_claims_past_the_end(bytes, *b"ICCP"),
            exif: !webp_claims_past_the_end(bytes, *b"EXIF"),
        },
        Format::Jpeg | Format::Gif => Vetted {
            bytes: Cow::Borrowed(bytes),
            icc_profile: true,
            exif: true,
        },
    }
}

// ── PNG ───────────────────────────────────────────────────────────────────────────────

const PNG_SIGNATURE_LEN: usize = 8;

/// One chunk: its type, its data, and where it starts and ends (length to checksum).
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    span: Range<usize>,
}

/// The chunk at `at`, if the file holds all of it (checksum unchecked).
fn png_chunk(bytes: &[u8], at: usize) -> Option<Chunk<'_>> {
    let header = bytes.get(at..at.checked_add(8)?)?;
    let length = usize::try_from(u32::from_be_bytes([
        header[0], header[1], header[2], header[3],
    ]))
    .ok()?;
    let kind = [header[4], header[5], header[6], header[7]];
    let data_start = at + 8;
    let data_end = data_start.checked_add(length)?;
    let end = data_end.checked_add(4)?;
    let data = bytes.get(data_start..data_end)?;
    bytes.get(data_end..end)?;
    Some(Chunk {
        kind,
        data,
        span: at..end,
    })
}

/// `png` without the iCCP chunks the decoder must not inflate: at most one is kept, the
/// first, if it comes before the image data and holds a profile of at most `max_profile`
/// bytes. The png crate only ever reads that one (it ignores later ones), so every other
/// iCCP chunk is dropped too: dropping the first must not promote the second. All other
/// chunks are copied as they are, and so is everything from where the chunk structure
/// breaks (the decoder then refuses the file as it would have). Borrowed when nothing is
/// dropped.
pub(crate) fn png_without_unbounded_metadata(png: &[u8], max_profile: usize) -> Cow<'_, [u8]> {
    if png.len() < PNG_SIGNATURE_LEN {
        return Cow::Borrowed(png);
    }
    // The copy is only made once a chunk is dropped: up to it, then between drops.
    let mut kept: Option<Vec<u8>> = None;
    let mut copied_to = 0;
    let (mut seen_iccp, mut seen_image_data) = (false, false);
    let mut at = PNG_SIGNATURE_LEN;
    while let Some(chunk) = png_chunk(png, at) {
        at = chunk.span.end;
        match &chunk.kind {
            b"IDAT" => seen_image_data = true,
            b"iCCP" => {
                let keep = !seen_iccp && !seen_image_data && iccp_fits(chunk.data, max_profile);
                seen_iccp = true;
                if !keep {
                    kept.get_or_insert_with(|| Vec::with_capacity(png.len()))
                        .extend_from_slice(&png[copied_to..chunk.span.start]);
                    copied_to = chunk.span.end;
                }
            }
            b"IEND" => break,
            _ => {}
        }
    }
    match kept {
        Some(mut kept) => {
            kept.extend_from_slice(&png[copied_to..]);
            Cow::Owned(kept)
        }
        None => Cow::Borrowed(png),
    }
}

/// An iCCP chunk's data is a profile name (1 to 79 bytes and a NUL), compression method 0
/// and the profile as a zlib stream: true when all of that is well formed and the stream
/// inflates, complete and with its checksum, to at most `max_profile` bytes.
fn iccp_fits(data: &[u8], max_profile: usize) -> bool {
    let Some(name_len) = data.iter().take(80).position(|&byte| byte == 0) else {
        return false;
    };
    if name_len == 0 {
        return false;
    }
    match data.get(name_len + 1..) {
        Some([0, zlib @ ..]) => inflated_len_at_most(zlib, max_profile).is_some(),
        _ => false,
    }
}

/// Deflate looks back at most 32 KiB.
const WINDOW: usize = 32 * 1024;

/// How many bytes `zlib` inflates to, if it is a complete stream (checksum included) of
/// at most `max` bytes. Inflates into a fixed 128 KiB buffer, sliding the last window to
/// its front when full, and stops as soon as `max` is passed: never holds the output.
pub(crate) fn inflated_len_at_most(zlib: &[u8], max: usize) -> Option<usize> {
    let mut inflater = fdeflate::Decompressor::new();
    let mut buffer = vec![0u8; 4 * WINDOW];
    let (mut input, mut position, mut total) = (zlib, 0, 0usize);
    loop {
        let (consumed, produced) = inflater.read(input, &mut buffer, position, true).ok()?;
        input = input.get(consumed..)?;
        position += produced;
        total = total.checked_add(produced)?;
        if total > max {
            return None;
        }
        if inflater.is_done() {
            return Some(total);
        }
        if position == buffer.len() {
            buffer.copy_within(position - WINDOW.., 0);
            position = WINDOW;
        } else if consumed == 0 && produced == 0 {
            return None; // the stream goes on past its data
        }
    }
}

// ── WebP ──────────────────────────────────────────────────────────────────────────────

/// Whether a chunk of `kind` in the RIFF container claims more bytes than the file has
/// left. Walks the chunks as image-webp does (each header, then its size rounded up to
/// even), over every chunk to the end of the file rather than the first of a kind within
/// the RIFF's claimed size: a superset of what it will look at.
fn webp_claims_past_the_end(webp: &[u8], kind: [u8; 4]) -> bool {
    const FIRST_CHUNK: usize = 12; // after "RIFF", its size and "WEBP"
    let mut at = FIRST_CHUNK;
    while let Some(header) = at.checked_add(8).and_then(|end| webp.get(at..end)) {
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        let data_start = at as u64 + 8;
        let data_end = data_start + size;
        if header[..4] == kind && data_end > webp.len() as u64 {
            return true;
        }
        let Ok(next) = usize::try_from(data_end + (size & 1)) else {
            return false;
        };
        at = next;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{
        iccp_data, png, png_with_icc_bomb, quadrants, webp_claiming, with_png_chunk, zlib,
        zlib_zeros,
    };

    fn chunk_kinds(png: &[u8]) -> Vec<String> {
        let mut kinds = Vec::new();
        let mut at = PNG_SIGNATURE_LEN;
        while let Some(chunk) = png_chunk(png, at) {
            kinds.push(String::from_utf8_lossy(&chunk.kind).into_owned());
            at = chunk.span.end;
        }
        kinds
    }

    fn p3() -> Vec<u8> {
        moxcms::ColorProfile::new_display_p3()
            .encode()
            .expect("a P3 profile")
    }

    #[test]
    fn inflating_stops_at_the_bound_and_needs_a_whole_stream() {
        let profile = p3();
        let stream = zlib(&profile);
        assert_eq!(
            inflated_len_at_most(&stream, profile.len()),
            Some(profile.len())
        );
        assert_eq!(inflated_len_at_most(&stream, profile.len() - 1), None);
        // Sliding the window: far more output than the buffer, exact to the byte.
        assert_eq!(
            inflated_len_at_most(&zlib_zeros(3_000_001), 4_000_000),
            Some(3_000_001)
        );
        assert_eq!(
            inflated_len_at_most(&zlib_zeros(150_000_000), 1 << 22),
            None
        );
        let varied: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(
            inflated_len_at_most(&zlib(&varied), 1 << 22),
            Some(varied.len())
        );
        // Cut off, checksum wrong, not zlib, nothing.
        assert_eq!(
            inflated_len_at_most(&stream[..stream.len() / 2], 1 << 22),
            None
        );
        let mut wrong_sum = stream.clone();
        *wrong_sum.last_mut().expect("a checksum") ^= 1;
        assert_eq!(inflated_len_at_most(&wrong_sum, 1 << 22), None);
        assert_eq!(inflated_len_at_most(b"\xFF\xFF\xFF\xFF", 1 << 22), None);
        assert_eq!(inflated_len_at_most(&[], 1 << 22), None);
    }

    #[test]
    fn a_png_with_a_small_profile_is_left_as_it_is() {
        let photo = png(&quadrants(16, 16));
        let tagged = with_png_chunk(&photo, *b"iCCP", &iccp_data(&zlib(&p3())));
        assert!(matches!(
            png_without_unbounded_metadata(&tagged, MAX_ICC_PROFILE_BYTES),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            png_without_unbounded_metadata(&photo, MAX_ICC_PROFILE_BYTES),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn an_oversized_profile_is_cut_out_and_nothing_else() {
        let photo = png(&quadrants(16, 16));
        let bomb = png_with_icc_bomb(5_000_000);
        let vetted = png_without_unbounded_metadata(&bomb, MAX_ICC_PROFILE_BYTES);
        assert_eq!(chunk_kinds(&bomb)[..2], ["IHDR", "iCCP"]);
        assert!(!chunk_kinds(&vetted).contains(&"iCCP".to_owned()));
        // Exactly the photo without the chunk: the same bytes as before it was added.
        let plain = png(&quadrants(64, 64));
        assert_eq!(vetted.as_ref(), plain.as_slice());
        // The bound is the caller's.
        let small = with_png_chunk(&photo, *b"iCCP", &iccp_data(&zlib_zeros(1000)));
        assert!(matches!(
            png_without_unbounded_metadata(&small, 1000),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            png_without_unbounded_metadata(&small, 999).as_ref(),
            photo.as_slice()
        );
    }

    #[test]
    fn only_the_first_profile_before_the_image_data_is_kept() {
        let photo = png(&quadrants(16, 16));
        let good = iccp_data(&zlib(&p3()));
        let huge = iccp_data(&zlib_zeros(10_000_000));
        // A bad first one is not replaced by the next: the decoder reads only the first.
        let bad_then_good =
            with_png_chunk(&with_png_chunk(&photo, *b"iCCP", &good), *b"iCCP", &huge);
        assert_eq!(
            png_without_unbounded_metadata(&bad_then_good, MAX_ICC_PROFILE_BYTES).as_ref(),
            photo.as_slice()
        );
        let good_then_bad =
            with_png_chunk(&with_png_chunk(&photo, *b"iCCP", &huge), *b"iCCP", &good);
        assert_eq!(
            png_without_unbounded_metadata(&good_then_bad, MAX_ICC_PROFILE_BYTES).as_ref(),
            with_png_chunk(&photo, *b"iCCP", &good).as_slice()
        );
        // After the image data, even a good one goes.
        let iend = photo.len() - 12;
        let mut late = photo[..iend].to_vec();
        late.extend(&with_png_chunk(&photo, *b"iCCP", &good)[33..33 + 12 + good.len()]);
        late.extend(&photo[iend..]);
        assert_eq!(chunk_kinds(&late).last().map(String::as_str), Some("IEND"));
        assert_eq!(
            png_without_unbounded_metadata(&late, MAX_ICC_PROFILE_BYTES).as_ref(),
            photo.as_slice()
        );
    }

    #[test]
    fn malformed_profiles_and_files_are_handled_without_panicking() {
        let photo = png(&quadrants(16, 16));
        for data in [
            Vec::new(),
            b"\0\0".to_vec(),
            b"name".to_vec(),
            b"name\0".to_vec(),
            b"name\0\x01\x78\x9C".to_vec(),
            vec![b'n'; 200],
        ] {
            let file = with_png_chunk(&photo, *b"iCCP", &data);
            assert_eq!(
                png_without_unbounded_metadata(&file, MAX_ICC_PROFILE_BYTES).as_ref(),
                photo.as_slice(),
                "{data:?}"
            );
        }
        // A file cut inside a chunk: the bomb before it goes, the rest stays as it was.
        let bomb = png_with_icc_bomb(5_000_000);
        let plain = png(&quadrants(64, 64));
        let cut = &bomb[..bomb.len() - 20];
        assert_eq!(
            png_without_unbounded_metadata(cut, MAX_ICC_PROFILE_BYTES).as_ref(),
            &plain[..plain.len() - 20]
        );
        for short in [&b""[..], b"\x89PNG", b"\x89PNG\r\n\x1a\n\0\0"] {
            assert_eq!(
                png_without_unbounded_metadata(short, MAX_ICC_PROFILE_BYTES).as_ref(),
                short
            );
        }
    }

    #[test]
    fn webp_chunks_claiming_past_the_end_are_found() {
        let huge = webp_claiming(*b"ICCP", 0xFFFF_FFF0);
        assert!(webp_claims_past_the_end(&huge, *b"ICCP"));
        assert!(!webp_claims_past_the_end(&huge, *b"EXIF"));
        let vetted = vet(&huge, Format::Webp);
        assert!(!vetted.icc_profile && vetted.exif);
        // A claim the file holds (16 bytes follow the header) is fine.
        let fits = webp_claiming(*b"EXIF", 16);
        assert!(!webp_claims_past_the_end(&fits, *b"EXIF"));
        // Odd sizes are padded to even.
        let odd = webp_claiming(*b"EXIF", 15);
        assert!(!webp_claims_past_the_end(&odd, *b"EXIF"));
        assert!(!webp_claims_past_the_end(b"RIFF\0\0\0\0WEBPICCP", *b"ICCP"));
    }
}
