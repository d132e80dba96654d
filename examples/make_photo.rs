//! Writes a photo-like JPEG (default 4000×3000, 12 MP) for the site benchmark's upload:
//! `cargo run --release --example make_photo -- OUT.jpg [WIDTH HEIGHT]`.

use image::{ImageEncoder, RgbImage};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .expect("usage: make_photo OUT.jpg [WIDTH HEIGHT]");
    let width: u32 = args.get(1).and_then(|w| w.parse().ok()).unwrap_or(4000);
    let height: u32 = args.get(2).and_then(|h| h.parse().ok()).unwrap_or(3000);
    // Smooth gradients with fine noise: compresses like a real photograph.
    let mut seed: u32 = 0x9E37_79B9;
    let img = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 24) as i32 - 12;
        let c = |v: u32| (v as i32 + n).clamp(0, 255) as u8;
        image::Rgb([
            c(x * 200 / width + 30),
            c(y * 180 / height + 40),
            c((x + y) * 120 / (width + height) + 80),
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encode");
    std::fs::write(out, &bytes).expect("write");
    println!("{out}: {width}x{height}, {} bytes", bytes.len());
}
