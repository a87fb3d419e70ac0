//! The stand-in for a missing photo: up to two initials on a colour derived from the
//! agent's id, so the same person has the same colour on every screen and device.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use agent_desk_core::InitialsAvatar;
use image::{ImageEncoder, Rgb, RgbImage};
use unicode_segmentation::UnicodeSegmentation;

/// Backgrounds, each at least 4.5:1 against white text (checked by a test).
const PALETTE: [&str; 12] = [
    "#b42318", "#b54708", "#027a48", "#0e7090", "#175cd3", "#5925dc", "#9e165f", "#c11574",
    "#6941c6", "#3e4784", "#344054", "#854a0e",
];
const FOREGROUND: &str = "#ffffff";

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-Bold.ttf");

/// The initials of a display name: the first letter of the first and of the last word,
/// upper-cased ("Łukasz Żak" → "ŁŻ", "Madonna" → "M", "王小明" → "王"). Words without a
/// letter (emoji, digits) are skipped; an empty answer means "show a figure instead".
pub fn initials(display_name: &str) -> String {
    let letters: Vec<&str> = display_name
        .split_whitespace()
        .filter_map(first_letter)
        .collect();
    match letters.as_slice() {
        [] => String::new(),
        [only] => only.to_uppercase(),
        [first, .., last] => format!("{}{}", first.to_uppercase(), last.to_uppercase()),
    }
}

/// The first grapheme of a word that starts with a letter, skipping leading
/// punctuation ("(Anna)" → "A"); keeps combining accents with their letter.
fn first_letter(word: &str) -> Option<&str> {
    word.graphemes(true)
        .find(|g| g.chars().next().is_some_and(char::is_alphanumeric))
        .filter(|g| g.chars().next().is_some_and(char::is_alphabetic))
}

/// Initials and colours for an agent.
pub fn initials_avatar(id: &str, display_name: &str) -> InitialsAvatar {
    InitialsAvatar {
        text: initials(display_name),
        background: PALETTE[palette_index(id)].to_owned(),
        foreground: FOREGROUND.to_owned(),
    }
}

/// FNV-1a: stable across platforms and releases, unlike the standard library's hasher.
fn palette_index(id: &str) -> usize {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % PALETTE.len() as u64) as usize
}

/// The avatar as an SVG document `side` pixels square.
pub fn render_svg(avatar: &InitialsAvatar, side: u32) -> String {
    let content = if avatar.text.is_empty() {
        format!(
            r#"<path fill="{}" d="{FIGURE_PATH}"/>"#,
            escape(&avatar.foreground)
        )
    } else {
        format!(
            r#"<text x="50" y="50" dy="0.35em" text-anchor="middle" font-family="system-ui, 'DejaVu Sans', sans-serif" font-size="40" font-weight="600" fill="{}">{}</text>"#,
            escape(&avatar.foreground),
            escape(&avatar.text)
        )
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="0 0 100 100" role="img"><rect width="100" height="100" fill="{}"/>{content}</svg>"#,
        escape(&avatar.background)
    )
}

/// Head and shoulders, in the 100 × 100 box of [`render_svg`].
const FIGURE_PATH: &str =
    "M50 22a14 14 0 1 1 0 28a14 14 0 1 1 0-28zM22 80c0-14 12-22 28-22s28 8 28 22z";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The avatar as a PNG `side` pixels square. Initials the bundled font cannot draw
/// (most CJK, for example) fall back to the figure rather than to boxes.
pub fn render_png(avatar: &InitialsAvatar, side: u32) -> Vec<u8> {
    let background = parse_hex(&avatar.background).unwrap_or(Rgb([52, 64, 84]));
    let foreground = parse_hex(&avatar.foreground).unwrap_or(Rgb([255, 255, 255]));
    let mut canvas = RgbImage::from_pixel(side, side, background);
    let font = FontRef::try_from_slice(FONT).expect("the bundled font parses");
    let drawable = !avatar.text.is_empty() && avatar.text.chars().all(|c| font.glyph_id(c).0 != 0);
    if drawable {
        draw_text(&mut canvas, &font, &avatar.text, foreground);
    } else {
        draw_figure(&mut canvas, foreground);
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(canvas.as_raw(), side, side, image::ExtendedColorType::Rgb8)
        .expect("encoding to memory does not fail");
    png
}

fn draw_text(canvas: &mut RgbImage, font: &FontRef, text: &str, colour: Rgb<u8>) {
    let side = canvas.width() as f32;
    let scaled = font.as_scaled(PxScale::from(side * 0.42));
    let glyphs: Vec<_> = text.chars().map(|c| scaled.scaled_glyph(c)).collect();
    let width: f32 = glyphs.iter().map(|g| scaled.h_advance(g.id)).sum();
    // Centre on the cap height, which initials fill, rather than on ascent + descent.
    let cap_height = scaled.ascent() * 0.73;
    let mut x = (side - width) / 2.0;
    let baseline = (side + cap_height) / 2.0;
    for mut glyph in glyphs {
        let advance = scaled.h_advance(glyph.id);
        glyph.position = ab_glyph::point(x, baseline);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                let (px, py) = (
                    bounds.min.x as i64 + i64::from(gx),
                    bounds.min.y as i64 + i64::from(gy),
                );
                blend(canvas, px, py, colour, coverage);
            });
        }
        x += advance;
    }
}

/// The figure of [`FIGURE_PATH`]: a head (circle) and shoulders (half ellipse),
/// anti-aliased by 4 × 4 supersampling.
fn draw_figure(canvas: &mut RgbImage, colour: Rgb<u8>) {
    let unit = canvas.width() as f32 / 100.0;
    let inside = |x: f32, y: f32| {
        let head = (x - 50.0).powi(2) + (y - 36.0).powi(2) <= 14.0_f32.powi(2);
        let shoulders =
            y <= 80.0 && ((x - 50.0) / 28.0).powi(2) + ((y - 80.0) / 22.0).powi(2) <= 1.0;
        head || shoulders
    };
    for py in 0..canvas.height() {
        for px in 0..canvas.width() {
            let mut hits = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    let x = (px as f32 + (sx as f32 + 0.5) / 4.0) / unit;
                    let y = (py as f32 + (sy as f32 + 0.5) / 4.0) / unit;
                    hits += u32::from(inside(x, y));
                }
            }
            if hits > 0 {
                blend(
                    canvas,
                    i64::from(px),
                    i64::from(py),
                    colour,
                    hits as f32 / 16.0,
                );
            }
        }
    }
}

fn blend(canvas: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>, coverage: f32) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
        return;
    };
    if x >= canvas.width() || y >= canvas.height() {
        return;
    }
    let coverage = coverage.clamp(0.0, 1.0);
    let pixel = canvas.get_pixel_mut(x, y);
    for (channel, &target) in pixel.0.iter_mut().zip(colour.0.iter()) {
        *channel =
            (f32::from(*channel) * (1.0 - coverage) + f32::from(target) * coverage).round() as u8;
    }
}

fn parse_hex(colour: &str) -> Option<Rgb<u8>> {
    let hex = colour.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(Rgb([channel(0)?, channel(2)?, channel(4)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_and_last_word() {
        assert_eq!(initials("Łukasz Żak"), "ŁŻ");
        assert_eq!(initials("anna maria kowalczyk"), "AK");
        assert_eq!(initials("Madonna"), "M");
        assert_eq!(initials("  élodie   dupont "), "ÉD");
        assert_eq!(initials("Jean-Luc Picard"), "JP");
        assert_eq!(initials("(Anna) Smith"), "AS");
    }

    #[test]
    fn initials_handle_scripts_without_case_and_other_alphabets() {
        assert_eq!(initials("王小明"), "王");
        assert_eq!(initials("김 민준"), "김민");
        assert_eq!(initials("Дмитрий Шостакович"), "ДШ");
        assert_eq!(initials("محمد علي"), "مع");
        assert_eq!(initials("ǉubica"), "Ǉ");
    }

    #[test]
    fn initials_keep_combining_marks_with_their_letter() {
        // "e" followed by a combining acute accent is one letter.
        assert_eq!(initials("e\u{301}milie Roy"), "E\u{301}R");
    }

    #[test]
    fn names_without_letters_have_no_initials() {
        assert_eq!(initials("🎧🎧"), "");
        assert_eq!(initials("🎧 007"), "");
        assert_eq!(initials(""), "");
        assert_eq!(initials("Agent 007"), "A");
    }

    #[test]
    fn the_colour_depends_on_the_id_only() {
        let a = initials_avatar("agent-1", "Anna Kowalczyk");
        assert_eq!(
            a.background,
            initials_avatar("agent-1", "Someone Else").background
        );
        let colours: std::collections::HashSet<_> = (0..200)
            .map(|i| initials_avatar(&format!("agent-{i}"), "x").background)
            .collect();
        assert!(
            colours.len() >= 10,
            "ids spread over the palette: {}",
            colours.len()
        );
    }

    #[test]
    fn every_background_is_readable_under_white_text() {
        fn luminance(colour: Rgb<u8>) -> f64 {
            let linear = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * linear(colour[0]) + 0.7152 * linear(colour[1]) + 0.0722 * linear(colour[2])
        }
        for colour in PALETTE {
            let contrast = 1.05 / (luminance(parse_hex(colour).unwrap()) + 0.05);
            assert!(contrast >= 4.5, "{colour} has contrast {contrast:.2}");
        }
    }

    #[test]
    fn svg_escapes_and_falls_back_to_a_figure() {
        let avatar = InitialsAvatar {
            text: "<&".into(),
            background: "#175cd3".into(),
            foreground: "#ffffff".into(),
        };
        let svg = render_svg(&avatar, 64);
        assert!(svg.contains("&lt;&amp;</text>"), "{svg}");
        assert!(svg.starts_with("<svg") && svg.contains(r#"width="64""#));
        let figure = render_svg(&initials_avatar("x", "🎧"), 64);
        assert!(
            figure.contains("<path") && !figure.contains("<text"),
            "{figure}"
        );
    }

    fn decode_png(png: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .unwrap()
            .into_rgb8()
    }

    fn foreground_share(image: &RgbImage) -> f64 {
        let white = image
            .pixels()
            .filter(|p| p.0.iter().all(|&c| c > 200))
            .count();
        white as f64 / f64::from(image.width() * image.height())
    }

    #[test]
    fn png_draws_the_initials_centred_on_the_background() {
        let avatar = initials_avatar("agent-7", "Łukasz Żak");
        let image = decode_png(&render_png(&avatar, 128));
        assert_eq!(image.dimensions(), (128, 128));
        assert_eq!(
            *image.get_pixel(2, 2),
            parse_hex(&avatar.background).unwrap()
        );
        let share = foreground_share(&image);
        assert!((0.05..0.4).contains(&share), "text covers {share}");
        // Centred: as much text left of the middle as right of it, within a few percent.
        let left = image
            .enumerate_pixels()
            .filter(|(x, _, p)| *x < 64 && p.0[0] > 200)
            .count() as f64;
        let right = image
            .enumerate_pixels()
            .filter(|(x, _, p)| *x >= 64 && p.0[0] > 200)
            .count() as f64;
        assert!(
            (left / right - 1.0).abs() < 0.25,
            "left {left}, right {right}"
        );
    }

    #[test]
    fn png_uses_the_figure_when_the_font_lacks_the_letters() {
        let cjk = decode_png(&render_png(&initials_avatar("a", "王小明"), 100));
        let emoji = decode_png(&render_png(&initials_avatar("a", "🎧"), 100));
        assert_eq!(cjk, emoji, "both show the figure");
        let share = foreground_share(&emoji);
        assert!((0.15..0.45).contains(&share), "figure covers {share}");
    }
}
